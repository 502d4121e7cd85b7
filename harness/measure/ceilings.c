/* ceilings.c: measures peak bandwidth (CPU: best of STREAM copy and triad at DRAM size; GPU:
 * device-to-device copy) and peak FLOP/s (largest GEMM per dtype; CPU also an FMA loop, the
 * higher wins), each through the same verified, sampled path as any row. */
#include "ceilings.h"
#include "measure.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ceiling_clear(struct ceiling *c)
{
    memset(c, 0, sizeof *c);
    c->bw_gbps = NAN;
    for (int d = 0; d < DT_COUNT; d++) c->gflops[d] = NAN;
}

static const struct timing_opts ceiling_timing = {0.2, 2.0, 0.01, 120.0, 100000};

/* Runs workload/case on b; the row's throughput in its unit, or NAN when it did not measure. */
static double measure(const struct backend *b, const char *wl, const char *cs, enum dtype dt, int threads, int bytes)
{
    const struct workload *w = workload_find(wl);
    if (!w) return NAN;
    for (const struct wcase *c = w->cases; c->name; c++) {
        if (strcmp(c->name, cs) != 0) continue;
        struct row r;
        struct timing_result tr;
        measure_row(b, w, c->name, c->params, dt, threads, &ceiling_timing, 42, &r, &tr);
        free(tr.samples);
        if (!row_measured(&r)) return NAN;
        /* A ceiling is the best the hardware did: the fastest sample, not the median. */
        return (bytes ? r.bytes : r.flops) / r.min_s * 1e-9;
    }
    return NAN;
}

struct fma_state { const struct backend *b; long iters; float sink; };
static int fma_call(void *st) { struct fma_state *f = st; return f->b->peak->fma(f->iters, &f->sink); }

static double fma_gflops(const struct backend *b, int threads)
{
    struct fma_state f = {b, 1 << 20, 0};
    struct timing_result tr;
    if (b->dev->set_threads) b->dev->set_threads(threads);
    if (time_op(b, fma_call, &f, &ceiling_timing, &tr) != 0 || tr.n == 0) { free(tr.samples); return NAN; }
    free(tr.samples);
    return b->peak->fma_flops_per_iter() * (double)f.iters / tr.s.min * 1e-9;
}

void ceilings_measure(const struct backend *b, int threads, int quick, struct ceiling *c)
{
    char why[256];
    ceiling_clear(c);
    if (!b->probe(why, sizeof why)) return;
    int gpu = b->kind == BACKEND_GPU;
    if (gpu) {
        c->bw_gbps = measure(b, "transfer", "d2d.1G", DT_F32, 0, 1);
        snprintf(c->bw_how, sizeof c->bw_how, "device-to-device copy, 1 GiB");
    } else {
        double cp = measure(b, "stream", "copy", DT_F32, threads, 1), tr = measure(b, "stream", "triad", DT_F32, threads, 1);
        c->bw_gbps = isnan(cp) || tr > cp ? tr : cp;
        snprintf(c->bw_how, sizeof c->bw_how, "best of STREAM copy and triad, DRAM-sized");
    }
    const char *sq = gpu ? "sq8192" : quick ? "sq2048" : "sq4096";
    for (int d = 0; d < DT_COUNT; d++) {
        if (b->unsupported("gemm", (enum dtype)d)) continue;
        c->gflops[d] = measure(b, "gemm", sq, (enum dtype)d, threads, 0);
        snprintf(c->fl_how[d], sizeof c->fl_how[d], "GEMM %s", sq);
    }
    if (b->peak->fma) {
        double f = fma_gflops(b, threads);
        if (f > c->gflops[DT_F32] || isnan(c->gflops[DT_F32])) {
            c->gflops[DT_F32] = f;
            snprintf(c->fl_how[DT_F32], sizeof c->fl_how[DT_F32], "FMA loop, %d threads", threads);
        }
    }
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
    double b = ceiling_bound(c, r, 0);
    double got = r->flops > 0 && strcmp(r->family, "transfer") ? r->gflops : r->gbytes_per_s;
    r->ceiling_pct = b > 0 ? 100.0 * got / b : NAN;
}
