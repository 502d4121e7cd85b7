/* train_gpt.c: the GPT step on one backend: layout, initialisation, allocation, and the step as a
 * sequence of backend ops (forward, cross-entropy, backward, gradient norm, AdamW), in the order of
 * kernels/gpt_ref.c. All asynchronous on GPU backends; only gpt_loss waits. */
#include "train_gpt.h"
#include "rng.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct attention_ops *gpt_attention_for(const struct backend *b, enum dtype dt, const char **impl)
{
    for (int i = 0; i < backend_count; i++) {
        const struct backend *v = backends[i];
        if (v->base == b && v->attn && v->probe(NULL, 0) && !v->unsupported("attention", dt)) {
            *impl = v->name;
            return v->attn;
        }
    }
    *impl = b->name;
    return b->attn;
}

static size_t layer_elems(const struct gpt_config *c, const size_t size[GPT_NTENSORS], enum gpt_tensor k)
{
    return k == GPT_WTE || k == GPT_WPE || k == GPT_LNFW || k == GPT_LNFB ? 0 : size[k] / (size_t)c->L;
}

float *gpt_param(const struct gpt_trainer *t, enum gpt_tensor k, int l)
{ return t->params + t->off[k] + layer_elems(&t->c, t->size, k) * l; }
float *gpt_grad(const struct gpt_trainer *t, enum gpt_tensor k, int l)
{ return t->grads + t->off[k] + layer_elems(&t->c, t->size, k) * l; }
void *gpt_act(const struct gpt_trainer *t, void *base, size_t per_layer_elems, int l)
{ return (char *)base + per_layer_elems * l * dtype_size(t->dt); }

/* The weight a GEMM reads: the dt copy, or the fp32 master in fp32 steps. */
static const void *W(const struct gpt_trainer *t, enum gpt_tensor k, int l)
{
    size_t e = t->off[k] + layer_elems(&t->c, t->size, k) * l;
    return t->params_lp ? (const void *)((const char *)t->params_lp + e * dtype_size(t->dt)) : (const void *)(t->params + e);
}

static size_t stats_per_layer(const struct gpt_trainer *t) { return (size_t)t->N * (4 + t->c.H); }
static float *stat(const struct gpt_trainer *t, int l, int which)   /* 0 mean1, 1 rstd1, 2 mean2, 3 rstd2, 4 lse */
{ return t->a.stats + stats_per_layer(t) * l + (size_t)t->N * which; }

void gpt_init_params(const struct gpt_config *c, uint64_t seed, float *p)
{
    size_t size[GPT_NTENSORS], off[GPT_NTENSORS];
    size_t total = gpt_layout(c, size, off);
    struct rng r;
    rng_seed(&r, seed, 17);
    memset(p, 0, total * sizeof(float));
    const double std = 0.02, proj_std = 0.02 / sqrt(2.0 * c->L);
    for (size_t i = 0; i < (size_t)c->V * c->C; i++) p[off[GPT_WTE] + i] = (float)(std * rng_normal(&r));
    for (size_t i = 0; i < size[GPT_WPE]; i++) p[off[GPT_WPE] + i] = (float)(std * rng_normal(&r));
    const enum gpt_tensor weights[] = {GPT_QKVW, GPT_PROJW, GPT_FCW, GPT_FCPW};
    for (int w = 0; w < 4; w++) {
        double sd = weights[w] == GPT_PROJW || weights[w] == GPT_FCPW ? proj_std : std;
        for (size_t i = 0; i < size[weights[w]]; i++) p[off[weights[w]] + i] = (float)(sd * rng_normal(&r));
    }
    const enum gpt_tensor gains[] = {GPT_LN1W, GPT_LN2W, GPT_LNFW};
    for (int g = 0; g < 3; g++)
        for (size_t i = 0; i < size[gains[g]]; i++) p[off[gains[g]] + i] = 1.0f;
}

/* Element counts of the activation buffers, in gpt_acts order. */
struct act_sizes { size_t res, ln1, qkv, att, mid, ln2, fch, fcg, stats, lnf, logits, tmp, dres, dln, datt, dqkv, dfc, losses; };

static struct act_sizes act_sizes(const struct gpt_config *c, int B)
{
    size_t N = (size_t)B * c->T, C = (size_t)c->C, L = (size_t)c->L;
    return (struct act_sizes){(L + 1) * N * C, L * N * C, L * 3 * N * C, L * N * C, L * N * C, L * N * C, L * 4 * N * C,
                              L * 4 * N * C, L * N * (4 + (size_t)c->H) + 2 * N, N * C, N * (size_t)gpt_vocab_padded(c->V),
                              N * C, N * C, N * C, N * C, 3 * N * C, 4 * N * C, N};
}

size_t gpt_device_bytes(const struct backend *b, const struct gpt_config *c, int B, enum dtype dt)
{
    struct act_sizes s = act_sizes(c, B);
    size_t es = dtype_size(dt), np = gpt_layout(c, NULL, NULL);
    size_t dt_elems = s.res + s.ln1 + s.qkv + s.att + s.mid + s.ln2 + s.fch + s.fcg + s.lnf + s.logits + s.tmp + s.dres + s.dln +
                      s.datt + s.dqkv + s.dfc;
    struct attn_shape as = {B, c->H, c->T, c->C / c->H, 3L * c->C, c->C};
    const char *impl;
    const struct attention_ops *attn = b ? gpt_attention_for(b, dt, &impl) : NULL;
    size_t ws = attn ? attn->workspace(dt, &as) : (size_t)B * c->H * c->T * (size_t)c->T * (4 + es);
    return dt_elems * es + (s.stats + s.losses + 1) * 4 + np * 4 * 4 + (dt != DT_F32 ? np * es : 0) + ws + 64;
}

void gpt_free(struct gpt_trainer *t)
{
    const struct backend *b = t->b;
    if (!b) return;
    void *bufs[] = {t->params, t->grads, t->m, t->v, t->state, t->params_lp, t->ws, t->a.res, t->a.ln1, t->a.qkv, t->a.att,
                    t->a.mid, t->a.ln2, t->a.fch, t->a.fcg, t->a.stats, t->a.lnf, t->a.logits, t->a.tmp, t->a.dres,
                    t->a.dln, t->a.datt, t->a.dqkv, t->a.dfc, t->a.losses, t->a.loss};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) b->dev->release(bufs[i]);
    free(t->host_init);
    memset(t, 0, sizeof *t);
}

static int alloc_acts(struct gpt_trainer *t)
{
    const struct backend *b = t->b;
    struct act_sizes s = act_sizes(&t->c, t->B);
    size_t es = dtype_size(t->dt);
    void **dst[] = {&t->a.res, &t->a.ln1, &t->a.qkv, &t->a.att, &t->a.mid, &t->a.ln2, &t->a.fch, &t->a.fcg, &t->a.lnf,
                    &t->a.logits, &t->a.tmp, &t->a.dres, &t->a.dln, &t->a.datt, &t->a.dqkv, &t->a.dfc};
    size_t n[] = {s.res, s.ln1, s.qkv, s.att, s.mid, s.ln2, s.fch, s.fcg, s.lnf, s.logits, s.tmp, s.dres, s.dln, s.datt, s.dqkv, s.dfc};
    for (size_t i = 0; i < sizeof n / sizeof n[0]; i++)
        if (!(*dst[i] = b->dev->alloc(n[i] * es))) return -1;
    return !(t->a.stats = b->dev->alloc(s.stats * 4)) || !(t->a.losses = b->dev->alloc(s.losses * 4)) ||
           !(t->a.loss = b->dev->alloc(4)) ? -1 : 0;
}

/* The initial parameters of (c, seed), generated once per run: 124M normal draws take seconds, and
 * every row of a model starts from the same values. */
static int initial_params(const struct gpt_config *c, uint64_t seed, float *dst, size_t np)
{
    static float *cache;
    static size_t cache_n;
    static struct gpt_config cache_c;
    static uint64_t cache_seed;
    if (!cache || cache_n != np || cache_seed != seed || memcmp(&cache_c.L, &c->L, sizeof(int) * 5)) {
        free(cache);
        cache = malloc(np * sizeof(float));
        cache_n = cache ? np : 0;
        if (!cache) return -1;
        gpt_init_params(c, seed, cache);
        cache_c = *c;
        cache_seed = seed;
    }
    memcpy(dst, cache, np * sizeof(float));
    return 0;
}

int gpt_init(struct gpt_trainer *t, const struct backend *b, const struct gpt_config *c, int B, enum dtype dt,
             uint64_t seed, char *why, size_t n)
{
    memset(t, 0, sizeof *t);
    t->b = b; t->c = *c; t->B = B; t->N = B * c->T; t->dt = dt; t->Vp = gpt_vocab_padded(c->V);
    t->hp = (struct adamw_hp){GPT_LR, 0.9f, 0.999f, 1e-8f, GPT_WEIGHT_DECAY, GPT_CLIP};   /* torch.optim.AdamW defaults */
    t->np = gpt_layout(c, t->size, t->off);
    if (c->C % c->H) { snprintf(why, n, "C = %d is not a multiple of H = %d", c->C, c->H); return -1; }
    if (!b->attn || !b->xformer || !b->elt) { snprintf(why, n, "unsupported: %s has no transformer ops", b->name); return -1; }
    t->attn = gpt_attention_for(b, dt, &t->attn_impl);
    if (!(t->host_init = malloc(t->np * sizeof(float))) || initial_params(c, seed, t->host_init, t->np)) {
        free(t->host_init);
        t->host_init = NULL;
        snprintf(why, n, "out of host memory");
        return -1;
    }
    struct attn_shape as = {B, c->H, c->T, c->C / c->H, 3L * c->C, c->C};
    size_t pb = t->np * sizeof(float);
    int fail = !(t->params = b->dev->alloc(pb)) || !(t->grads = b->dev->alloc(pb)) || !(t->m = b->dev->alloc(pb)) ||
               !(t->v = b->dev->alloc(pb)) || !(t->state = b->dev->alloc(2 * sizeof(float))) ||
               (dt != DT_F32 && !(t->params_lp = b->dev->alloc(t->np * dtype_size(dt)))) ||
               !(t->ws = b->dev->alloc(t->attn->workspace(dt, &as))) || alloc_acts(t) != 0 || gpt_reset(t) != 0;
    if (fail) {
        snprintf(why, n, "%s", b->dev->error());
        gpt_free(t);
        return -1;
    }
    return 0;
}

int gpt_reset(struct gpt_trainer *t)
{
    const struct backend *b = t->b;
    size_t pb = t->np * sizeof(float);
    float *zero = calloc(t->np, sizeof(float));
    int rc = !zero || b->dev->upload(t->params, t->host_init, pb) || b->dev->upload(t->m, zero, pb) ||
             b->dev->upload(t->v, zero, pb) || b->dev->upload(t->grads, zero, pb) || b->dev->upload(t->state, zero, 2 * sizeof(float)) ||
             (t->params_lp && (b->xformer->cast(t->dt, t->np, t->params, t->params_lp) || b->dev->sync()));
    free(zero);
    t->steps = 0;
    return rc ? -1 : 0;
}

static void *off_dt(const struct gpt_trainer *t, void *p, size_t elems) { return (char *)p + elems * dtype_size(t->dt); }

static struct attn_shape attn_shape_of(const struct gpt_trainer *t)
{
    return (struct attn_shape){t->B, t->c.H, t->c.T, t->c.C / t->c.H, 3L * t->c.C, t->c.C};
}

/* Block l forward: res[l] -> res[l+1]. */
static int block_fwd(struct gpt_trainer *t, int l)
{
    const struct transformer_ops *x = t->b->xformer;
    const enum dtype dt = t->dt;
    const int N = t->N, C = t->c.C;
    const size_t NC = (size_t)N * C;
    struct attn_shape as = attn_shape_of(t);
    void *res = gpt_act(t, t->a.res, NC, l), *out = gpt_act(t, t->a.res, NC, l + 1), *ln1 = gpt_act(t, t->a.ln1, NC, l);
    void *qkv = gpt_act(t, t->a.qkv, 3 * NC, l), *att = gpt_act(t, t->a.att, NC, l), *mid = gpt_act(t, t->a.mid, NC, l);
    void *ln2 = gpt_act(t, t->a.ln2, NC, l), *fch = gpt_act(t, t->a.fch, 4 * NC, l), *fcg = gpt_act(t, t->a.fcg, 4 * NC, l);
    return x->layernorm_fwd(dt, N, C, res, gpt_param(t, GPT_LN1W, l), gpt_param(t, GPT_LN1B, l), ln1, stat(t, l, 0), stat(t, l, 1)) ||
           x->gemm(dt, dt, 0, 1, N, 3 * C, C, ln1, W(t, GPT_QKVW, l), qkv) ||
           x->bias_add(dt, N, 3 * C, qkv, gpt_param(t, GPT_QKVB, l)) ||
           t->attn->fwd(dt, &as, qkv, off_dt(t, qkv, C), off_dt(t, qkv, 2 * (size_t)C), att, stat(t, l, 4), t->ws) ||
           x->gemm(dt, dt, 0, 1, N, C, C, att, W(t, GPT_PROJW, l), t->a.tmp) ||
           x->bias_residual(dt, N, C, t->a.tmp, gpt_param(t, GPT_PROJB, l), res, mid) ||
           x->layernorm_fwd(dt, N, C, mid, gpt_param(t, GPT_LN2W, l), gpt_param(t, GPT_LN2B, l), ln2, stat(t, l, 2), stat(t, l, 3)) ||
           x->gemm(dt, dt, 0, 1, N, 4 * C, C, ln2, W(t, GPT_FCW, l), fch) ||
           x->bias_gelu(dt, N, 4 * C, fch, gpt_param(t, GPT_FCB, l), fcg) ||
           x->gemm(dt, dt, 0, 1, N, C, 4 * C, fcg, W(t, GPT_FCPW, l), t->a.tmp) ||
           x->bias_residual(dt, N, C, t->a.tmp, gpt_param(t, GPT_FCPB, l), mid, out)
               ? -1 : 0;
}

/* Block l backward: dres holds d loss/d res[l+1] on entry, d loss/d res[l] on return. */
static int block_bwd(struct gpt_trainer *t, int l)
{
    const struct transformer_ops *x = t->b->xformer;
    const enum dtype dt = t->dt, f32 = DT_F32;
    const int N = t->N, C = t->c.C;
    const size_t NC = (size_t)N * C;
    struct attn_shape as = attn_shape_of(t);
    void *res = gpt_act(t, t->a.res, NC, l), *ln1 = gpt_act(t, t->a.ln1, NC, l), *qkv = gpt_act(t, t->a.qkv, 3 * NC, l);
    void *att = gpt_act(t, t->a.att, NC, l), *mid = gpt_act(t, t->a.mid, NC, l), *ln2 = gpt_act(t, t->a.ln2, NC, l);
    void *fch = gpt_act(t, t->a.fch, 4 * NC, l), *fcg = gpt_act(t, t->a.fcg, 4 * NC, l);
    void *dres = t->a.dres, *dln = t->a.dln, *dfc = t->a.dfc, *datt = t->a.datt, *dqkv = t->a.dqkv;
    return x->gemm(dt, f32, 1, 0, C, 4 * C, N, dres, fcg, gpt_grad(t, GPT_FCPW, l)) ||
           x->bias_grad(dt, N, C, dres, gpt_grad(t, GPT_FCPB, l)) ||
           x->gemm(dt, dt, 0, 0, N, 4 * C, C, dres, W(t, GPT_FCPW, l), dfc) ||
           x->gelu_bwd(dt, 4 * NC, fch, dfc, dfc) ||
           x->gemm(dt, f32, 1, 0, 4 * C, C, N, dfc, ln2, gpt_grad(t, GPT_FCW, l)) ||
           x->bias_grad(dt, N, 4 * C, dfc, gpt_grad(t, GPT_FCB, l)) ||
           x->gemm(dt, dt, 0, 0, N, C, 4 * C, dfc, W(t, GPT_FCW, l), dln) ||
           x->layernorm_bwd(dt, N, C, mid, gpt_param(t, GPT_LN2W, l), stat(t, l, 2), stat(t, l, 3), dln, dres, 1,
                            gpt_grad(t, GPT_LN2W, l), gpt_grad(t, GPT_LN2B, l)) ||
           x->gemm(dt, f32, 1, 0, C, C, N, dres, att, gpt_grad(t, GPT_PROJW, l)) ||
           x->bias_grad(dt, N, C, dres, gpt_grad(t, GPT_PROJB, l)) ||
           x->gemm(dt, dt, 0, 0, N, C, C, dres, W(t, GPT_PROJW, l), datt) ||
           t->attn->bwd(dt, &as, qkv, off_dt(t, qkv, C), off_dt(t, qkv, 2 * (size_t)C), att, datt, stat(t, l, 4), dqkv,
                        off_dt(t, dqkv, C), off_dt(t, dqkv, 2 * (size_t)C), t->ws) ||
           x->gemm(dt, f32, 1, 0, 3 * C, C, N, dqkv, ln1, gpt_grad(t, GPT_QKVW, l)) ||
           x->bias_grad(dt, N, 3 * C, dqkv, gpt_grad(t, GPT_QKVB, l)) ||
           x->gemm(dt, dt, 0, 0, N, C, 3 * C, dqkv, W(t, GPT_QKVW, l), dln) ||
           x->layernorm_bwd(dt, N, C, res, gpt_param(t, GPT_LN1W, l), stat(t, l, 0), stat(t, l, 1), dln, dres, 1,
                            gpt_grad(t, GPT_LN1W, l), gpt_grad(t, GPT_LN1B, l))
               ? -1 : 0;
}

int gpt_forward(struct gpt_trainer *t, const int32_t *tokens)
{
    const struct transformer_ops *x = t->b->xformer;
    const enum dtype dt = t->dt;
    const int N = t->N, C = t->c.C, L = t->c.L;
    const size_t NC = (size_t)N * C;
    float *mf = t->a.stats + stats_per_layer(t) * L, *rf = mf + N;
    if (x->embed_fwd(dt, t->B, t->c.T, C, t->c.V, tokens, gpt_param(t, GPT_WTE, 0), gpt_param(t, GPT_WPE, 0), t->a.res)) return -1;
    for (int l = 0; l < L; l++)
        if (block_fwd(t, l)) return -1;
    return x->layernorm_fwd(dt, N, C, gpt_act(t, t->a.res, NC, L), gpt_param(t, GPT_LNFW, 0), gpt_param(t, GPT_LNFB, 0),
                            t->a.lnf, mf, rf) ||
           x->gemm(dt, dt, 0, 1, N, t->Vp, C, t->a.lnf, W(t, GPT_WTE, 0), t->a.logits) ||
           x->xent(dt, N, t->c.V, t->Vp, t->a.logits, tokens + 1, t->a.losses, t->a.loss)
               ? -1 : 0;
}

int gpt_forward_backward(struct gpt_trainer *t, const int32_t *tokens)
{
    const struct transformer_ops *x = t->b->xformer;
    const enum dtype dt = t->dt;
    const int N = t->N, C = t->c.C, L = t->c.L;
    float *mf = t->a.stats + stats_per_layer(t) * L, *rf = mf + N;
    if (gpt_forward(t, tokens)) return -1;
    /* LM head: dlnf = dlogits · wte, dwte = dlogitsᵀ · lnf (the embedding's share is added last) */
    if (x->gemm(dt, dt, 0, 0, N, C, t->Vp, t->a.logits, W(t, GPT_WTE, 0), t->a.dln) ||
        x->gemm(dt, DT_F32, 1, 0, t->Vp, C, N, t->a.logits, t->a.lnf, gpt_grad(t, GPT_WTE, 0)) ||
        x->layernorm_bwd(dt, N, C, gpt_act(t, t->a.res, (size_t)N * C, L), gpt_param(t, GPT_LNFW, 0), mf, rf, t->a.dln,
                         t->a.dres, 0, gpt_grad(t, GPT_LNFW, 0), gpt_grad(t, GPT_LNFB, 0)))
        return -1;
    for (int l = L - 1; l >= 0; l--)
        if (block_bwd(t, l)) return -1;
    return x->embed_bwd(dt, t->B, t->c.T, C, t->c.V, tokens, t->a.dres, gpt_grad(t, GPT_WTE, 0), gpt_grad(t, GPT_WPE, 0));
}

int gpt_update(struct gpt_trainer *t)
{
    const struct backend *b = t->b;
    if (b->elt->dot(t->np, t->grads, t->grads, t->state + 1) ||
        b->xformer->adamw(t->np, &t->hp, t->params, t->grads, t->m, t->v, t->state, t->dt, t->params_lp))
        return -1;
    t->steps++;
    return 0;
}

int gpt_step(struct gpt_trainer *t, const int32_t *tokens)
{
    return gpt_forward_backward(t, tokens) || gpt_update(t) ? -1 : 0;
}

int gpt_loss(struct gpt_trainer *t, float *loss)
{
    return t->b->dev->sync() || t->b->dev->download(loss, t->a.loss, 4) ? -1 : 0;
}
