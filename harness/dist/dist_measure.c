/* dist_measure.c: one row measured by a group of ranks together (collectives, data-parallel steps):
 * measure_row's steps with an agreement after each so every member skips, fails or goes on
 * together (a member that went on alone would wait in a collective for good), the worst member's
 * verification error, and a sampler whose every decision all members take from the same numbers.
 * A sample is one operation, timed on every member from a common start and counted as the slowest
 * member's time (as the mpi4py peer does); the row's time is the median sample, so a rank the OS
 * preempted for one operation moves one sample, not the whole figure. */
#include "dist.h"
#include "measure.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WARMUP_S 0.05

static void identity(const struct backend *b, const struct workload *w, const char *case_name, const void *params,
                     enum dtype dt, int threads, int ranks, struct row *r)
{
    dist_set_current_group(dist_group(ranks));      /* shapes and counts may depend on the group */
    row_identity(r, b, w, case_name, params, dt, threads);
    r->rank = -1;
    r->ranks = ranks;
    snprintf(r->host, sizeof r->host, "%s", dist_self()->host);
}

static void lost(struct row *r, const struct timing_opts *t)
{
    snprintf(r->status, sizeof r->status, "failed: a rank of the group was lost (no answer within %.0f s)",
             t->case_timeout + DIST_GRACE_S);
}

/* Probe, dtype, memory and the collectives' library on this member; "" when it can go on. */
static void local_checks(const struct backend *b, const struct workload *w, const void *params, enum dtype dt, struct row *r)
{
    char why[256];
    if (measure_preflight(b, w, params, dt, r) != 0) return;
    if (b->coll->available && !b->coll->available(why, sizeof why)) snprintf(r->status, sizeof r->status, "skipped: %s", why);
}

static void *setup_on(const struct backend *b, const struct workload *w, const struct coll_group *g, const void *params,
                      enum dtype dt, uint64_t seed, const char *case_name, struct row *r)
{
    char why[256];
    if (!dist_comm(b, g)) {
        snprintf(r->status, sizeof r->status, "failed: cannot open a %s communicator of %d ranks: %s", b->name, g->size, b->dev->error());
        return NULL;
    }
    void *st = w->setup(b, params, dt, seed ^ case_stream(w->name, case_name, dt), why, sizeof why);
    if (!st) setup_status(r, why);
    return st;
}

static int measure_group(const struct backend *b, const struct workload *w, const char *case_name, const void *params,
                         enum dtype dt, int threads, int ranks, const struct timing_opts *t, uint64_t seed, struct row *r,
                         struct timing_result *tr)
{
    char why[256];
    double deadline = wall_seconds() + t->case_timeout + DIST_GRACE_S;
    tr->samples = NULL;
    tr->n = 0;
    const struct coll_group *g = dist_group(ranks);
    if (!g) return 2;
    identity(b, w, case_name, params, dt, threads, ranks, r);
    if (dist_size() < 2) {
        snprintf(r->status, sizeof r->status, "skipped: one process; run under mpirun or srun with 2 or more ranks");
        dist_set_current_group(NULL);
        return 0;
    }
    local_checks(b, w, params, dt, r);
    int a = dist_agree(g, !*r->status, r->status, sizeof r->status, deadline);
    if (a <= 0) { if (a < 0) lost(r, t); dist_set_current_group(NULL); return 0; }
    if (b->dev->set_threads) b->dev->set_threads(threads);
    void *st = setup_on(b, w, g, params, dt, seed, case_name, r);
    a = dist_agree(g, st != NULL, r->status, sizeof r->status, deadline);
    if (a <= 0) goto out;
    r->tolerance = w->tolerance(params, dt);
    double err = 0;
    int ok = w->call(st) == 0;
    if (!ok) snprintf(r->status, sizeof r->status, "failed: %s", b->dev->error());
    else if ((err = w->check(st, why, sizeof why)) < 0) { ok = 0; snprintf(r->status, sizeof r->status, "failed: cannot verify: %s", why); }
    if ((a = dist_agree(g, ok, r->status, sizeof r->status, deadline)) <= 0) goto out;
    double worst[1] = {isnan(err) ? INFINITY : err};   /* the worst member's error (MPI_MAX is undefined on NaN) */
    if ((a = dist_max(g, worst, 1, deadline)) < 0) goto out;
    r->verify_err = worst[0];
    if (!(r->verify_err <= r->tolerance)) {
        snprintf(r->status, sizeof r->status, "failed: error %.3g > tolerance %.3g", r->verify_err, r->tolerance);
    } else if (dist_time_op(g, b, w->call, st, t, tr) != 0) {
        if (tr->outcome == TIMING_FAILED) snprintf(r->status, sizeof r->status, "failed: %s", b->dev->error());
        else a = -1;
    } else if (tr->outcome == TIMING_INTERRUPTED) {
        w->teardown(st);
        dist_set_current_group(NULL);
        return 1;
    } else if (tr->outcome == TIMING_TIMEOUT) {
        snprintf(r->status, sizeof r->status, "timeout");
    } else {
        row_timing(r, tr);
        if (w->bus_factor) r->busbw_gbps = r->gbytes_per_s * w->bus_factor(params, g->size);
    }
out:
    if (a < 0) lost(r, t);
    if (st) w->teardown(st);
    dist_set_current_group(NULL);
    return 0;
}

int dist_measure(const struct backend *b, const struct workload *w, const char *case_name, const void *params,
                 enum dtype dt, int threads, int ranks, const struct timing_opts *t, uint64_t seed, struct row *r,
                 struct timing_result *tr)
{
    int rc = measure_group(b, w, case_name, params, dt, threads, ranks, t, seed, r, tr);
    if (rc == 0 && dist_group(ranks)->rank != 0) {   /* the group's first rank keeps the row */
        free(tr->samples);
        tr->samples = NULL;
        tr->n = 0;
        return 2;
    }
    return rc;
}

/* One sample: a barrier (as the mpi4py peer and nccl-tests put before their timed operations), reps
 * calls between the backend's timer marks, then the slowest member's time per call and the longest
 * elapsed time, so every member sees the same sample and stops at the same one. */
static int group_sample(const struct coll_group *g, const struct backend *b, op_call_fn call, void *st, int reps,
                        double begin, double deadline, double v[3])
{
    double s;
    if (dist_barrier(g, deadline) != 0) return -2;
    if (b->dev->timer_start() != 0) return -1;
    int ok = 1;
    for (int i = 0; i < reps && ok; i++) ok = call(st) == 0;
    if (b->dev->timer_stop(&s) != 0) ok = 0;
    v[0] = ok ? s / reps : INFINITY;
    v[1] = wall_seconds() - begin;
    v[2] = timing_interrupted ? 1 : 0;
    return dist_max(g, v, 3, deadline) != 0 ? -2 : 0;
}

int dist_time_op(const struct coll_group *g, const struct backend *b, op_call_fn call, void *st,
                 const struct timing_opts *o, struct timing_result *r)
{
    double start = wall_seconds(), v[3];
    double deadline = start + o->case_timeout + DIST_GRACE_S;
    int cap = o->max_samples > 0 ? o->max_samples : 100000, size = 64, rc;
    r->n = 0;
    r->reps = 1;
    r->samples = malloc(sizeof(double) * size);
    r->outcome = TIMING_FAILED;
    r->joules_per_call = NAN;
    do { /* warm-up: one call at least, WARMUP_S in all */
        if ((rc = group_sample(g, b, call, st, 1, start, deadline, v)) != 0) { r->outcome = rc == -2 ? TIMING_TIMEOUT : TIMING_FAILED; return -1; }
        if (isinf(v[0])) return -1;
        if (v[2] > 0) { r->outcome = TIMING_INTERRUPTED; return 0; }
        if (v[1] > o->case_timeout) { r->outcome = TIMING_TIMEOUT; return 0; }
    } while (v[1] < WARMUP_S);
    struct timing_opts eff = *o;
    eff.max_samples = cap;
    double t_begin = wall_seconds(), next_check = 0;
    for (;;) {
        if ((rc = group_sample(g, b, call, st, r->reps, t_begin, deadline, v)) != 0) { r->outcome = rc == -2 ? TIMING_TIMEOUT : TIMING_FAILED; return -1; }
        if (isinf(v[0])) return -1;
        if (r->n == size) r->samples = realloc(r->samples, sizeof(double) * (size *= 2));
        r->samples[r->n++] = v[0];
        if (v[2] > 0) { r->outcome = TIMING_INTERRUPTED; break; }
        if (v[1] + (t_begin - start) > o->case_timeout) { r->outcome = TIMING_TIMEOUT; break; }
        if (r->n < 64 || r->n >= next_check || v[1] >= o->max_time || r->n >= cap) {
            int noisy;
            struct summary sum;
            next_check = r->n * 1.05;
            summarize(r->samples, r->n, &sum);
            if (timing_should_stop(&eff, &sum, v[1], &noisy)) { r->outcome = noisy ? TIMING_NOISY : TIMING_OK; break; }
        }
    }
    summarize(r->samples, r->n, &r->s);
    return 0;
}
