/* eta.h: how long planned rows will take. Each row's estimate has two parts: sampling (warm-up,
 * the verified call and the sampler's time budget, from the timing options and the roofline time
 * of one call) and overhead (inputs, the smaller instance and the checks: the bytes the host and
 * device generate and check); as rows finish, each part is scaled by what the rows so far took
 * over what they were estimated to take: per device kind and workload family, shrunk towards the
 * kind's factor while a family has few rows done. */
#ifndef DLBENCH_ETA_H
#define DLBENCH_ETA_H
#include "ceilings.h"
#include "timing.h"
#include "workload.h"

#define ETA_FAMILIES 16
struct row_estimate { double sampling_s, overhead_s; int gpu, family; };

/* A row's estimate; c may be NULL (before the ceilings are measured: nominal rates). A row that
 * will be skipped (backend unavailable, dtype not native) costs nothing. */
struct row_estimate eta_row(const struct backend *b, const struct workload *w, const void *params, enum dtype dt,
                            const struct timing_opts *t, const struct ceiling *c);

/* The ceilings phase on backend b (as ceilings_measure runs it). */
double eta_ceilings(const struct backend *b, int quick);

struct eta {
    /* [cpu/gpu][family, or ETA_FAMILIES for all][sampling/overhead], over the rows finished */
    double est[2][ETA_FAMILIES + 1][2], got[2][ETA_FAMILIES + 1][2];
};
void eta_init(struct eta *e);
/* A finished row: its estimate and what it took (sampling part: time_op's wall seconds). */
void eta_done(struct eta *e, const struct row_estimate *r, double sampling_s, double total_s);
/* Seconds left for rows est[from..n), calibrated by the rows done. */
double eta_left(const struct eta *e, const struct row_estimate *est, int from, int n);
#endif
