/* verdict.h: the regression rule of `compare` and `ab` for one row: from each side's per-run median
 * times, the shift of the new side with its interval, the spread between runs, and the decision
 * faster / slower / no change / too noisy to judge. Pure, tested on synthetic runs. */
#ifndef DLBENCH_VERDICT_H
#define DLBENCH_VERDICT_H

enum verdict { V_SAME, V_FASTER, V_SLOWER, V_NOISY };
extern const char *const verdict_names[];   /* "no change", "faster", "slower", "too noisy to judge" */

/* One side's runs of one row. */
struct side_runs {
    const double *median_s;  /* each run's median seconds per call (> 0) */
    int n;
    double within;           /* largest relative half-width of a run's 95% CI of its median; 0 unknown */
    int noisy;               /* runs whose row was flagged noisy */
};

struct rule {
    double threshold;        /* relative shift that counts (0.05) */
    double alpha;            /* 0.01: a 1-alpha interval; the rank test one-sided at alpha/2 */
    double assumed_spread;   /* relative between-run spread assumed when no side has two runs */
    double spread_floor;     /* relative spread seen on similar rows (verdict_pool); 0 none */
};

struct verdict_result {
    enum verdict v;
    double shift, lo, hi;    /* new/base ratio of the medians of run medians, minus 1, and its interval */
    double spread;           /* relative between-run spread of one run's median, as used */
    int spread_seen;         /* 1: measured from runs; 0: assumed (one run per side) */
    int pooled;              /* 1: the spread is the floor from similar rows, above this row's own */
    double p_rank;           /* one-sided exact Mann-Whitney on run medians, in the shift's direction */
    const char *why;         /* for V_NOISY: what stands in the way */
};

/* Slower (a regression) when the shift exceeds the threshold, its 1-alpha interval excludes no change
 * (the between-run noise, never taken below a run's own CI, so a run flagged noisy widens it), and
 * the new runs' medians separate from the base runs' by rank; faster likewise. Otherwise too noisy
 * to judge when the shift exceeds the threshold or the measured spread does; else no change. */
void verdict_decide(const struct side_runs *base, const struct side_runs *neu, const struct rule *r,
                    struct verdict_result *out);

/* The spread between runs of one row (relative, as verdict_result.spread), or NAN when neither side
 * has two runs. */
double verdict_spread(const struct side_runs *base, const struct side_runs *neu);
/* The floor for a group of similar rows (same backend, family and threads): the median of their
 * spreads, when at least VERDICT_POOL_MIN of them have one; else 0. A row whose runs happen to
 * agree is then not judged as if the machine were quieter than its neighbours show. */
#define VERDICT_POOL_MIN 4
double verdict_pool(const double *spreads, int n);
#endif
