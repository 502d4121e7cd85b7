/* report.md from rows and system.json alone (so `dlbench report DIR` rebuilds it after any run,
 * even an interrupted one). Families need no code here: units, GPU/CPU pairs, speedups and
 * geometric means come from metrics.h; this file only formats them. */
#include "report.h"
#include "ceilings.h"
#include "devstate.h"
#include "files.h"
#include "metrics.h"
#include "plots.h"
#include "prices.h"
#include "run_record.h"
#include "stats.h"
#include "summary.h"
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

#define QUICK_CAP_MIB 256   /* workloads' QUICK_ARRAY_CAP_BYTES, as the legend states it */
static int cache_assisted(const struct row *r) { return strstr(r->flags, "cache-assisted") != NULL; }
static int throttled(const struct row *r) { return devstate_text_throttled(r->throttle); }
static int in_place(const struct row *r) { return strstr(r->flags, "in-place") != NULL; }

/* A row's throughput cell; thr: show its thread count (a workload measured at several), cores:
 * physical cores, to mark a row with more threads "oversubscribed". */
static void cell_thr(FILE *f, const struct row *r, int pct, int thr, int cores)
{
    if (!r) { fputs(pct ? " — | — |" : " — |", f); return; }
    if (row_measured(r)) {
        fprintf(f, " %.1f%s%s%s", row_metric(r), strcmp(r->status, "noisy") == 0 ? " ~" : "", cache_assisted(r) ? " †" : "",
                throttled(r) ? " ‡" : "");
        if (thr && r->threads) fprintf(f, " (%d thr)", r->threads);
        fprintf(f, "%s |", row_oversubscribed(r, cores) ? " oversubscribed" : "");
        if (pct) { if (isnan(r->ceiling_pct)) fputs(" — |", f); else fprintf(f, " %.0f%% |", r->ceiling_pct); }
        return;
    }
    fprintf(f, " %.*s |", (int)strcspn(r->status, ":"), r->status);
    if (pct) fputs(" — |", f);
}

static void cell(FILE *f, const struct row *r, int pct) { cell_thr(f, r, pct, 0, 0); }

/* Backends beyond the CPU and the GPU sides of GPU/CPU that ran this workload: on the GPU side
 * (on_gpu 1: cudnn) or the CPU's variants (on_gpu 0: onednn), shown beside their side's columns. */
static int extra_backends(const struct row *rows, int n, const char *wl, int on_gpu, const char **names, int max)
{
    int k = 0;
    const char *gpu = NULL;
    for (int i = 0; i < n && !gpu; i++)   /* the GPU side: a base backend where there is one */
        if (!strcmp(rows[i].workload, wl) && row_is_gpu(&rows[i]) && !row_is_variant(&rows[i])) gpu = rows[i].backend;
    for (int i = 0; i < n; i++) {
        if (strcmp(rows[i].workload, wl) || row_is_cpu(&rows[i]) || row_is_gpu(&rows[i]) != on_gpu) continue;
        if (on_gpu && !gpu) gpu = rows[i].backend;
        if (gpu && !strcmp(rows[i].backend, gpu)) continue;
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

static void workload_table(const struct row *rows, int n, const char *wl, int cores, FILE *f)
{
    const struct row *first = NULL;
    const char *extra[4], *cpux[4];
    int cpu_threads = 0, counts = 0, measured = 0, nx = extra_backends(rows, n, wl, 1, extra, 4),
        ncx = extra_backends(rows, n, wl, 0, cpux, 4);
    for (int i = 0; i < n; i++)
        if (!strcmp(rows[i].workload, wl)) {
            if (!first) first = &rows[i];
            if (row_is_cpu(&rows[i]) && rows[i].threads != cpu_threads) { counts++; cpu_threads = rows[i].threads; }
            measured += row_measured(&rows[i]) || strncmp(rows[i].status, "skipped", 7) != 0;
        }
    if (!measured) { fprintf(f, "\n### %s\n\nNothing ran (see the notes).\n", wl); return; }
    const char *u = row_unit(first);
    char thr[32];
    if (counts > 1) snprintf(thr, sizeof thr, "fastest thread count");
    else snprintf(thr, sizeof thr, "%d thr%s", cpu_threads, cores > 0 && cpu_threads > cores ? ", oversubscribed" : "");
    fprintf(f, "\n### %s\n\n| case | shape | dtype | CPU %s (%s) | CPU %% ceil |", wl, u, thr);
    for (int x = 0; x < ncx; x++) fprintf(f, " %s %s | %s %% ceil |", cpux[x], u, cpux[x]);
    fprintf(f, " GPU %s | GPU %% ceil | GPU/CPU own |", u);
    for (int x = 0; x < nx; x++) fprintf(f, " %s %s | GPU/%s |", extra[x], u, extra[x]);
    fputs(" GPU/CPU best |\n|---|---|---|---:|---:|", f);
    for (int x = 0; x < ncx + 1 + nx; x++) fputs("---:|---:|", f);
    fputs("---:|---:|", f);
    fputc('\n', f);
    for (int i = 0; i < n; i++) {
        const struct row *r = &rows[i], *cpu, *gpu;
        if (strcmp(r->workload, wl) || !first_of(rows, i, same_case)) continue;
        row_pair(rows, n, r, &cpu, &gpu);
        int any = (cpu && row_measured(cpu)) || (gpu && row_measured(gpu));
        for (int x = 0; x < nx; x++) { const struct row *e = row_of(rows, n, r, extra[x]); any |= e && row_measured(e); }
        for (int x = 0; x < ncx; x++) { const struct row *e = row_of(rows, n, r, cpux[x]); any |= e && row_measured(e); }
        if (!any && !strncmp(r->status, "skipped", 7)) continue; /* nothing ran here: the notes say why */
        fprintf(f, "| %s | %s | %s |", r->case_name, r->shape, r->dtype);
        cell_thr(f, cpu, 1, counts > 1, cores);
        for (int x = 0; x < ncx; x++) cell(f, row_of(rows, n, r, cpux[x]), 1);
        cell(f, gpu, 1);
        speedup_cell(f, row_speedup(gpu, cpu));
        for (int x = 0; x < nx; x++) {
            const struct row *e = row_of(rows, n, r, extra[x]);
            cell(f, e, 0);
            speedup_cell(f, row_speedup(gpu, e));
        }
        const struct row *bc, *bg;
        row_pair_by(rows, n, r, PAIR_BEST, &bc, &bg);
        if (isnan(row_speedup(bg, bc))) fputs(" — |\n", f);
        else fprintf(f, " %.2f× %s/%s |\n", row_speedup(bg, bc), bg->backend, bc->backend);
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
        if (b[k]) fprintf(f, " %.1f %s (%s %s %s) |", row_metric(b[k]), row_unit(b[k]), b[k]->backend, b[k]->case_name, b[k]->dtype);
        else fputs(" — |", f);
    }
    if (c->npct) fprintf(f, " %.0f%% |", sc.median); else fputs(" — |", f);
    if (g->npct) fprintf(f, " %.0f%% |\n", sg.median); else fputs(" — |\n", f);
}

/* Per family: geometric-mean GPU/CPU twice, the best row of each side (any backend: cpu or onednn,
 * cuda or cudnn) against the other's and dlbench's own lowering against the other side's own (cpu
 * vs cuda), the best throughput per side with its backend, the median % of ceiling of the best rows. */
static void headline(const struct row *rows, int n, FILE *f)
{
    fputs("\n## Headline\n\nGPU/CPU best: each case's fastest verified GPU row (cuda or cudnn) over its fastest CPU row "
          "(cpu or onednn, any thread count), with the backends that ran them; own: dlbench's own lowering on each "
          "side (cuda over cpu).\n\n| family | GPU/CPU best (geomean) | pairs | from | GPU/CPU own (geomean) | pairs | best CPU | "
          "best GPU | CPU % ceiling (median) | GPU % ceiling (median) |\n|---|---:|---:|---|---:|---:|---:|---:|---:|---:|\n", f);
    struct family_ratio *sp, *bp;
    int nsp = gpu_cpu_speedups(rows, n, &sp), nbp = gpu_cpu_speedups_by(rows, n, PAIR_BEST, &bp);
    struct side c = {NULL, malloc(sizeof(double) * (n + 1)), 0}, g = {NULL, malloc(sizeof(double) * (n + 1)), 0};
    for (int i = 0; i < n; i++) {
        if (!first_of(rows, i, same_family)) continue;
        c.best = g.best = NULL;
        c.npct = g.npct = 0;
        for (int j = 0; j < n; j++) {
            const struct row *r = &rows[j], *cpu, *gpu;
            if (strcmp(r->family, rows[i].family) || !row_measured(r)) continue;
            row_pair_by(rows, n, r, PAIR_BEST, &cpu, &gpu);
            if (cpu == r) side_add(&c, r);
            else if (gpu == r) side_add(&g, r);
        }
        if (!c.best && !g.best) continue; /* nothing measured in this family: the notes say why */
        int k, kb;
        char from[160];
        double gm = family_geomean(sp, nsp, rows[i].family, &k), gb = family_geomean(bp, nbp, rows[i].family, &kb);
        ratio_sources(bp, nbp, rows[i].family, from, sizeof from);
        fprintf(f, "| %s |", rows[i].family);
        if (kb) fprintf(f, " %.2f× | %d | %s |", gb, kb, from); else fputs(" — | 0 | — |", f);
        if (k) fprintf(f, " %.2f× | %d |", gm, k); else fputs(" — | 0 |", f);
        side_cells(f, &c, &g);
    }
    free(sp); free(bp); free(c.pct); free(g.pct);
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
            row_pair_by(rows, n, r, PAIR_BEST, &cpu, &gpu);
            if (both(cpu, gpu))
                v[k++] = (struct sized){row_work(r), r->bytes, cpu->median_s, gpu->median_s};
        }
        if (!k) continue;
        if (!any++)
            fputs("\n## Crossover (fp32)\n\nThe smallest problem from which the GPU beats the CPU (the best row of each side) at every larger measured "
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

/* "native: AMX (brg:avx512_core_amx_bf16; brgconv:avx512_core_amx_bf16 +reorder)": what ran the
 * measured rows of backend × dtype, as the backends named it; for bf16 also which hardware path. */
static void precision_cell(const struct row *rows, int n, const char *backend, const char *dt, FILE *f)
{
    const char *seen[4];
    int k = 0, more = 0, amx = 0, vdp = 0;
    for (int i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        if (strcmp(r->backend, backend) || strcmp(r->dtype, dt) || !row_measured(r) || !r->impl[0]) continue;
        amx |= strstr(r->impl, "amx") != NULL || strstr(r->impl, "AMX") != NULL;
        vdp |= strstr(r->impl, "avx512_core_bf16") != NULL || strstr(r->impl, "AVX512-BF16") != NULL;
        int dup = 0;
        for (int j = 0; j < k; j++) dup |= !strcmp(seen[j], r->impl);
        if (!dup && k < 4) seen[k++] = r->impl;
        else if (!dup) more = 1;
    }
    fputs(" native", f);
    if (!strcmp(dt, "bf16") && (amx || vdp)) fprintf(f, ": %s%s%s", amx ? "AMX" : "", amx && vdp ? " and " : "", vdp ? "AVX512-BF16" : "");
    for (int j = 0; j < k; j++) fprintf(f, "%s%s", j ? "; " : " (", seen[j]);
    fputs(k ? (more ? "; …) |" : ") |") : " |", f);
}

/* Which dtypes each backend ran natively (and what ran them), and why the others were skipped. */
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
            if (ok) precision_cell(rows, n, bk[b], dtype_name((enum dtype)d), f);
            else if (skip) fprintf(f, " %s |", skip->status);
            else fputs(" — |", f);
        }
        fputc('\n', f);
    }
}

/* What each backend ran where it said (cuDNN's chosen algorithm, a oneDNN primitive). */
static void implementations(const struct row *rows, int n, FILE *f)
{
    int any = 0;
    for (int i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        if (!r->impl[0]) continue;
        if (!any++) fputs("\n## Implementations\n\nWhat the backend ran for a row, where it says (an algorithm chosen by "
                          "measurement, a library primitive, the lowering used).\n\n| backend | workload | case | dtype | implementation |\n"
                          "|---|---|---|---|---|\n", f);
        fprintf(f, "| %s | %s | %s | %s | %s |\n", r->backend, r->workload, r->case_name, r->dtype, r->impl);
    }
}

/* "fp32: AVX-512 FMA loop, 16 threads; bf16: AMX-BF16 tiles (tdpbf16ps) loop, 16 threads" */
static void ceiling_sources(const struct sysinfo *si, FILE *f)
{
    for (int i = 0; i < si->n; i++) {
        const char *sec = si->items[i].section;
        struct ceiling c;
        if (strncmp(sec, "ceiling.", 8) || (i > 0 && !strcmp(si->items[i - 1].section, sec))) continue;
        if (ceilings_get(si, sec + 8, &c) != 0) continue;
        fprintf(f, "- %s:", sec + 8);
        for (int d = 0, k = 0; d < DT_COUNT; d++)
            if (!isnan(c.gflops[d]) && c.fl_how[d][0]) fprintf(f, "%s %s from %s", k++ ? ";" : "", dtype_name((enum dtype)d), c.fl_how[d]);
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
        if (!any++) fputs("\n## Ceilings measured in this run\n\n| backend | bandwidth GB/s | stated GB/s | measured/stated | fp32 GFLOP/s "
                          "| tf32 | fp16 | bf16 |\n|---|---:|---:|---:|---:|---:|---:|---:|\n", f);
        fprintf(f, "| %s |", sec + 8);
        if (isnan(c.bw_gbps)) fputs(" — |", f); else fprintf(f, " %.1f%s |", c.bw_gbps, c.bw_cache_assisted ? " †" : "");
        if (isnan(c.bw_stated_gbps)) fputs(" n/a | — |", f);
        else if (isnan(c.bw_gbps)) fprintf(f, " %.1f | — |", c.bw_stated_gbps);
        else fprintf(f, " %.1f | %.0f%% |", c.bw_stated_gbps, 100 * c.bw_gbps / c.bw_stated_gbps);
        for (int d = 0; d < DT_COUNT; d++) { if (isnan(c.gflops[d])) fputs(" — |", f); else fprintf(f, " %.1f |", c.gflops[d]); }
        fputc('\n', f);
    }
    if (!any) return;
    fputs("\n", f);
    for (int i = 0; i < si->n; i++) {
        const char *sec = si->items[i].section;
        struct ceiling c;
        if (strncmp(sec, "ceiling.", 8) || (i > 0 && !strcmp(si->items[i - 1].section, sec)) || ceilings_get(si, sec + 8, &c)) continue;
        fprintf(f, "- %s bandwidth: %s; stated: %s\n", sec + 8, c.bw_how[0] ? c.bw_how : "?",
                c.bw_stated_how[0] ? c.bw_stated_how : "n/a: not recorded");
    }
    fputs("\nEvery bandwidth figure counts bytes read plus bytes written (STREAM's convention): the ceilings, the STREAM "
          "and elementwise rows and device-to-device copies alike; host↔device copies count each byte crossing the bus once. "
          "The stated bandwidth is what the hardware says (GPU: memory clock × bus width × 2). FLOP/s: the largest GEMM per "
          "dtype, or a compute loop on the widest instructions the CPU has (dispatched at run time, whatever the build's "
          "-march) where higher. Each measured ceiling is the fastest sample. In-place updates (SGD, Adam) can exceed 100%: "
          "they read and write the same array, so no line is read for ownership, a cost copy and triad pay. Where each "
          "FLOP/s ceiling came from:\n\n", f);
    ceiling_sources(si, f);
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

/* "$0.0123", or the n/a reason of the backend's price */
static void money(FILE *f, const struct sysinfo *si, const struct row *r, int dataset)
{
    char why[300];
    double usd = row_usd_per_hour(si, r, why, sizeof why);
    if (!isnan(usd)) fprintf(f, " $%.3g |", epoch_cost_usd(r->median_s, (int)r->items_per_call, dataset, usd));
    else fprintf(f, " %s |", why);
}

/* The cost formula and the numbers it used, one line per backend with a price. */
static void price_formula(const struct row *rows, int n, const struct sysinfo *si, FILE *f)
{
    fputs("\nCost per epoch = seconds per epoch / 3600 × the row's price per hour. ", f);
    for (int i = 0; i < n; i++) {
        int seen = 0;
        for (int j = 0; j < i; j++)
            seen |= !strcmp(rows[j].backend, rows[i].backend) && !strcmp(rows[j].family, "train") && row_measured(&rows[j]);
        if (seen || strcmp(rows[i].family, "train") || !row_measured(&rows[i])) continue;
        char sec[48];
        snprintf(sec, sizeof sec, "price.%s", rows[i].backend);
        const char *vcpu = sysinfo_get(si, sec, "usd_per_vcpu_hour"), *gpu = sysinfo_get(si, sec, "usd_per_gpu_hour");
        const char *inst = sysinfo_get(si, sec, "instance"), *iusd = sysinfo_get(si, sec, "instance_usd_per_hour");
        fprintf(f, "%s: ", rows[i].backend);
        if (vcpu) {
            double pus = atof(get(si, "cpu", "pus")), cores = atof(get(si, "cpu", "cores"));
            fprintf(f, "$%s per vCPU-hour", vcpu);
            if (inst && iusd) fprintf(f, " (%s $%s/h ÷ %s vCPUs)", inst, iusd, get(si, sec, "instance_vcpus"));
            fprintf(f, " × the PUs the row's threads occupied (threads × %g PU per core, at most %g)", cores > 0 ? pus / cores : 1, pus);
        } else if (gpu) {
            fprintf(f, "$%s per GPU-hour", gpu);
            if (inst && iusd) fprintf(f, " (%s $%s/h ÷ %s GPUs, its host CPUs included)", inst, iusd, get(si, sec, "instance_gpus"));
        } else {
            const char *st = sysinfo_get(si, sec, "status");
            fprintf(f, "%s. ", st ? st : "n/a: no price recorded");
            continue;
        }
        fprintf(f, "; %s, %s. ", get(si, sec, "source"), get(si, sec, "date"));
    }
    fputs("Override with --price-cpu (this whole machine per hour) / --price-gpu (per GPU).\n", f);
}

/* Joules per epoch, or "n/a" (the reason once per backend, under the table: energy_notes). */
static void energy(FILE *f, const struct row *r, int dataset)
{
    if (!isnan(r->joules_per_call)) fprintf(f, " %.0f J |", r->joules_per_call * dataset / r->items_per_call);
    else fputs(" n/a |", f);
}

static void energy_notes(const struct row *rows, int n, const struct sysinfo *si, FILE *f)
{
    const char *bk[16];
    int nb = row_backends(rows, n, bk, 16), any = 0;
    for (int b = 0; b < nb; b++) {
        char sec[48];
        int missing = 0;
        for (int i = 0; i < n; i++)
            missing |= !strcmp(rows[i].backend, bk[b]) && !strcmp(rows[i].family, "train") && row_measured(&rows[i]) &&
                        isnan(rows[i].joules_per_call);
        if (!missing) continue;
        snprintf(sec, sizeof sec, "energy.%s", bk[b]);
        const char *st = sysinfo_get(si, sec, "status");
        fprintf(f, "%s %s: %s", any++ ? ";" : "\nEnergy n/a on", bk[b], st && !strncmp(st, "n/a: ", 5) ? st + 5 : "not measured");
    }
    if (any) fputs(".\n", f);
}

/* Training: time, samples/s, time, money and energy per epoch, CPU beside GPU. */
static void train_table(const struct row *rows, int n, const struct sysinfo *si, FILE *f)
{
    const char *dsz = sysinfo_get(si, "train", "dataset_size");
    int dataset = dsz ? atoi(dsz) : 60000, any = 0;
    for (int i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        if (strcmp(r->family, "train") || row_is_gpt(r) || !row_measured(r) || isnan(r->items_per_call)) continue;
        if (!any++) {
            fprintf(f, "\n## Training step and cost per epoch\n\nAn epoch is %d samples (%s): seconds per epoch = %d / "
                       "batch × median step time; cost = epoch hours × the price per hour.\n\n"
                       "| case | backend | threads | ms/step [95%% CI] | samples/s | s/epoch | $/h | $/epoch | energy/epoch |\n"
                       "|---|---|---:|---:|---:|---:|---:|---:|---:|\n", dataset, sysinfo_get(si, "train", "dataset") ?: "dataset", dataset);
        }
        char why[300];
        double usd = row_usd_per_hour(si, r, why, sizeof why);
        char thr[16] = "—";
        if (row_is_cpu(r)) snprintf(thr, sizeof thr, "%d", r->threads);
        fprintf(f, "| %s | %s | %s | %.2f [%.2f, %.2f] | %.0f | %.2f |", r->case_name, r->backend, thr, r->median_s * 1e3,
                r->ci_lo_s * 1e3, r->ci_hi_s * 1e3, r->items_per_call / r->median_s, dataset / r->items_per_call * r->median_s);
        if (isnan(usd)) fputs(" n/a |", f); else fprintf(f, " %.4g |", usd);
        money(f, si, r, dataset);
        energy(f, r, dataset);
        fputc('\n', f);
    }
    if (!any) return;
    price_formula(rows, n, si, f);
    energy_notes(rows, n, si, f);
}

/* GPT steps: tokens per second, MFU against the run's measured peak of the row's dtype, and the
 * time, money and energy of a billion tokens. */
static void gpt_table(const struct row *rows, int n, const struct sysinfo *si, FILE *f)
{
    int any = 0;
    for (int i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        if (!row_is_gpt(r) || !row_measured(r) || isnan(r->items_per_call)) continue;
        if (!any++)
            fprintf(f, "\n## Transformer training (GPT step) per billion tokens\n\nTokens: %s. FLOPs per token: 6·N + 6·L·C·T, as "
                       "llm.c counts them (N: parameters of the unpadded model; attention counted causally). MFU: achieved "
                       "FLOP/s ÷ this run's measured peak for the row's dtype (largest GEMM, or FMA loop). GPU bf16 steps keep "
                       "fp32 master weights and use the fused attention of the flash variant where it is available.\n\n"
                       "| case | backend | dtype | ms/step [95%% CI] | tokens/s | MFU | hours / 10⁹ tokens | $ / 10⁹ tokens | "
                       "energy / 10⁹ tokens |\n|---|---|---|---:|---:|---:|---:|---:|---:|\n",
                    sysinfo_get(si, "train", "tokens") ?: "see system.json");
        struct ceiling c;
        enum dtype dt;
        double tps = r->items_per_call / r->median_s, hours = 1e9 / tps / 3600, peak = NAN;
        if (ceilings_get(si, r->backend, &c) == 0 && dtype_parse(r->dtype, &dt) == 0) peak = c.gflops[dt];
        fprintf(f, "| %s | %s | %s | %.2f [%.2f, %.2f] | %.0f |", r->case_name, r->backend, r->dtype, r->median_s * 1e3, r->ci_lo_s * 1e3,
                r->ci_hi_s * 1e3, tps);
        if (isnan(peak) || !(peak > 0)) fputs(" — |", f); else fprintf(f, " %.1f%% |", 100 * r->gflops / peak);
        fprintf(f, " %.3g |", hours);
        char why[160];
        double usd = row_usd_per_hour(si, r, why, sizeof why);   /* a CPU row pays the PUs its threads used */
        if (!isnan(usd)) fprintf(f, " $%.3g |", hours * usd); else fprintf(f, " %s |", why);
        if (!isnan(r->joules_per_call)) fprintf(f, " %.3g MJ |\n", r->joules_per_call * 1e9 / r->items_per_call * 1e-6);
        else fputs(" n/a |\n", f);
    }
    if (any) energy_notes(rows, n, si, f);
}

/* The headline per family and one table per workload. */
static void tables(const struct row *rows, int n, const struct sysinfo *si, FILE *f)
{
    const char *cores = sysinfo_get(si, "cpu", "cores");
    headline(rows, n, f);
    fputs("\n## Results\n", f);
    for (int i = 0; i < n; i++)
        if (first_of(rows, i, same_workload)) workload_table(rows, n, rows[i].workload, cores ? atoi(cores) : 0, f);
    fputs("\n`~` marks a noisy row (its median's 95% CI is wider than ±1%). GPU/CPU own is the ratio of throughputs of "
          "dlbench's own lowering on each side (the GPU base backend's row over the fastest cpu row of the case); GPU/CPU "
          "best is the fastest GPU row over the fastest CPU row, named GPU backend/CPU backend; % ceil is against this "
          "run's roofline bound. \"oversubscribed\": more threads than physical cores.\n", f);
    for (int i = 0; i < n; i++)
        if (!strcmp(rows[i].family, "attention")) {
            fputs("Attention GFLOP/s use the causal count: 2·B·H·T²·d forward (half of the full 4·B·H·T²·d), 3.5× that "
                  "forward + backward; the batched-GEMM paths compute the full T×T product, the CPU and the fused kernel "
                  "skip the masked tiles.\n", f);
            break;
        }
    int ca = 0, th = 0;
    for (int i = 0; i < n; i++) { ca += row_measured(&rows[i]) && cache_assisted(&rows[i]); th += row_measured(&rows[i]) && throttled(&rows[i]); }
    if (ca) fprintf(f, "`†` cache-assisted (%d rows): each array is smaller than 4× the device's last-level cache, so part of "
                       "the traffic is served from cache (the quick suite caps bandwidth arrays at %d MiB; `--suite full` uses 4× the "
                       "largest last-level cache); where the bandwidth ceiling was measured on larger arrays, no %% of it is given.\n",
                ca, (int)(QUICK_CAP_MIB));
    if (th) fprintf(f, "`‡` throttled (%d rows): the GPU reported a clock-lowering reason (power cap, thermal or hardware "
                       "slowdown) while the row was timed; see \"Device state\".\n", th);
}

void report_print_summary(const struct row *rows, int n, const struct sysinfo *si, FILE *f)
{
    summary_write(rows, n, si, f);
    tables(rows, n, si, f);
}

/* Per backend: the range of the rows' clocks, the highest power and temperature, and every row
 * that saw a clock-lowering reason (devstate.h). */
static void device_state(const struct row *rows, int n, const struct sysinfo *si, FILE *f)
{
    int any = 0;
    for (int i = 0; i < n; i++) {
        int seen = 0;
        for (int j = 0; j < i; j++) seen |= !strcmp(rows[j].backend, rows[i].backend);
        if (seen) continue;
        double cmin = NAN, cmax = NAN, mmin = NAN, mmax = NAN, pmax = NAN, lim = NAN, tmax = NAN;
        int nr = 0, nth = 0;
        const char *na = NULL;
        for (int j = i; j < n; j++) {
            const struct row *r = &rows[j];
            if (strcmp(r->backend, rows[i].backend) || !row_measured(r)) continue;
            nr++;
            if (!isnan(r->clock_mhz)) { cmin = isnan(cmin) || r->clock_mhz < cmin ? r->clock_mhz : cmin; cmax = isnan(cmax) || r->clock_mhz > cmax ? r->clock_mhz : cmax; }
            if (!isnan(r->mem_clock_mhz)) { mmin = isnan(mmin) || r->mem_clock_mhz < mmin ? r->mem_clock_mhz : mmin; mmax = isnan(mmax) || r->mem_clock_mhz > mmax ? r->mem_clock_mhz : mmax; }
            if (!isnan(r->power_w) && !(r->power_w <= pmax)) pmax = r->power_w;
            if (!isnan(r->power_limit_w)) lim = r->power_limit_w;
            if (!isnan(r->temp_c) && !(r->temp_c <= tmax)) tmax = r->temp_c;
            nth += throttled(r);
            if (!strncmp(r->throttle, "n/a", 3)) na = r->throttle;
        }
        if (!nr) continue;
        if (!any++) fputs("\n## Device state while timing\n\nRead before and after each CPU row, every 20 ms during each GPU row "
                          "(NVML); clocks are the range of the rows' means.\n\n| backend | rows | clock MHz | memory clock MHz | "
                          "power W (max) | power limit W | temperature °C (max) | throttled rows |\n|---|---:|---:|---:|---:|---:|---:|---|\n", f);
        fprintf(f, "| %s | %d |", rows[i].backend, nr);
        if (isnan(cmin)) fputs(" n/a |", f); else fprintf(f, " %.0f–%.0f |", cmin, cmax);
        if (isnan(mmin)) fputs(" n/a |", f); else fprintf(f, " %.0f–%.0f |", mmin, mmax);
        if (isnan(pmax)) fputs(" n/a |", f); else fprintf(f, " %.0f |", pmax);
        if (isnan(lim)) fputs(" n/a |", f); else fprintf(f, " %.0f |", lim);
        if (isnan(tmax)) fputs(" n/a |", f); else fprintf(f, " %.0f |", tmax);
        if (nth) fprintf(f, " %d ‡ |\n", nth);
        else fprintf(f, " %s |\n", na ? na : "none");
    }
    if (!any) return;
    const char *gov = sysinfo_get(si, "cpu", "governor"), *src = sysinfo_get(si, "cpu", "core_mhz_source");
    if (gov) fprintf(f, "\nCPU frequency governor: %s; core clocks from %s.\n", gov, src ? src : "?");
    int listed = 0;
    for (int i = 0; i < n && listed < 20; i++)
        if (row_measured(&rows[i]) && throttled(&rows[i])) {
            if (!listed++) fputs("\nThrottled rows (a throttled row's figure is lower than the hardware's unthrottled one):\n\n", f);
            fprintf(f, "- %s %s/%s %s: %s (clock %.0f MHz, %.0f W of %.0f W, %.0f °C)\n", rows[i].backend, rows[i].workload,
                    rows[i].case_name, rows[i].dtype, rows[i].throttle, rows[i].clock_mhz, rows[i].power_w, rows[i].power_limit_w,
                    rows[i].temp_c);
        }
}

/* Rows above 100% of their ceiling: in-place updates are explained; anything else is named. */
static void above_ceiling(const struct row *rows, int n, FILE *f)
{
    int listed = 0;
    for (int i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        if (!row_measured(r) || !(r->ceiling_pct > 100.5)) continue;
        if (!listed++) fputs("\n## Rows above their ceiling\n\n", f);
        if (in_place(r))
            fprintf(f, "- %s %s/%s: %.0f%%: an in-place update reads and writes the same array, so no cache line is read "
                       "for ownership; the STREAM-counted ceiling's copies pay that\n", r->backend, r->workload, r->case_name, r->ceiling_pct);
        else
            fprintf(f, "- %s %s/%s %s: %.0f%%: faster than the fastest ceiling sample (the ceiling is this run's best "
                       "measurement, not the hardware's limit)\n", r->backend, r->workload, r->case_name, r->dtype, r->ceiling_pct);
    }
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

/* "3 packages", "1 package"; "?" when not recorded. */
static void count_of(char *buf, size_t n, const char *v, const char *what)
{
    snprintf(buf, n, "%s %s%s", v ? v : "?", what, v && atoi(v) == 1 ? "" : "s");
}

/* A cache size as recorded ("314572800" or "314572800 x 1": bytes per instance x instances), in MiB. */
static void cache_human(const char *v, char *buf, size_t n)
{
    int inst = 1;
    if (!v) { snprintf(buf, n, "?"); return; }
    const char *x = strstr(v, " x ");
    if (x) inst = atoi(x + 3);
    fmt_bytes_human(atof(v), buf, n);
    if (inst > 1) snprintf(buf + strlen(buf), n - strlen(buf), " ×%d", inst);
}

static void machine(const struct sysinfo *si, FILE *f)
{
    char pk[32], co[32], pu[40], nu[40], l2[32], l3[40];
    count_of(pk, sizeof pk, sysinfo_get(si, "cpu", "packages"), "package");
    count_of(co, sizeof co, sysinfo_get(si, "cpu", "cores"), "core");
    count_of(pu, sizeof pu, sysinfo_get(si, "cpu", "pus"), "hardware thread");
    count_of(nu, sizeof nu, sysinfo_get(si, "cpu", "numa_nodes"), "NUMA node");
    cache_human(sysinfo_get(si, "cpu", "l2_bytes"), l2, sizeof l2);
    cache_human(sysinfo_get(si, "cpu", "l3_bytes"), l3, sizeof l3);
    fprintf(f, "\n## Machine\n\n- **CPU**: %s — %s, %s, %s, %s; L2 %s, L3 %s; %s GiB memory\n", get(si, "cpu", "model"), pk, co,
            pu, nu, l2, l3, get(si, "cpu", "memory_gib"));
    fprintf(f, "- **CPU threads**: %s OpenMP threads, %s; %s (%s, %s)\n", get(si, "cpu", "omp_threads"),
            get(si, "cpu", "omp_binding"), get(si, "cpu", "openblas_config"), get(si, "cpu", "openblas_core"),
            get(si, "cpu", "openblas_parallel"));
    if (sysinfo_get(si, "cpu", "openblas_core_why"))
        fprintf(f, "- **OpenBLAS kernels**: %s, %s\n", get(si, "cpu", "openblas_core"), get(si, "cpu", "openblas_core_why"));
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
    const char *suite = sysinfo_get(si, "run", "suite");
    fprintf(f, "# dlbench report\n\n%s%s run of %s on %s. Every figure is the median of timed samples, verified against "
               "a double-precision reference first.\n", suite ? suite : "A", suite ? " suite" : "", get(si, "dlbench", "date_utc"),
            get(si, "host", "hostname"));
    summary_write(rows, n, si, f);
    fputs("\nDetails follow: the run's settings, the machine, its ceilings, then every table.\n", f);
    run_record_write_md(si, f);
    machine(si, f);
    ceilings_table(si, f);
    tables(rows, n, si, f);
    crossover(rows, n, f);
    thread_scaling(rows, n, f);
    train_table(rows, n, si, f);
    gpt_table(rows, n, si, f);
    precision_matrix(rows, n, f);
    implementations(rows, n, f);
    roofline(rows, n, si, f);
    device_state(rows, n, si, f);
    above_ceiling(rows, n, f);
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
