/* measure.h: one case on one backend, verified then timed (measure.c); the run loop and the
 * ceilings both call it. */
#ifndef DLBENCH_MEASURE_H
#define DLBENCH_MEASURE_H
#include <stdint.h>
#include "row.h"
#include "timing.h"
#include "workload.h"

/* Fills r with the case's identity, counts and outcome (status "ok", "noisy", "timeout",
 * "failed: …" or "skipped: …"). Returns 1 when interrupted (r is then not a result), else 0.
 * tr->samples is malloc'ed (NULL when nothing was timed); the caller frees it. */
int measure_row(const struct backend *b, const struct workload *w, const char *case_name, const void *params,
                enum dtype dt, int threads, const struct timing_opts *t, uint64_t seed, struct row *r,
                struct timing_result *tr);

/* A rough wall time for measure_row on this case, before anything runs, to announce a run's
 * length: nothing when the backend is unavailable (avail 0) or does not run the dtype; else
 * making and checking the inputs on one core, the warm-up and the sampling (at least min_time, at
 * least a few calls at an assumed speed). Good to a factor of about two; never a result. */
double measure_estimate_seconds(const struct backend *b, int avail, const struct workload *w, const void *params,
                                enum dtype dt, int threads, const struct timing_opts *t);
#endif
