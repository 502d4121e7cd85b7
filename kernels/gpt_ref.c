/* gpt_ref.c: the GPT step in double, single-threaded: layout, FLOPs, layer references and the
 * whole forward/backward, written for clarity (activations of every layer kept). */
#include "gpt_ref.h"
#include "attention_ref.h"
#include "eltwise_ref.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

int gpt_vocab_padded(int V) { return (V + 127) / 128 * 128; }

size_t gpt_layout(const struct gpt_config *c, size_t size[GPT_NTENSORS], size_t off[GPT_NTENSORS])
{
    size_t C = (size_t)c->C, L = (size_t)c->L;
    size_t s[GPT_NTENSORS] = {
        (size_t)gpt_vocab_padded(c->V) * C, (size_t)c->T * C, L * C, L * C, L * 3 * C * C, L * 3 * C, L * C * C, L * C,
        L * C, L * C, L * 4 * C * C, L * 4 * C, L * 4 * C * C, L * C, C, C,
    };
    size_t total = 0;
    for (int i = 0; i < GPT_NTENSORS; i++) {
        if (size) size[i] = s[i];
        if (off) off[i] = total;
        total += s[i];
    }
    return total;
}

size_t gpt_param_count(const struct gpt_config *c)
{
    size_t size[GPT_NTENSORS];
    size_t total = gpt_layout(c, size, NULL);
    return total - (size_t)(gpt_vocab_padded(c->V) - c->V) * c->C;
}

double gpt_step_flops(const struct gpt_config *c, int B)
{
    double per_token = 6.0 * (double)gpt_param_count(c) + 6.0 * c->L * (double)c->C * c->T;
    return per_token * B * c->T;
}

void layernorm_fwd_ref(int cols, const double *x, const double *gamma, const double *beta, double *y,
                       double *mean, double *rstd)
{
    double mu = 0, var = 0;
    for (int j = 0; j < cols; j++) mu += x[j];
    mu /= cols;
    for (int j = 0; j < cols; j++) var += (x[j] - mu) * (x[j] - mu);
    double rs = 1.0 / sqrt(var / cols + GPT_LN_EPS);
    for (int j = 0; j < cols; j++) y[j] = (x[j] - mu) * rs * gamma[j] + beta[j];
    *mean = mu;
    *rstd = rs;
}

void layernorm_bwd_ref(int cols, const double *x, const double *gamma, double mean, double rstd,
                       const double *dy, double *dx, double *dgamma, double *dbeta)
{
    double m1 = 0, m2 = 0; /* means of dxhat and of dxhat·xhat */
    for (int j = 0; j < cols; j++) {
        double xh = (x[j] - mean) * rstd, dxh = dy[j] * gamma[j];
        dgamma[j] += dy[j] * xh;
        dbeta[j] += dy[j];
        m1 += dxh;
        m2 += dxh * xh;
    }
    m1 /= cols;
    m2 /= cols;
    for (int j = 0; j < cols; j++) {
        double xh = (x[j] - mean) * rstd;
        dx[j] = rstd * (dy[j] * gamma[j] - m1 - xh * m2);
    }
}

double adamw_clip_scale(const struct adamw_hp *h, double grad_norm)
{
    if (h->clip <= 0) return 1.0;
    double s = h->clip / (grad_norm + 1e-6);
    return s < 1.0 ? s : 1.0;
}

double adamw_ref(const struct adamw_hp *h, int step, double w, double g, double *m, double *v)
{
    w *= 1.0 - (double)h->lr * h->weight_decay;
    *m = h->beta1 * *m + (1.0 - h->beta1) * g;
    *v = h->beta2 * *v + (1.0 - h->beta2) * g * g;
    double bc1 = 1.0 - pow(h->beta1, step), bc2 = 1.0 - pow(h->beta2, step);
    return w - h->lr / bc1 * *m / (sqrt(*v) / sqrt(bc2) + h->eps);
}

/* ---- the whole model ---- */

struct acts {   /* per layer l: saved for the backward; n = B·Tn rows */
    double **res;             /* L+1 residual streams (n, C): res[0] = embeddings, res[l+1] = block l's output */
    double **ln1, **mean1, **rstd1, **qkv, **att, **lse, **mid, **ln2, **mean2, **rstd2, **fch, **fcg;
    double *lnf, *meanf, *rstdf, *probs;   /* (n, C), (n), (n), (n, V) */
};

static double **alloc_layers(int L, size_t each)
{
    double **p = malloc(sizeof(double *) * L);
    for (int l = 0; l < L; l++) p[l] = calloc(each, sizeof(double));
    return p;
}

static void free_layers(double **p, int L)
{
    for (int l = 0; l < L; l++) free(p[l]);
    free(p);
}

static void to_double(const float *src, size_t n, double *dst) { for (size_t i = 0; i < n; i++) dst[i] = src[i]; }

/* y (n, out) = x (n, in) · Wᵀ + b, W (out, in); b may be NULL */
static void linear_fwd(int n, int in, int out, const double *x, const double *w, const double *b, double *y)
{
    for (int r = 0; r < n; r++)
        for (int o = 0; o < out; o++) {
            double s = b ? b[o] : 0;
            for (int i = 0; i < in; i++) s += x[(size_t)r * in + i] * w[(size_t)o * in + i];
            y[(size_t)r * out + o] = s;
        }
}

/* A pre-norm layer-norm's backward over n rows of C, its input gradient added to the residual
 * stream dres (dx: C scratch doubles per row). */
static void layernorm_bwd_into(int n, int C, const double *x, const double *gamma, const double *mean, const double *rstd,
                               const double *dy, double *dx, double *dgamma, double *dbeta, double *dres)
{
    for (int r = 0; r < n; r++) {
        size_t o = (size_t)r * C;
        layernorm_bwd_ref(C, x + o, gamma, mean[r], rstd[r], dy + o, dx + o, dgamma, dbeta);
        for (int j = 0; j < C; j++) dres[o + j] += dx[o + j];
    }
}

/* dx = dy · W (when dx), dW += dyᵀ · x, db += Σ dy (when db) */
static void linear_bwd(int n, int in, int out, const double *x, const double *w, const double *dy, double *dx,
                       double *dw, double *db)
{
    for (int r = 0; r < n; r++) {
        const double *dyr = dy + (size_t)r * out, *xr = x + (size_t)r * in;
        if (dx)
            for (int i = 0; i < in; i++) {
                double s = 0;
                for (int o = 0; o < out; o++) s += dyr[o] * w[(size_t)o * in + i];
                dx[(size_t)r * in + i] = s;
            }
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) dw[(size_t)o * in + i] += dyr[o] * xr[i];
            if (db) db[o] += dyr[o];
        }
    }
}

struct model { const struct gpt_config *c; int B, Tn, n; size_t off[GPT_NTENSORS]; double *p; };

static const double *P(const struct model *m, enum gpt_tensor t, size_t layer_stride, int l)
{
    return m->p + m->off[t] + layer_stride * l;
}

static void block_fwd(const struct model *m, struct acts *a, int l)
{
    int n = m->n, C = m->c->C, H = m->c->H;
    size_t CC = (size_t)C * C;
    struct attn_shape s = {m->B, H, m->Tn, C / H, 3L * C, C};
    double *proj = malloc(sizeof(double) * n * C), *fco = malloc(sizeof(double) * n * C);
    for (int r = 0; r < n; r++)
        layernorm_fwd_ref(C, a->res[l] + (size_t)r * C, P(m, GPT_LN1W, C, l), P(m, GPT_LN1B, C, l), a->ln1[l] + (size_t)r * C,
                          &a->mean1[l][r], &a->rstd1[l][r]);
    linear_fwd(n, C, 3 * C, a->ln1[l], P(m, GPT_QKVW, 3 * CC, l), P(m, GPT_QKVB, 3 * C, l), a->qkv[l]);
    attention_fwd_ref(&s, a->qkv[l], a->qkv[l] + C, a->qkv[l] + 2 * C, a->att[l], a->lse[l]);
    linear_fwd(n, C, C, a->att[l], P(m, GPT_PROJW, CC, l), P(m, GPT_PROJB, C, l), proj);
    for (size_t i = 0; i < (size_t)n * C; i++) a->mid[l][i] = a->res[l][i] + proj[i];
    for (int r = 0; r < n; r++)
        layernorm_fwd_ref(C, a->mid[l] + (size_t)r * C, P(m, GPT_LN2W, C, l), P(m, GPT_LN2B, C, l), a->ln2[l] + (size_t)r * C,
                          &a->mean2[l][r], &a->rstd2[l][r]);
    linear_fwd(n, C, 4 * C, a->ln2[l], P(m, GPT_FCW, 4 * CC, l), P(m, GPT_FCB, 4 * C, l), a->fch[l]);
    for (size_t i = 0; i < (size_t)n * 4 * C; i++) a->fcg[l][i] = gelu_ref(a->fch[l][i]);
    linear_fwd(n, 4 * C, C, a->fcg[l], P(m, GPT_FCPW, 4 * CC, l), P(m, GPT_FCPB, C, l), fco);
    for (size_t i = 0; i < (size_t)n * C; i++) a->res[l + 1][i] = a->mid[l][i] + fco[i];
    free(proj);
    free(fco);
}

/* dres: d loss / d res[l+1] on entry, d loss / d res[l] on return. */
static void block_bwd(const struct model *m, const struct acts *a, int l, double *dres, double *g)
{
    int n = m->n, C = m->c->C, H = m->c->H;
    size_t CC = (size_t)C * C, nC = (size_t)n * C;
    struct attn_shape s = {m->B, H, m->Tn, C / H, 3L * C, C};
    double *dfc = malloc(sizeof(double) * nC * 4), *dln = malloc(sizeof(double) * nC), *dx = malloc(sizeof(double) * nC);
    double *datt = malloc(sizeof(double) * nC), *dqkv = malloc(sizeof(double) * nC * 3);
    linear_bwd(n, 4 * C, C, a->fcg[l], P(m, GPT_FCPW, 4 * CC, l), dres, dfc, g + m->off[GPT_FCPW] + 4 * CC * l,
               g + m->off[GPT_FCPB] + (size_t)C * l);
    for (size_t i = 0; i < nC * 4; i++) dfc[i] *= gelu_grad_ref(a->fch[l][i]);
    linear_bwd(n, C, 4 * C, a->ln2[l], P(m, GPT_FCW, 4 * CC, l), dfc, dln, g + m->off[GPT_FCW] + 4 * CC * l,
               g + m->off[GPT_FCB] + (size_t)4 * C * l);
    layernorm_bwd_into(n, C, a->mid[l], P(m, GPT_LN2W, C, l), a->mean2[l], a->rstd2[l], dln, dx,
                       g + m->off[GPT_LN2W] + (size_t)C * l, g + m->off[GPT_LN2B] + (size_t)C * l, dres);
    linear_bwd(n, C, C, a->att[l], P(m, GPT_PROJW, CC, l), dres, datt, g + m->off[GPT_PROJW] + CC * l,
               g + m->off[GPT_PROJB] + (size_t)C * l);
    attention_bwd_ref(&s, a->qkv[l], a->qkv[l] + C, a->qkv[l] + 2 * C, a->att[l], datt, a->lse[l], dqkv, dqkv + C, dqkv + 2 * C);
    linear_bwd(n, C, 3 * C, a->ln1[l], P(m, GPT_QKVW, 3 * CC, l), dqkv, dln, g + m->off[GPT_QKVW] + 3 * CC * l,
               g + m->off[GPT_QKVB] + (size_t)3 * C * l);
    layernorm_bwd_into(n, C, a->res[l], P(m, GPT_LN1W, C, l), a->mean1[l], a->rstd1[l], dln, dx,
                       g + m->off[GPT_LN1W] + (size_t)C * l, g + m->off[GPT_LN1B] + (size_t)C * l, dres);
    free(dfc); free(dln); free(dx); free(datt); free(dqkv);
}

/* logits of the LM head (tied: wte rows 0..V-1), softmax kept in probs; per-token losses. */
static double head_fwd(const struct model *m, struct acts *a, const int32_t *targets, double *losses)
{
    int n = m->n, C = m->c->C, V = m->c->V;
    double total = 0;
    linear_fwd(n, C, V, a->lnf, P(m, GPT_WTE, 0, 0), NULL, a->probs);
    for (int r = 0; r < n; r++) {
        double *z = a->probs + (size_t)r * V, mx = -INFINITY, s = 0;
        for (int v = 0; v < V; v++) mx = z[v] > mx ? z[v] : mx;
        for (int v = 0; v < V; v++) s += z[v] = exp(z[v] - mx);
        for (int v = 0; v < V; v++) z[v] /= s;
        double l = -log(z[targets[r]]);
        if (losses) losses[r] = l;
        total += l;
    }
    return total / n;
}

static void acts_alloc(struct acts *a, int L, size_t n, size_t C, size_t V, size_t nlse)
{
    a->res = alloc_layers(L + 1, n * C);
    a->ln1 = alloc_layers(L, n * C); a->mean1 = alloc_layers(L, n); a->rstd1 = alloc_layers(L, n);
    a->qkv = alloc_layers(L, 3 * n * C); a->att = alloc_layers(L, n * C); a->lse = alloc_layers(L, nlse);
    a->mid = alloc_layers(L, n * C); a->ln2 = alloc_layers(L, n * C); a->mean2 = alloc_layers(L, n); a->rstd2 = alloc_layers(L, n);
    a->fch = alloc_layers(L, 4 * n * C); a->fcg = alloc_layers(L, 4 * n * C);
    a->lnf = calloc(n * C, sizeof(double)); a->meanf = calloc(n, sizeof(double)); a->rstdf = calloc(n, sizeof(double));
    a->probs = calloc(n * V, sizeof(double));
}

static void acts_free(struct acts *a, int L)
{
    free_layers(a->res, L + 1);
    free_layers(a->ln1, L); free_layers(a->mean1, L); free_layers(a->rstd1, L); free_layers(a->qkv, L);
    free_layers(a->att, L); free_layers(a->lse, L); free_layers(a->mid, L); free_layers(a->ln2, L);
    free_layers(a->mean2, L); free_layers(a->rstd2, L); free_layers(a->fch, L); free_layers(a->fcg, L);
    free(a->lnf); free(a->meanf); free(a->rstdf); free(a->probs);
}

static void model_bwd(const struct model *m, const struct acts *a, const int32_t *inputs, const int32_t *targets, double *g)
{
    int n = m->n, C = m->c->C, V = m->c->V, L = m->c->L;
    double *dlogits = malloc(sizeof(double) * n * V), *dlnf = malloc(sizeof(double) * n * C), *dres = malloc(sizeof(double) * n * C);
    for (size_t i = 0; i < (size_t)n * V; i++) dlogits[i] = a->probs[i] / n;
    for (int r = 0; r < n; r++) dlogits[(size_t)r * V + targets[r]] -= 1.0 / n;
    linear_bwd(n, C, V, a->lnf, P(m, GPT_WTE, 0, 0), dlogits, dlnf, g + m->off[GPT_WTE], NULL);
    for (int r = 0; r < n; r++)
        layernorm_bwd_ref(C, a->res[L] + (size_t)r * C, P(m, GPT_LNFW, 0, 0), a->meanf[r], a->rstdf[r], dlnf + (size_t)r * C,
                          dres + (size_t)r * C, g + m->off[GPT_LNFW], g + m->off[GPT_LNFB]);
    for (int l = L - 1; l >= 0; l--) block_bwd(m, a, l, dres, g);
    for (int r = 0; r < n; r++)
        for (int j = 0; j < C; j++) {
            g[m->off[GPT_WTE] + (size_t)inputs[r] * C + j] += dres[(size_t)r * C + j];
            g[m->off[GPT_WPE] + (size_t)(r % m->Tn) * C + j] += dres[(size_t)r * C + j];
        }
    free(dlogits); free(dlnf); free(dres);
}

double gpt_ref(const struct gpt_config *c, int B, int Tn, const float *params, const int32_t *inputs,
               const int32_t *targets, double *losses, double *grads)
{
    struct model m = {c, B, Tn, B * Tn, {0}, NULL};
    int C = c->C, L = c->L;
    size_t total = gpt_layout(c, NULL, m.off);
    struct acts a;
    m.p = malloc(sizeof(double) * total);
    to_double(params, total, m.p);
    acts_alloc(&a, L, (size_t)m.n, (size_t)C, (size_t)c->V, (size_t)B * c->H * Tn);
    for (int r = 0; r < m.n; r++)
        for (int j = 0; j < C; j++)
            a.res[0][(size_t)r * C + j] = m.p[m.off[GPT_WTE] + (size_t)inputs[r] * C + j] + m.p[m.off[GPT_WPE] + (size_t)(r % Tn) * C + j];
    for (int l = 0; l < L; l++) block_fwd(&m, &a, l);
    for (int r = 0; r < m.n; r++)
        layernorm_fwd_ref(C, a.res[L] + (size_t)r * C, P(&m, GPT_LNFW, 0, 0), P(&m, GPT_LNFB, 0, 0), a.lnf + (size_t)r * C,
                          &a.meanf[r], &a.rstdf[r]);
    double loss = head_fwd(&m, &a, targets, losses);
    if (grads) {
        memset(grads, 0, sizeof(double) * total);
        model_bwd(&m, &a, inputs, targets, grads);
    }
    acts_free(&a, L);
    free(m.p);
    return loss;
}
