/* measure.c: the verify-and-time primitive every row and every ceiling goes through: probe the
 * backend, check free memory, a smaller instance checked in full where the family has one, set up
 * seeded inputs, one call checked against the reference, then the sampler with the device's state
 * read beside it. A backend's failure becomes the row's status, never an exit. */
#include "measure.h"
#include "devstate.h"
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
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

/* Arrays of a streaming case below 4x the device's last-level cache are partly served by it
 * ("cache-assisted"); an in-place update reads no line for ownership ("in-place"). */
static void row_flags(struct row *r, const struct backend *b, const struct workload *w, const void *params)
{
    double llc = b->dev->cache_bytes ? (double)b->dev->cache_bytes() : 0;
    if (w->array_bytes) {
        r->array_bytes = w->array_bytes(params);
        if (r->array_bytes > 0 && llc > 0 && r->array_bytes < 4 * llc) snprintf(r->flags, sizeof r->flags, "cache-assisted");
    }
    if (w->in_place && w->in_place(params))
        snprintf(r->flags + strlen(r->flags), sizeof r->flags - strlen(r->flags), "%sin-place", r->flags[0] ? ";" : "");
}

static void row_state(struct row *r, const struct dev_state *s)
{
    r->clock_mhz = s->clock_mhz;
    r->mem_clock_mhz = s->mem_clock_mhz;
    r->power_w = s->power_w;
    r->power_limit_w = s->power_limit_w;
    r->temp_c = s->temp_c;
    devstate_throttle_text(s, r->throttle, sizeof r->throttle);
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
    row_state(r, &tr->state);
}

static void setup_failed(struct row *r, const char *what, const char *why);

/* "unsupported: …" and "out of … memory" are skips; anything else is a failure. */
void setup_status(struct row *r, const char *why) { setup_failed(r, "", why); }

/* DLBENCH_TEST_SLOW=GLOB: each timed call of the rows whose "workload/case" matches GLOB (fnmatch,
 * extended) runs the op twice: a kernel made twice as slow on purpose, to test that regression
 * tracking catches it (README, Catching regressions in CI). The verified call stays single and
 * the row's flags say "slowed-on-purpose". */
struct slowed { op_call_fn call; void *st; };

static int call_twice(void *p)
{
    struct slowed *s = p;
    return s->call(s->st) || s->call(s->st);
}

static int slowed_on_purpose(const struct workload *w, const char *case_name)
{
    const char *g = getenv("DLBENCH_TEST_SLOW");
    char id[256];
    if (!g || !*g) return 0;
    snprintf(id, sizeof id, "%s/%s", w->name, case_name);
    return fnmatch(g, id, FNM_EXTMATCH) == 0;
}

/* One call checked against the reference, then the sampler; 1 when interrupted. */
static int verify_and_time(const struct backend *b, const struct workload *w, void *st, const struct timing_opts *t,
                           struct row *r, struct timing_result *tr)
{
    char why[256];
    int slow = slowed_on_purpose(w, r->case_name);
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
    why[0] = 0;
    r->verify_err = w->check(st, why, sizeof why);
    if (r->verify_err < 0) {
        snprintf(r->status, sizeof r->status, "failed: cannot verify: %s", why);
        r->verify_err = NAN;
    } else if (!(r->verify_err <= r->tolerance)) {
        snprintf(r->status, sizeof r->status, "failed: error %.3g > tolerance %.3g%s%s", r->verify_err, r->tolerance,
                 why[0] ? ": " : "", why);
    } else if (slow ? time_op(b, call_twice, &(struct slowed){w->call, st}, t, tr) != 0 : time_op(b, w->call, st, t, tr) != 0) {
        snprintf(r->status, sizeof r->status, "failed: %s", b->dev->error());
    } else if (tr->outcome == TIMING_INTERRUPTED) {
        return 1;
    } else if (tr->outcome == TIMING_TIMEOUT) {
        snprintf(r->status, sizeof r->status, "timeout");
    } else {
        row_timing(r, tr);
        if (slow)
            snprintf(r->flags + strlen(r->flags), sizeof r->flags - strlen(r->flags), "%sslowed-on-purpose", r->flags[0] ? ";" : "");
    }
    if (!(r->verify_err <= r->tolerance)) return 0;
    if (!r->check[0]) snprintf(r->check, sizeof r->check, "%s", why[0] ? why : "full");
    else { /* after the smaller instance: what was sampled at this size */
        size_t len = strlen(r->check);
        snprintf(r->check + len, sizeof r->check - len, "; %s", why[0] ? why : "full");
    }
    return 0;
}

/* A setup that could not run: "unsupported: …" and "out of … memory" are skips, anything else a
 * failure; what names which instance ("", or "smaller instance <shape>: "). */
static void setup_failed(struct row *r, const char *what, const char *why)
{
    if (!strncmp(why, "unsupported: ", 13)) snprintf(r->status, sizeof r->status, "skipped: %s%s", what, why + 13);
    else snprintf(r->status, sizeof r->status, "%s: %s%s", strncmp(why, "out of", 6) ? "failed" : "skipped", what, why);
}

/* The family's smaller instance of this case, checked in full before the timed size (whose check
 * then samples). 0 when it passed or there is none; -1 with r->status set. */
static int check_small(const struct backend *b, const struct workload *w, const void *params, enum dtype dt,
                       uint64_t seed, struct row *r)
{
    char why[256], what[128], shape[96];
    void *sp;
    if (!w->small || !(sp = calloc(1, w->params_size))) return 0;
    if (!w->small(params, sp)) { free(sp); return 0; }
    w->shape(sp, shape, sizeof shape);
    snprintf(what, sizeof what, "smaller instance %s: ", shape);
    void *st = w->setup(b, sp, dt, seed, why, sizeof why);
    int rc = -1;
    if (!st) setup_failed(r, what, why);
    else if (w->call(st) != 0) snprintf(r->status, sizeof r->status, "failed: %s%s", what, b->dev->error());
    else {
        double tol = w->tolerance(sp, dt), err;
        why[0] = 0;
        err = w->check(st, why, sizeof why);
        if (err < 0) snprintf(r->status, sizeof r->status, "failed: cannot verify the %s%s", what, why);
        else if (!(err <= tol))
            snprintf(r->status, sizeof r->status, "failed: %serror %.3g > tolerance %.3g%s%s", what, err, tol, why[0] ? ": " : "", why);
        else { snprintf(r->check, sizeof r->check, "full at %s", shape); rc = 0; }
    }
    if (st) w->teardown(st);
    free(sp);
    return rc;
}

int measure_row(const struct backend *b, const struct workload *w, const char *case_name, const void *params,
                enum dtype dt, int threads, const struct timing_opts *t, uint64_t seed, struct row *r,
                struct timing_result *tr)
{
    char why[256];
    double t0 = wall_seconds();
    uint64_t s = seed ^ case_stream(w->name, case_name, dt);
    int interrupted = 0;
    void *st = NULL;
    row_identity(r, b, w, case_name, params, dt, threads);
    tr->samples = NULL;
    tr->n = 0;
    tr->wall_s = 0;
    if (measure_preflight(b, w, params, dt, r) != 0) goto out;
    if (b->dev->set_threads) b->dev->set_threads(threads);
    row_flags(r, b, w, params);
    if (check_small(b, w, params, dt, s, r) != 0) goto out;
    if (!(st = w->setup(b, params, dt, s, why, sizeof why))) { setup_failed(r, "", why); goto out; }
    r->tolerance = w->tolerance(params, dt);
    interrupted = verify_and_time(b, w, st, t, r, tr);
    w->teardown(st);
out:
    r->wall_s = wall_seconds() - t0;
    return interrupted;
}
