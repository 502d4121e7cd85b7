/* train.c: one model on one backend: parameter init, and the step as a sequence of backend ops
 * (all asynchronous on GPU backends; only trainer_loss waits), in fp32 or mixed precision. */
#include "train.h"
#include "rng.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t in_elems(const struct trainer *t, int l)
{
    return l == 0 ? (size_t)t->m->in_c * t->m->in_h * t->m->in_w
                  : (size_t)t->dims[l - 1][0] * t->dims[l - 1][1] * t->dims[l - 1][2];
}
static size_t out_elems(const struct trainer *t, int l) { return (size_t)t->dims[l][0] * t->dims[l][1] * t->dims[l][2]; }
static int in_c(const struct trainer *t, int l) { return l == 0 ? t->m->in_c : t->dims[l - 1][0]; }
static int in_h(const struct trainer *t, int l) { return l == 0 ? t->m->in_h : t->dims[l - 1][1]; }
static int in_w(const struct trainer *t, int l) { return l == 0 ? t->m->in_w : t->dims[l - 1][2]; }
static int mixed(const struct trainer *t) { return t->dt != DT_F32; }
static int has_weights(const struct trainer *t, int l)
{
    return t->m->layers[l].kind == LAYER_LINEAR || t->m->layers[l].kind == LAYER_CONV3X3;
}

static struct conv_shape conv_of(const struct trainer *t, int l)
{
    return (struct conv_shape){t->batch, in_c(t, l), in_h(t, l), in_w(t, l), t->m->layers[l].out, 3, 3, 1, 1, 1};
}

void trainer_free(struct trainer *t)
{
    const struct backend *b = t->b;
    if (!b) return;
    for (int l = 0; l < MAX_LAYERS; l++) {
        b->dev->release(t->p[l]); b->dev->release(t->g[l]); b->dev->release(t->m1[l]); b->dev->release(t->m2[l]);
        b->dev->release(t->act[l]); b->dev->release(t->grad[l]); b->dev->release(t->idx[l]);
        b->dev->release(t->p16[l]); b->dev->release(t->in16[l]);
        free(t->host_init[l]);
    }
    b->dev->release(t->losses);
    b->dev->release(t->loss);
    b->dev->release(t->lo);
    b->dev->release(t->g16);
    b->dev->release(t->dstep);
    memset(t, 0, sizeof *t);
}

/* Mixed precision: the dt copies of every parameter buffer from the fp32 masters. */
static int refresh_low(struct trainer *t)
{
    for (int l = 0; l < t->m->nlayers; l++)
        if (t->nparam[l] && t->b->elt->cast(t->nparam[l], DT_F32, t->p[l], t->dt, t->p16[l])) return -1;
    return 0;
}

int trainer_reset(struct trainer *t)
{
    for (int l = 0; l < t->m->nlayers; l++) {
        if (!t->nparam[l]) continue;
        size_t bytes = t->nparam[l] * 4;
        if (t->b->dev->upload(t->p[l], t->host_init[l], bytes)) return -1;
        if (t->adam) {
            float *z = calloc(t->nparam[l], 4);
            int rc = t->b->dev->upload(t->m1[l], z, bytes) || t->b->dev->upload(t->m2[l], z, bytes);
            free(z);
            if (rc) return -1;
        }
    }
    const int32_t zero = 0;
    if (t->dstep && t->b->dev->upload(t->dstep, &zero, sizeof zero)) return -1;
    if (mixed(t) && refresh_low(t)) return -1;
    t->steps = 0;
    return 0;
}

/* Mixed precision's extra buffers: per layer dt copies of parameters and input; two scratch
 * buffers sized for the largest conv output/gradient and incoming gradient. */
static int alloc_low(struct trainer *t)
{
    const struct backend *b = t->b;
    size_t es = dtype_size(t->dt), lo = 0, g16 = 0, B = (size_t)t->batch;
    for (int l = 0; l < t->m->nlayers; l++) {
        if (!has_weights(t, l)) continue;
        size_t in = B * in_elems(t, l), out = B * out_elems(t, l), w = t->nparam[l];
        if (!(t->p16[l] = b->dev->alloc(t->nparam[l] * es)) || !(t->in16[l] = b->dev->alloc(in * es))) return -1;
        size_t most = out > in ? out : in;
        if (w > most) most = w;
        if (most > lo) lo = most;
        if (out > g16) g16 = out;
    }
    return !(t->lo = b->dev->alloc(lo * es)) || !(t->g16 = b->dev->alloc(g16 * es)) ? -1 : 0;
}

int trainer_init(struct trainer *t, const struct backend *b, const struct model_spec *m, enum dtype dt, int batch,
                 int adam, uint64_t seed, char *why, size_t n)
{
    struct rng r;
    memset(t, 0, sizeof *t);
    t->b = b; t->m = m; t->dt = dt; t->batch = batch; t->adam = adam;
    t->hp = (struct adam_hp){TRAIN_LR_ADAM, 0.9f, 0.999f, 1e-8f, 1};
    if (dt != DT_F32 && dt != DT_F16 && dt != DT_BF16) { snprintf(why, n, "unsupported: a %s training step", dtype_name(dt)); return -1; }
    if (dt != DT_F32 && !b->elt->cast) { snprintf(why, n, "unsupported: %s has no cast op for mixed precision", b->name); return -1; }
    model_dims(m, t->dims);
    rng_seed(&r, seed, 6);
    for (int l = 0; l < m->nlayers; l++) {
        size_t out = out_elems(t, l) * batch;
        t->nparam[l] = model_params(m, l);
        if (!(t->act[l] = b->dev->alloc(out * 4)) || !(t->grad[l] = b->dev->alloc(out * 4))) goto fail;
        if (m->layers[l].kind == LAYER_MAXPOOL2 && !(t->idx[l] = b->dev->alloc(out))) goto fail;
        if (!t->nparam[l]) continue;
        size_t np = t->nparam[l], bytes = np * 4;
        float bound = 1.0f / sqrtf((float)(m->layers[l].kind == LAYER_LINEAR ? in_elems(t, l) : (size_t)in_c(t, l) * 9));
        if (!(t->host_init[l] = malloc(bytes))) { snprintf(why, n, "out of host memory"); trainer_free(t); return -1; }
        rng_fill_uniform(&r, t->host_init[l], np, -bound, bound);
        if (!(t->p[l] = b->dev->alloc(bytes)) || !(t->g[l] = b->dev->alloc(bytes))) goto fail;
        if (adam && (!(t->m1[l] = b->dev->alloc(bytes)) || !(t->m2[l] = b->dev->alloc(bytes)))) goto fail;
    }
    if (!(t->losses = b->dev->alloc((size_t)batch * 4)) || !(t->loss = b->dev->alloc(4))) goto fail;
    if (mixed(t) && alloc_low(t)) goto fail;
    if (b->train->next_batch && b->train->adam_update_dev && !(t->dstep = b->dev->alloc(sizeof(int32_t)))) goto fail;
    if (trainer_reset(t) == 0) return 0;
fail:
    snprintf(why, n, "%s", b->dev->error());
    trainer_free(t);
    return -1;
}

/* out (B, o) = in (B, nin) · Wᵀ + bias, W (o, nin) */
static int linear_fwd(struct trainer *t, int l, const float *in, float *out)
{
    const struct backend *b = t->b;
    const struct layer_spec *L = &t->m->layers[l];
    int B = t->batch, nin = (int)in_elems(t, l);
    const float *bias = t->p[l] + (size_t)L->out * nin;
    if (!mixed(t))
        return b->mm->gemm(DT_F32, 0, 1, B, L->out, nin, in, t->p[l], out) || b->elt->bias_add(DT_F32, B, L->out, 1, out, bias, out);
    return b->elt->cast((size_t)B * nin, DT_F32, in, t->dt, t->in16[l]) ||
           b->mm->gemm(t->dt, 0, 1, B, L->out, nin, t->in16[l], t->p16[l], out) ||
           b->elt->bias_add(DT_F32, B, L->out, 1, out, bias, out);
}

static int conv_fwd(struct trainer *t, int l, const float *in, float *out)
{
    const struct backend *b = t->b;
    struct conv_shape s = conv_of(t, l);
    int inner = t->dims[l][1] * t->dims[l][2];
    const float *bias = t->p[l] + conv_w_elems(&s);
    if (!mixed(t))
        return b->conv->fwd(DT_F32, &s, in, t->p[l], out) || b->elt->bias_add(DT_F32, s.n, s.k, inner, out, bias, out);
    return b->elt->cast(conv_x_elems(&s), DT_F32, in, t->dt, t->in16[l]) ||
           b->conv->fwd(t->dt, &s, t->in16[l], t->p16[l], t->lo) ||
           b->elt->cast(conv_y_elems(&s), t->dt, t->lo, DT_F32, out) ||
           b->elt->bias_add(DT_F32, s.n, s.k, inner, out, bias, out);
}

static int forward(struct trainer *t, const float *x)
{
    const struct backend *b = t->b;
    int B = t->batch, rc = 0;
    for (int l = 0; l < t->m->nlayers && !rc; l++) {
        const struct layer_spec *L = &t->m->layers[l];
        const float *in = l == 0 ? x : t->act[l - 1];
        float *out = t->act[l];
        if (L->kind == LAYER_LINEAR) rc = linear_fwd(t, l, in, out);
        else if (L->kind == LAYER_CONV3X3) rc = conv_fwd(t, l, in, out);
        else if (L->kind == LAYER_RELU) rc = b->elt->relu_fwd(DT_F32, in_elems(t, l) * B, in, out);
        else rc = b->train->maxpool2_fwd(B * in_c(t, l), in_h(t, l), in_w(t, l), in, out, t->idx[l]);
    }
    return rc;
}

static int grad_ready(struct trainer *t, int l)
{
    return t->sync ? t->sync->ready(t->sync->user, l, t->g[l], t->nparam[l]) : 0;
}

/* dW = goutᵀ · in, db = Σ gout, gin = gout · W (gin NULL for the first layer) */
static int linear_bwd(struct trainer *t, int l, const float *in, const float *gout, float *gin)
{
    const struct backend *b = t->b;
    const struct layer_spec *L = &t->m->layers[l];
    int B = t->batch, nin = (int)in_elems(t, l);
    float *db = t->g[l] + (size_t)L->out * nin;
    if (!mixed(t))
        return b->mm->gemm(DT_F32, 1, 0, L->out, nin, B, gout, in, t->g[l]) || b->train->bias_bwd(B, L->out, 1, gout, db) ||
               grad_ready(t, l) || (gin && b->mm->gemm(DT_F32, 0, 0, B, nin, L->out, gout, t->p[l], gin));
    return b->elt->cast((size_t)B * L->out, DT_F32, gout, t->dt, t->g16) ||
           b->mm->gemm(t->dt, 1, 0, L->out, nin, B, t->g16, t->in16[l], t->g[l]) || b->train->bias_bwd(B, L->out, 1, gout, db) ||
           grad_ready(t, l) || (gin && b->mm->gemm(t->dt, 0, 0, B, nin, L->out, t->g16, t->p16[l], gin));
}

static int conv_bwd(struct trainer *t, int l, const float *in, const float *gout, float *gin)
{
    const struct backend *b = t->b;
    struct conv_shape s = conv_of(t, l);
    int inner = t->dims[l][1] * t->dims[l][2];
    float *db = t->g[l] + conv_w_elems(&s);
    if (!mixed(t))
        return b->conv->bwd_filter(DT_F32, &s, in, gout, t->g[l]) || b->train->bias_bwd(s.n, s.k, inner, gout, db) ||
               grad_ready(t, l) || (gin && b->conv->bwd_data(DT_F32, &s, gout, t->p[l], gin));
    return b->elt->cast(conv_y_elems(&s), DT_F32, gout, t->dt, t->g16) ||
           b->conv->bwd_filter(t->dt, &s, t->in16[l], t->g16, t->lo) ||
           b->elt->cast(conv_w_elems(&s), t->dt, t->lo, DT_F32, t->g[l]) ||
           b->train->bias_bwd(s.n, s.k, inner, gout, db) || grad_ready(t, l) ||
           (gin && (b->conv->bwd_data(t->dt, &s, t->g16, t->p16[l], t->lo) ||
                    b->elt->cast(conv_x_elems(&s), t->dt, t->lo, DT_F32, gin)));
}

static int backward(struct trainer *t, const float *x)
{
    const struct backend *b = t->b;
    int B = t->batch, rc = 0;
    for (int l = t->m->nlayers - 1; l >= 0 && !rc; l--) {
        const struct layer_spec *L = &t->m->layers[l];
        const float *in = l == 0 ? x : t->act[l - 1], *gout = t->grad[l];
        float *gin = l == 0 ? NULL : t->grad[l - 1];   /* no gradient for the input batch */
        if (L->kind == LAYER_LINEAR) rc = linear_bwd(t, l, in, gout, gin);
        else if (L->kind == LAYER_CONV3X3) rc = conv_bwd(t, l, in, gout, gin);
        else if (L->kind == LAYER_RELU) rc = gin && b->elt->relu_bwd(DT_F32, in_elems(t, l) * B, in, gout, gin);
        else rc = gin && b->train->maxpool2_bwd(B * in_c(t, l), in_h(t, l), in_w(t, l), gout, t->idx[l], gin);
    }
    return rc;
}

/* Forward, loss, backward, update; dstep: Adam reads the step count on the device (else t->hp.step). */
static int step_body(struct trainer *t, const float *x, const int32_t *labels, const int32_t *dstep)
{
    const struct backend *b = t->b;
    int last = t->m->nlayers - 1;
    if (forward(t, x) ||
        b->train->softmax_xent(t->batch, t->m->classes, t->act[last], labels, t->losses, t->loss, t->grad[last]) ||
        backward(t, x) || (t->sync && t->sync->wait(t->sync->user)))
        return -1;
    t->steps++;
    t->hp.step = t->steps;
    for (int l = 0; l < t->m->nlayers; l++) {
        if (!t->nparam[l]) continue;
        int rc = !t->adam ? b->elt->sgd_update(t->nparam[l], TRAIN_LR_SGD, t->p[l], t->g[l])
                 : dstep  ? b->train->adam_update_dev(t->nparam[l], &t->hp, dstep, t->p[l], t->g[l], t->m1[l], t->m2[l])
                          : b->elt->adam_update(t->nparam[l], &t->hp, t->p[l], t->g[l], t->m1[l], t->m2[l]);
        if (rc) return -1;
    }
    return mixed(t) ? refresh_low(t) : 0;
}

int trainer_step(struct trainer *t, const float *x, const int32_t *labels) { return step_body(t, x, labels, NULL); }

int trainer_step_on_device(struct trainer *t, const float *xs, const int32_t *ys, int nbatches, float *x, int32_t *labels)
{
    const struct backend *b = t->b;
    size_t xlen = (size_t)t->m->in_c * t->m->in_h * t->m->in_w;
    if (!t->dstep) return -1;
    return b->train->next_batch(t->dstep, nbatches, t->batch, xlen, xs, ys, x, labels) || step_body(t, x, labels, t->dstep);
}

int trainer_loss(struct trainer *t, float *loss)
{
    return t->b->dev->sync() || t->b->dev->download(loss, t->loss, 4) ? -1 : 0;
}
