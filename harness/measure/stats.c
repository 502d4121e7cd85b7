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
