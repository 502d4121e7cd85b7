/* timing.c: warm-up, calibration of repetitions per sample, and adaptive sampling. Timers are the
 * backend's own (CPU: CLOCK_MONOTONIC; CUDA: events on its stream), read after the work is done. */
#include "timing.h"
#include <math.h>
#include <stdlib.h>
#include <time.h>

volatile sig_atomic_t timing_interrupted;

#define SAMPLE_TARGET_S 2e-3   /* a sample lasts >= 2 ms: far above either timer's resolution */
#define WARMUP_S 0.05
#define MIN_SAMPLES_AT_MAX 3

double wall_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int timing_should_stop(const struct timing_opts *o, const struct summary *s, double elapsed, int *noisy)
{
    int tight = s->ci_valid && s->ci_lo >= s->median * (1 - o->target_rel) &&
                s->ci_hi <= s->median * (1 + o->target_rel);
    *noisy = 0;
    if (tight && elapsed >= o->min_time) return 1;
    if (s->n >= o->max_samples || (elapsed >= o->max_time && s->n >= MIN_SAMPLES_AT_MAX)) {
        *noisy = !tight;
        return 1;
    }
    return 0;
}

static int one_sample(const struct backend *b, op_call_fn call, void *st, int reps, double *sec)
{
    if (b->dev->timer_start() != 0) return -1;
    for (int i = 0; i < reps; i++)
        if (call(st) != 0) return -1;
    return b->dev->timer_stop(sec);
}

int time_op(const struct backend *b, op_call_fn call, void *st, const struct timing_opts *o,
            struct timing_result *r)
{
    double start = wall_seconds(), t1 = 1e30, s;
    int cap = o->max_samples > 0 ? o->max_samples : 100000, size = 64;
    r->n = 0;
    r->reps = 1;
    r->samples = malloc(sizeof(double) * size);
    r->outcome = TIMING_FAILED;
    /* Warm-up: at least one call and WARMUP_S; the fastest call calibrates reps per sample. */
    do {
        if (one_sample(b, call, st, 1, &s) != 0) return -1;
        if (s < t1) t1 = s;
        if (timing_interrupted) { r->outcome = TIMING_INTERRUPTED; return 0; }
        if (wall_seconds() - start > o->case_timeout) { r->outcome = TIMING_TIMEOUT; return 0; }
    } while (wall_seconds() - start < WARMUP_S);
    if (t1 < SAMPLE_TARGET_S) r->reps = (int)(SAMPLE_TARGET_S / (t1 > 1e-9 ? t1 : 1e-9)) + 1;

    struct timing_opts eff = *o; /* the stopping rule with the sample cap actually in force */
    eff.max_samples = cap;
    double t_begin = wall_seconds(), next_check = 0, e0 = 0, e1 = 0;
    char ewhy[160];
    int energy = b->dev->energy_read && b->dev->sync() == 0 && b->dev->energy_read(&e0, ewhy, sizeof ewhy) == 0;
    r->joules_per_call = NAN;
    for (;;) {
        if (one_sample(b, call, st, r->reps, &s) != 0) return -1;
        if (r->n == size) r->samples = realloc(r->samples, sizeof(double) * (size *= 2));
        r->samples[r->n++] = s / r->reps;
        double now = wall_seconds(), elapsed = now - t_begin;
        if (timing_interrupted) { r->outcome = TIMING_INTERRUPTED; break; }
        if (now - start > o->case_timeout) { r->outcome = TIMING_TIMEOUT; break; }
        /* Summaries sort all samples: check every sample early on, then every ~5% more. */
        if (r->n < 64 || r->n >= next_check || elapsed >= o->max_time || r->n >= cap) {
            int noisy;
            struct summary sum;
            next_check = r->n * 1.05;
            summarize(r->samples, r->n, &sum);
            if (timing_should_stop(&eff, &sum, elapsed, &noisy)) {
                r->outcome = noisy ? TIMING_NOISY : TIMING_OK;
                break;
            }
        }
    }
    if (energy && b->dev->sync() == 0 && b->dev->energy_read(&e1, ewhy, sizeof ewhy) == 0 && r->n > 0)
        r->joules_per_call = (e1 - e0) / ((double)r->n * r->reps);
    summarize(r->samples, r->n, &r->s);
    return 0;
}
