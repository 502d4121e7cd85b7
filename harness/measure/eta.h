/* eta.h: how long planned rows will take. A row costs a time budget and work. The budget is the
 * sampler's: a row whose calls are short samples for at least --min-time and at most --max-time,
 * whatever the machine's speed (how long depends on noise: the average budget of the rows done is
 * what the rest are expected to take). The work scales with the machine: calls outside the budget
 * (warm-up, the verified call, or every call when they are long), inputs, the smaller instance and
 * the checks, from the roofline time of a call and the bytes set up and checked; the ratio of what
 * the rows took to what was estimated corrects it, per device kind and group of rows (a workload and
 * its cases' first name part, e.g. train/cnn; a group's ratio shrunk towards its kind's while it has
 * few rows done). */
#ifndef DLBENCH_ETA_H
#define DLBENCH_ETA_H
#include "ceilings.h"
#include "timing.h"
#include "workload.h"

#define ETA_GROUPS 128
struct row_estimate {
    int budget;          /* 1: short calls, the sampler's time budget applies */
    double budget_s;     /* the budget expected before any row is done */
    double work_s;       /* everything else */
    int gpu, group;       /* kind (1: GPU) and calibration group */
};

/* A row's estimate; c may be NULL or unmeasured (before the ceilings: nominal rates, the CPU's per
 * thread); case_name picks its calibration group (NULL: the workload's). A row that will be skipped
 * (backend unavailable, dtype not native) costs nothing. */
struct row_estimate eta_row(const struct backend *b, const struct workload *w, const char *case_name, const void *params,
                            enum dtype dt, int threads, const struct timing_opts *t, const struct ceiling *c);
/* The host seconds of a row's check reference (workload.check_flops; 0 none). A row whose
 * workload.check_key matches an earlier row's does not pay it: the caller takes it off. */
double eta_check_seconds(const struct workload *w, const void *params, enum dtype dt);
/* Before anything runs, to announce a run's length: a row's seconds (nothing when the backend is
 * unavailable, avail 0), and the ceilings phase on backend b (the cases ceilings_measure runs).
 * Good to a factor of about two; the ETA after each row is calibrated. */
double eta_row_seconds(const struct backend *b, int avail, const struct workload *w, const void *params, enum dtype dt,
                       int threads, const struct timing_opts *t);
double eta_ceilings_seconds(const struct backend *b, int avail, int threads, int quick);
/* The CPU's compute-loop GFLOP/s per thread and dtype (ceilings_probe_loops; NAN or 0: none), the
 * nominal CPU rates of every later estimate made without a measured ceiling. */
void eta_set_cpu_loop_rates(const double per_thread[DT_COUNT]);
/* The sampling time a short-call row is expected to take before any row is done, by device kind. */
double eta_budget_prior(int gpu, const struct timing_opts *t);

struct eta {
    double budget_rows[2], budget_s[2];                          /* [cpu/gpu] */
    double work_est[2][ETA_GROUPS + 1], work_got[2][ETA_GROUPS + 1];  /* [kind][group, or all] */
};
void eta_init(struct eta *e);
/* A finished row: its estimate, the seconds its samples took (sum of samples × calls per sample)
 * and the row's wall seconds in all. */
void eta_done(struct eta *e, const struct row_estimate *r, double sampled_s, double total_s);
/* Seconds left for rows est[from..n), calibrated by the rows done. */
double eta_left(const struct eta *e, const struct row_estimate *est, int from, int n);
#endif
