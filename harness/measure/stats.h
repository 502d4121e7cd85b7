/* stats.h: order statistics for timing samples: median with a distribution-free 95% confidence
 * interval, mean/stddev, and the Mann-Whitney U test used by `compare`. */
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
double geomean(const double *x, int n);                        /* of the positive, finite x */
#endif
