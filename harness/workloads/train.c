/* train.c: one model on one backend: parameter init, and the step as a sequence of backend ops
 * (all asynchronous on GPU backends; only trainer_loss waits). */
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

static struct conv_shape conv_of(const struct trainer *t, int l)
{
    return (struct conv_shape){t->batch, in_c(t, l), in_h(t, l), in_w(t, l), t->m->layers[l].out, 3, 3, 1, 1, 1};
}

void trainer_free(struct trainer *t)
{
    const struct backend *b = t->b;
    for (int l = 0; l < MAX_LAYERS; l++) {
        b->dev->release(t->p[l]); b->dev->release(t->g[l]); b->dev->release(t->m1[l]); b->dev->release(t->m2[l]);
        b->dev->release(t->act[l]); b->dev->release(t->grad[l]); b->dev->release(t->idx[l]);
        free(t->host_init[l]);
    }
    b->dev->release(t->losses);
    b->dev->release(t->loss);
    memset(t, 0, sizeof *t);
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
    t->steps = 0;
    return 0;
}

int trainer_init(struct trainer *t, const struct backend *b, const struct model_spec *m, int batch, int adam,
                 uint64_t seed, char *why, size_t n)
{
    struct rng r;
    memset(t, 0, sizeof *t);
    t->b = b; t->m = m; t->batch = batch; t->adam = adam;
    t->hp = (struct adam_hp){TRAIN_LR_ADAM, 0.9f, 0.999f, 1e-8f, 1};
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
    if (trainer_reset(t) == 0) return 0;
fail:
    snprintf(why, n, "%s", b->dev->error());
    trainer_free(t);
    return -1;
}

static int forward(struct trainer *t, const float *x)
{
    const struct backend *b = t->b;
    int B = t->batch, rc = 0;
    for (int l = 0; l < t->m->nlayers && !rc; l++) {
        const struct layer_spec *L = &t->m->layers[l];
        const float *in = l == 0 ? x : t->act[l - 1];
        float *out = t->act[l];
        size_t nin = in_elems(t, l);
        if (L->kind == LAYER_LINEAR) { /* out (B, o) = in (B, nin) · Wᵀ, W (o, nin) */
            rc = b->mm->gemm(DT_F32, 0, 1, B, L->out, (int)nin, in, t->p[l], out) ||
                 b->elt->bias_add(B, L->out, 1, out, t->p[l] + (size_t)L->out * nin, out);
        } else if (L->kind == LAYER_CONV3X3) {
            struct conv_shape s = conv_of(t, l);
            rc = b->conv->fwd(DT_F32, &s, in, t->p[l], out) ||
                 b->elt->bias_add(B, L->out, t->dims[l][1] * t->dims[l][2], out, t->p[l] + conv_w_elems(&s), out);
        } else if (L->kind == LAYER_RELU) {
            rc = b->elt->relu_fwd(nin * B, in, out);
        } else {
            rc = b->train->maxpool2_fwd(B * in_c(t, l), in_h(t, l), in_w(t, l), in, out, t->idx[l]);
        }
    }
    return rc;
}

static int grad_ready(struct trainer *t, int l)
{
    return t->sync ? t->sync->ready(t->sync->user, l, t->g[l], t->nparam[l]) : 0;
}

static int backward(struct trainer *t, const float *x)
{
    const struct backend *b = t->b;
    int B = t->batch, rc = 0;
    for (int l = t->m->nlayers - 1; l >= 0 && !rc; l--) {
        const struct layer_spec *L = &t->m->layers[l];
        const float *in = l == 0 ? x : t->act[l - 1], *gout = t->grad[l];
        float *gin = l == 0 ? NULL : t->grad[l - 1];   /* no gradient for the input batch */
        size_t nin = in_elems(t, l);
        if (L->kind == LAYER_LINEAR) {
            rc = b->mm->gemm(DT_F32, 1, 0, L->out, (int)nin, B, gout, in, t->g[l]) ||           /* dW = goutᵀ · in */
                 b->train->bias_bwd(B, L->out, 1, gout, t->g[l] + (size_t)L->out * nin) || grad_ready(t, l) ||
                 (gin && b->mm->gemm(DT_F32, 0, 0, B, (int)nin, L->out, gout, t->p[l], gin));   /* gin = gout · W */
        } else if (L->kind == LAYER_CONV3X3) {
            struct conv_shape s = conv_of(t, l);
            rc = b->conv->bwd_filter(DT_F32, &s, in, gout, t->g[l]) ||
                 b->train->bias_bwd(B, L->out, t->dims[l][1] * t->dims[l][2], gout, t->g[l] + conv_w_elems(&s)) ||
                 grad_ready(t, l) || (gin && b->conv->bwd_data(DT_F32, &s, gout, t->p[l], gin));
        } else if (L->kind == LAYER_RELU) {
            rc = gin && b->elt->relu_bwd(nin * B, in, gout, gin);
        } else {
            rc = gin && b->train->maxpool2_bwd(B * in_c(t, l), in_h(t, l), in_w(t, l), gout, t->idx[l], gin);
        }
    }
    return rc;
}

int trainer_step(struct trainer *t, const float *x, const int32_t *labels)
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
        int rc = t->adam ? b->elt->adam_update(t->nparam[l], &t->hp, t->p[l], t->g[l], t->m1[l], t->m2[l])
                         : b->elt->sgd_update(t->nparam[l], TRAIN_LR_SGD, t->p[l], t->g[l]);
        if (rc) return -1;
    }
    return 0;
}

int trainer_loss(struct trainer *t, float *loss)
{
    return t->b->dev->sync() || t->b->dev->download(loss, t->loss, 4) ? -1 : 0;
}
