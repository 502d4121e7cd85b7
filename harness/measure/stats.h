/* stats.h: order statistics for timing samples: median with a distribution-free 95% confidence
 * interval, mean/stddev, the Mann-Whitney U test (normal approximation, and exact for the few runs
 * `compare` sees per side), and the normal and Student-t quantiles its intervals use. */
#ifndef DLBENCH_STATS_H
#define DLBENCH_STATS_H

struct summary {
    int n;
    double median, min, max, mean, stddev;
    double ci_lo, ci_hi;     /* 95% CI of the median; equals [min, max] when n < 6 */
    int ci_valid;            /* n large enough for a 95% CI of the median (n >= 6) */
};

/* 0-based ranks (lo, hi) of the sorted samples bounding a >= 95% CI of the median: exact
 * binomial for n <= 1000, normal approximation beyond. Returns 0, or -1 when n < 6. */
int median_ci_ranks(int n, int *lo, int *hi);
void summarize(const double *x, int n, struct summary *s);    /* x is not modified */

/* Two-sided Mann-Whitney U test (normal approximation with tie and continuity correction).
 * Returns the p-value; *u gets U for sample a. */
double mann_whitney(const double *a, int na, const double *b, int nb, double *u);
/* Exact one-sided Mann-Whitney: the probability, when both samples come from one distribution,
 * that at most u of the na*nb pairs (a_i, b_j) have b_j < a_i (ties count one half). Exact
 * (no ties assumed) for na, nb <= 30; normal approximation beyond. */
double mann_whitney_cdf(int na, int nb, double u);
/* U of sample b against a: pairs with b_j < a_i, ties one half. */
double mann_whitney_u(const double *a, int na, const double *b, int nb);
double median_of(const double *x, int n);                      /* x is not modified; NAN if n = 0 */
double normal_quantile(double p);                              /* 0 < p < 1 */
double student_t_quantile(double p, double df);                /* 0 < p < 1, df > 0 */
double geomean(const double *x, int n);                        /* of the positive, finite x */
#endif
