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

#endif
