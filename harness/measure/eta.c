/* eta.c: the per-row time model and its calibration (eta.h). The constants are nominal; what the
 * rows actually take corrects them as soon as rows finish. */
#include "eta.h"
#include "cpu_topology.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

/* Nominal rates until the ceilings are measured (the CPU's per thread; a probe of the CPU's compute
 * loop replaces its FLOP/s: eta_set_cpu_loop_rates); host-side work (generation, checks) per core.
 * CPU bandwidth per thread: STREAM ceilings of 17.9 GB/s per thread on the 2-vCPU VM (cache-
 * assisted) and 7.7 on the H100 server's 16-core host. */
#define CPU_GFLOPS_PER_THREAD 30.0
#define CPU_GBPS_PER_THREAD 8.0
#define GPU_GFLOPS 20000.0
#define GPU_GBPS 1000.0
#define HOST_GBPS_PER_CORE 3.0   /* generated, scanned, compared: 3 GB/s per core measured on the dev VM */
#define HOST_GMACS_PER_CORE 0.5  /* a reference check: scalar double multiply-adds */
#define SAMPLE_S 2e-3          /* timing.c's shortest sample */
#define MIN_SAMPLES 8          /* samples before the CI of the median can close */
#define PRIOR_S 2.0            /* seconds of pseudo-observation at the nominal ratio 1 */
#define ROW_FIXED_S 0.15       /* a measured row beyond its calls: threads, buffers, check, summaries
                                  (0.1-0.2 s per small GEMM row on a 2-core machine) */

/* A small index per calibration group, in the order first seen (ETA_GROUPS - 1: any further one):
 * the workload and the first dotted part of the case's name (gemm/sq512, conv_fwd/resnet50,
 * train/mlp, train/cnn, train/gpt), the rows whose time the model misjudges alike. A family was
 * too coarse: the train family's MLP rows took 0.2-0.5x their estimate and taught that to the CNN
 * and GPT rows after them (0.6-1.5x), the ETA's worst misses on the dev VM (-30 to -43%). Replayed
 * on three quick-suite traces of the dev VM (DLBENCH_ETA_TRACE), the estimates within 25% after a
 * tenth of the rows went from 79/98, 79/98, 107/109 to 90/98, 83/98, 109/109 (with PRIOR_S 2). */
static int group_index(const char *workload, const char *case_name)
{
    static char names[ETA_GROUPS - 1][64];
    char key[64];
    size_t n = case_name ? strcspn(case_name, ".") : 0;
    snprintf(key, sizeof key, "%s/%.*s", workload, (int)(n < 40 ? n : 40), case_name ? case_name : "");
    int i;
    for (i = 0; i < ETA_GROUPS - 1 && names[i][0]; i++)
        if (!strcmp(names[i], key)) return i;
    if (i < ETA_GROUPS - 1) memcpy(names[i], key, sizeof key);
    return i;
}

/* Nominal share of the GEMM/bandwidth ceiling a family's calls reach (convolutions lowered to GEMM
 * with im2col; a training step is many small ops), and whether its check recomputes a forward
 * pass in double (train); the calibration corrects the rest. */
static double efficiency(const char *family) { return !strcmp(family, "conv") ? 0.4 : !strcmp(family, "train") ? 0.1 : 1.0; }

static double cpu_loop_gflops[DT_COUNT];   /* per thread, from the probe; 0: none */

void eta_set_cpu_loop_rates(const double per_thread[DT_COUNT])
{
    for (int d = 0; d < DT_COUNT; d++) cpu_loop_gflops[d] = per_thread[d] > 0 ? per_thread[d] : 0;
}

/* The CPU's nominal FLOP/s for dt at a thread count: the probe's loop where it ran (the CPU's
 * fp32 rate for a dtype it has no loop for), else the constant. */
static double cpu_nominal_gflops(enum dtype dt, int threads)
{
    double per = cpu_loop_gflops[dt] > 0 ? cpu_loop_gflops[dt] : cpu_loop_gflops[DT_F32] > 0 ? cpu_loop_gflops[DT_F32] : CPU_GFLOPS_PER_THREAD;
    return per * (threads > 0 ? threads : 1);
}

static int host_cores(void) { return cpu_topology()->cores > 0 ? cpu_topology()->cores : 1; }

/* Host-side work of a case's setup and check: its device buffers made, downloaded and compared. */
static double overhead_s(const struct workload *w, const void *params, enum dtype dt)
{
    double bytes = (double)w->device_bytes(params, dt);
    return 0.002 + 3 * bytes / (HOST_GBPS_PER_CORE * 1e9 * host_cores());
}

/* A smaller instance checked in full against the double reference: its buffers, plus a reference
 * multiply-add for each of its FLOP pairs. */
static double full_check_s(const struct workload *w, const void *params, enum dtype dt)
{
    return overhead_s(w, params, dt) + w->flops(params, dt) / 2 / (HOST_GMACS_PER_CORE * 1e9 * host_cores());
}

double eta_check_seconds(const struct workload *w, const void *params, enum dtype dt)
{
    /* the check's double-precision reference, one core */
    return w->check_flops ? w->check_flops(params, dt) / 2 / (HOST_GMACS_PER_CORE * 1e9) : 0;
}

struct row_estimate eta_row(const struct backend *b, const struct workload *w, const char *case_name, const void *params,
                            enum dtype dt, int threads, const struct timing_opts *t, const struct ceiling *c)
{
    struct row_estimate e = {0, 0, 0.001, b->kind == BACKEND_GPU, group_index(w->name, case_name)};
    char why[256];
    if (!b->probe(why, sizeof why) || b->unsupported(w->family, dt) || !backend_runs(b, w->family)) return e;
    if (w->refuses && w->refuses(b, params, dt, why, sizeof why)) return e;   /* a skip, known now */
    double flops = w->flops(params, dt), bytes = w->bytes(params, dt);
    double pf = c && !isnan(c->gflops[dt]) ? c->gflops[dt] : e.gpu ? GPU_GFLOPS : cpu_nominal_gflops(dt, threads);
    double bw = c && !isnan(c->bw_gbps) ? c->bw_gbps : e.gpu ? GPU_GBPS : CPU_GBPS_PER_THREAD * (threads > 0 ? threads : 1);
    double call = fmax(flops > 0 ? flops / (pf * 1e9) : 0, bytes / (bw * 1e9)) / (w->efficiency ? w->efficiency(params, e.gpu) : efficiency(w->family));
    double sample = fmax(call, SAMPLE_S);
    /* warm-up (>= t->warmup and one call) and the verified call; then samples: at least min_time, at
     * most max_time, never fewer than 3 (timing.c): a budget when calls are short, calls else */
    e.work_s = ROW_FIXED_S + fmax(t->warmup, call) + call + overhead_s(w, params, dt);
    e.work_s += eta_check_seconds(w, params, dt);
    e.budget = MIN_SAMPLES * sample <= t->max_time;
    if (e.budget) e.budget_s = eta_budget_prior(e.gpu, t);
    else e.work_s += fmax(3 * sample, t->max_time);
    if (w->small) { /* the smaller instance: made, run once and checked in full */
        char sp[512];
        if (w->params_size <= sizeof sp && w->small(params, sp)) e.work_s += full_check_s(w, sp, dt);
    }
    return e;
}

/* GPU timings are steady, so most GPU rows' confidence interval closes soon after --min-time: in two
 * H200 quick suites (225 GPU rows each, 0.1-0.4 s) they sampled 0.11-0.13 s on average, against
 * 0.26-0.29 s for the 16-thread host's CPU rows and 0.31-0.35 s on the noisy 2-vCPU VM. The midpoint
 * (0.25 s) for every row had the H200's up-front estimate at "roughly 3 min" for 105-123 s. */
double eta_budget_prior(int gpu, const struct timing_opts *t)
{
    return t->min_time + (gpu ? 0.1 : 0.5) * (t->max_time - t->min_time);
}

void eta_init(struct eta *e) { memset(e, 0, sizeof *e); }

void eta_done(struct eta *e, const struct row_estimate *r, double sampled_s, double total_s)
{
    if (!(total_s >= 0)) total_s = 0;   /* a row never started (a group row of a one-process run): NaN */
    if (!(sampled_s >= 0)) sampled_s = 0;
    double work = total_s;
    if (r->budget) {
        e->budget_rows[r->gpu]++;
        e->budget_s[r->gpu] += sampled_s;
        work = total_s - sampled_s > 0 ? total_s - sampled_s : 0;
    }
    for (int f = 0; f < 2; f++) { /* the row's group, and all groups */
        int at = f ? ETA_GROUPS : r->group;
        e->work_est[r->gpu][at] += r->work_s;
        e->work_got[r->gpu][at] += work;
    }
}

/* What the rows so far took over their estimate: the kind's ratio shrunk towards 1, and the
 * group's shrunk towards the kind's, each by PRIOR_S seconds of pseudo-observation. */
static double work_factor(const struct eta *e, int kind, int group)
{
    double all = (e->work_got[kind][ETA_GROUPS] + PRIOR_S) / (e->work_est[kind][ETA_GROUPS] + PRIOR_S);
    return (e->work_got[kind][group] + PRIOR_S * all) / (e->work_est[kind][group] + PRIOR_S);
}

double eta_left(const struct eta *e, const struct row_estimate *est, int from, int n)
{
    double left = 0;
    for (int i = from; i < n; i++) {
        const struct row_estimate *r = &est[i];
        if (r->budget) /* the average budget of the rows done, one pseudo-row at the prior */
            left += (e->budget_s[r->gpu] + r->budget_s) / (e->budget_rows[r->gpu] + 1);
        left += work_factor(e, r->gpu, r->group) * r->work_s;
    }
    return left;
}

double eta_row_seconds(const struct backend *b, int avail, const struct workload *w, const void *params, enum dtype dt,
                       int threads, const struct timing_opts *t)
{
    if (!avail) return 0.001;
    struct row_estimate e = eta_row(b, w, NULL, params, dt, threads, t, NULL);
    return e.budget_s + e.work_s;
}

static double case_estimate(const struct backend *b, int avail, const char *wl, const char *cs, enum dtype dt, int threads, int quick)
{
    const struct workload *w = workload_find(wl);
    const struct wcase *c = wcase_find(w, cs);
    return c ? eta_row_seconds(b, avail, w, c->params, dt, threads, ceiling_timing(quick)) : 0;
}

/* As ceilings_measure runs them: STREAM copy, triad and dot, a device-to-device copy on a GPU, the
 * largest GEMM per dtype, the FMA loop. */
double eta_ceilings_seconds(const struct backend *b, int avail, int threads, int quick)
{
    int gpu = b->kind == BACKEND_GPU;
    double s = 0;
    if (!avail || b->base) return 0;
    static const char *const stream[] = {"copy", "triad", "dot"};
    for (int i = 0; i < 3; i++) s += case_estimate(b, avail, "stream", stream[i], DT_F32, threads, quick);
    if (gpu) s += case_estimate(b, avail, "transfer", quick ? "d2d.256M" : "d2d.1G", DT_F32, 0, quick);
    for (int d = 0; d < DT_COUNT; d++) s += case_estimate(b, avail, "gemm", ceilings_peak_gemm(gpu, quick), (enum dtype)d, threads, quick);
    return s + (b->peak ? 2 * (ceiling_timing(quick)->min_time + ceiling_timing(quick)->warmup) : 0);   /* the fp32 and bf16 loops */
}
