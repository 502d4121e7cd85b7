/* summary.c: the answer on top of report.md and the run's stdout: the machine in one line, GPU/CPU
 * per family (the best row of each side per case, geometric mean over the cases both measured),
 * training time and money per epoch side by side with the faster and the cheaper choice, and one
 * line per backend and reason for what was not measured. Pairing and units come from metrics.h. */
#include "summary.h"
#include "metrics.h"
#include "prices.h"
#include "run_record.h"
#include "stats.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

void fmt_rate(double v, const char *unit, char *buf, size_t n)
{
    if (isnan(v)) snprintf(buf, n, "—");
    else if (v >= 1000) snprintf(buf, n, "%.3g T%s", v / 1000, unit + 1);   /* "GFLOP/s" -> "TFLOP/s" */
    else snprintf(buf, n, "%.3g %s", v, unit);
}

void fmt_seconds_human(double s, char *buf, size_t n)
{
    if (isnan(s)) snprintf(buf, n, "—");
    else if (s < 1) snprintf(buf, n, "%.3g ms", s * 1e3);
    else if (s < 120) snprintf(buf, n, "%.3g s", s);
    else if (s < 7200) snprintf(buf, n, "%.1f min", s / 60);
    else snprintf(buf, n, "%.1f h", s / 3600);
}

void fmt_bytes_human(double b, char *buf, size_t n)
{
    if (b >= 1073741824.0) snprintf(buf, n, "%.3g GiB", b / 1073741824.0);
    else if (b >= 1048576.0) snprintf(buf, n, "%.3g MiB", b / 1048576.0);
    else if (b >= 1024.0) snprintf(buf, n, "%.3g KiB", b / 1024.0);
    else snprintf(buf, n, "%.0f B", b);
}

/* Dollars with two significant digits, never in e-notation: $0.000067, $0.017, $4.20. */
static void fmt_usd(double usd, char *buf, size_t n)
{
    if (isnan(usd)) snprintf(buf, n, "n/a");
    else if (usd >= 1 || usd <= 0) snprintf(buf, n, "$%.2f", usd);
    else snprintf(buf, n, "$%.*f", (int)-floor(log10(usd)) + 1, usd);
}

/* A count with thousands separators: 964,896. */
static void fmt_count(double v, char *buf, size_t n)
{
    char digits[32];
    snprintf(digits, sizeof digits, "%.0f", v);
    size_t len = strlen(digits), k = 0;
    for (size_t i = 0; i < len && k + 2 < n; i++) {
        buf[k++] = digits[i];
        if ((len - i - 1) % 3 == 0 && i + 1 < len) buf[k++] = ',';
    }
    buf[k] = 0;
}

static int first_case(const struct row *rows, int i)
{
    for (int j = 0; j < i; j++) if (same_case(&rows[j], &rows[i])) return 0;
    return 1;
}

static int first_family(const struct row *rows, int i)
{
    for (int j = 0; j < i; j++) if (!strcmp(rows[j].family, rows[i].family)) return 0;
    return 1;
}

static void machine_line(const struct sysinfo *si, FILE *f)
{
    const char *model = sysinfo_get(si, "cpu", "model"), *cores = sysinfo_get(si, "cpu", "cores"),
               *mem = sysinfo_get(si, "cpu", "memory_gib"), *gpu = sysinfo_get(si, "gpu0", "name");
    fprintf(f, "**Machine**: CPU %s (%s cores, %s GiB)", model ? model : "?", cores ? cores : "?", mem ? mem : "?");
    if (gpu) {
        const char *gmem = sysinfo_get(si, "gpu0", "memory_gib"), *clk = sysinfo_get(si, "gpu0", "sm_clock_mhz");
        fprintf(f, "; GPU %s (%s GiB", gpu, gmem ? gmem : "?");
        if (clk) fprintf(f, ", %.2f GHz", atof(clk) / 1000);
        fputs(").\n", f);
    } else {
        const char *why = sysinfo_get(si, "cuda", "status");
        fprintf(f, "; no GPU measured (%s).\n", why ? why : "built without CUDA");
    }
}

/* Per family: GPU/CPU of each case's best rows, their geometric mean, and the best row per side. */
struct fam { const char *name; double ratio; int cases; const struct row *cpu, *gpu; };

static int families(const struct row *rows, int n, struct fam *out, int max)
{
    int k = 0;
    double *r = malloc(sizeof *r * (n + 1));
    for (int i = 0; i < n && k < max; i++) {
        if (!first_family(rows, i)) continue;
        struct fam fm = {rows[i].family, NAN, 0, NULL, NULL};
        for (int j = 0; j < n; j++) {
            if (strcmp(rows[j].family, fm.name) || !first_case(rows, j)) continue;
            const struct row *c = row_best_on_side(rows, n, &rows[j], 0), *g = row_best_on_side(rows, n, &rows[j], 1);
            if (c && (!fm.cpu || row_metric(c) > row_metric(fm.cpu))) fm.cpu = c;
            if (g && (!fm.gpu || row_metric(g) > row_metric(fm.gpu))) fm.gpu = g;
            if (c && g) r[fm.cases++] = row_metric(g) / row_metric(c);
        }
        if (fm.cases) fm.ratio = geomean(r, fm.cases);
        if (fm.cpu || fm.gpu) out[k++] = fm;
    }
    free(r);
    return k;
}

static void best_cell(FILE *f, const struct row *r)
{
    char v[32];
    if (!r) { fputs(" — |", f); return; }
    fmt_rate(row_metric(r), row_unit(r), v, sizeof v);
    fprintf(f, " %s (%s %s, %s", v, r->case_name, r->dtype, r->backend);
    if (r->threads) fprintf(f, " %d thr", r->threads);
    fputs(") |", f);
}

static void verdict(const struct fam *fm, char *buf, size_t n)
{
    if (!fm->cases) snprintf(buf, n, "only the %s measured", fm->cpu ? "CPU" : "GPU");
    else if (fm->ratio >= 1) snprintf(buf, n, "**GPU**, %.3g× faster", fm->ratio);
    else snprintf(buf, n, "**CPU**, %.3g× faster", 1 / fm->ratio);
}

static void family_table(const struct fam *fm, int k, FILE *f)
{
    char v[64];
    int gpu_wins = 0, cpu_wins = 0;
    for (int i = 0; i < k; i++) { gpu_wins += fm[i].cases && fm[i].ratio >= 1; cpu_wins += fm[i].cases && fm[i].ratio < 1; }
    if (!gpu_wins && !cpu_wins)
        fprintf(f, "\nNo case ran on both the CPU and the GPU, so there is no GPU/CPU comparison in this run.\n");
    else {
        fputs("\nThe faster device per family, comparing the best CPU row with the best GPU row of each case "
              "(any thread count, vendor libraries included; geometric mean over the cases both ran):\n", f);
    }
    fputs("\n| family | faster | GPU/CPU | cases on both | best CPU | best GPU |\n|---|---|---:|---:|---|---|\n", f);
    for (int i = 0; i < k; i++) {
        verdict(&fm[i], v, sizeof v);
        fprintf(f, "| %s | %s |", fm[i].name, v);
        if (fm[i].cases) fprintf(f, " %.3g× | %d |", fm[i].ratio, fm[i].cases); else fputs(" — | 0 |", f);
        best_cell(f, fm[i].cpu);
        best_cell(f, fm[i].gpu);
        fputc('\n', f);
    }
}

/* "$0.0446 per vCPU-hour × the PUs used", "$6.88 per GPU-hour", or "no price" */
static void price_words(const struct sysinfo *si, const char *backend, char *buf, size_t n)
{
    char sec[48];
    snprintf(sec, sizeof sec, "price.%s", backend);
    const char *vcpu = sysinfo_get(si, sec, "usd_per_vcpu_hour"), *gpu = sysinfo_get(si, sec, "usd_per_gpu_hour");
    const char *usd = sysinfo_get(si, sec, "usd_per_hour"); /* a run folder from before per-vCPU prices */
    if (vcpu) snprintf(buf, n, "$%s per vCPU-hour × the PUs used", vcpu);
    else if (gpu) snprintf(buf, n, "$%s per GPU-hour", gpu);
    else if (usd) snprintf(buf, n, "$%s/h", usd);
    else snprintf(buf, n, "no price");
}

/* A training case's model: its name without the last ".variant" (resident, transfer, graph). */
static void model_of(const struct row *r, char *buf, size_t n)
{
    const char *dot = strrchr(r->case_name, '.');
    snprintf(buf, n, "%.*s", dot ? (int)(dot - r->case_name) : (int)strlen(r->case_name), r->case_name);
}

static double samples_per_s(const struct row *r) { return r ? r->items_per_call / r->median_s : NAN; }

/* The fastest measured row (samples/s) of a model on one side, across its variants. */
static const struct row *best_train(const struct row *rows, int n, const char *model, const char *dtype, int gpu)
{
    const struct row *best = NULL;
    char m[64];
    for (int i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        if (strcmp(r->family, "train") || strcmp(r->dtype, dtype) || !row_measured(r) || isnan(r->items_per_call) ||
            row_is_gpu(r) != gpu)
            continue;
        model_of(r, m, sizeof m);
        if (!strcmp(m, model) && (!best || samples_per_s(r) > samples_per_s(best))) best = r;
    }
    return best;
}

static void side_cells(FILE *f, const struct row *r, const struct sysinfo *si, int dataset, double *epoch_s, double *usd)
{
    char v[32];
    *epoch_s = *usd = NAN;
    if (!r) { fputs(" — | — | — |", f); return; }
    *epoch_s = dataset / r->items_per_call * r->median_s;
    char why[300];
    *usd = epoch_cost_usd(r->median_s, (int)r->items_per_call, dataset, row_usd_per_hour(si, r, why, sizeof why));
    const char *dot = strrchr(r->case_name, '.');
    fmt_count(samples_per_s(r), v, sizeof v);
    fprintf(f, " %s (%s%s%s) |", v, r->backend, dot ? " " : "", dot ? dot + 1 : "");
    fmt_seconds_human(*epoch_s, v, sizeof v);
    fprintf(f, " %s |", v);
    fmt_usd(*usd, v, sizeof v);
    fprintf(f, " %s |", v);
}

static void choice(FILE *f, double cpu, double gpu, const char *what)
{
    if (isnan(cpu) || isnan(gpu)) fprintf(f, " %s |", isnan(cpu) && isnan(gpu) ? "—" : isnan(cpu) ? "n/a (no CPU figure)" : "n/a (no GPU figure)");
    else if (gpu <= cpu) fprintf(f, " GPU, %.3g× %s |", cpu / gpu, what);
    else fprintf(f, " CPU, %.3g× %s |", gpu / cpu, what);
}

/* Per model (and dtype): samples/s, time and dollars per epoch on the best CPU and GPU rows. */
static void training(const struct row *rows, int n, const struct sysinfo *si, FILE *f)
{
    const char *dsz = sysinfo_get(si, "train", "dataset_size");
    int dataset = dsz ? atoi(dsz) : 60000, any = 0;
    char m[64], seen[64][72];
    int nseen = 0;
    for (int i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        if (strcmp(r->family, "train") || row_is_gpt(r) || !row_measured(r) || isnan(r->items_per_call)) continue;
        char key[72];
        model_of(r, m, sizeof m);
        snprintf(key, sizeof key, "%s %s", m, r->dtype);
        int dup = 0;
        for (int j = 0; j < nseen && !dup; j++) dup = !strcmp(seen[j], key);
        if (dup || nseen == 64) continue;
        snprintf(seen[nseen++], sizeof seen[0], "%s", key);
        if (!any++) {
            char pc[160], pg[160], ds[32];
            price_words(si, "cpu", pc, sizeof pc);
            price_words(si, "cuda", pg, sizeof pg);
            fmt_count(dataset, ds, sizeof ds);
            fprintf(f, "\nTraining, one epoch = %s samples; the best variant of each side (data resident, copied per step, "
                       "or a CUDA graph); cost = epoch hours × the price (CPU %s, GPU %s; --price-cpu, --price-gpu):\n\n| model",
                    ds, pc, pg);
            fputs(" | CPU samples/s | CPU time/epoch | CPU $/epoch | GPU samples/s | "
                  "GPU time/epoch | GPU $/epoch | faster | cheaper |\n|---|---:|---:|---:|---:|---:|---:|---|---|\n", f);
        }
        const struct row *c = best_train(rows, n, m, r->dtype, 0), *g = best_train(rows, n, m, r->dtype, 1);
        double cs, cu, gs, gu;
        fprintf(f, "| %s%s%s |", m, strcmp(r->dtype, "fp32") ? " " : "", strcmp(r->dtype, "fp32") ? r->dtype : "");
        side_cells(f, c, si, dataset, &cs, &cu);
        side_cells(f, g, si, dataset, &gs, &gu);
        choice(f, cs, gs, "faster");
        choice(f, cu, gu, "cheaper");
        fputc('\n', f);
    }
}

/* A GPT case's model: its name without ".graph" (gpt2.small.b8 and gpt2.small.b8.graph compare). */
static void gpt_model_of(const struct row *r, char *buf, size_t n)
{
    size_t len = strlen(r->case_name);
    int graph = len > 6 && !strcmp(r->case_name + len - 6, ".graph");
    snprintf(buf, n, "%.*s", (int)(graph ? len - 6 : len), r->case_name);
}

static const struct row *best_gpt(const struct row *rows, int n, const char *model, const char *dtype, int gpu)
{
    const struct row *best = NULL;
    char m[64];
    for (int i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        if (!row_is_gpt(r) || strcmp(r->dtype, dtype) || !row_measured(r) || isnan(r->items_per_call) || row_is_gpu(r) != gpu)
            continue;
        gpt_model_of(r, m, sizeof m);
        if (!strcmp(m, model) && (!best || samples_per_s(r) > samples_per_s(best))) best = r;
    }
    return best;
}

/* Per GPT model (and dtype): tokens/s, hours and dollars per 10⁹ tokens on the best CPU and GPU rows. */
static void gpt_side(FILE *f, const struct row *r, const struct sysinfo *si, double *hours, double *usd)
{
    char v[32];
    *hours = *usd = NAN;
    if (!r) { fputs(" — | — | — |", f); return; }
    double tps = samples_per_s(r);
    *hours = 1e9 / tps / 3600;
    char why[160];
    *usd = *hours * row_usd_per_hour(si, r, why, sizeof why);
    const char *dot = strrchr(r->case_name, '.');
    fmt_count(tps, v, sizeof v);
    fprintf(f, " %s (%s%s%s) |", v, r->backend, dot && !strcmp(dot, ".graph") ? " " : "", dot && !strcmp(dot, ".graph") ? "graph" : "");
    fmt_seconds_human(*hours * 3600, v, sizeof v);
    fprintf(f, " %s |", v);
    fmt_usd(*usd, v, sizeof v);
    fprintf(f, " %s |", v);
}

static void gpt_training(const struct row *rows, int n, const struct sysinfo *si, FILE *f)
{
    char m[64], seen[16][72];
    int nseen = 0, any = 0;
    for (int i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        if (!row_is_gpt(r) || !row_measured(r) || isnan(r->items_per_call)) continue;
        char key[72];
        gpt_model_of(r, m, sizeof m);
        snprintf(key, sizeof key, "%s %s", m, r->dtype);
        int dup = 0;
        for (int j = 0; j < nseen && !dup; j++) dup = !strcmp(seen[j], key);
        if (dup || nseen == 16) continue;
        snprintf(seen[nseen++], sizeof seen[0], "%s", key);
        if (!any++)
            fputs("\nGPT training, per 10⁹ tokens (the best row of each side, eager or CUDA graph):\n\n| model | CPU tokens/s | "
                  "CPU time | CPU $ | GPU tokens/s | GPU time | GPU $ | faster | cheaper |\n"
                  "|---|---:|---:|---:|---:|---:|---:|---|---|\n", f);
        const struct row *c = best_gpt(rows, n, m, r->dtype, 0), *g = best_gpt(rows, n, m, r->dtype, 1);
        double ch, cu, gh, gu;
        fprintf(f, "| %s %s |", m, r->dtype);
        gpt_side(f, c, si, &ch, &cu);
        gpt_side(f, g, si, &gh, &gu);
        choice(f, ch, gh, "faster");
        choice(f, cu, gu, "cheaper");
        fputc('\n', f);
    }
}

/* Rows not measured: one line per backend and reason. */
static void not_measured(const struct row *rows, int n, FILE *f)
{
    int any = 0, noisy = 0, lines = 0, more = 0;
    for (int i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        noisy += !strcmp(r->status, "noisy");
        if (row_measured(r)) continue;
        int seen = 0, count = 0;
        for (int j = 0; j < i && !seen; j++) seen = !strcmp(rows[j].backend, r->backend) && !strcmp(rows[j].status, r->status);
        if (seen) continue;
        for (int j = i; j < n; j++) count += !strcmp(rows[j].backend, r->backend) && !strcmp(rows[j].status, r->status);
        if (!any++) fputs("\nNot measured:\n", f);
        if (lines++ >= 8) { more++; continue; }
        fprintf(f, "- %s: %d row%s %s\n", r->backend, count, count == 1 ? "" : "s", r->status);
    }
    if (more) fprintf(f, "- %d more reasons: see \"Notes: rows not ok\" at the end\n", more);
    if (!any) fputs("\nEvery planned row was measured.", f);
    if (noisy) fprintf(f, "%s%d of %d rows are noisy (`~`: the median's 95%% CI is wider than ±1%%).\n", any ? "\n" : " ", noisy, n);
    else if (!any) fputc('\n', f);
}

void summary_write(const struct row *rows, int n, const struct sysinfo *si, FILE *f)
{
    char state[256];
    struct fam fm[32];
    fputs("\n## The answer\n\n", f);
    enum run_state st = run_record_state(si, state, sizeof state);
    if (st == RUN_INCOMPLETE || st == RUN_INTERRUPTED)
        fprintf(f, "**This run did not finish** (%s): the figures below cover only what was measured.\n\n", state);
    machine_line(si, f);
    int k = families(rows, n, fm, 32);
    if (k == 0) { fputs("\nNothing was measured.\n", f); not_measured(rows, n, f); return; }
    family_table(fm, k, f);
    training(rows, n, si, f);
    gpt_training(rows, n, si, f);
    not_measured(rows, n, f);
}
