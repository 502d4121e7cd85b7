/* dist.h: rows of a multi-process run: every rank's row of an item collected by rank 0 (which
 * writes the one run folder), and rows measured by a group of ranks together (collectives,
 * data-parallel steps) with a sampler every member agrees on. Transport and groups: group.h. */
#ifndef DLBENCH_DIST_H
#define DLBENCH_DIST_H
#include "group.h"
#include "row.h"
#include "timing.h"

/* One item's rows: each rank's row (have: 0 when it has none, e.g. a group's row kept by its first
 * rank) goes to rank 0 with its samples. Rank 0 waits wait_s after its own; got: every row in rank
 * order, a rank that did not answer as "failed: rank K lost". Returns the ranks lost (every rank
 * learns it), or 0. */
struct dist_row { struct row r; double *samples; int n; };
int dist_collect(int item, const struct row *mine, int have, const double *samples, int ns, double wait_s,
                 struct dist_row **got, int *ngot);
void dist_rows_free(struct dist_row *rows, int n);

/* A row measured by a group of ranks together: measure_row's steps with an agreement after each so
 * all members skip or fail together, the worst member's verification error, and dist_time_op.
 * Returns 0 with the row (the group's first rank keeps it), 2 when this rank holds no row (not in
 * the group, or not its first rank), 1 interrupted. */
int dist_measure(const struct backend *b, const struct workload *w, const char *case_name, const void *params,
                 enum dtype dt, int threads, int ranks, const struct timing_opts *t, uint64_t seed, struct row *r,
                 struct timing_result *tr);
/* The sampler over a group: one operation per sample, the slowest member's time; every member
 * takes the same decisions. */
int dist_time_op(const struct coll_group *g, const struct backend *b, op_call_fn call, void *st,
                 const struct timing_opts *o, struct timing_result *r);
#endif
