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
    double prior_df;         /* paired rule: degrees of freedom the similar rows' spread counts for */
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

/* Paired rounds (ab: both sides measured side by side, round by round): the log of new/base per
 * round, which the state of the machine at that moment cancels out of. */
struct paired_runs {
    const double *log_ratio; /* per round: log(new median / base median) */
    int n;
    double within;           /* largest relative half-width of a run's 95% CI of its median; 0 unknown */
    int noisy;               /* runs whose row was flagged noisy */
};

/* The paired rule: the shift is the mean log ratio (a geometric mean of the rounds' ratios); its
 * interval is a t interval on the spread of the ratios, moderated towards the similar rows' spread
 * (spread_floor, worth prior_df degrees of freedom: the empirical-Bayes t of limma; Smyth 2004), so
 * three rounds can judge a row while a row noisier than its neighbours still shows its own spread;
 * the rank test is the sign test over rounds (every round in the same direction while 2^-n exceeds
 * alpha/2). The spread reported is that of one round's ratio. */
#define VERDICT_PRIOR_DF 4
void verdict_decide_paired(const struct paired_runs *p, const struct rule *r, struct verdict_result *out);
/* The spread of one row's paired rounds (relative, as verdict_result.spread), or NAN below two. */
double verdict_paired_spread(const struct paired_runs *p);
/* The spread of a group of paired rows as a floor: from the median of their variances, scaled by
 * the median of a chi-square with n-1 degrees of freedom, so that it estimates the group's common
 * spread rather than a typical row's sample; 0 below VERDICT_POOL_MIN rows. */
double verdict_pool_paired(const double *spreads, int n, int rounds);

/* The spread between runs of one row (relative, as verdict_result.spread), or NAN when neither side
 * has two runs. */
double verdict_spread(const struct side_runs *base, const struct side_runs *neu);
/* The floor for a group of similar rows (same backend, family and threads): the median of their
 * spreads, when at least VERDICT_POOL_MIN of them have one; else 0. A row whose runs happen to
 * agree is then not judged as if the machine were quieter than its neighbours show. */
#define VERDICT_POOL_MIN 4
double verdict_pool(const double *spreads, int n);
#endif
