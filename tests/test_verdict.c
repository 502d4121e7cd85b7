/* test_verdict.c: the regression rule on synthetic runs with a known shift and a known spread between
 * runs: the decision for each combination (shift below the noise, above the noise but below the
 * threshold, above both), no false alarm over many seeds of unchanged runs that drift, the power to
 * see a large slowdown, one run per side, and the interval's coverage; the paired rule of ab's
 * rounds (drift shared within a round cancels; the sign test; a row's spread moderated towards its
 * group's). */
#include "rng.h"
#include "verdict.h"
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

static const struct rule rule5 = {.threshold = 0.05, .alpha = 0.01, .assumed_spread = 0.02};

/* n run medians of 1 ms x (1 + shift) whose logs have exactly SD `spread` (fixed quantiles). */
static void fixed_runs(double *m, int n, double shift, double spread)
{
    static const double z5[] = {-1.2649, -0.6325, 0, 0.6325, 1.2649};   /* SD 1 */
    for (int i = 0; i < n; i++) m[i] = 1e-3 * (1 + shift) * exp(spread * z5[i % 5]);
}

static enum verdict decide5(double shift, double spread, struct verdict_result *v)
{
    double b[5], n[5];
    fixed_runs(b, 5, 0, spread);
    fixed_runs(n, 5, shift, spread);
    struct side_runs sb = {b, 5, 0.005, 0}, sn = {n, 5, 0.005, 0};
    verdict_decide(&sb, &sn, &rule5, v);
    return v->v;
}

Test(verdict, decision_for_each_combination)
{
    struct verdict_result v;
    /* the shift is below the noise: 8% with runs spread by 10% */
    cr_expect_eq(decide5(0.08, 0.10, &v), V_NOISY, "got %s", verdict_names[v.v]);
    cr_expect(v.spread_seen && fabs(v.spread - expm1(0.10)) < 1e-3, "spread %g", v.spread);
    /* above the noise but below the threshold: 3% with runs spread by 0.5% */
    cr_expect_eq(decide5(0.03, 0.005, &v), V_SAME, "got %s", verdict_names[v.v]);
    cr_expect(v.lo > 0, "3%% is a real shift (interval %g..%g), only below the threshold", v.lo, v.hi);
    /* above both: 20% with runs spread by 1%, either way */
    cr_expect_eq(decide5(0.20, 0.01, &v), V_SLOWER, "got %s", verdict_names[v.v]);
    cr_expect(fabs(v.shift - 0.20) < 1e-9 && v.lo > 0.15 && v.hi < 0.25, "shift %g [%g, %g]", v.shift, v.lo, v.hi);
    cr_expect_eq(decide5(-0.20, 0.01, &v), V_FASTER, "got %s", verdict_names[v.v]);
    /* above the threshold but within the noise: 10% with runs spread by 6% */
    cr_expect_eq(decide5(0.10, 0.06, &v), V_NOISY, "got %s", verdict_names[v.v]);
    /* small shift, but runs spread more than the threshold: cannot say "no change" */
    cr_expect_eq(decide5(0.01, 0.08, &v), V_NOISY, "got %s", verdict_names[v.v]);
    cr_expect_str_eq(verdict_names[V_NOISY], "too noisy to judge");
}

Test(verdict, runs_that_overlap_by_rank_are_not_a_regression)
{
    /* medians mostly 20% slower, but one new run as fast as the base: the t-interval alone could
     * clear zero; the rank test across runs does not */
    const double b[3] = {1.00, 1.01, 0.99}, n[3] = {1.20, 1.21, 0.995};
    struct side_runs sb = {b, 3, 0, 0}, sn = {n, 3, 0, 0};
    struct verdict_result v;
    verdict_decide(&sb, &sn, &rule5, &v);
    cr_expect_neq(v.v, V_SLOWER, "verdict %s, p_rank %g", verdict_names[v.v], v.p_rank);
}

/* Code measured in interleaved rounds on a drifting machine: each run's median moves by a lognormal
 * spread, a slow trend shared by both sides (base at time 2r, new at 2r+1) and, with probability
 * `outliers`, by an odd run 30% slower. */
static void drifting_runs(struct rng *r, double *b, double *n, int k, double spread, double trend, double outliers,
                          double shift)
{
    for (int i = 0; i < k; i++) {
        double tb = exp(trend * 2 * i), tn = exp(trend * (2 * i + 1));
        b[i] = 1e-3 * tb * exp(spread * rng_normal(r)) * (rng_uniform(r) < outliers ? 1.3 : 1);
        n[i] = 1e-3 * (1 + shift) * tn * exp(spread * rng_normal(r)) * (rng_uniform(r) < outliers ? 1.3 : 1);
    }
}

Test(verdict, no_false_alarm_over_many_seeds_of_unchanged_drifting_runs)
{
    static const double spreads[] = {0.005, 0.01, 0.02};
    static const int ks[] = {3, 5};
    struct rng r;
    int alarms = 0, trials = 0;
    for (int s = 0; s < 3; s++)
        for (int kk = 0; kk < 2; kk++)
            for (uint64_t seed = 0; seed < 1500; seed++) {
                double b[5], n[5];
                rng_seed(&r, seed, 100 * s + kk);
                drifting_runs(&r, b, n, ks[kk], spreads[s], 0.004, 0.02, 0);
                struct side_runs sb = {b, ks[kk], 0.005, 0}, sn = {n, ks[kk], 0.005, 0};
                struct verdict_result v;
                verdict_decide(&sb, &sn, &rule5, &v);
                alarms += v.v == V_SLOWER;
                trials++;
            }
    cr_expect_eq(alarms, 0, "%d false regressions in %d unchanged comparisons", alarms, trials);
}

Test(verdict, large_slowdown_is_caught_on_nearly_every_seed)
{
    struct rng r;
    int caught50 = 0, caught25 = 0;
    for (uint64_t seed = 0; seed < 500; seed++) {
        double b[3], n[3];
        struct verdict_result v;
        rng_seed(&r, seed, 7);
        /* one thread instead of two: ~+50..100% on compute-bound rows */
        drifting_runs(&r, b, n, 3, 0.03, 0.004, 0, 0.5);
        struct side_runs sb = {b, 3, 0.005, 0}, sn = {n, 3, 0.005, 0};
        verdict_decide(&sb, &sn, &rule5, &v);
        caught50 += v.v == V_SLOWER;
        /* a deliberately slowed kernel: +25% */
        drifting_runs(&r, b, n, 3, 0.02, 0.004, 0, 0.25);
        verdict_decide(&sb, &sn, &rule5, &v);
        caught25 += v.v == V_SLOWER;
    }
    cr_expect_geq(caught50, 490, "+50%% caught on %d of 500 seeds", caught50);
    cr_expect_geq(caught25, 475, "+25%% caught on %d of 500 seeds", caught25);
}

Test(verdict, one_run_per_side_assumes_the_spread_and_says_so)
{
    const double b[1] = {1e-3}, same[1] = {1.03e-3}, slow[1] = {1.4e-3};
    struct side_runs sb = {b, 1, 0.004, 0}, sn = {same, 1, 0.004, 0};
    struct verdict_result v;
    verdict_decide(&sb, &sn, &rule5, &v);
    cr_expect_eq(v.v, V_SAME, "got %s", verdict_names[v.v]);
    cr_expect_not(v.spread_seen);
    cr_expect(v.spread >= 0.02, "spread %g: at least the assumed 2%%", v.spread);
    sn.median_s = slow;
    verdict_decide(&sb, &sn, &rule5, &v);
    cr_expect_eq(v.v, V_SLOWER, "+40%% against an assumed 2%%: got %s", verdict_names[v.v]);
    /* a run flagged noisy with a CI of +-30%: +40% is within its noise, not a regression; a 100x
     * slowdown is beyond even that */
    struct side_runs nb = {b, 1, 0.004, 0}, nn = {slow, 1, 0.30, 1};
    verdict_decide(&nb, &nn, &rule5, &v);
    cr_expect_eq(v.v, V_NOISY, "got %s", verdict_names[v.v]);
    cr_expect(v.why && strstr(v.why, "flagged noisy"), "%s", v.why);
    const double huge[1] = {0.1};
    nn.median_s = huge;
    verdict_decide(&nb, &nn, &rule5, &v);
    cr_expect_eq(v.v, V_SLOWER, "got %s", verdict_names[v.v]);
    /* a wide run CI widens the noise: +12% with CIs of +-10% is not a regression */
    const double mid[1] = {1.12e-3};
    struct side_runs wb = {b, 1, 0.10, 0}, wn = {mid, 1, 0.10, 0};
    verdict_decide(&wb, &wn, &rule5, &v);
    cr_expect_eq(v.v, V_NOISY, "got %s", verdict_names[v.v]);
}

Test(verdict, a_baseline_of_many_runs_against_one_new_run)
{
    /* a noise model of 8 runs spread by 1%; one new run 15% slower, one 2% slower */
    double b[8], slow[1] = {1.15e-3}, same[1] = {1.02e-3};
    for (int i = 0; i < 8; i++) b[i] = 1e-3 * exp(0.01 * (i - 3.5) / 2.45);
    struct side_runs sb = {b, 8, 0, 0}, sn = {slow, 1, 0.003, 0};
    struct verdict_result v;
    verdict_decide(&sb, &sn, &rule5, &v);
    cr_expect_eq(v.v, V_SLOWER, "got %s (%g..%g)", verdict_names[v.v], v.lo, v.hi);
    cr_expect(v.spread_seen);
    sn.median_s = same;
    verdict_decide(&sb, &sn, &rule5, &v);
    cr_expect_eq(v.v, V_SAME, "got %s", verdict_names[v.v]);
}

Test(verdict, interval_covers_the_true_shift)
{
    struct rng r;
    int covered = 0;
    for (uint64_t seed = 0; seed < 1000; seed++) {
        double b[5], n[5];
        rng_seed(&r, seed, 9);
        for (int i = 0; i < 5; i++) {
            b[i] = exp(0.02 * rng_normal(&r));
            n[i] = 1.1 * exp(0.02 * rng_normal(&r));
        }
        struct side_runs sb = {b, 5, 0, 0}, sn = {n, 5, 0, 0};
        struct verdict_result v;
        verdict_decide(&sb, &sn, &rule5, &v);
        covered += v.lo <= 0.1 && 0.1 <= v.hi;
    }
    /* nominal 99%: allow sampling error, fail a badly narrow interval */
    cr_expect_geq(covered, 970, "the 99%% interval covered the true +10%% in %d of 1000", covered);
}

Test(verdict, a_group_of_drifting_rows_lends_its_spread_to_a_row_whose_runs_agree)
{
    /* Five rows of one group on a machine whose runs flip between two speeds (x1.7): four rows show
     * it; in the fifth the three base runs happen to be fast and the three new ones slow. */
    const double mixed_b[3] = {1.0, 1.7, 1.0}, mixed_n[3] = {1.7, 1.0, 1.0};
    const double fast[3] = {1.0, 1.01, 0.99}, slow[3] = {1.7, 1.71, 1.69};
    double spreads[5];
    struct side_runs mb = {mixed_b, 3, 0.005, 0}, mn = {mixed_n, 3, 0.005, 0};
    struct side_runs fb = {fast, 3, 0.005, 0}, sn = {slow, 3, 0.005, 0};
    for (int i = 0; i < 4; i++) spreads[i] = verdict_spread(&mb, &mn);
    spreads[4] = verdict_spread(&fb, &sn);
    cr_expect(spreads[4] < 0.02 && spreads[0] > 0.2, "own spreads %g, %g", spreads[4], spreads[0]);
    struct rule r = rule5;
    struct verdict_result v;
    verdict_decide(&fb, &sn, &r, &v);
    cr_expect_eq(v.v, V_SLOWER, "alone, the row looks like a regression: got %s", verdict_names[v.v]);
    r.spread_floor = verdict_pool(spreads, 5);
    cr_expect(fabs(r.spread_floor - spreads[0]) < 1e-12, "the median of the group: %g", r.spread_floor);
    verdict_decide(&fb, &sn, &r, &v);
    cr_expect_eq(v.v, V_NOISY, "with its group's spread: got %s", verdict_names[v.v]);
    cr_expect(v.pooled);
    /* a group too small to pool, and rows that cannot say (one run per side), lend nothing */
    cr_expect_eq(verdict_pool(spreads, 3), 0);
    const double nan4[5] = {NAN, NAN, NAN, NAN, 0.3};
    cr_expect_eq(verdict_pool(nan4, 5), 0);
    /* on a quiet machine the floor costs nothing: a 30% slowdown is still caught */
    const double q_b[3] = {1.0, 1.01, 0.99}, q_n[3] = {1.3, 1.31, 1.29};
    struct side_runs qb = {q_b, 3, 0.005, 0}, qn = {q_n, 3, 0.005, 0};
    double quiet[5] = {0.01, 0.012, 0.008, 0.011, 0.009};
    r.spread_floor = verdict_pool(quiet, 5);
    verdict_decide(&qb, &qn, &r, &v);
    cr_expect_eq(v.v, V_SLOWER, "got %s", verdict_names[v.v]);
}

/* Paired rounds on a machine whose state moves both sides of a round alike: per round a common
 * factor (log SD `drift`), and per run its own noise (log SD `noise`); new is slower by `shift`. */
static void paired_rounds(struct rng *r, double *lr, int k, double drift, double noise, double shift)
{
    for (int i = 0; i < k; i++) {
        double common = drift * rng_normal(r);
        double b = common + noise * rng_normal(r), n = common + noise * rng_normal(r) + log1p(shift);
        lr[i] = n - b;
    }
}

static const struct rule paired5 = {.threshold = 0.05, .alpha = 0.01, .assumed_spread = 0.25, .prior_df = VERDICT_PRIOR_DF};

Test(verdict, paired_rounds_cancel_the_drift_they_share)
{
    /* drift of 30% between rounds, 1.5% noise of one run: unchanged never flagged, +50% always */
    struct rng r;
    int alarms = 0, caught = 0, caught15 = 0;
    double lr[5], spreads[8];
    for (uint64_t seed = 0; seed < 2000; seed++) {
        struct verdict_result v;
        struct rule rule = paired5;
        rng_seed(&r, seed, 11);
        for (int g = 0; g < 8; g++) {   /* the group: its rows' own spreads */
            paired_rounds(&r, lr, 3, 0.3, 0.015, 0);
            struct paired_runs p = {lr, 3, 0.005, 0};
            spreads[g] = verdict_paired_spread(&p);
        }
        rule.spread_floor = verdict_pool_paired(spreads, 8, 3);
        paired_rounds(&r, lr, 3, 0.3, 0.015, 0);
        struct paired_runs p = {lr, 3, 0.005, 0};
        verdict_decide_paired(&p, &rule, &v);
        alarms += v.v == V_SLOWER || v.v == V_FASTER;
        paired_rounds(&r, lr, 3, 0.3, 0.015, 0.5);
        verdict_decide_paired(&p, &rule, &v);
        caught += v.v == V_SLOWER;
        paired_rounds(&r, lr, 3, 0.3, 0.015, 0.15);
        verdict_decide_paired(&p, &rule, &v);
        caught15 += v.v == V_SLOWER;
    }
    cr_expect_eq(alarms, 0, "%d false verdicts in 2000 unchanged rows", alarms);
    cr_expect_geq(caught, 1990, "+50%% caught on %d of 2000 seeds", caught);
    cr_expect_geq(caught15, 1900, "+15%% caught on %d of 2000 seeds", caught15);
    /* the same drift judged unpaired (as compare BASE... -- NEW... would) hides the +50% */
    double b[3], n[3];
    int unpaired = 0;
    for (uint64_t seed = 0; seed < 200; seed++) {
        rng_seed(&r, seed, 12);
        for (int i = 0; i < 3; i++) {
            double common = 0.3 * rng_normal(&r);
            b[i] = 1e-3 * exp(common + 0.02 * rng_normal(&r));
            n[i] = 1.5e-3 * exp(common + 0.02 * rng_normal(&r));
        }
        struct side_runs sb = {b, 3, 0.005, 0}, sn = {n, 3, 0.005, 0};
        struct verdict_result v;
        verdict_decide(&sb, &sn, &rule5, &v);
        unpaired += v.v == V_SLOWER;
    }
    cr_expect_lt(unpaired, 100, "unpaired: %d of 200", unpaired);
}

Test(verdict, paired_rounds_that_disagree_in_direction_are_not_a_regression)
{
    struct verdict_result v;
    struct rule rule = paired5;
    rule.spread_floor = 0.03;
    const double agree[3] = {log(1.3), log(1.25), log(1.35)}, disagree[3] = {log(1.6), log(0.98), log(1.5)};
    struct paired_runs a = {agree, 3, 0.005, 0}, d = {disagree, 3, 0.005, 0};
    verdict_decide_paired(&a, &rule, &v);
    cr_expect_eq(v.v, V_SLOWER, "got %s", verdict_names[v.v]);
    cr_expect(fabs(v.shift - 0.2994) < 1e-3, "geometric mean of the ratios: %g", v.shift);
    cr_expect(v.lo > 0 && v.lo < v.shift && v.hi > v.shift);
    cr_expect(fabs(v.p_rank - 0.125) < 1e-12, "sign test, 3 of 3: %g", v.p_rank);
    verdict_decide_paired(&d, &rule, &v);
    cr_expect_eq(v.v, V_NOISY, "one round faster: got %s", verdict_names[v.v]);
    /* faster, mirrored */
    const double faster[3] = {-log(1.3), -log(1.25), -log(1.35)};
    struct paired_runs f = {faster, 3, 0.005, 0};
    verdict_decide_paired(&f, &rule, &v);
    cr_expect_eq(v.v, V_FASTER, "got %s", verdict_names[v.v]);
    /* within the threshold with a tight spread: no change */
    const double same[3] = {log(1.01), log(0.995), log(1.02)};
    struct paired_runs s = {same, 3, 0.005, 0};
    verdict_decide_paired(&s, &rule, &v);
    cr_expect_eq(v.v, V_SAME, "got %s", verdict_names[v.v]);
    cr_expect(v.spread_seen);
}

Test(verdict, a_paired_row_noisier_than_its_group_keeps_its_own_spread)
{
    /* ratios +30%, +1%, +25%: every round slower, but the row's own spread is ~15% while its group's
     * is 2%; the moderated spread is pulled towards the group, not down to it */
    const double lr[3] = {log(1.30), log(1.01), log(1.25)};
    struct paired_runs p = {lr, 3, 0.005, 0};
    struct rule rule = paired5;
    struct verdict_result v;
    rule.spread_floor = 0.02;
    verdict_decide_paired(&p, &rule, &v);
    double own = verdict_paired_spread(&p);
    cr_expect(v.spread > 0.05 && v.spread < own, "moderated %g between the group's 0.02 and its own %g", v.spread, own);
    cr_expect_eq(v.v, V_NOISY, "got %s", verdict_names[v.v]);
    cr_expect(!v.pooled);
    /* a quiet row in a noisy group takes the group's spread and says so */
    const double quiet[3] = {log(1.10), log(1.11), log(1.09)};
    struct paired_runs q = {quiet, 3, 0.005, 0};
    rule.spread_floor = 0.15;
    verdict_decide_paired(&q, &rule, &v);
    cr_expect(v.pooled && v.v == V_NOISY, "got %s, pooled %d", verdict_names[v.v], v.pooled);
    /* without a group (no floor) the own spread alone, with its 2 degrees of freedom */
    rule.spread_floor = 0;
    verdict_decide_paired(&q, &rule, &v);
    cr_expect_eq(v.v, V_SLOWER, "got %s", verdict_names[v.v]);
}

Test(verdict, the_paired_pool_estimates_the_common_spread)
{
    /* many rows of one true spread: the median of their sample variances, rescaled, comes back */
    struct rng r;
    double spreads[401], lr[3];
    rng_seed(&r, 5, 5);
    for (int i = 0; i < 401; i++) {
        for (int k = 0; k < 3; k++) lr[k] = 0.1 * rng_normal(&r);
        struct paired_runs p = {lr, 3, 0, 0};
        spreads[i] = verdict_paired_spread(&p);
    }
    double pool = log1p(verdict_pool_paired(spreads, 401, 3));
    cr_expect(fabs(pool - 0.1) < 0.012, "pooled log spread %g for a true 0.1", pool);
    cr_expect_eq(verdict_pool_paired(spreads, 3, 3), 0, "too few rows");
    cr_expect_eq(verdict_pool_paired(spreads, 401, 1), 0, "one round");
    /* one paired round: the spread is assumed (both runs' share of it) */
    struct paired_runs one = {lr, 1, 0.005, 0};
    struct verdict_result v;
    verdict_decide_paired(&one, &paired5, &v);
    cr_expect(!v.spread_seen);
}
