/* report.md from rows and system.json alone (so `dlbench report DIR` rebuilds it after any run,
 * even an interrupted one). Families need no code here: units, GPU/CPU pairs, speedups and
 * geometric means come from metrics.h; this file only formats them. */
#include "report.h"
#include "ceilings.h"
#include "files.h"
#include "metrics.h"
#include "plots.h"
#include "prices.h"
#include "stats.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int first_of(const struct row *rows, int i, int (*same)(const struct row *, const struct row *))
{
    for (int j = 0; j < i; j++) if (same(&rows[j], &rows[i])) return 0;
    return 1;
}
static int same_workload(const struct row *a, const struct row *b) { return !strcmp(a->workload, b->workload); }
static int same_family(const struct row *a, const struct row *b) { return !strcmp(a->family, b->family); }

static int both(const struct row *c, const struct row *g) { return c && g && row_measured(c) && row_measured(g); }

static void speedup_cell(FILE *f, double s)
{
    if (isnan(s)) fputs(" — |", f);
    else fprintf(f, " %.2f× |", s);
}

static void cell(FILE *f, const struct row *r, int pct)
{
    if (!r) { fputs(pct ? " — | — |" : " — |", f); return; }
    if (row_measured(r)) {
        fprintf(f, " %.1f%s |", row_metric(r), strcmp(r->status, "noisy") == 0 ? " ~" : "");
        if (pct) { if (isnan(r->ceiling_pct)) fputs(" — |", f); else fprintf(f, " %.0f%% |", r->ceiling_pct); }
        return;
    }
    fprintf(f, " %.*s |", (int)strcspn(r->status, ":"), r->status);
    if (pct) fputs(" — |", f);
}

/* Backends beyond the CPU and the GPU sides of GPU/CPU that ran this workload (e.g. cudnn). */
static int extra_backends(const struct row *rows, int n, const char *wl, const char **names, int max)
{
    int k = 0;
    const char *gpu = NULL;
    for (int i = 0; i < n && !gpu; i++)   /* the GPU side: a base backend where there is one */
        if (!strcmp(rows[i].workload, wl) && row_is_gpu(&rows[i]) && !row_is_variant(&rows[i])) gpu = rows[i].backend;
    for (int i = 0; i < n; i++) {
        if (strcmp(rows[i].workload, wl) || row_is_cpu(&rows[i])) continue;
        if (!gpu) gpu = rows[i].backend;
        if (!strcmp(rows[i].backend, gpu)) continue;
        int seen = 0;
        for (int j = 0; j < k; j++) seen |= !strcmp(names[j], rows[i].backend);
        if (!seen && k < max) names[k++] = rows[i].backend;
    }
    return k;
}

static const struct row *row_of(const struct row *rows, int n, const struct row *key, const char *backend)
{
    for (int i = 0; i < n; i++) if (same_case(&rows[i], key) && !strcmp(rows[i].backend, backend)) return &rows[i];
    return NULL;
}

static void workload_table(const struct row *rows, int n, const char *wl, FILE *f)
{
    const struct row *first = NULL;
    const char *extra[4];
    int cpu_threads = 0, measured = 0, nx = extra_backends(rows, n, wl, extra, 4);
    for (int i = 0; i < n; i++)
        if (!strcmp(rows[i].workload, wl)) {
            if (!first) first = &rows[i];
            if (row_is_cpu(&rows[i]) && rows[i].threads > cpu_threads) cpu_threads = rows[i].threads;
            measured += row_measured(&rows[i]) || strncmp(rows[i].status, "skipped", 7) != 0;
        }
    if (!measured) { fprintf(f, "\n### %s\n\nNothing ran (see the notes).\n", wl); return; }
    const char *u = row_unit(first);
    fprintf(f, "\n### %s\n\n| case | shape | dtype | CPU %s (%d thr) | CPU %% ceil | GPU %s | GPU %% ceil | GPU/CPU |", wl, u,
            cpu_threads, u);
    for (int x = 0; x < nx; x++) fprintf(f, " %s %s | GPU/%s |", extra[x], u, extra[x]);
    fputs("\n|---|---|---|---:|---:|---:|---:|---:|", f);
    for (int x = 0; x < nx; x++) fputs("---:|---:|", f);
    fputc('\n', f);
    for (int i = 0; i < n; i++) {
        const struct row *r = &rows[i], *cpu, *gpu;
        if (strcmp(r->workload, wl) || !first_of(rows, i, same_case)) continue;
        row_pair(rows, n, r, &cpu, &gpu);
        int any = (cpu && row_measured(cpu)) || (gpu && row_measured(gpu));
        for (int x = 0; x < nx; x++) { const struct row *e = row_of(rows, n, r, extra[x]); any |= e && row_measured(e); }
        if (!any && !strncmp(r->status, "skipped", 7)) continue; /* nothing ran here: the notes say why */
        fprintf(f, "| %s | %s | %s |", r->case_name, r->shape, r->dtype);
        cell(f, cpu, 1);
        cell(f, gpu, 1);
        speedup_cell(f, row_speedup(gpu, cpu));
        for (int x = 0; x < nx; x++) {
            const struct row *e = row_of(rows, n, r, extra[x]);
            cell(f, e, 0);
            speedup_cell(f, row_speedup(gpu, e));
        }
        fputc('\n', f);
    }
}

/* A family's best row on one side: highest throughput; the median % of ceiling of that side. */
struct side { const struct row *best; double *pct; int npct; };

static void side_add(struct side *s, const struct row *r)
{
    if (!s->best || row_metric(r) > row_metric(s->best)) s->best = r;
    if (!isnan(r->ceiling_pct)) s->pct[s->npct++] = r->ceiling_pct;
}

static void side_cells(FILE *f, const struct side *c, const struct side *g)
{
    struct summary sc, sg;
    summarize(c->pct, c->npct, &sc);
    summarize(g->pct, g->npct, &sg);
    const struct row *b[2] = {c->best, g->best};
    for (int k = 0; k < 2; k++) {
        if (b[k]) fprintf(f, " %.1f %s (%s %s) |", row_metric(b[k]), row_unit(b[k]), b[k]->case_name, b[k]->dtype);
        else fputs(" — |", f);
    }
    if (c->npct) fprintf(f, " %.0f%% |", sc.median); else fputs(" — |", f);
    if (g->npct) fprintf(f, " %.0f%% |\n", sg.median); else fputs(" — |\n", f);
}

/* Per family: geometric-mean GPU/CPU, best throughput per side, median % of ceiling. CPU rows
 * count when they are their case's CPU side (the most threads). */
static void headline(const struct row *rows, int n, FILE *f)
{
    fputs("\n## Headline\n\n| family | GPU/CPU (geomean) | pairs | best CPU | best GPU | CPU % ceiling (median) | GPU % ceiling (median) |\n"
          "|---|---:|---:|---:|---:|---:|---:|\n", f);
    struct family_ratio *sp;
    int nsp = gpu_cpu_speedups(rows, n, &sp);
    struct side c = {NULL, malloc(sizeof(double) * (n + 1)), 0}, g = {NULL, malloc(sizeof(double) * (n + 1)), 0};
    for (int i = 0; i < n; i++) {
        if (!first_of(rows, i, same_family)) continue;
        c.best = g.best = NULL;
        c.npct = g.npct = 0;
        for (int j = 0; j < n; j++) {
            const struct row *r = &rows[j], *cpu, *gpu;
            if (strcmp(r->family, rows[i].family) || !row_measured(r)) continue;
            row_pair(rows, n, r, &cpu, &gpu);
            if (row_is_cpu(r) && cpu == r) side_add(&c, r);
            else if (row_is_gpu(r)) side_add(&g, r);
        }
        if (!c.best && !g.best) continue; /* nothing measured in this family: the notes say why */
        int k;
        double gm = family_geomean(sp, nsp, rows[i].family, &k);
        fprintf(f, "| %s |", rows[i].family);
        if (k) fprintf(f, " %.2f× | %d |", gm, k); else fputs(" — | 0 |", f);
        side_cells(f, &c, &g);
    }
    free(sp); free(c.pct); free(g.pct);
}

/* Host->device bandwidth for "with transfers": the best pinned h2d row of this run. */
static double h2d_gbps(const struct row *rows, int n)
{
    double best = NAN;
    for (int i = 0; i < n; i++)
        if (!strcmp(rows[i].family, "transfer") && !strncmp(rows[i].case_name, "h2d-pinned", 10) && row_measured(&rows[i]))
            if (isnan(best) || rows[i].gbytes_per_s > best) best = rows[i].gbytes_per_s;
    return best;
}

struct sized { double size, bytes, cpu_s, gpu_s; };
static int cmp_sized(const void *a, const void *b)
{
    double x = ((const struct sized *)a)->size, y = ((const struct sized *)b)->size;
    return (x > y) - (x < y);
}

/* Index of the smallest size from which the GPU wins at every larger size (k: never). With
 * transfers, each call's bytes cross the bus once at the run's best pinned host->device rate. */
static int crossover_index(const struct sized *v, int k, double xfer_gbps)
{
    int from = k;
    for (int i = k - 1; i >= 0; i--) {
        double gpu_t = v[i].gpu_s + (xfer_gbps > 0 ? v[i].bytes / (xfer_gbps * 1e9) : 0);
        if (!(gpu_t < v[i].cpu_s)) break;
        from = i;
    }
    return from;
}

static void crossover_cell(FILE *f, const struct sized *v, int k, int from, const char *what)
{
    if (from == k) fputs(" CPU wins at the largest size |", f);
    else if (from == 0) fprintf(f, " GPU wins from the smallest measured (%.3g %s) |", v[0].size, what);
    else fprintf(f, " %.3g %s |", v[from].size, what);
}

static void crossover(const struct row *rows, int n, FILE *f)
{
    double h2d = h2d_gbps(rows, n);
    int any = 0;
    struct sized *v = malloc(sizeof *v * (n + 1));
    for (int i = 0; i < n; i++) {
        if (!first_of(rows, i, same_family) || !strcmp(rows[i].family, "transfer")) continue;
        const char *fam = rows[i].family, *what = row_in_gbps(&rows[i]) ? "bytes" : "FLOPs";
        int k = 0;
        for (int j = 0; j < n; j++) {
            const struct row *r = &rows[j], *cpu, *gpu;
            if (strcmp(r->family, fam) || !first_of(rows, j, same_case) || strcmp(r->dtype, "fp32")) continue;
            row_pair(rows, n, r, &cpu, &gpu);
            if (both(cpu, gpu))
                v[k++] = (struct sized){row_in_gbps(r) ? r->bytes : r->flops, r->bytes, cpu->median_s, gpu->median_s};
        }
        if (!k) continue;
        if (!any++)
            fputs("\n## Crossover (fp32)\n\nThe smallest problem from which the GPU beats the CPU at every larger measured "
                  "size. \"Counting transfers\" adds each call's bytes crossing the bus at this run's best pinned "
                  "host→device rate.\n\n| family | data on the device | counting host↔device transfers |\n|---|---|---|\n", f);
        qsort(v, k, sizeof *v, cmp_sized);
        fprintf(f, "| %s |", fam);
        crossover_cell(f, v, k, crossover_index(v, k, 0), what);
        if (isnan(h2d)) fputs(" n/a: no host→device transfer measured |\n", f);
        else { crossover_cell(f, v, k, crossover_index(v, k, h2d), what); fputc('\n', f); }
    }
    free(v);
}

/* CPU rows measured at several thread counts: throughput per count and parallel efficiency. */
static void thread_scaling(const struct row *rows, int n, FILE *f)
{
    int counts[32], nc = 0;
    for (int i = 0; i < n; i++) {
        if (!row_is_cpu(&rows[i]) || !row_measured(&rows[i])) continue;
        int seen = 0;
        for (int c = 0; c < nc; c++) seen |= counts[c] == rows[i].threads;
        if (!seen && nc < 32) counts[nc++] = rows[i].threads;
    }
    if (nc < 2) return;
    for (int a = 0; a < nc; a++) for (int b = a + 1; b < nc; b++) if (counts[b] < counts[a]) { int t = counts[a]; counts[a] = counts[b]; counts[b] = t; }
    fputs("\n## CPU thread scaling\n\nThroughput per thread count; efficiency = speedup over the fewest threads ÷ thread ratio.\n\n| workload | case | dtype |", f);
    for (int c = 0; c < nc; c++) fprintf(f, " %d thr |", counts[c]);
    fputs(" efficiency |\n|---|---|---|", f);
    for (int c = 0; c <= nc; c++) fputs("---:|", f);
    fputc('\n', f);
    for (int i = 0; i < n; i++) {
        if (!row_is_cpu(&rows[i]) || !first_of(rows, i, same_case)) continue;
        double perf[32];
        for (int c = 0; c < nc; c++) {
            perf[c] = NAN;
            for (int j = 0; j < n; j++)
                if (row_is_cpu(&rows[j]) && same_case(&rows[j], &rows[i]) && rows[j].threads == counts[c] && row_measured(&rows[j]))
                    perf[c] = row_metric(&rows[j]);
        }
        int measured = 0;
        for (int c = 0; c < nc; c++) measured += !isnan(perf[c]);
        if (!measured) continue;
        fprintf(f, "| %s | %s | %s |", rows[i].workload, rows[i].case_name, rows[i].dtype);
        for (int c = 0; c < nc; c++) { if (isnan(perf[c])) fputs(" — |", f); else fprintf(f, " %.1f |", perf[c]); }
        double eff = perf[nc - 1] / perf[0] / ((double)counts[nc - 1] / counts[0]);
        if (isnan(eff)) fputs(" — |\n", f); else fprintf(f, " %.0f%% |\n", 100 * eff);
    }
}

/* Which dtypes each backend ran natively, and why the others were skipped. */
static void precision_matrix(const struct row *rows, int n, FILE *f)
{
    const char *bk[16];
    int nb = row_backends(rows, n, bk, 16);
    fputs("\n## Precision matrix\n\n| backend |", f);
    for (int d = 0; d < DT_COUNT; d++) fprintf(f, " %s |", dtype_name((enum dtype)d));
    fputs("\n|---|", f);
    for (int d = 0; d < DT_COUNT; d++) fputs("---|", f);
    fputc('\n', f);
    for (int b = 0; b < nb; b++) {
        fprintf(f, "| %s |", bk[b]);
        for (int d = 0; d < DT_COUNT; d++) {
            const struct row *ok = NULL, *skip = NULL;
            for (int i = 0; i < n; i++) {
                if (strcmp(rows[i].backend, bk[b]) || strcmp(rows[i].dtype, dtype_name((enum dtype)d))) continue;
                if (row_measured(&rows[i])) ok = &rows[i];
                else if (!skip) skip = &rows[i];
            }
            if (ok) fputs(" native |", f);
            else if (skip) fprintf(f, " %s |", skip->status);
            else fputs(" — |", f);
        }
        fputc('\n', f);
    }
}

static void ceilings_table(const struct sysinfo *si, FILE *f)
{
    int any = 0;
    for (int i = 0; i < si->n; i++) {
        const char *sec = si->items[i].section;
        if (strncmp(sec, "ceiling.", 8) || (i > 0 && !strcmp(si->items[i - 1].section, sec))) continue;
        struct ceiling c;
        if (ceilings_get(si, sec + 8, &c) != 0) continue;
        if (!any++) fputs("\n## Ceilings measured in this run\n\n| backend | bandwidth GB/s | fp32 GFLOP/s | tf32 | fp16 | bf16 |\n|---|---:|---:|---:|---:|---:|\n", f);
        fprintf(f, "| %s |", sec + 8);
        if (isnan(c.bw_gbps)) fputs(" — |", f); else fprintf(f, " %.1f |", c.bw_gbps);
        for (int d = 0; d < DT_COUNT; d++) { if (isnan(c.gflops[d])) fputs(" — |", f); else fprintf(f, " %.1f |", c.gflops[d]); }
        fputc('\n', f);
    }
    if (any) fputs("\nBandwidth: best of STREAM copy/triad (CPU) or a device-to-device copy (GPU); FLOP/s: the largest GEMM "
                   "per dtype, or an FMA loop where higher. Each is the fastest sample. In-place updates (SGD, Adam) can "
                   "exceed 100%: STREAM counts no write-allocate traffic and they cause none.\n", f);
}

/* Roofline per backend: rows whose FLOPs mean something, against min(peak, intensity × bandwidth). */
static void roofline(const struct row *rows, int n, const struct sysinfo *si, FILE *f)
{
    for (int i = 0; i < n; i++) {
        int seen = 0;
        for (int j = 0; j < i; j++) seen |= !strcmp(rows[j].backend, rows[i].backend);
        struct ceiling c;
        if (seen || ceilings_get(si, rows[i].backend, &c) != 0) continue;
        int any = 0;
        for (int j = 0; j < n; j++) {
            const struct row *r = &rows[j];
            if (strcmp(r->backend, rows[i].backend) || !row_measured(r) || !(r->flops > 0)) continue;
            if (!any++) fprintf(f, "\n### Roofline: %s\n\n| workload | case | dtype | FLOP/byte | GFLOP/s | bound GFLOP/s | bound by | %% of bound |\n"
                                   "|---|---|---|---:|---:|---:|---|---:|\n", rows[i].backend);
            double b = ceiling_bound(&c, r, 0);
            enum dtype dt;
            int compute = dtype_parse(r->dtype, &dt) == 0 && !isnan(c.gflops[dt]) && fabs(b - c.gflops[dt]) < 1e-9;
            fprintf(f, "| %s | %s | %s | %.3g | %.1f | %.1f | %s | %.0f%% |\n", r->workload, r->case_name, r->dtype,
                    r->intensity, r->gflops, b, compute ? "compute" : "memory", 100 * r->gflops / b);
        }
    }
}

static const char *get(const struct sysinfo *si, const char *sec, const char *key)
{
    const char *v = sysinfo_get(si, sec, key);
    return v ? v : "?";
}

static const char *usd_per_hour(const struct sysinfo *si, const char *backend)
{
    char sec[48];
    snprintf(sec, sizeof sec, "price.%s", backend);
    return sysinfo_get(si, sec, "usd_per_hour");
}

/* "12.3", or the n/a reason of the backend's price or energy */
static void money(FILE *f, const struct sysinfo *si, const struct row *r, int dataset)
{
    char sec[48];
    snprintf(sec, sizeof sec, "price.%s", r->backend);
    const char *usd = usd_per_hour(si, r->backend), *st = sysinfo_get(si, sec, "status");
    if (usd) fprintf(f, " $%.3g |", epoch_cost_usd(r->median_s, (int)r->items_per_call, dataset, atof(usd)));
    else fprintf(f, " %s |", st ? st : "n/a: no price recorded");
}

static void energy(FILE *f, const struct sysinfo *si, const struct row *r, int dataset)
{
    char sec[48];
    snprintf(sec, sizeof sec, "energy.%s", r->backend);
    const char *st = sysinfo_get(si, sec, "status");
    if (!isnan(r->joules_per_call)) fprintf(f, " %.0f J |", r->joules_per_call * dataset / r->items_per_call);
    else fprintf(f, " %s |", st && !strncmp(st, "n/a", 3) ? st : "n/a: not measured");
}

/* The price of each backend with a training row, where it came from, or why there is none. */
static void train_prices(const struct row *rows, int n, const struct sysinfo *si, FILE *f)
{
    const char *bk[16];
    int nb = row_backends(rows, n, bk, 16);
    fputs("\nPrices:", f);
    for (int b = 0; b < nb; b++) {
        char sec[48];
        int trains = 0;
        for (int i = 0; i < n && !trains; i++) trains = !strcmp(rows[i].backend, bk[b]) && !strcmp(rows[i].family, "train");
        snprintf(sec, sizeof sec, "price.%s", bk[b]);
        const char *usd = sysinfo_get(si, sec, "usd_per_hour");
        if (!trains) continue;
        if (usd) fprintf(f, " %s $%s/h (%s; %s, %s);", bk[b], usd, get(si, sec, "covers"), get(si, sec, "source"), get(si, sec, "date"));
        else if (sysinfo_get(si, sec, "status")) fprintf(f, " %s %s;", bk[b], sysinfo_get(si, sec, "status"));
    }
    fputs(" override with --price-cpu / --price-gpu.\n", f);
}

/* CPU over GPU per training case: time, dollars and joules per epoch. */
static void train_ratios(const struct row *rows, int n, const struct sysinfo *si, FILE *f)
{
    int pairs = 0;
    for (int i = 0; i < n; i++) {
        const struct row *cpu, *gpu;
        if (strcmp(rows[i].family, "train") || !row_is_cpu(&rows[i])) continue;
        row_pair(rows, n, &rows[i], &cpu, &gpu);
        if (cpu != &rows[i] || isnan(row_speedup(gpu, cpu))) continue;
        if (!pairs++) fputs("\n| case | CPU/GPU time | CPU/GPU $ per epoch | CPU/GPU energy |\n|---|---:|---:|---:|\n", f);
        const char *uc = usd_per_hour(si, cpu->backend), *ug = usd_per_hour(si, gpu->backend);
        fprintf(f, "| %s | %.2f× |", cpu->case_name, cpu->median_s / gpu->median_s);
        if (uc && ug) fprintf(f, " %.2f× |", cpu->median_s * atof(uc) / (gpu->median_s * atof(ug))); else fputs(" n/a |", f);
        if (!isnan(cpu->joules_per_call) && !isnan(gpu->joules_per_call)) fprintf(f, " %.2f× |\n", cpu->joules_per_call / gpu->joules_per_call);
        else fputs(" n/a |\n", f);
    }
}

/* Training: time, samples/s, time, money and energy per epoch, CPU beside GPU. */
static void train_table(const struct row *rows, int n, const struct sysinfo *si, FILE *f)
{
    const char *dsz = sysinfo_get(si, "train", "dataset_size");
    int dataset = dsz ? atoi(dsz) : 60000, any = 0;
    for (int i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        if (strcmp(r->family, "train") || !row_measured(r) || isnan(r->items_per_call)) continue;
        if (!any++) {
            fprintf(f, "\n## Training step and cost per epoch\n\nAn epoch is %d samples (%s): seconds per epoch = %d / "
                       "batch × median step time; cost = epoch hours × the price per hour.\n\n"
                       "| case | backend | ms/step [95%% CI] | samples/s | s/epoch | $/epoch | energy/epoch |\n"
                       "|---|---|---:|---:|---:|---:|---:|\n", dataset, sysinfo_get(si, "train", "dataset") ?: "dataset", dataset);
        }
        fprintf(f, "| %s | %s | %.2f [%.2f, %.2f] | %.0f | %.2f |", r->case_name, r->backend, r->median_s * 1e3, r->ci_lo_s * 1e3,
                r->ci_hi_s * 1e3, r->items_per_call / r->median_s, dataset / r->items_per_call * r->median_s);
        money(f, si, r, dataset);
        energy(f, si, r, dataset);
        fputc('\n', f);
    }
    if (!any) return;
    train_prices(rows, n, si, f);
    train_ratios(rows, n, si, f);
}

void report_print_summary(const struct row *rows, int n, FILE *f)
{
    headline(rows, n, f);
    fputs("\n## Results\n", f);
    for (int i = 0; i < n; i++)
        if (first_of(rows, i, same_workload)) workload_table(rows, n, rows[i].workload, f);
    fputs("\n`~` marks a noisy row (its median's 95% CI is wider than ±1%). GPU/CPU is the ratio of throughputs of the "
          "GPU row and the CPU row with the most threads; % ceil is against this run's roofline bound.\n", f);
}

/* Every row not ok, grouped by backend and reason so one missing GPU is one line. */
static void notes(const struct row *rows, int n, FILE *f)
{
    int any = 0;
    for (int i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        if (strcmp(r->status, "ok") == 0) continue;
        int seen = 0, count = 0;
        for (int j = 0; j < i && !seen; j++)
            seen = !strcmp(rows[j].backend, r->backend) && !strcmp(rows[j].status, r->status);
        if (seen) continue;
        if (!any++) fputs("\n## Notes: rows not ok\n\n", f);
        for (int j = i; j < n; j++) count += !strcmp(rows[j].backend, r->backend) && !strcmp(rows[j].status, r->status);
        char rk[24] = "";
        if (r->rank >= 0 && r->ranks > 1) snprintf(rk, sizeof rk, " (rank %d)", r->rank);
        if (count == 1) fprintf(f, "- %s %s/%s %s%s: %s\n", r->backend, r->workload, r->case_name, r->dtype, rk, r->status);
        else fprintf(f, "- %s, %d rows (first: %s/%s %s): %s\n", r->backend, count, r->workload, r->case_name, r->dtype, r->status);
    }
}

static void machine(const struct sysinfo *si, FILE *f)
{
    fprintf(f, "## Machine\n\n- **CPU**: %s — %s packages, %s cores, %s PUs, %s NUMA nodes; L2 %s B, L3 %s B; %s GiB memory\n",
            get(si, "cpu", "model"), get(si, "cpu", "packages"), get(si, "cpu", "cores"), get(si, "cpu", "pus"),
            get(si, "cpu", "numa_nodes"), get(si, "cpu", "l2_bytes"), get(si, "cpu", "l3_bytes"), get(si, "cpu", "memory_gib"));
    fprintf(f, "- **CPU threads**: %s OpenMP threads, %s; %s (%s, %s)\n", get(si, "cpu", "omp_threads"),
            get(si, "cpu", "omp_binding"), get(si, "cpu", "openblas_config"), get(si, "cpu", "openblas_core"),
            get(si, "cpu", "openblas_parallel"));
    if (sysinfo_get(si, "gpu0", "name"))
        fprintf(f, "- **GPU**: %s, compute capability %s, %s SMs, %s GiB; driver %s, runtime %s, cuBLAS %s\n",
                get(si, "gpu0", "name"), get(si, "gpu0", "compute_capability"), get(si, "gpu0", "sms"),
                get(si, "gpu0", "memory_gib"), get(si, "cuda", "driver"), get(si, "cuda", "runtime"), get(si, "cuda", "cublas"));
    else
        fprintf(f, "- **GPU**: none measured: %s\n", get(si, "cuda", "status"));
    fprintf(f, "- **Build**: %s, `%s`; dlbench %s (%s); %s\n", get(si, "build", "compiler"), get(si, "build", "cflags"),
            get(si, "dlbench", "version"), get(si, "dlbench", "git_revision"), get(si, "host", "kernel"));
    fputs("\n<details><summary>Everything dlbench recorded about the machine</summary>\n\n| | |\n|---|---|\n", f);
    for (int i = 0; i < si->n; i++)
        fprintf(f, "| %s.%s | %s |\n", si->items[i].section, si->items[i].key, si->items[i].value);
    fputs("\n</details>\n", f);
}

void report_write(const struct row *all, int nall, const struct sysinfo *si, const char *plots_md, FILE *f)
{
    struct row *view;
    int n = report_rank_view(all, nall, &view);
    const struct row *rows = view ? view : all;
    fprintf(f, "# dlbench report\n\n%s, %s. Each figure is the median of timed samples; every row was verified against a "
               "double-precision reference on seeded random inputs before it was timed.\n\n",
            get(si, "cpu", "model"), get(si, "dlbench", "date_utc"));
    machine(si, f);
    ceilings_table(si, f);
    report_print_summary(rows, n, f);
    crossover(rows, n, f);
    thread_scaling(rows, n, f);
    train_table(rows, n, si, f);
    precision_matrix(rows, n, f);
    roofline(rows, n, si, f);
    report_dist(all, nall, si, f);
    if (plots_md) fputs(plots_md, f);
    notes(all, nall, f);
    free(view);
}

int report_write_file(const struct row *rows, int n, const struct sysinfo *si, const char *dir)
{
    char path[4200], plots[2048];
    struct atomic_file af;
    struct row *view;
    int nv = report_rank_view(rows, n, &view);
    const char *pm = report_plots(view ? view : rows, nv, si, dir, plots, sizeof plots);
    free(view);
    snprintf(path, sizeof path, "%s/report.md", dir);
    if (!atomic_open(&af, path)) return -1;
    report_write(rows, n, si, pm, af.f);
    return atomic_commit(&af);
}
