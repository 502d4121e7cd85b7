/* attention_ref.c: causal attention in double, single-threaded, one head at a time. */
#include "attention_ref.h"
#include <math.h>
#include <stdlib.h>

double attention_fwd_flops(const struct attn_shape *s)
{
    return 2.0 * s->B * s->H * (double)s->T * s->T * s->d;
}

double attention_bwd_flops(const struct attn_shape *s) { return 2.5 * attention_fwd_flops(s); }

static double dot(int d, const double *a, const double *b)
{
    double s = 0;
    for (int i = 0; i < d; i++) s += a[i] * b[i];
    return s;
}

void attention_head_fwd_ref(int T, int d, const double *q, const double *k, const double *v, long ld,
                            int r0, int r1, double *o, long ldo, double *lse)
{
    double scale = 1.0 / sqrt((double)d), *p = malloc(sizeof(double) * (T > 0 ? T : 1));
    for (int t = r0; t < r1; t++) {
        double mx = -INFINITY, sum = 0;
        for (int j = 0; j <= t; j++) {
            p[j] = scale * dot(d, q + t * ld, k + j * ld);
            mx = p[j] > mx ? p[j] : mx;
        }
        for (int j = 0; j <= t; j++) sum += p[j] = exp(p[j] - mx);
        for (int i = 0; i < d; i++) {
            double acc = 0;
            for (int j = 0; j <= t; j++) acc += p[j] * v[j * ld + i];
            o[t * ldo + i] = acc / sum;
        }
        lse[t] = mx + log(sum);
    }
    free(p);
}

/* With P = softmax rows: dV_j = Σ_t P_tj dO_t; dP_tj = dO_t·V_j; dS_tj = P_tj (dP_tj - D_t) with
 * D_t = dO_t·O_t; dQ_t = scale Σ_j dS_tj K_j; dK_j = scale Σ_t dS_tj Q_t. */
void attention_head_bwd_ref(int T, int d, const double *q, const double *k, const double *v, long ld,
                            const double *o, const double *dout, long ldo, const double *lse, int r0,
                            double *dq, double *dk, double *dv)
{
    double scale = 1.0 / sqrt((double)d);
    for (int j = r0; j < T; j++)
        for (int i = 0; i < d; i++) dk[j * ld + i] = dv[j * ld + i] = 0;
    for (int t = r0; t < T; t++) {
        const double *dot_ = dout + t * ldo;
        double D = dot(d, dot_, o + t * ldo);
        for (int i = 0; i < d; i++) dq[t * ld + i] = 0;
        for (int j = 0; j <= t; j++) {
            double p = exp(scale * dot(d, q + t * ld, k + j * ld) - lse[t]);
            double ds = p * (dot(d, dot_, v + j * ld) - D) * scale;
            for (int i = 0; i < d; i++) {
                dq[t * ld + i] += ds * k[j * ld + i];
                if (j >= r0) {
                    dk[j * ld + i] += ds * q[t * ld + i];
                    dv[j * ld + i] += p * dot_[i];
                }
            }
        }
    }
}

void attention_fwd_ref(const struct attn_shape *s, const double *q, const double *k, const double *v,
                       double *o, double *lse)
{
    for (int b = 0; b < s->B; b++)
        for (int h = 0; h < s->H; h++) {
            size_t in = (size_t)b * s->T * s->ld_in + (size_t)h * s->d, out = (size_t)b * s->T * s->ld_out + (size_t)h * s->d;
            attention_head_fwd_ref(s->T, s->d, q + in, k + in, v + in, s->ld_in, 0, s->T, o + out, s->ld_out,
                                   lse + ((size_t)b * s->H + h) * s->T);
        }
}

void attention_bwd_ref(const struct attn_shape *s, const double *q, const double *k, const double *v,
                       const double *o, const double *dout, const double *lse, double *dq, double *dk, double *dv)
{
    for (int b = 0; b < s->B; b++)
        for (int h = 0; h < s->H; h++) {
            size_t in = (size_t)b * s->T * s->ld_in + (size_t)h * s->d, out = (size_t)b * s->T * s->ld_out + (size_t)h * s->d;
            attention_head_bwd_ref(s->T, s->d, q + in, k + in, v + in, s->ld_in, o + out, dout + out, s->ld_out,
                                   lse + ((size_t)b * s->H + h) * s->T, 0, dq + in, dk + in, dv + in);
        }
}
