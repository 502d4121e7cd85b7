/* measure.c: the verify-and-time primitive every row and every ceiling goes through: probe the
 * backend, check free memory, set up seeded inputs, one call checked against the reference, then
 * the sampler. A backend's failure becomes the row's status, never an exit. */
#include "measure.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

/* What ran and how much work a call is: known before anything runs. */
void row_identity(struct row *r, const struct backend *b, const struct workload *w, const char *case_name,
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
int measure_preflight(const struct backend *b, const struct workload *w, const void *params, enum dtype dt, struct row *r)
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

void row_timing(struct row *r, const struct timing_result *tr)
{
    snprintf(r->status, sizeof r->status, "%s", tr->outcome == TIMING_NOISY ? "noisy" : "ok");
    r->samples = tr->n; r->reps = tr->reps;
    r->median_s = tr->s.median; r->min_s = tr->s.min; r->mean_s = tr->s.mean;
    r->stddev_s = tr->s.stddev; r->ci_lo_s = tr->s.ci_lo; r->ci_hi_s = tr->s.ci_hi;
    r->gflops = r->flops > 0 ? r->flops / r->median_s * 1e-9 : NAN;
    r->gbytes_per_s = r->bytes / r->median_s * 1e-9;
    r->joules_per_call = tr->joules_per_call;
}

/* "unsupported: …" and "out of … memory" are skips; anything else is a failure. */
void setup_status(struct row *r, const char *why)
{
    if (!strncmp(why, "unsupported: ", 13)) snprintf(r->status, sizeof r->status, "skipped: %s", why + 13);
    else snprintf(r->status, sizeof r->status, "%s: %s", strncmp(why, "out of", 6) ? "failed" : "skipped", why);
}

/* One call checked against the reference, then the sampler; 1 when interrupted. */
static int verify_and_time(const struct backend *b, const struct workload *w, void *st, const struct timing_opts *t,
                           struct row *r, struct timing_result *tr)
{
    char why[256];
    if (w->call(st) != 0) {
        snprintf(r->status, sizeof r->status, "failed: %s", b->dev->error());
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
    if (measure_preflight(b, w, params, dt, r) != 0) return 0;
    if (b->dev->set_threads) b->dev->set_threads(threads);
    void *st = w->setup(b, params, dt, seed ^ case_stream(w->name, case_name, dt), why, sizeof why);
    if (!st) {
        setup_status(r, why);
        return 0;
    }
    r->tolerance = w->tolerance(params, dt);
    int interrupted = verify_and_time(b, w, st, t, r, tr);
    w->teardown(st);
    return interrupted;
}
