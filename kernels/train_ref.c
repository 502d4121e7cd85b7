/* train_ref.c: training-step references in double, single-threaded. */
#include "train_ref.h"
#include "conv_ref.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

void model_dims(const struct model_spec *m, int dims[][3])
{
    int c = m->in_c, h = m->in_h, w = m->in_w;
    for (int l = 0; l < m->nlayers; l++) {
        const struct layer_spec *L = &m->layers[l];
        if (L->kind == LAYER_LINEAR) { c = L->out; h = 1; w = 1; }
        else if (L->kind == LAYER_CONV3X3) c = L->out;
        else if (L->kind == LAYER_MAXPOOL2) { h /= 2; w /= 2; }
        dims[l][0] = c; dims[l][1] = h; dims[l][2] = w;
    }
}

static size_t in_size(const struct model_spec *m, int dims[][3], int l)
{
    return l == 0 ? (size_t)m->in_c * m->in_h * m->in_w : (size_t)dims[l - 1][0] * dims[l - 1][1] * dims[l - 1][2];
}

size_t model_params(const struct model_spec *m, int l)
{
    int dims[MAX_LAYERS][3];
    model_dims(m, dims);
    const struct layer_spec *L = &m->layers[l];
    if (L->kind == LAYER_LINEAR) return in_size(m, dims, l) * L->out + L->out;
    if (L->kind == LAYER_CONV3X3) {
        int cin = l == 0 ? m->in_c : dims[l - 1][0];
        return (size_t)L->out * cin * 9 + L->out;
    }
    return 0;
}

double model_step_flops(const struct model_spec *m, int batch)
{
    int dims[MAX_LAYERS][3];
    double f = 0;
    model_dims(m, dims);
    for (int l = 0; l < m->nlayers; l++) {
        const struct layer_spec *L = &m->layers[l];
        double fwd = 0;
        if (L->kind == LAYER_LINEAR) fwd = 2.0 * batch * in_size(m, dims, l) * L->out;
        if (L->kind == LAYER_CONV3X3) fwd = 2.0 * batch * L->out * dims[l][1] * dims[l][2] * (double)(l == 0 ? m->in_c : dims[l - 1][0]) * 9;
        f += fwd * (l == 0 ? 2 : 3); /* forward, weight gradient, and input gradient past the first layer */
    }
    return f;
}

void bias_bwd_ref(int outer, int ch, int inner, const float *dy, double *db)
{
    for (int c = 0; c < ch; c++) {
        double s = 0;
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++) s += dy[((size_t)o * ch + c) * inner + i];
        db[c] = s;
    }
}

void maxpool2_ref(int planes, int h, int w, const double *x, double *y)
{
    int ho = h / 2, wo = w / 2;
    for (int p = 0; p < planes; p++)
        for (int i = 0; i < ho; i++)
            for (int j = 0; j < wo; j++) {
                const double *xp = x + (size_t)p * h * w + (size_t)2 * i * w + 2 * j;
                double m = xp[0];
                if (xp[1] > m) m = xp[1];
                if (xp[w] > m) m = xp[w];
                if (xp[w + 1] > m) m = xp[w + 1];
                y[((size_t)p * ho + i) * wo + j] = m;
            }
}

void maxpool2_bwd_ref(int planes, int h, int w, const double *x, const double *dy, double *dx)
{
    int ho = h / 2, wo = w / 2;
    memset(dx, 0, sizeof(double) * planes * h * w);
    for (int p = 0; p < planes; p++)
        for (int i = 0; i < ho; i++)
            for (int j = 0; j < wo; j++) {
                size_t base = (size_t)p * h * w + (size_t)2 * i * w + 2 * j, off[4] = {0, 1, (size_t)w, (size_t)w + 1}, best = 0;
                for (int k = 1; k < 4; k++) if (x[base + off[k]] > x[base + off[best]]) best = (size_t)k;
                dx[base + off[best]] = dy[((size_t)p * ho + i) * wo + j];
            }
}

double softmax_xent_ref(int rows, int cols, const double *z, const int32_t *labels, double *dz)
{
    double loss = 0;
    for (int r = 0; r < rows; r++) {
        const double *zr = z + (size_t)r * cols;
        double mx = zr[0], s = 0;
        for (int j = 1; j < cols; j++) mx = zr[j] > mx ? zr[j] : mx;
        for (int j = 0; j < cols; j++) s += exp(zr[j] - mx);
        loss += log(s) + mx - zr[labels[r]];
        if (dz)
            for (int j = 0; j < cols; j++) dz[(size_t)r * cols + j] = (exp(zr[j] - mx) / s - (j == labels[r])) / rows;
    }
    return loss / rows;
}

void model_forward_ref(const struct model_spec *m, int batch, const float *x, float *const *params, double *logits,
                       double **acts)
{
    int dims[MAX_LAYERS][3];
    model_dims(m, dims);
    size_t nin = (size_t)m->in_c * m->in_h * m->in_w;
    double *cur = malloc(sizeof(double) * batch * nin);
    for (size_t i = 0; i < batch * nin; i++) cur[i] = x[i];
    int c = m->in_c, h = m->in_h, w = m->in_w;
    for (int l = 0; l < m->nlayers; l++) {
        const struct layer_spec *L = &m->layers[l];
        size_t nout = (size_t)dims[l][0] * dims[l][1] * dims[l][2];
        double *next = malloc(sizeof(double) * batch * nout);
        if (L->kind == LAYER_LINEAR) {
            size_t in = (size_t)c * h * w;
            const float *W = params[l], *b = params[l] + in * L->out;
            for (int n = 0; n < batch; n++)
                for (int o = 0; o < L->out; o++) {
                    double s = b[o];
                    for (size_t i = 0; i < in; i++) s += cur[n * in + i] * W[(size_t)o * in + i];
                    next[(size_t)n * L->out + o] = s;
                }
        } else if (L->kind == LAYER_CONV3X3) {
            struct conv_shape s = {batch, c, h, w, L->out, 3, 3, 1, 1, 1};
            size_t nw = conv_w_elems(&s);
            double *wd = malloc(sizeof(double) * nw);
            for (size_t i = 0; i < nw; i++) wd[i] = params[l][i];
            conv_fwd_ref(&s, cur, wd, next);
            for (int n = 0; n < batch; n++)
                for (int k = 0; k < L->out; k++)
                    for (int i = 0; i < h * w; i++) next[((size_t)n * L->out + k) * h * w + i] += params[l][nw + k];
            free(wd);
        } else if (L->kind == LAYER_RELU) {
            for (size_t i = 0; i < batch * nout; i++) next[i] = cur[i] > 0 ? cur[i] : 0;
        } else {
            maxpool2_ref(batch * c, h, w, cur, next);
        }
        if (acts) acts[l] = next;          /* the caller owns (and frees) every layer's output */
        if (!acts || l == 0) free(cur);   /* the input copy, or an intermediate nobody keeps */
        cur = next;
        c = dims[l][0]; h = dims[l][1]; w = dims[l][2];
    }
    memcpy(logits, cur, sizeof(double) * batch * m->classes);
    if (!acts) free(cur);
}
