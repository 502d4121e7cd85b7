/* merge.c: `dlbench merge RUN_DIR...`: the fleet report of run folders from different machines: each
 * machine's fingerprint, its headline per family (best CPU and GPU figure, GPU/CPU), each workload's
 * best machine, and the cost of a training epoch across the instance types. fleet.md, fleet.csv
 * (every row of every run, with its machine) and fleet.json, written atomically like report.md.
 * Bad input (an unreadable or malformed file, another run-folder format): "file:line: reason", exit 2. */
#include "merge.h"
#include "cli.h"
#include "prices.h"
#include "report.h"
#include "results.h"
#include "stats.h"
#include "sysinfo.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_MACHINES 64

struct machine {
    char dir[4096], label[80];
    struct sysinfo si;
    struct row *rows, *view;        /* all rows; rank 0's and the rows of ranks together (rank -1) */
    int nrows, nview;
};

struct headline { int m; char family[16]; const struct row *cpu, *gpu; double gpu_over_cpu; int pairs; };
struct best { char workload[32]; int gbps, cases, best; double gm[MAX_MACHINES]; };
struct cost { const struct row *r; int m; double seconds, usd; };

static const char *si_or(const struct sysinfo *si, const char *sec, const char *key, const char *dflt)
{
    const char *v = sysinfo_get(si, sec, key);
    return v ? v : dflt;
}

static int gpu_count(const struct sysinfo *si)
{
    int n = 0;
    char sec[16];
    for (;; n++) {
        snprintf(sec, sizeof sec, "gpu%d", n);
        if (!sysinfo_get(si, sec, "name")) return n;
    }
}

static int load_machine(struct machine *m, const char *dir)
{
    char p[4200], why[512];
    memset(m, 0, sizeof *m);
    snprintf(m->dir, sizeof m->dir, "%s", dir);
    snprintf(p, sizeof p, "%s/system.json", dir);
    if (sysinfo_read_json(&m->si, p, why, sizeof why) != 0) { fprintf(stderr, "dlbench: merge: %s\n", why); return -1; }
    snprintf(p, sizeof p, "%s/results.csv", dir);
    if ((m->nrows = results_load(p, &m->rows, why, sizeof why)) < 0) { fprintf(stderr, "dlbench: merge: %s\n", why); return -1; }
    m->view = malloc(sizeof *m->view * (m->nrows + 1));
    for (int i = 0; i < m->nrows; i++)
        if (m->rows[i].rank <= 0) m->view[m->nview++] = m->rows[i];
    return 0;
}

static const struct row *view_rows(const struct machine *m) { return m->view; }
static int is_cpu(const struct row *r) { return !strcmp(r->backend, "cpu"); }

/* Per machine and family: the best CPU and GPU rows and the geometric mean of GPU/CPU over the pairs. */
static int headlines(const struct machine *ms, int nm, struct headline **out)
{
    int n = 0, cap = 0;
    *out = NULL;
    for (int m = 0; m < nm; m++) {
        const struct row *rows = view_rows(&ms[m]);
        int nr = ms[m].nview;
        double *ratio = malloc(sizeof(double) * (nr + 1));
        for (int i = 0; i < nr; i++) {
            int first = 1;
            for (int j = 0; j < i && first; j++) first = strcmp(rows[j].family, rows[i].family) != 0;
            if (!first) continue;
            struct headline h = {m, "", NULL, NULL, NAN, 0};
            snprintf(h.family, sizeof h.family, "%s", rows[i].family);
            for (int j = 0; j < nr; j++) {
                const struct row *r = &rows[j], *cpu, *gpu;
                if (strcmp(r->family, h.family) || !row_measured(r)) continue;
                const struct row **best = is_cpu(r) ? &h.cpu : &h.gpu;
                if (!*best || report_metric(r) > report_metric(*best)) *best = r;
                report_pair(rows, nr, r, &cpu, &gpu);
                if (is_cpu(r) && cpu == r && gpu && row_measured(gpu)) ratio[h.pairs++] = report_metric(gpu) / report_metric(cpu);
            }
            if (!h.cpu && !h.gpu) continue;
            if (h.pairs) h.gpu_over_cpu = geomean(ratio, h.pairs);
            if (n == cap) *out = realloc(*out, sizeof **out * (cap = cap ? cap * 2 : 32));
            (*out)[n++] = h;
        }
        free(ratio);
    }
    return n;
}

/* Devices that measured a row together: its group, or 1 for a rank measuring alone. */
static int devices(const struct row *r) { return r->rank < 0 ? r->ranks : 1; }

/* The best figure of machine m for a case (any backend) at the key's number of devices, or NAN. */
static double case_best(const struct machine *m, const struct row *key)
{
    double best = NAN;
    for (int i = 0; i < m->nview; i++) {
        const struct row *r = &view_rows(m)[i];
        if (strcmp(r->workload, key->workload) || strcmp(r->case_name, key->case_name) || strcmp(r->dtype, key->dtype) ||
            !row_measured(r) || devices(r) != devices(key))
            continue;
        if (isnan(best) || report_metric(r) > best) best = report_metric(r);
    }
    return best;
}

/* Per workload: each machine's geometric mean of its best figure per case, over the cases every
 * machine that ran the workload measured; the best machine is the highest. */
static int best_machines(const struct machine *ms, int nm, struct best **out)
{
    int n = 0, cap = 0;
    *out = NULL;
    for (int m = 0; m < nm; m++)
        for (int i = 0; i < ms[m].nview; i++) {
            const struct row *w = &view_rows(&ms[m])[i];
            int seen = 0;
            for (int k = 0; k < n && !seen; k++) seen = !strcmp((*out)[k].workload, w->workload);
            if (seen || !row_measured(w)) continue;
            struct best b = {"", report_in_gbps(w), 0, -1, {0}};
            snprintf(b.workload, sizeof b.workload, "%s", w->workload);
            double *vals = malloc(sizeof(double) * nm * (ms[m].nview + 1));
            int in[MAX_MACHINES] = {0};     /* the machines that measured this workload at all */
            for (int q = 0; q < nm; q++)
                for (int j = 0; j < ms[q].nview && !in[q]; j++) in[q] = !strcmp(view_rows(&ms[q])[j].workload, b.workload) && row_measured(&view_rows(&ms[q])[j]);
            for (int j = 0; j < ms[m].nview; j++) {   /* cases of the first machine that measured it */
                const struct row *c = &view_rows(&ms[m])[j];
                int dup = 0;
                for (int q = 0; q < j && !dup; q++) {
                    const struct row *o = &view_rows(&ms[m])[q];
                    dup = !strcmp(o->workload, c->workload) && !strcmp(o->case_name, c->case_name) && !strcmp(o->dtype, c->dtype) && devices(o) == devices(c);
                }
                if (dup || strcmp(c->workload, b.workload) || !row_measured(c)) continue;
                int all = 1;
                for (int q = 0; q < nm && all; q++)
                    all = !in[q] || !isnan(vals[q * (ms[m].nview + 1) + b.cases] = case_best(&ms[q], c));
                b.cases += all;
            }
            for (int q = 0; q < nm; q++) {
                b.gm[q] = b.cases && in[q] ? geomean(&vals[q * (ms[m].nview + 1)], b.cases) : NAN;
                if (!isnan(b.gm[q]) && (b.best < 0 || b.gm[q] > b.gm[b.best])) b.best = q;
            }
            free(vals);
            if (n == cap) *out = realloc(*out, sizeof **out * (cap = cap ? cap * 2 : 32));
            (*out)[n++] = b;
        }
    return n;
}

/* Training rows of every machine: seconds and dollars per epoch (the allocation's price), cheapest
 * first within a case. */
static int cmp_cost(const void *a, const void *b)
{
    const struct cost *x = a, *y = b;
    int c = strcmp(x->r->case_name, y->r->case_name);
    if (c) return c;
    if (isnan(x->usd) != isnan(y->usd)) return isnan(x->usd) ? 1 : -1;
    double d = isnan(x->usd) ? x->seconds - y->seconds : x->usd - y->usd;
    return (d > 0) - (d < 0);
}

static int epoch_costs(const struct machine *ms, int nm, struct cost **out)
{
    int n = 0, cap = 0;
    *out = NULL;
    for (int m = 0; m < nm; m++) {
        const char *dsz = sysinfo_get(&ms[m].si, "train", "dataset_size");
        int dataset = dsz ? atoi(dsz) : 60000;
        for (int i = 0; i < ms[m].nview; i++) {
            const struct row *r = &view_rows(&ms[m])[i];
            if ((strcmp(r->family, "train") && strcmp(r->family, "dp-train")) || !row_measured(r) || !(r->items_per_call > 0)) continue;
            struct row one = *r;
            const char *covers;
            if (one.rank >= 0) one.ranks = 1;          /* a rank alone: one device's price */
            double usd_h = report_allocation_usd_per_hour(&ms[m].si, &one, &covers), s = dataset / r->items_per_call * r->median_s;
            if (n == cap) *out = realloc(*out, sizeof **out * (cap = cap ? cap * 2 : 32));
            (*out)[n++] = (struct cost){r, m, s, s / 3600 * usd_h};
        }
    }
    if (n) qsort(*out, n, sizeof **out, cmp_cost);
    return n;
}

static void write_md(FILE *f, const struct machine *ms, int nm, const struct headline *h, int nh, const struct best *b, int nb,
                     const struct cost *c, int nc)
{
    fprintf(f, "# dlbench fleet report\n\n%d run folders. Every figure is a run's own (median of verified, timed samples). "
               "A multi-process run counts with rank 0's rows and the rows its ranks measured together (`k ranks`); "
               "cases pair across machines only at the same number of ranks.\n\n## Machines\n\n"
               "| machine | run folder | CPU | cores | memory GiB | GPU | GPUs | ranks (hosts) | dlbench | date |\n"
               "|---|---|---|---:|---:|---|---:|---|---|---|\n", nm);
    for (int m = 0; m < nm; m++) {
        const struct sysinfo *si = &ms[m].si;
        fprintf(f, "| %s | %s | %s | %s | %s | %s | %d | %s (%s) | %s (%s) | %s |\n", ms[m].label, ms[m].dir,
                si_or(si, "cpu", "model", "?"), si_or(si, "cpu", "cores", "?"), si_or(si, "cpu", "memory_gib", "?"),
                si_or(si, "gpu0", "name", "none"), gpu_count(si), si_or(si, "dist", "ranks", "1"), si_or(si, "dist", "hosts", "1"),
                si_or(si, "dlbench", "version", "?"), si_or(si, "dlbench", "git_revision", "?"), si_or(si, "dlbench", "date_utc", "?"));
    }
    fputs("\n## Headline per machine\n\n| machine | family | best CPU | best GPU | GPU/CPU (geomean) | pairs |\n|---|---|---:|---:|---:|---:|\n", f);
    for (int i = 0; i < nh; i++) {
        fprintf(f, "| %s | %s |", ms[h[i].m].label, h[i].family);
        const struct row *rs[2] = {h[i].cpu, h[i].gpu};
        for (int k = 0; k < 2; k++) {
            char rk[24] = "";
            if (rs[k] && rs[k]->rank < 0) snprintf(rk, sizeof rk, ", %d ranks", rs[k]->ranks);
            if (rs[k]) fprintf(f, " %.1f %s (%s %s, %s%s) |", report_metric(rs[k]), report_in_gbps(rs[k]) ? "GB/s" : "GFLOP/s",
                               rs[k]->case_name, rs[k]->dtype, rs[k]->backend, rk);
            else fputs(" — |", f);
        }
        if (h[i].pairs) fprintf(f, " %.2f× | %d |\n", h[i].gpu_over_cpu, h[i].pairs); else fputs(" — | 0 |\n", f);
    }
    fputs("\n## Best machine per workload\n\nEach machine's geometric mean, over the cases measured by every machine that ran "
          "the workload, of its best figure per case (any backend; rows of k ranks together pair only with k ranks).\n\n"
          "| workload | unit | cases | best |", f);
    for (int m = 0; m < nm; m++) fprintf(f, " %s |", ms[m].label);
    fputs("\n|---|---|---:|---|", f);
    for (int m = 0; m < nm; m++) fputs("---:|", f);
    fputc('\n', f);
    for (int i = 0; i < nb; i++) {
        fprintf(f, "| %s | %s | %d | %s |", b[i].workload, b[i].gbps ? "GB/s" : "GFLOP/s", b[i].cases, b[i].best >= 0 ? ms[b[i].best].label : "— (no case in common)");
        for (int m = 0; m < nm; m++) { if (isnan(b[i].gm[m])) fputs(" — |", f); else fprintf(f, " %.1f |", b[i].gm[m]); }
        fputc('\n', f);
    }
    if (nc) {
        fputs("\n## Cost per epoch across instance types\n\nSeconds per epoch = dataset ÷ batch × median step; dollars for the "
              "whole allocation the row used (each run's price table or --price-*); cheapest first within a case.\n\n"
              "| case | machine | backend | device | ranks | s/epoch | $/epoch |\n|---|---|---|---|---:|---:|---:|\n", f);
        for (int i = 0; i < nc; i++) {
            const struct row *r = c[i].r;
            fprintf(f, "| %s | %s | %s | %s | %d | %.2f |", r->case_name, ms[c[i].m].label, r->backend, r->device,
                    devices(r), c[i].seconds);
            if (isnan(c[i].usd)) fputs(" n/a: no price |\n", f); else fprintf(f, " $%.4g |\n", c[i].usd);
        }
    }
}

static void csv_num(FILE *f, double v, const char *fmt)
{
    fputc(',', f);
    if (!isnan(v)) fprintf(f, fmt, v);
}

static void write_csv(FILE *f, const struct machine *ms, int nm)
{
    fputs("machine,run,hostname,backend,device,workload,family,case,shape,dtype,threads,rank,ranks,host,status,median_s,"
          "gflops,gbytes_per_s,busbw_gbps,items_per_call\n", f);
    for (int m = 0; m < nm; m++)
        for (int i = 0; i < ms[m].nrows; i++) {
            const struct row *r = &ms[m].rows[i];
            const char *s[] = {ms[m].label, ms[m].dir, si_or(&ms[m].si, "host", "hostname", ""), r->backend, r->device,
                               r->workload, r->family, r->case_name, r->shape, r->dtype};
            for (int k = 0; k < 10; k++) { if (k) fputc(',', f); csv_write_field(f, s[k]); }
            fprintf(f, ",%d,", r->threads);
            if (r->rank >= 0) fprintf(f, "%d", r->rank);
            fprintf(f, ",%d,", r->ranks);
            csv_write_field(f, r->host);
            fputc(',', f);
            csv_write_field(f, r->status);
            csv_num(f, r->median_s, "%.6e");
            csv_num(f, r->gflops, "%.4g");
            csv_num(f, r->gbytes_per_s, "%.4g");
            csv_num(f, r->busbw_gbps, "%.4g");
            csv_num(f, r->items_per_call, "%.0f");
            fputc('\n', f);
        }
}

static void json_num(FILE *f, double v) { if (isnan(v) || isinf(v)) fputs("null", f); else fprintf(f, "%.6g", v); }

static void json_kv(FILE *f, const char *k, const char *v, int comma)
{
    json_write_string(f, k);
    fputs(": ", f);
    json_write_string(f, v ? v : "");
    if (comma) fputs(", ", f);
}

static void json_row_ref(FILE *f, const char *key, const struct row *r)
{
    json_write_string(f, key);
    if (!r) { fputs(": null", f); return; }
    fputs(": {", f);
    json_kv(f, "backend", r->backend, 1);
    json_kv(f, "case", r->case_name, 1);
    json_kv(f, "dtype", r->dtype, 1);
    json_kv(f, "unit", report_in_gbps(r) ? "GB/s" : "GFLOP/s", 1);
    fputs("\"value\": ", f);
    json_num(f, report_metric(r));
    fputc('}', f);
}

static void write_json(FILE *f, const struct machine *ms, int nm, const struct headline *h, int nh, const struct best *b, int nb,
                       const struct cost *c, int nc)
{
    fprintf(f, "{\n  \"format\": %d,\n  \"machines\": [", DLBENCH_FORMAT);
    for (int m = 0; m < nm; m++) {
        const struct sysinfo *si = &ms[m].si;
        char gpus[16];
        snprintf(gpus, sizeof gpus, "%d", gpu_count(si));
        fputs(m ? ",\n    {" : "\n    {", f);
        json_kv(f, "machine", ms[m].label, 1);
        json_kv(f, "run", ms[m].dir, 1);
        fputs("\"fingerprint\": {", f);
        json_kv(f, "hostname", si_or(si, "host", "hostname", ""), 1);
        json_kv(f, "cpu", si_or(si, "cpu", "model", ""), 1);
        json_kv(f, "cores", si_or(si, "cpu", "cores", ""), 1);
        json_kv(f, "memory_gib", si_or(si, "cpu", "memory_gib", ""), 1);
        json_kv(f, "gpu", si_or(si, "gpu0", "name", ""), 1);
        json_kv(f, "gpus", gpus, 1);
        json_kv(f, "driver", si_or(si, "cuda", "driver", ""), 1);
        json_kv(f, "ranks", si_or(si, "dist", "ranks", "1"), 1);
        json_kv(f, "hosts", si_or(si, "dist", "hosts", "1"), 1);
        json_kv(f, "kernel", si_or(si, "host", "kernel", ""), 1);
        json_kv(f, "dlbench", si_or(si, "dlbench", "version", ""), 1);
        json_kv(f, "git_revision", si_or(si, "dlbench", "git_revision", ""), 1);
        json_kv(f, "date_utc", si_or(si, "dlbench", "date_utc", ""), 0);
        fputs("}}", f);
    }
    fputs("\n  ],\n  \"headline\": [", f);
    for (int i = 0; i < nh; i++) {
        fputs(i ? ",\n    {" : "\n    {", f);
        json_kv(f, "machine", ms[h[i].m].label, 1);
        json_kv(f, "family", h[i].family, 1);
        json_row_ref(f, "best_cpu", h[i].cpu);
        fputs(", ", f);
        json_row_ref(f, "best_gpu", h[i].gpu);
        fputs(", \"gpu_over_cpu\": ", f);
        json_num(f, h[i].gpu_over_cpu);
        fprintf(f, ", \"pairs\": %d}", h[i].pairs);
    }
    fputs("\n  ],\n  \"best_machine\": [", f);
    for (int i = 0; i < nb; i++) {
        fputs(i ? ",\n    {" : "\n    {", f);
        json_kv(f, "workload", b[i].workload, 1);
        json_kv(f, "unit", b[i].gbps ? "GB/s" : "GFLOP/s", 1);
        fprintf(f, "\"cases\": %d, \"best\": ", b[i].cases);
        if (b[i].best >= 0) json_write_string(f, ms[b[i].best].label); else fputs("null", f);
        fputs(", \"geomean\": {", f);
        for (int m = 0; m < nm; m++) {
            if (m) fputs(", ", f);
            json_write_string(f, ms[m].label);
            fputs(": ", f);
            json_num(f, b[i].gm[m]);
        }
        fputs("}}", f);
    }
    fputs("\n  ],\n  \"epoch_cost\": [", f);
    for (int i = 0; i < nc; i++) {
        const struct row *r = c[i].r;
        fputs(i ? ",\n    {" : "\n    {", f);
        json_kv(f, "case", r->case_name, 1);
        json_kv(f, "machine", ms[c[i].m].label, 1);
        json_kv(f, "backend", r->backend, 1);
        json_kv(f, "device", r->device, 1);
        fprintf(f, "\"ranks\": %d, \"seconds\": ", devices(r));
        json_num(f, c[i].seconds);
        fputs(", \"usd\": ", f);
        json_num(f, c[i].usd);
        fputc('}', f);
    }
    fputs("\n  ]\n}\n", f);
}

/* dir/name through a temporary file and rename: a reader never sees half a file. */
static int write_file(const char *dir, const char *name, void (*body)(FILE *, const void *), const void *ctx)
{
    char path[4300], tmp[4400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) { fprintf(stderr, "dlbench: merge: cannot write %s: %s\n", path, strerror(errno)); return -1; }
    body(f, ctx);
    int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) { fprintf(stderr, "dlbench: merge: cannot write %s\n", path); return -1; }
    return 0;
}

struct fleet { const struct machine *ms; int nm; const struct headline *h; int nh; const struct best *b; int nb; const struct cost *c; int nc; };
static void md_body(FILE *f, const void *p) { const struct fleet *x = p; write_md(f, x->ms, x->nm, x->h, x->nh, x->b, x->nb, x->c, x->nc); }
static void csv_body(FILE *f, const void *p) { const struct fleet *x = p; write_csv(f, x->ms, x->nm); }
static void json_body(FILE *f, const void *p) { const struct fleet *x = p; write_json(f, x->ms, x->nm, x->h, x->nh, x->b, x->nb, x->c, x->nc); }

static const char *usage = "usage: dlbench merge [--out DIR] RUN_DIR...\n"
                           "  one fleet report from run folders of several machines: DIR/fleet.md, fleet.csv, fleet.json\n"
                           "  (default DIR: results/fleet-<UTC time>)\n";

int merge_main(int argc, char **argv)
{
    const char *out = NULL, *dirs[MAX_MACHINES];
    int nd = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { fputs(usage, stdout); return 0; }
        if (!strcmp(argv[i], "--out")) {
            if (i + 1 >= argc || !*argv[i + 1]) { cli_err("--out", "needs a value"); return 2; }
            out = argv[++i];
        } else if (!strncmp(argv[i], "--", 2)) {
            cli_err("merge", "unknown option '%s' (dlbench merge --help)", argv[i]);
            return 2;
        } else if (nd == MAX_MACHINES) {
            cli_err("merge", "more than %d run folders", MAX_MACHINES);
            return 2;
        } else dirs[nd++] = argv[i];
    }
    if (nd == 0) { cli_err("merge", "needs at least one run folder (dlbench merge --help)"); return 2; }
    struct machine *ms = calloc(nd, sizeof *ms);
    int rc = 0, nm = 0;
    for (; nm < nd && rc == 0; nm++) rc = load_machine(&ms[nm], dirs[nm]) ? 2 : 0;
    for (int m = 0; m < nm && rc == 0; m++) {   /* a label per machine: its hostname, #2 … when repeated */
        const char *host = si_or(&ms[m].si, "host", "hostname", "machine");
        int k = 1;
        for (int q = 0; q < m; q++) k += !strcmp(si_or(&ms[q].si, "host", "hostname", "machine"), host);
        if (k == 1) snprintf(ms[m].label, sizeof ms[m].label, "%.70s", host);
        else snprintf(ms[m].label, sizeof ms[m].label, "%.60s#%d", host, k);
    }
    char dir[4096];
    if (out) snprintf(dir, sizeof dir, "%s", out);
    else {
        char stamp[32];
        time_t now = time(NULL);
        strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", gmtime(&now));
        snprintf(dir, sizeof dir, "results/fleet-%s", stamp);
    }
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/fleet.md", dir);
    if (rc == 0 && access(probe, F_OK) == 0) { fprintf(stderr, "dlbench: merge: --out: %s already holds a fleet report\n", dir); rc = 2; }
    if (rc == 0 && mkdir_p(dir) != 0) { fprintf(stderr, "dlbench: merge: --out: cannot create %s: %s\n", dir, strerror(errno)); rc = 2; }
    if (rc == 0) {
        struct headline *h;
        struct best *b;
        struct cost *c;
        int nh = headlines(ms, nm, &h), nb = best_machines(ms, nm, &b), nc = epoch_costs(ms, nm, &c);
        struct fleet x = {ms, nm, h, nh, b, nb, c, nc};
        rc = write_file(dir, "fleet.md", md_body, &x) || write_file(dir, "fleet.csv", csv_body, &x) ||
             write_file(dir, "fleet.json", json_body, &x) ? 2 : 0;
        if (rc == 0) printf("%s/fleet.md (%d machines), fleet.csv, fleet.json\n", dir, nm);
        free(h); free(b); free(c);
    }
    for (int m = 0; m < nm; m++) { free(ms[m].rows); free(ms[m].view); sysinfo_free(&ms[m].si); }
    free(ms);
    return rc;
}
