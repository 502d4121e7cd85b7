/* verdict.c: the regression rule on one row's per-run medians. Times are compared in logs, so a
 * shift and a spread are ratios. The interval is t-based on the pooled between-run spread (the SD
 * of one run's log median around its side's mean), scaled for medians of few runs; the rank test
 * (exact Mann-Whitney on run medians) guards against one odd run; the median spread of similar rows
 * is a floor, since on a shared machine rows of one kind drift alike (README: How dlbench measures). */
#include "verdict.h"
#include "stats.h"
#include <math.h>
#include <stdlib.h>

const char *const verdict_names[] = {"no change", "faster", "slower", "too noisy to judge"};

/* Var(median) / Var(mean) of n normal values (simulated; pi/2 as n grows). */
static double median_factor(int n)
{
    static const double c[] = {1, 1, 1, 1.346, 1.192, 1.434, 1.283, 1.478, 1.347, 1.497, 1.381};
    return n <= 10 ? c[n] : M_PI / 2;
}

/* Logs of the medians; sum of squares around their mean into *ss. */
static double *logs(const struct side_runs *s, double *ss)
{
    double *x = malloc(sizeof(double) * (s->n ? s->n : 1)), mean = 0;
    for (int i = 0; i < s->n; i++) mean += (x[i] = log(s->median_s[i])) / s->n;
    for (int i = 0; i < s->n; i++) *ss += (x[i] - mean) * (x[i] - mean);
    return x;
}

/* The decision both rules share, in logs: shift d, interval half-width h = q·se, spread s of one
 * run (or round), threshold t, the rank test's one-sided p-values against its level. The why
 * texts: the ranks disagree, the runs were flagged noisy, or the plain noise (rule's own words). */
static void decide(double d, double q, double se, double s, double t, int seen, double p_slower, double p_faster,
                   double rank_level, int noisy, const char *const why[3], struct verdict_result *out)
{
    out->shift = expm1(d);
    out->lo = expm1(d - q * se);
    out->hi = expm1(d + q * se);
    out->spread = expm1(s);
    out->spread_seen = seen;
    out->p_rank = d >= 0 ? p_slower : p_faster;
    out->why = NULL;
    if (d > t && d - q * se > 0 && p_slower <= rank_level) {
        out->v = V_SLOWER;
    } else if (d < -t && d + q * se < 0 && p_faster <= rank_level) {
        out->v = V_FASTER;
    } else if (fabs(d) > t) {
        out->v = V_NOISY;
        out->why = fabs(d) - q * se > 0 ? why[0] : noisy > 0 ? why[1] : why[2];
    } else if (seen && s > t) {
        out->v = V_NOISY;
        out->why = "spread exceeds the threshold";
    } else {
        out->v = V_SAME;
    }
}

void verdict_decide(const struct side_runs *base, const struct side_runs *neu, const struct rule *r,
                    struct verdict_result *out)
{
    double ss = 0, *x = logs(base, &ss), *y = logs(neu, &ss);
    int nb = base->n, nn = neu->n, df = nb - 1 + nn - 1;
    double d = median_of(y, nn) - median_of(x, nb), q, s;
    /* A run's own CI bounds how well its median is known: the spread is never taken below it. */
    double within = log1p(fmax(base->within, neu->within)) / 1.96;
    if (df > 0) {
        s = fmax(sqrt(ss / df), within);
        out->pooled = log1p(r->spread_floor) > s;
        if (out->pooled) s = log1p(r->spread_floor);
        q = student_t_quantile(1 - r->alpha / 2, df);
    } else {
        double a = log1p(r->assumed_spread);
        out->pooled = 0;
        s = sqrt(a * a + within * within);
        q = normal_quantile(1 - r->alpha / 2);
    }
    double se = s * sqrt(median_factor(nb) / nb + median_factor(nn) / nn), t = log1p(r->threshold);
    /* u: pairs where a new run was faster than a base run; few of them means "new is slower". */
    double u = mann_whitney_u(x, nb, y, nn), pmin = mann_whitney_cdf(nb, nn, 0);
    double p_slower = mann_whitney_cdf(nb, nn, u), p_faster = mann_whitney_cdf(nb, nn, (double)nb * nn - u);
    double rank_level = fmax(r->alpha / 2, pmin) * (1 + 1e-9);
    static const char *const why[3] = {"runs overlap", "shift within the noise of runs flagged noisy",
                                       "shift within the between-run noise"};
    decide(d, q, se, s, t, df > 0, p_slower, p_faster, rank_level, base->noisy + neu->noisy, why, out);
    free(x);
    free(y);
}

double verdict_spread(const struct side_runs *base, const struct side_runs *neu)
{
    double ss = 0, *x = logs(base, &ss), *y = logs(neu, &ss);
    int df = base->n - 1 + neu->n - 1;
    free(x);
    free(y);
    return df > 0 ? expm1(sqrt(ss / df)) : NAN;
}

double verdict_pool(const double *spreads, int n)
{
    double *v = malloc(sizeof(double) * (n ? n : 1)), m = 0;
    int k = 0;
    for (int i = 0; i < n; i++) if (isfinite(spreads[i])) v[k++] = spreads[i];
    if (k >= VERDICT_POOL_MIN) m = median_of(v, k);
    free(v);
    return m;
}

/* Median of a chi-square with df degrees of freedom (Wilson-Hilferty; within 1% from df = 1). */
static double chi2_median(double df)
{
    double a = 2 / (9 * df);
    return df * (1 - a) * (1 - a) * (1 - a);
}

static void paired_stats(const struct paired_runs *p, double *mean, double *sd)
{
    double m = 0, ss = 0;
    for (int i = 0; i < p->n; i++) m += p->log_ratio[i] / p->n;
    for (int i = 0; i < p->n; i++) ss += (p->log_ratio[i] - m) * (p->log_ratio[i] - m);
    *mean = m;
    *sd = p->n > 1 ? sqrt(ss / (p->n - 1)) : NAN;
}

double verdict_paired_spread(const struct paired_runs *p)
{
    double m, sd;
    paired_stats(p, &m, &sd);
    return p->n > 1 ? expm1(sd) : NAN;
}

double verdict_pool_paired(const double *spreads, int n, int rounds)
{
    double *v = malloc(sizeof(double) * (n ? n : 1)), m = 0;
    int k = 0;
    for (int i = 0; i < n; i++) if (isfinite(spreads[i])) { double l = log1p(spreads[i]); v[k++] = l * l; }
    if (k >= VERDICT_POOL_MIN && rounds > 1) m = expm1(sqrt(median_of(v, k) * (rounds - 1) / chi2_median(rounds - 1)));
    free(v);
    return m;
}

/* P(at least k of n fair coin flips come up heads). */
static double sign_tail(int n, int k)
{
    double p = 0, c = 1;   /* c: n choose i */
    for (int i = 0; i <= n; i++) {
        if (i >= k) p += c;
        c = c * (n - i) / (i + 1);
    }
    return p / pow(2, n);
}

void verdict_decide_paired(const struct paired_runs *p, const struct rule *r, struct verdict_result *out)
{
    int n = p->n, df = n - 1, up = 0, down = 0;
    double d, s, q, dfall = df;
    paired_stats(p, &d, &s);
    for (int i = 0; i < n; i++) { up += p->log_ratio[i] > 0; down += p->log_ratio[i] < 0; }
    /* one round's ratio holds two runs' medians, each known to within its own CI at best */
    double within = M_SQRT2 * log1p(p->within) / 1.96;
    out->pooled = 0;
    if (df > 0) {
        double floor = log1p(r->spread_floor), d0 = r->spread_floor > 0 ? r->prior_df : 0;
        if (d0 > 0) {
            double own = s * s;
            s = sqrt((d0 * floor * floor + df * own) / (d0 + df));
            dfall = d0 + df;
            out->pooled = floor * floor > own;
        }
        s = fmax(s, within);
        q = student_t_quantile(1 - r->alpha / 2, dfall);
    } else {
        double a = log1p(r->assumed_spread);
        s = M_SQRT2 * sqrt(a * a + within * within / 2);
        q = normal_quantile(1 - r->alpha / 2);
    }
    double se = s / sqrt(n), t = log1p(r->threshold);
    double p_slower = sign_tail(n, up), p_faster = sign_tail(n, down);
    double rank_level = fmax(r->alpha / 2, pow(0.5, n)) * (1 + 1e-9);
    static const char *const why[3] = {"rounds disagree in direction", "shift within the noise of runs flagged noisy",
                                       "shift within the noise between rounds"};
    decide(d, q, se, s, t, df > 0, p_slower, p_faster, rank_level, p->noisy, why, out);
}
