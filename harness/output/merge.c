/* merge.c: `dlbench merge RUN_DIR...`: the fleet report of run folders from different machines: each
 * machine's fingerprint, its headline per family (best CPU and GPU figure, GPU/CPU), each workload's
 * best machine, and the cost of a training epoch across the instance types. fleet.md, fleet.csv
 * (every row of every run, with its machine) and fleet.json, written atomically like report.md.
 * Bad input (an unreadable or malformed file, another run-folder format): "file:line: reason", exit 2. */
#include "merge.h"
#include "cli.h"
#include "files.h"
#include "metrics.h"
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
                const struct row **best = row_is_cpu(r) ? &h.cpu : &h.gpu;
                if (!*best || row_metric(r) > row_metric(*best)) *best = r;
                row_pair(rows, nr, r, &cpu, &gpu);
                if (row_is_cpu(r) && cpu == r && gpu && row_measured(gpu)) ratio[h.pairs++] = row_speedup(gpu, cpu);
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
        if (isnan(best) || row_metric(r) > best) best = row_metric(r);
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
            struct best b = {"", row_in_gbps(w), 0, -1, {0}};
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
            if (rs[k]) fprintf(f, " %.1f %s (%s %s, %s%s) |", row_metric(rs[k]), row_unit(rs[k]),
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

static void add_num(cJSON *o, const char *key, double v)
{
    if (isnan(v) || isinf(v)) cJSON_AddNullToObject(o, key); else cJSON_AddNumberToObject(o, key, round6(v));
}

static cJSON *row_ref(const struct row *r)
{
    if (!r) return cJSON_CreateNull();
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "backend", r->backend);
    cJSON_AddStringToObject(o, "case", r->case_name);
    cJSON_AddStringToObject(o, "dtype", r->dtype);
    cJSON_AddNumberToObject(o, "ranks", devices(r));
    cJSON_AddStringToObject(o, "unit", row_unit(r));
    add_num(o, "value", row_metric(r));
    return o;
}

struct fleet { const struct machine *ms; int nm; const struct headline *h; int nh; const struct best *b; int nb; const struct cost *c; int nc; };

static cJSON *fleet_json(const struct fleet *x)
{
    static const char *fp[][3] = {{"hostname", "host", "hostname"}, {"cpu", "cpu", "model"}, {"cores", "cpu", "cores"},
                                  {"memory_gib", "cpu", "memory_gib"}, {"gpu", "gpu0", "name"}, {"driver", "cuda", "driver"},
                                  {"ranks", "dist", "ranks"}, {"hosts", "dist", "hosts"}, {"kernel", "host", "kernel"},
                                  {"dlbench", "dlbench", "version"}, {"git_revision", "dlbench", "git_revision"},
                                  {"date_utc", "dlbench", "date_utc"}};
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "format", DLBENCH_FORMAT);
    cJSON *arr = cJSON_AddArrayToObject(doc, "machines");
    for (int m = 0; m < x->nm; m++) {
        cJSON *o = cJSON_CreateObject(), *f = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "machine", x->ms[m].label);
        cJSON_AddStringToObject(o, "run", x->ms[m].dir);
        for (size_t k = 0; k < sizeof fp / sizeof fp[0]; k++)
            cJSON_AddStringToObject(f, fp[k][0], si_or(&x->ms[m].si, fp[k][1], fp[k][2], ""));
        cJSON_AddNumberToObject(f, "gpus", gpu_count(&x->ms[m].si));
        cJSON_AddItemToObject(o, "fingerprint", f);
        cJSON_AddItemToArray(arr, o);
    }
    arr = cJSON_AddArrayToObject(doc, "headline");
    for (int i = 0; i < x->nh; i++) {
        const struct headline *h = &x->h[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "machine", x->ms[h->m].label);
        cJSON_AddStringToObject(o, "family", h->family);
        cJSON_AddItemToObject(o, "best_cpu", row_ref(h->cpu));
        cJSON_AddItemToObject(o, "best_gpu", row_ref(h->gpu));
        add_num(o, "gpu_over_cpu", h->gpu_over_cpu);
        cJSON_AddNumberToObject(o, "pairs", h->pairs);
        cJSON_AddItemToArray(arr, o);
    }
    arr = cJSON_AddArrayToObject(doc, "best_machine");
    for (int i = 0; i < x->nb; i++) {
        const struct best *b = &x->b[i];
        cJSON *o = cJSON_CreateObject(), *g = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "workload", b->workload);
        cJSON_AddStringToObject(o, "unit", b->gbps ? "GB/s" : "GFLOP/s");
        cJSON_AddNumberToObject(o, "cases", b->cases);
        if (b->best >= 0) cJSON_AddStringToObject(o, "best", x->ms[b->best].label); else cJSON_AddNullToObject(o, "best");
        for (int m = 0; m < x->nm; m++) add_num(g, x->ms[m].label, b->gm[m]);
        cJSON_AddItemToObject(o, "geomean", g);
        cJSON_AddItemToArray(arr, o);
    }
    arr = cJSON_AddArrayToObject(doc, "epoch_cost");
    for (int i = 0; i < x->nc; i++) {
        const struct cost *c = &x->c[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "case", c->r->case_name);
        cJSON_AddStringToObject(o, "machine", x->ms[c->m].label);
        cJSON_AddStringToObject(o, "backend", c->r->backend);
        cJSON_AddStringToObject(o, "device", c->r->device);
        cJSON_AddNumberToObject(o, "ranks", devices(c->r));
        add_num(o, "seconds", c->seconds);
        add_num(o, "usd", c->usd);
        cJSON_AddItemToArray(arr, o);
    }
    return doc;
}

/* dir/name atomically (a temporary file renamed into place): a reader never sees half a file. */
static int write_text(const char *dir, const char *name, void (*body)(FILE *, const struct fleet *), const struct fleet *x)
{
    char path[4300];
    struct atomic_file af;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (!atomic_open(&af, path)) { fprintf(stderr, "dlbench: merge: cannot write %s: %s\n", path, strerror(errno)); return -1; }
    body(af.f, x);
    if (atomic_commit(&af) != 0) { fprintf(stderr, "dlbench: merge: cannot write %s\n", path); return -1; }
    return 0;
}

static void md_body(FILE *f, const struct fleet *x) { write_md(f, x->ms, x->nm, x->h, x->nh, x->b, x->nb, x->c, x->nc); }
static void csv_body(FILE *f, const struct fleet *x) { write_csv(f, x->ms, x->nm); }

static int write_json(const char *dir, const struct fleet *x)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/fleet.json", dir);
    cJSON *doc = fleet_json(x);
    int rc = json_write_file(doc, path);
    cJSON_Delete(doc);
    if (rc) fprintf(stderr, "dlbench: merge: cannot write %s\n", path);
    return rc;
}

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
        rc = write_text(dir, "fleet.md", md_body, &x) || write_text(dir, "fleet.csv", csv_body, &x) || write_json(dir, &x) ? 2 : 0;
        if (rc == 0) printf("%s/fleet.md (%d machines), fleet.csv, fleet.json\n", dir, nm);
        free(h); free(b); free(c);
    }
    for (int m = 0; m < nm; m++) { free(ms[m].rows); free(ms[m].view); sysinfo_free(&ms[m].si); }
    free(ms);
    return rc;
}
