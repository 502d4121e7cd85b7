/* conv_ref.c: direct-loop convolution references in double, single-threaded. */
#include "conv_ref.h"
#include <math.h>
#include <string.h>

int conv_p(const struct conv_shape *s) { return (s->h + 2 * s->pad - s->dil * (s->r - 1) - 1) / s->stride + 1; }
int conv_q(const struct conv_shape *s) { return (s->w + 2 * s->pad - s->dil * (s->s - 1) - 1) / s->stride + 1; }
size_t conv_x_elems(const struct conv_shape *s) { return (size_t)s->n * s->c * s->h * s->w; }
size_t conv_w_elems(const struct conv_shape *s) { return (size_t)s->k * s->c * s->r * s->s; }
size_t conv_y_elems(const struct conv_shape *s) { return (size_t)s->n * s->k * conv_p(s) * conv_q(s); }
double conv_flops(const struct conv_shape *s)
{
    return 2.0 * s->n * s->k * conv_p(s) * conv_q(s) * (double)s->c * s->r * s->s;
}

long conv_reduction(const struct conv_shape *s, enum conv_dir d)
{
    if (d == CONV_FWD) return (long)s->c * s->r * s->s;
    if (d == CONV_BWD_DATA) return (long)s->k * s->r * s->s;   /* upper bound: stride skips some */
    return (long)s->n * conv_p(s) * conv_q(s);
}

/* flat indices into x (N,C,H,W), w (K,C,R,S), y (N,K,P,Q) */
#define X(n_, c_, h_, v_) ((((size_t)(n_) * s->c + (c_)) * s->h + (h_)) * s->w + (v_))
#define W(k_, c_, r_, t_) ((((size_t)(k_) * s->c + (c_)) * s->r + (r_)) * s->s + (t_))
#define Y(n_, k_, p_, q_) ((((size_t)(n_) * s->k + (k_)) * P + (p_)) * Q + (q_))

void conv_fwd_ref(const struct conv_shape *s, const double *x, const double *w, double *y)
{
    int P = conv_p(s), Q = conv_q(s);
    for (int n = 0; n < s->n; n++)
        for (int k = 0; k < s->k; k++)
            for (int p = 0; p < P; p++)
                for (int q = 0; q < Q; q++) {
                    double acc = 0;
                    for (int c = 0; c < s->c; c++)
                        for (int r = 0; r < s->r; r++)
                            for (int t = 0; t < s->s; t++) {
                                int h = p * s->stride - s->pad + r * s->dil, v = q * s->stride - s->pad + t * s->dil;
                                if (h >= 0 && h < s->h && v >= 0 && v < s->w) acc += x[X(n, c, h, v)] * w[W(k, c, r, t)];
                            }
                    y[Y(n, k, p, q)] = acc;
                }
}

void conv_bwd_data_ref(const struct conv_shape *s, const double *dy, const double *w, double *dx)
{
    int P = conv_p(s), Q = conv_q(s);
    memset(dx, 0, sizeof(double) * conv_x_elems(s));
    for (int n = 0; n < s->n; n++)
        for (int k = 0; k < s->k; k++)
            for (int p = 0; p < P; p++)
                for (int q = 0; q < Q; q++)
                    for (int c = 0; c < s->c; c++)
                        for (int r = 0; r < s->r; r++)
                            for (int t = 0; t < s->s; t++) {
                                int h = p * s->stride - s->pad + r * s->dil, v = q * s->stride - s->pad + t * s->dil;
                                if (h >= 0 && h < s->h && v >= 0 && v < s->w) dx[X(n, c, h, v)] += dy[Y(n, k, p, q)] * w[W(k, c, r, t)];
                            }
}

void conv_bwd_filter_ref(const struct conv_shape *s, const double *x, const double *dy, double *dw)
{
    int P = conv_p(s), Q = conv_q(s);
    memset(dw, 0, sizeof(double) * conv_w_elems(s));
    for (int n = 0; n < s->n; n++)
        for (int k = 0; k < s->k; k++)
            for (int p = 0; p < P; p++)
                for (int q = 0; q < Q; q++)
                    for (int c = 0; c < s->c; c++)
                        for (int r = 0; r < s->r; r++)
                            for (int t = 0; t < s->s; t++) {
                                int h = p * s->stride - s->pad + r * s->dil, v = q * s->stride - s->pad + t * s->dil;
                                if (h >= 0 && h < s->h && v >= 0 && v < s->w) dw[W(k, c, r, t)] += dy[Y(n, k, p, q)] * x[X(n, c, h, v)];
                            }
}

static void acc_term(double a, double b, double *sum, double *na, double *nb)
{
    *sum += a * b;
    *na += a * a;
    *nb += b * b;
}

double conv_ref_elem(const struct conv_shape *s, enum conv_dir d, const float *a, const float *b, size_t i, double *scale)
{
    int P = conv_p(s), Q = conv_q(s);
    double sum = 0, na = 0, nb = 0;
    if (d == CONV_FWD) { /* a = x, b = w; i indexes y */
        int q = (int)(i % Q), p = (int)(i / Q % P), k = (int)(i / ((size_t)Q * P) % s->k), n = (int)(i / ((size_t)Q * P * s->k));
        for (int c = 0; c < s->c; c++)
            for (int r = 0; r < s->r; r++)
                for (int t = 0; t < s->s; t++) {
                    int h = p * s->stride - s->pad + r * s->dil, v = q * s->stride - s->pad + t * s->dil;
                    if (h >= 0 && h < s->h && v >= 0 && v < s->w) acc_term(a[X(n, c, h, v)], b[W(k, c, r, t)], &sum, &na, &nb);
                }
    } else if (d == CONV_BWD_DATA) { /* a = dy, b = w; i indexes x */
        int v = (int)(i % s->w), h = (int)(i / s->w % s->h), c = (int)(i / ((size_t)s->w * s->h) % s->c);
        int n = (int)(i / ((size_t)s->w * s->h * s->c));
        for (int k = 0; k < s->k; k++)
            for (int r = 0; r < s->r; r++)
                for (int t = 0; t < s->s; t++) {
                    int ph = h + s->pad - r * s->dil, qv = v + s->pad - t * s->dil;
                    if (ph < 0 || qv < 0 || ph % s->stride || qv % s->stride) continue;
                    int p = ph / s->stride, q = qv / s->stride;
                    if (p < P && q < Q) acc_term(a[Y(n, k, p, q)], b[W(k, c, r, t)], &sum, &na, &nb);
                }
    } else { /* a = x, b = dy; i indexes w */
        int t = (int)(i % s->s), r = (int)(i / s->s % s->r), c = (int)(i / ((size_t)s->s * s->r) % s->c);
        int k = (int)(i / ((size_t)s->s * s->r * s->c));
        for (int n = 0; n < s->n; n++)
            for (int p = 0; p < P; p++)
                for (int q = 0; q < Q; q++) {
                    int h = p * s->stride - s->pad + r * s->dil, v = q * s->stride - s->pad + t * s->dil;
                    if (h >= 0 && h < s->h && v >= 0 && v < s->w) acc_term(a[X(n, c, h, v)], b[Y(n, k, p, q)], &sum, &na, &nb);
                }
    }
    *scale = sqrt(na) * sqrt(nb);
    return sum;
}
