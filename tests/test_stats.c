/* test_stats.c: summaries, median confidence ranks against published values, the sampler's
 * stopping rule on synthetic sample streams, and the Mann-Whitney U test. */
#include "stats.h"
#include "timing.h"
#include "rng.h"
#include <criterion/criterion.h>
#include <math.h>

Test(stats, summary_of_known_data)
{
    const double x[] = {5, 1, 4, 2, 3, 100};
    struct summary s;
    summarize(x, 6, &s);
    cr_expect_float_eq(s.median, 3.5, 1e-12);
    cr_expect_float_eq(s.min, 1, 0);
    cr_expect_float_eq(s.max, 100, 0);
    cr_expect_float_eq(s.mean, 115.0 / 6, 1e-12);
    cr_expect_float_eq(s.stddev, 39.625329, 1e-5);
    cr_expect(s.ci_valid);
    cr_expect_float_eq(s.ci_lo, 1, 0);     /* n = 6: the CI is [x(1), x(6)] */
    cr_expect_float_eq(s.ci_hi, 100, 0);
    summarize(x, 5, &s);
    cr_expect_not(s.ci_valid);
}

Test(stats, median_ci_ranks_match_binomial_tables)
{
    int lo, hi;
    cr_expect_eq(median_ci_ranks(5, &lo, &hi), -1);
    cr_assert_eq(median_ci_ranks(10, &lo, &hi), 0);
    cr_expect(lo == 1 && hi == 8, "n=10: got %d..%d", lo, hi);      /* x(2)..x(9) */
    cr_assert_eq(median_ci_ranks(100, &lo, &hi), 0);
    cr_expect(lo == 39 && hi == 60, "n=100: got %d..%d", lo, hi);   /* x(40)..x(61) */
    cr_assert_eq(median_ci_ranks(5000, &lo, &hi), 0);
    cr_expect(lo >= 2428 && lo <= 2431 && hi == 4999 - lo, "n=5000: got %d..%d", lo, hi);
}

static const struct timing_opts opts = {.min_time = 0.1, .max_time = 1.0, .target_rel = 0.01,
                                        .case_timeout = 60, .max_samples = 100000};

/* Feeds samples one per 10 ms of simulated time until the rule stops; returns samples used. */
static int feed(double spread, int *noisy, double *elapsed)
{
    static double x[1000];
    struct rng r;
    rng_seed(&r, 5, 0);
    for (int n = 1; n <= 1000; n++) {
        x[n - 1] = 1e-3 * (1 + spread * rng_uniform(&r));
        struct summary s;
        summarize(x, n, &s);
        *elapsed = n * 0.01;
        if (timing_should_stop(&opts, &s, *elapsed, noisy)) return n;
    }
    return -1;
}

Test(timing, quiet_stream_stops_at_min_time)
{
    int noisy;
    double el;
    int n = feed(0.001, &noisy, &el);
    cr_expect(n >= 10 && n <= 12, "stopped after %d samples", n);   /* min_time 0.1 s = 10 samples */
    cr_expect_not(noisy);
}

Test(timing, noisy_stream_runs_to_max_time_and_is_flagged)
{
    int noisy;
    double el;
    int n = feed(1.0, &noisy, &el);    /* uniform over a factor of 2: CI ±1% needs ~10^4 samples */
    cr_expect(n >= 100 && el >= opts.max_time, "stopped after %d samples, %.2f s", n, el);
    cr_expect(noisy);
}

Test(timing, few_slow_samples_still_stop)
{
    struct timing_opts o = opts;
    struct summary s;
    double x[3] = {2, 2.5, 2.1};
    int noisy;
    summarize(x, 2, &s);
    cr_expect_not(timing_should_stop(&o, &s, 4.0, &noisy), "needs 3 samples before giving up");
    summarize(x, 3, &s);
    cr_expect(timing_should_stop(&o, &s, 6.0, &noisy));
    cr_expect(noisy, "no CI with 3 samples: the row is noisy");
}

Test(stats, mann_whitney_matches_scipy)
{
    /* scipy.stats.mannwhitneyu(a, b, method='asymptotic', use_continuity=True) */
    const double a[] = {1, 2, 3}, b[] = {4, 5, 6};
    double u;
    cr_expect_float_eq(mann_whitney(a, 3, b, 3, &u), 0.080856, 1e-5);
    cr_expect_float_eq(u, 0, 0);
    const double c[] = {1.1, 2.2, 3.3, 4.4, 5.5, 6.6, 7.7, 8.8}, d[] = {3.0, 5.0, 5.0, 9.9, 10.1, 12.0};
    cr_expect_float_eq(mann_whitney(c, 8, d, 6, &u), 0.219524, 1e-5);
    cr_expect_float_eq(u, 14, 0);
    cr_expect_float_eq(mann_whitney(c, 8, c, 8, &u), 1.0, 1e-9);
}

Test(stats, geomean_skips_non_positive)
{
    const double x[] = {2, 8, NAN, -1, 0};
    cr_expect_float_eq(geomean(x, 5), 4.0, 1e-12);
    cr_expect(isnan(geomean(x + 2, 3)));
}

Test(stats, quantiles_match_tables)
{
    cr_expect_float_eq(normal_quantile(0.975), 1.959964, 1e-5);
    cr_expect_float_eq(normal_quantile(0.995), 2.575829, 1e-5);
    cr_expect_float_eq(normal_quantile(0.5), 0, 1e-9);
    cr_expect_float_eq(student_t_quantile(0.975, 1), 12.7062, 1e-3);
    cr_expect_float_eq(student_t_quantile(0.995, 4), 4.6041, 1e-3);
    cr_expect_float_eq(student_t_quantile(0.975, 30), 2.0423, 1e-3);
    cr_expect_float_eq(student_t_quantile(0.025, 10), -2.2281, 1e-3);
}

Test(stats, exact_mann_whitney_distribution)
{
    /* 2 vs 2: U in 0..4 with counts 1,1,2,1,1 over the 6 orderings */
    cr_expect_float_eq(mann_whitney_cdf(2, 2, 0), 1.0 / 6, 1e-12);
    cr_expect_float_eq(mann_whitney_cdf(2, 2, 1), 2.0 / 6, 1e-12);
    cr_expect_float_eq(mann_whitney_cdf(2, 2, 2), 4.0 / 6, 1e-12);
    cr_expect_float_eq(mann_whitney_cdf(2, 2, 4), 1.0, 1e-12);
    cr_expect_float_eq(mann_whitney_cdf(3, 3, 0), 1.0 / 20, 1e-12);
    cr_expect_float_eq(mann_whitney_cdf(5, 5, 0), 1.0 / 252, 1e-12);
    cr_expect_float_eq(mann_whitney_cdf(5, 1, 0), 1.0 / 6, 1e-12);
    /* tables of critical values, n1 = n2 = 10: U <= 23 one-sided 0.025, U <= 16 one-sided 0.005 */
    cr_expect_float_eq(mann_whitney_cdf(10, 10, 23), 0.021629, 1e-5);
    cr_expect_float_eq(mann_whitney_cdf(10, 10, 16), 0.004465, 1e-5);
    cr_expect(mann_whitney_cdf(10, 10, 24) > 0.025);
    const double a[] = {3, 4, 5}, b[] = {1, 2, 4};
    cr_expect_float_eq(mann_whitney_u(a, 3, b, 3), 2 + 2.5 + 3, 1e-12);   /* pairs b_j < a_i, ties half */
    cr_expect_float_eq(median_of(a, 3), 4, 0);
    cr_expect(isnan(median_of(a, 0)));
}
