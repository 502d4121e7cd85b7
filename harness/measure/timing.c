/* timing.c: warm-up, calibration of repetitions per sample, and adaptive sampling. Timers are the
 * backend's own (CPU: CLOCK_MONOTONIC; CUDA: events on its stream), read after the work is done. */
#include "timing.h"
#include "turns.h"
#include "devstate.h"
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

volatile sig_atomic_t timing_interrupted;

#define SAMPLE_TARGET_S 2e-3   /* a sample lasts >= 2 ms: far above either timer's resolution */
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

/* The device's state while a row samples. A GPU is read every SAMPLER_PERIOD_MS by a thread
 * beside the timed loop (NVML calls cost the host microseconds on another core); a CPU is read
 * before and after only, as a thread of ours would compete with the timed ones. */
#define SAMPLER_PERIOD_MS 20
struct sampler {
    const struct backend *b;
    pthread_t th;
    atomic_int stop;
    int threaded;
    struct dev_state_acc acc;
};

static void read_into(struct sampler *s)
{
    struct dev_state d;
    s->b->dev->state_read(&d);
    devstate_fold(&s->acc, &d);
}

static void *sampler_main(void *p)
{
    struct sampler *s = p;
    const struct timespec ms = {0, 1000000};
    while (!atomic_load(&s->stop)) {
        read_into(s);
        for (int i = 0; i < SAMPLER_PERIOD_MS && !atomic_load(&s->stop); i++) nanosleep(&ms, NULL);
    }
    return NULL;
}

static void sampler_start(struct sampler *s, const struct backend *b)
{
    s->b = b;
    s->threaded = 0;
    atomic_init(&s->stop, 0);
    devstate_begin(&s->acc);
    if (!b->dev->state_read) return;
    if (b->kind == BACKEND_GPU && pthread_create(&s->th, NULL, sampler_main, s) == 0) s->threaded = 1;
    else read_into(s);
}

static void sampler_stop(struct sampler *s, struct dev_state *out)
{
    if (s->threaded) {
        atomic_store(&s->stop, 1);
        pthread_join(s->th, NULL);
    } else if (s->b->dev->state_read) {
        read_into(s);
    }
    devstate_result(&s->acc, out);
    if (!s->b->dev->state_read) snprintf(out->why, sizeof out->why, "n/a: this backend reports no device state");
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
    r->wall_s = 0;
    struct dev_state_acc none;
    devstate_begin(&none);
    devstate_result(&none, &r->state);
    /* Warm-up: at least one call and o->warmup; the fastest call calibrates reps per sample. */
    do {
        if (one_sample(b, call, st, 1, &s) != 0) return -1;
        if (s < t1) t1 = s;
        r->wall_s = wall_seconds() - start;
        if (timing_interrupted) { r->outcome = TIMING_INTERRUPTED; return 0; }
        if (wall_seconds() - start > o->case_timeout) { r->outcome = TIMING_TIMEOUT; return 0; }
    } while (wall_seconds() - start < o->warmup);
    if (t1 < SAMPLE_TARGET_S) r->reps = (int)(SAMPLE_TARGET_S / (t1 > 1e-9 ? t1 : 1e-9)) + 1;

    struct timing_opts eff = *o; /* the stopping rule with the sample cap actually in force */
    eff.max_samples = cap;
    double t_begin = wall_seconds(), next_check = 0, e0 = 0, e1 = 0, away_total = 0;
    char ewhy[160];
    int energy = b->dev->energy_read && b->dev->sync() == 0 && b->dev->energy_read(&e0, ewhy, sizeof ewhy) == 0;
    r->joules_per_call = NAN;
    struct sampler smp;
    sampler_start(&smp, b);
    for (;;) {
        if (one_sample(b, call, st, r->reps, &s) != 0) { sampler_stop(&smp, &r->state); return -1; }
        if (r->n == size) r->samples = realloc(r->samples, sizeof(double) * (size *= 2));
        r->samples[r->n++] = s / r->reps;
        double away = turn_share(); /* ab's lockstep: the other run's window is not this row's time */
        away_total += away;
        t_begin += away;
        start += away;
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
    sampler_stop(&smp, &r->state);
    /* the energy counter also saw the other run's windows (ab's lockstep): no figure then */
    if (energy && away_total == 0 && b->dev->sync() == 0 && b->dev->energy_read(&e1, ewhy, sizeof ewhy) == 0 && r->n > 0)
        r->joules_per_call = (e1 - e0) / ((double)r->n * r->reps);
    summarize(r->samples, r->n, &r->s);
    r->wall_s = wall_seconds() - start;
    return 0;
}
