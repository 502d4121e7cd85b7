/* eltwise_ref.c: the elementwise references, single-threaded, accumulating in double. */
#include "eltwise_ref.h"
#include <math.h>

double gelu_ref(double x) { return 0.5 * x * (1.0 + tanh(GELU_K0 * (x + GELU_K1 * x * x * x))); }

double gelu_grad_ref(double x)
{
    double u = GELU_K0 * (x + GELU_K1 * x * x * x), t = tanh(u);
    return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * GELU_K0 * (1.0 + 3.0 * GELU_K1 * x * x);
}

void softmax_row_ref(int cols, const float *x, double *y)
{
    double mx = -INFINITY, s = 0;
    for (int j = 0; j < cols; j++) mx = x[j] > mx ? x[j] : mx;
    for (int j = 0; j < cols; j++) s += y[j] = exp(x[j] - mx);
    for (int j = 0; j < cols; j++) y[j] /= s;
}

void layernorm_row_ref(int cols, const float *x, const float *gamma, const float *beta, float eps, double *y)
{
    double mean = 0, var = 0;
    for (int j = 0; j < cols; j++) mean += x[j];
    mean /= cols;
    for (int j = 0; j < cols; j++) var += (x[j] - mean) * (x[j] - mean);
    var /= cols;
    double rstd = 1.0 / sqrt(var + eps);
    for (int j = 0; j < cols; j++) y[j] = (x[j] - mean) * rstd * gamma[j] + beta[j];
}

double adam_ref(const struct adam_hp *h, double w, double g, double *m, double *v)
{
    *m = h->beta1 * *m + (1.0 - h->beta1) * g;
    *v = h->beta2 * *v + (1.0 - h->beta2) * g * g;
    double mh = *m / (1.0 - pow(h->beta1, h->step)), vh = *v / (1.0 - pow(h->beta2, h->step));
    return w - h->lr * mh / (sqrt(vh) + h->eps);
}

double dot_ref(size_t n, const float *a, const float *b, double *abs_sum)
{
    double s = 0, as = 0;
    for (size_t i = 0; i < n; i++) { s += (double)a[i] * b[i]; as += fabs((double)a[i] * b[i]); }
    if (abs_sum) *abs_sum = as;
    return s;
}
