/* stats.c: median CI by binomial order statistics, summaries, Mann-Whitney U, geometric mean. */
#include "stats.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int median_ci_ranks(int n, int *lo, int *hi)
{
    if (n < 6) return -1;
    int j;
    if (n <= 1000) {
        double cdf = 0, lp0 = -n * log(2.0);
        for (j = 0; j < n; j++) {
            double lp = lp0 + lgamma(n + 1.0) - lgamma(j + 1.0) - lgamma(n - j + 1.0);
            if (cdf + exp(lp) > 0.025) break;
            cdf += exp(lp);
        }
    } else {
        j = (int)floor((n - 1.959963985 * sqrt((double)n)) / 2.0) + 1;
    }
    /* j is the first count with P(X <= j) > 0.025: x_(j) .. x_(n-j+1) (1-based) cover the
     * median with >= 95%. */
    *lo = j - 1;
    *hi = n - j;
    return 0;
}

void summarize(const double *x, int n, struct summary *s)
{
    memset(s, 0, sizeof *s);
    s->n = n;
    if (n <= 0) return;
    double *v = malloc(sizeof(double) * n), sum = 0, sq = 0;
    memcpy(v, x, sizeof(double) * n);
    qsort(v, n, sizeof(double), cmp_double);
    for (int i = 0; i < n; i++) sum += v[i];
    s->mean = sum / n;
    for (int i = 0; i < n; i++) sq += (v[i] - s->mean) * (v[i] - s->mean);
    s->stddev = n > 1 ? sqrt(sq / (n - 1)) : 0;
    s->min = v[0];
    s->max = v[n - 1];
    s->median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    int lo, hi;
    s->ci_valid = median_ci_ranks(n, &lo, &hi) == 0;
    s->ci_lo = s->ci_valid ? v[lo] : v[0];
    s->ci_hi = s->ci_valid ? v[hi] : v[n - 1];
    free(v);
}

struct tagged { double v; int from_a; };
static int cmp_tagged(const void *a, const void *b)
{
    return cmp_double(&((const struct tagged *)a)->v, &((const struct tagged *)b)->v);
}

double mann_whitney(const double *a, int na, const double *b, int nb, double *u)
{
    int n = na + nb;
    if (na < 1 || nb < 1) { if (u) *u = 0; return 1.0; }
    struct tagged *t = malloc(sizeof *t * n);
    for (int i = 0; i < na; i++) t[i] = (struct tagged){a[i], 1};
    for (int i = 0; i < nb; i++) t[na + i] = (struct tagged){b[i], 0};
    qsort(t, n, sizeof *t, cmp_tagged);
    double ra = 0, ties = 0;
    for (int i = 0; i < n;) {
        int j = i;
        while (j + 1 < n && t[j + 1].v == t[i].v) j++;
        double rank = 0.5 * (i + j) + 1.0, cnt = j - i + 1;
        for (int k = i; k <= j; k++) if (t[k].from_a) ra += rank;
        ties += cnt * cnt * cnt - cnt;
        i = j + 1;
    }
    free(t);
    double ua = ra - na * (na + 1.0) / 2.0, mu = na * (double)nb / 2.0;
    double var = na * (double)nb / 12.0 * ((n + 1.0) - ties / ((double)n * (n - 1.0)));
    if (u) *u = ua;
    if (var <= 0) return 1.0;
    double z = (fabs(ua - mu) - 0.5) / sqrt(var);
    if (z < 0) z = 0;
    return erfc(z / sqrt(2.0));
}

double geomean(const double *x, int n)
{
    double s = 0;
    int k = 0;
    for (int i = 0; i < n; i++)
        if (x[i] > 0 && isfinite(x[i])) { s += log(x[i]); k++; }
    return k ? exp(s / k) : NAN;
}

double median_of(const double *x, int n)
{
    struct summary s;
    if (n <= 0) return NAN;
    summarize(x, n, &s);
    return s.median;
}

double mann_whitney_u(const double *a, int na, const double *b, int nb)
{
    double u = 0;
    for (int i = 0; i < na; i++)
        for (int j = 0; j < nb; j++) u += b[j] < a[i] ? 1.0 : b[j] == a[i] ? 0.5 : 0.0;
    return u;
}

/* Counts of U over the C(na+nb, na) equally likely orderings: c[m][u] for m of the a's among the
 * first k values, built up one value at a time (the classic recursion, in doubles). */
double mann_whitney_cdf(int na, int nb, double u)
{
    if (na < 1 || nb < 1) return 1.0;
    if (na > 30 || nb > 30) {
        double mu = na * (double)nb / 2.0, sd = sqrt(na * (double)nb * (na + nb + 1) / 12.0);
        return 0.5 * erfc(-(u + 0.5 - mu) / (sd * sqrt(2.0)));
    }
    int umax = na * nb;
    /* f[i][j][v]: orderings of i a's and j b's with U = v; U counts pairs with a b before an a. */
    double *f = calloc((size_t)(na + 1) * (nb + 1) * (umax + 1), sizeof *f);
#define F(i, j, v) f[(((size_t)(i) * (nb + 1)) + (j)) * (umax + 1) + (v)]
    for (int i = 0; i <= na; i++)
        for (int j = 0; j <= nb; j++) {
            if (i == 0 || j == 0) { F(i, j, 0) = 1; continue; }
            /* the largest value is an a (after all j b's: +j pairs) or a b (+0) */
            for (int v = 0; v <= i * j; v++) F(i, j, v) = (v >= j ? F(i - 1, j, v - j) : 0) + F(i, j - 1, v);
        }
    double below = 0, total = 0;
    for (int v = 0; v <= umax; v++) {
        total += F(na, nb, v);
        if (v <= u + 1e-9) below += F(na, nb, v);
    }
#undef F
    free(f);
    return below / total;
}

double normal_quantile(double p)
{
    /* Bisection on erfc: 80 halvings of [-40, 40] reach double precision; called a few times per row. */
    double lo = -40, hi = 40;
    for (int i = 0; i < 80; i++) {
        double mid = 0.5 * (lo + hi);
        if (0.5 * erfc(-mid / sqrt(2.0)) < p) lo = mid; else hi = mid;
    }
    return 0.5 * (lo + hi);
}

/* Regularized incomplete beta I_x(a, b) by its continued fraction (Lentz), the usual way. */
static double beta_cf(double a, double b, double x)
{
    double c = 1, d = 1 - (a + b) * x / (a + 1), h;
    if (fabs(d) < 1e-300) d = 1e-300;
    d = 1 / d;
    h = d;
    for (int m = 1; m < 300; m++) {
        double m2 = 2.0 * m, aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
        d = 1 + aa * d; if (fabs(d) < 1e-300) d = 1e-300;
        c = 1 + aa / c; if (fabs(c) < 1e-300) c = 1e-300;
        d = 1 / d; h *= d * c;
        aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
        d = 1 + aa * d; if (fabs(d) < 1e-300) d = 1e-300;
        c = 1 + aa / c; if (fabs(c) < 1e-300) c = 1e-300;
        d = 1 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1) < 1e-15) break;
    }
    return h;
}

static double beta_inc(double a, double b, double x)
{
    if (x <= 0) return 0;
    if (x >= 1) return 1;
    double lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log(1 - x);
    if (x < (a + 1) / (a + b + 2)) return exp(lbt) * beta_cf(a, b, x) / a;
    return 1 - exp(lbt) * beta_cf(b, a, 1 - x) / b;
}

static double student_t_cdf(double t, double df)
{
    double tail = 0.5 * beta_inc(df / 2, 0.5, df / (df + t * t));
    return t >= 0 ? 1 - tail : tail;
}

double student_t_quantile(double p, double df)
{
    double lo = -1e6, hi = 1e6;
    for (int i = 0; i < 200 && hi - lo > 1e-12 * (1 + fabs(lo)); i++) {
        double mid = 0.5 * (lo + hi);
        if (student_t_cdf(mid, df) < p) lo = mid; else hi = mid;
    }
    return 0.5 * (lo + hi);
}
