/* measure.c: the verify-and-time primitive every row and every ceiling goes through: probe the
 * backend, check free memory, set up seeded inputs, one call checked against the reference, then
 * the sampler. A backend's failure becomes the row's status, never an exit. */
#include "measure.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

/* What ran and how much work a call is: known before anything runs. */
static void row_identity(struct row *r, const struct backend *b, const struct workload *w, const char *case_name,
                         const void *params, enum dtype dt, int threads)
{
    row_init(r);
    snprintf(r->backend, sizeof r->backend, "%s", b->name);
    snprintf(r->workload, sizeof r->workload, "%s", w->name);
    snprintf(r->family, sizeof r->family, "%s", w->family);
    snprintf(r->case_name, sizeof r->case_name, "%s", case_name);
    snprintf(r->dtype, sizeof r->dtype, "%s", dtype_name(dt));
    w->shape(params, r->shape, sizeof r->shape);
    r->threads = threads;
    r->flops = w->flops(params, dt);
    r->bytes = w->bytes(params, dt);
    r->intensity = r->flops > 0 ? r->flops / r->bytes : NAN;
    r->items_per_call = w->items ? w->items(params) : NAN;
}

static void fmt_gib(char *buf, size_t n, double bytes) { snprintf(buf, n, "%.2f GiB", bytes / 1073741824.0); }

/* Whether the case can run here at all: 0, or -1 with r->status "skipped: <why>". */
static int preflight(const struct backend *b, const struct workload *w, const void *params, enum dtype dt, struct row *r)
{
    char why[256];
    if (!b->probe(why, sizeof why)) { snprintf(r->status, sizeof r->status, "skipped: %s", why); return -1; }
    snprintf(r->device, sizeof r->device, "%s", b->dev->name());
    const char *unsup = b->unsupported(w->family, dt);
    if (unsup) { snprintf(r->status, sizeof r->status, "skipped: %s", unsup); return -1; }
    double need = (double)w->device_bytes(params, dt), have = (double)b->dev->mem_free();
    if (need > 0.9 * have) {
        char a[32], c[32];
        fmt_gib(a, sizeof a, need); fmt_gib(c, sizeof c, have);
        snprintf(r->status, sizeof r->status, "skipped: needs %s, %s free", a, c);
        return -1;
    }
    return 0;
}

static void row_timing(struct row *r, const struct timing_result *tr)
{
    snprintf(r->status, sizeof r->status, "%s", tr->outcome == TIMING_NOISY ? "noisy" : "ok");
    r->samples = tr->n; r->reps = tr->reps;
    r->median_s = tr->s.median; r->min_s = tr->s.min; r->mean_s = tr->s.mean;
    r->stddev_s = tr->s.stddev; r->ci_lo_s = tr->s.ci_lo; r->ci_hi_s = tr->s.ci_hi;
    r->gflops = r->flops > 0 ? r->flops / r->median_s * 1e-9 : NAN;
    r->gbytes_per_s = r->bytes / r->median_s * 1e-9;
    r->joules_per_call = tr->joules_per_call;
}

/* One call checked against the reference, then the sampler; 1 when interrupted. */
static int verify_and_time(const struct backend *b, const struct workload *w, void *st, const struct timing_opts *t,
                           struct row *r, struct timing_result *tr)
{
    char why[256];
    if (b->impl) b->impl(); /* forget notes left by setup or by another case */
    int rc = w->call(st);
    const char *note = b->impl && !w->composite ? b->impl() : NULL;
    if (note) snprintf(r->impl, sizeof r->impl, "%s", note);
    if (rc != 0) { /* an op that cannot run this case says "unsupported: why": a skip */
        const char *e = b->dev->error();
        size_t u = strlen(BACKEND_UNSUPPORTED);
        if (!strncmp(e, BACKEND_UNSUPPORTED, u)) snprintf(r->status, sizeof r->status, "skipped: %s", e + u);
        else snprintf(r->status, sizeof r->status, "failed: %s", e);
        return 0;
    }
    r->verify_err = w->check(st, why, sizeof why);
    if (r->verify_err < 0) {
        snprintf(r->status, sizeof r->status, "failed: cannot verify: %s", why);
        r->verify_err = NAN;
    } else if (!(r->verify_err <= r->tolerance)) {
        snprintf(r->status, sizeof r->status, "failed: error %.3g > tolerance %.3g", r->verify_err, r->tolerance);
    } else if (time_op(b, w->call, st, t, tr) != 0) {
        snprintf(r->status, sizeof r->status, "failed: %s", b->dev->error());
    } else if (tr->outcome == TIMING_INTERRUPTED) {
        return 1;
    } else if (tr->outcome == TIMING_TIMEOUT) {
        snprintf(r->status, sizeof r->status, "timeout");
    } else {
        row_timing(r, tr);
    }
    return 0;
}

int measure_row(const struct backend *b, const struct workload *w, const char *case_name, const void *params,
                enum dtype dt, int threads, const struct timing_opts *t, uint64_t seed, struct row *r,
                struct timing_result *tr)
{
    char why[256];
    row_identity(r, b, w, case_name, params, dt, threads);
    tr->samples = NULL;
    tr->n = 0;
    if (preflight(b, w, params, dt, r) != 0) return 0;
    if (b->dev->set_threads) b->dev->set_threads(threads);
    void *st = w->setup(b, params, dt, seed ^ case_stream(w->name, case_name, dt), why, sizeof why);
    if (!st) { /* "unsupported: …" and "out of … memory" are skips; anything else is a failure */
        if (!strncmp(why, "unsupported: ", 13)) snprintf(r->status, sizeof r->status, "skipped: %s", why + 13);
        else snprintf(r->status, sizeof r->status, "%s: %s", strncmp(why, "out of", 6) ? "failed" : "skipped", why);
        return 0;
    }
    r->tolerance = w->tolerance(params, dt);
    int interrupted = verify_and_time(b, w, st, t, r, tr);
    w->teardown(st);
    return interrupted;
}

/* Assumed speeds (per CPU thread, or a GPU): only to size the announcement. Inputs are made and
 * checked on one core at about 0.3 GB/s (seeded values, a double-precision reference). */
#define EST_CPU_GFLOPS_PER_THREAD 30.0
#define EST_CPU_GBPS 10.0
#define EST_GPU_GFLOPS 20000.0
#define EST_GPU_GBPS 1000.0
#define EST_SETUP_GBPS 0.3

double measure_estimate_seconds(const struct backend *b, int avail, const struct workload *w, const void *params,
                                enum dtype dt, int threads, const struct timing_opts *t)
{
    if (!avail || b->unsupported(w->family, dt)) return 0.001;
    int gpu = b->kind == BACKEND_GPU;
    double flops = w->flops(params, dt), bytes = w->bytes(params, dt), dev = (double)w->device_bytes(params, dt);
    double gflops = gpu ? EST_GPU_GFLOPS : EST_CPU_GFLOPS_PER_THREAD * (threads > 0 ? threads : 1);
    double call = (flops > 0 ? flops / (gflops * 1e9) : 0) + (bytes > 0 ? bytes / ((gpu ? EST_GPU_GBPS : EST_CPU_GBPS) * 1e9) : 0);
    double sampling = fmax(t->min_time, 5 * call);
    /* The training check recomputes the forward pass in double on one core (about a third of a
     * step's FLOPs at ~1 GFLOP/s); the other checks sample or stream and cost what setup costs. */
    double check = !strcmp(w->family, "train") && flops > 0 ? flops / 3 / 1e9 : 0;
    return dev / (EST_SETUP_GBPS * 1e9) + check + fmax(0.05, call) + sampling;
}
