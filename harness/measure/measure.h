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

/* measure_row's steps, for rows several ranks measure together (harness/dist/dist_measure.c):
 * the identity and counts; whether the case can run here (-1 with r->status "skipped: …"); the
 * status of a setup that returned NULL with why; a timed result into r. */
void row_identity(struct row *r, const struct backend *b, const struct workload *w, const char *case_name,
                  const void *params, enum dtype dt, int threads);
int measure_preflight(const struct backend *b, const struct workload *w, const void *params, enum dtype dt, struct row *r);
void setup_status(struct row *r, const char *why);
void row_timing(struct row *r, const struct timing_result *tr);
#endif
