/* ceilings.c: measures peak bandwidth (best of STREAM copy, triad and dot at the suite's DRAM size,
 * and on a GPU a device-to-device copy too; all counting bytes read plus written) and peak FLOP/s
 * (largest GEMM per dtype; CPU also a compute loop per dtype on the widest path it has, the higher
 * wins), each through the same verified, sampled path as any row; and the bandwidth the hardware
 * states, where it does. */
#include "ceilings.h"
#include "measure.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ceiling_clear(struct ceiling *c)
{
    memset(c, 0, sizeof *c);
    c->bw_gbps = c->bw_array_bytes = c->bw_stated_gbps = NAN;
    for (int d = 0; d < DT_COUNT; d++) c->gflops[d] = NAN;
}

/* A ceiling is the fastest sample, so the sampler's stopping rule (the median's 95% interval within
 * 1%) matters little to it: the quick suite samples each for 0.2-0.5 s (on the noisy dev VM the
 * seven CPU ceilings ran to the 2 s cap: 15 s of an 86 s quick suite), the full suite up to 2 s. */
static const struct timing_opts ceiling_timing_full = {0.2, 2.0, 0.01, 120.0, 100000, 0.05};
static const struct timing_opts ceiling_timing_quick = {0.2, 0.5, 0.01, 120.0, 100000, 0.05};

const struct timing_opts *ceiling_timing(int quick) { return quick ? &ceiling_timing_quick : &ceiling_timing_full; }

/* Runs workload/case on b; the row's throughput in its unit, or NAN when it did not measure.
 * *array_bytes (when not NULL) gets the row's bytes per array. */
static double measure_arr(const struct backend *b, const char *wl, const char *cs, enum dtype dt, int threads, int quick,
                          int bytes, double *array_bytes)
{
    const struct workload *w = workload_find(wl);
    const struct wcase *c = wcase_find(w, cs);
    if (!c) return NAN;
    struct row r;
    struct timing_result tr;
    measure_row(b, w, c->name, c->params, dt, threads, ceiling_timing(quick), 42, &r, &tr);
    free(tr.samples);
    if (array_bytes) *array_bytes = r.array_bytes;
    if (!row_measured(&r)) return NAN;
    /* A ceiling is the best the hardware did: the fastest sample, not the median. */
    return (bytes ? r.bytes : r.flops) / r.min_s * 1e-9;
}

static double measure(const struct backend *b, const char *wl, const char *cs, enum dtype dt, int threads, int quick, int bytes)
{
    return measure_arr(b, wl, cs, dt, threads, quick, bytes, NULL);
}

/* The best of STREAM copy, triad and dot (and on a GPU a device-to-device copy of the same size
 * class), with the array size and whether the device's last-level cache could hold part of it. */
static void bandwidth(const struct backend *b, int threads, int quick, struct ceiling *c)
{
    static const char *const ops[] = {"copy", "triad", "dot"};
    int gpu = b->kind == BACKEND_GPU;
    double arr = NAN, llc = b->dev->cache_bytes ? (double)b->dev->cache_bytes() : 0;
    char what[96] = "";
    for (int i = 0; i < 3; i++) {
        double a = NAN, g = measure_arr(b, "stream", ops[i], DT_F32, threads, quick, 1, &a);
        if (!isnan(a)) arr = a;
        if (g > c->bw_gbps || (isnan(c->bw_gbps) && !isnan(g))) { c->bw_gbps = g; snprintf(what, sizeof what, "STREAM %s", ops[i]); }
    }
    if (gpu) {
        double g = measure(b, "transfer", quick ? "d2d.256M" : "d2d.1G", DT_F32, 0, quick, 1);
        if (g > c->bw_gbps || (isnan(c->bw_gbps) && !isnan(g))) { c->bw_gbps = g; snprintf(what, sizeof what, "device-to-device copy"); }
    }
    c->bw_array_bytes = arr;
    c->bw_cache_assisted = !isnan(arr) && llc > 0 && arr < 4 * llc;
    snprintf(c->bw_how, sizeof c->bw_how, "%s, the best of STREAM copy, triad, dot%s; %.0f MiB arrays, read + written%s", what,
             gpu ? " and a device-to-device copy" : "", arr / 1048576.0,
             c->bw_cache_assisted ? "; cache-assisted: below 4x the last-level cache" : "");
    if (b->dev->stated_bandwidth) c->bw_stated_gbps = b->dev->stated_bandwidth(c->bw_stated_how, sizeof c->bw_stated_how);
    else snprintf(c->bw_stated_how, sizeof c->bw_stated_how, "n/a: memory channels and speed are not readable here");
}

struct peak_state { const struct backend *b; enum dtype dt; long iters; float sink; };
static int peak_call(void *st) { struct peak_state *p = st; return p->b->peak->run(p->dt, p->iters, &p->sink); }

/* The backend's compute loop for dt, in GFLOP/s from the fastest sample; NAN when it has none. */
static double loop_gflops_t(const struct backend *b, enum dtype dt, int threads, const struct timing_opts *t)
{
    struct peak_state p = {b, dt, 1 << 16, 0};
    struct timing_result tr;
    if (b->dev->set_threads) b->dev->set_threads(threads);
    double per_iter = b->peak->flops_per_iter(dt);
    if (!(per_iter > 0)) return NAN;
    if (time_op(b, peak_call, &p, t, &tr) != 0 || tr.n == 0) { free(tr.samples); return NAN; }
    free(tr.samples);
    return per_iter * (double)p.iters / tr.s.min * 1e-9;
}

static double loop_gflops(const struct backend *b, enum dtype dt, int threads, int quick) { return loop_gflops_t(b, dt, threads, ceiling_timing(quick)); }

/* ~20 ms of the loop per dtype: min_time 0.01 s, max_time 0.02 s, 3 samples at least. */
static const struct timing_opts probe_timing = {0.01, 0.02, 0.01, 10.0, 1000, 0.005};

void ceilings_probe_loops(const struct backend *b, int threads, double per_thread[DT_COUNT])
{
    char why[256];
    for (int d = 0; d < DT_COUNT; d++) per_thread[d] = NAN;
    if (!b->peak || !b->probe(why, sizeof why) || threads < 1) return;
    for (int d = 0; d < DT_COUNT; d++)
        if (b->peak->path((enum dtype)d)) per_thread[d] = loop_gflops_t(b, (enum dtype)d, threads, &probe_timing) / threads;
}

/* The GEMM whose FLOP/s is a ceiling: the largest of the suite. */
const char *ceilings_peak_gemm(int gpu, int quick) { return gpu ? "sq8192" : quick ? "sq2048" : "sq4096"; }

void ceilings_measure(const struct backend *b, int threads, int quick, struct ceiling *c)
{
    char why[256];
    ceiling_clear(c);
    if (!b->probe(why, sizeof why)) return;
    int gpu = b->kind == BACKEND_GPU;
    bandwidth(b, threads, quick, c);
    const char *sq = ceilings_peak_gemm(gpu, quick);
    for (int d = 0; d < DT_COUNT; d++) {
        if (b->unsupported("gemm", (enum dtype)d)) continue;
        c->gflops[d] = measure(b, "gemm", sq, (enum dtype)d, threads, quick, 0);
        snprintf(c->fl_how[d], sizeof c->fl_how[d], "GEMM %s", sq);
    }
    for (int d = 0; b->peak && d < DT_COUNT; d++) {
        if (b->unsupported("gemm", (enum dtype)d) && !b->peak->path((enum dtype)d)) continue;
        double f = loop_gflops(b, (enum dtype)d, threads, quick);
        if (f > c->gflops[d] || (isnan(c->gflops[d]) && !isnan(f))) {
            c->gflops[d] = f;
            snprintf(c->fl_how[d], sizeof c->fl_how[d], "%s loop, %d threads", b->peak->path((enum dtype)d), threads);
        }
    }
}

/* Whether a streaming row's bandwidth compares with the ceiling's: one on DRAM-sized arrays always;
 * a cache-assisted one only with a ceiling measured cache-assisted on arrays as large. */
static int comparable(const struct ceiling *c, const struct row *r)
{
    if (!(r->array_bytes > 0) || !strstr(r->flags, "cache-assisted")) return 1;
    return c->bw_cache_assisted && r->array_bytes >= 0.99 * c->bw_array_bytes;
}

double ceiling_bound(const struct ceiling *c, const struct row *r, int in_gbps)
{
    enum dtype dt;
    if (!strcmp(r->family, "transfer")) /* PCIe has no measured ceiling; d2d is the bandwidth one */
        return strncmp(r->case_name, "d2d", 3) == 0 ? c->bw_gbps : NAN;
    if (!(r->flops > 0)) return c->bw_gbps;
    if (dtype_parse(r->dtype, &dt) != 0) return NAN;
    double bw_bound = r->intensity * c->bw_gbps, fl = c->gflops[dt];
    double bound = isnan(fl) ? bw_bound : isnan(bw_bound) ? fl : fmin(fl, bw_bound);
    return in_gbps ? bound / r->intensity : bound;
}

void ceiling_apply(const struct ceiling *c, struct row *r)
{
    if (!row_measured(r)) return;
    if (!comparable(c, r)) return; /* partly served by a cache the ceiling's arrays did not fit */
    double b = ceiling_bound(c, r, 0);
    double got = r->flops > 0 && strcmp(r->family, "transfer") ? r->gflops : r->gbytes_per_s;
    r->ceiling_pct = b > 0 ? 100.0 * got / b : NAN;
}

int ceiling_raise(struct ceiling *c, const struct row *r)
{
    enum dtype dt;
    if (!row_measured(r)) return 0;
    if (!strcmp(r->family, "gemm") && dtype_parse(r->dtype, &dt) == 0 && r->gflops > c->gflops[dt] && !isnan(c->gflops[dt])) {
        c->gflops[dt] = r->gflops;
        snprintf(c->fl_how[dt], sizeof c->fl_how[dt], "GEMM %.28s, a row above the measured one", r->case_name);
        return 1;
    }
    int streaming = r->array_bytes > 0 && !strstr(r->flags, "in-place") &&
                    (!strcmp(r->family, "bandwidth") || !strncmp(r->case_name, "d2d", 3));
    if (streaming && comparable(c, r) && r->gbytes_per_s > c->bw_gbps && !isnan(c->bw_gbps)) {
        c->bw_gbps = r->gbytes_per_s;
        snprintf(c->bw_how, sizeof c->bw_how, "%.20s/%.24s, a row above the measured ceiling; %.0f MiB arrays, read + written%.50s",
                 r->workload, r->case_name, c->bw_array_bytes / 1048576.0,
                 c->bw_cache_assisted ? "; cache-assisted" : "");
        return 1;
    }
    return 0;
}
