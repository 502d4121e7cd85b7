/* train_gpt.h: the GPT training step (kernels/gpt_ref.h) instantiated on one backend: parameters,
 * gradients and AdamW moments each in one contiguous fp32 buffer (a data-parallel step all-reduces
 * `grads` between gpt_forward_backward and gpt_update), activations in the step's dtype (fp32, or
 * bf16 with fp32 master weights and a bf16 copy for the GEMMs), every op a backend op, nothing
 * waiting for the host, so a step also replays as a CUDA graph. */
#ifndef DLBENCH_TRAIN_GPT_H
#define DLBENCH_TRAIN_GPT_H
#include "backend.h"
#include "gpt_ref.h"

#define GPT_LR 3e-4f
#define GPT_WEIGHT_DECAY 0.1f
#define GPT_CLIP 1.0f

struct gpt_acts {                 /* device; per layer l unless noted; dt elements unless noted */
    void *res;                    /* (L+1) residual streams (N, C): [0] embeddings, [l+1] block l's output */
    void *ln1, *qkv, *att, *mid, *ln2, *fch, *fcg;   /* (N,C) (N,3C) (N,C) (N,C) (N,C) (N,4C) (N,4C) */
    float *stats;                 /* mean1, rstd1, mean2, rstd2 (N each) and lse (B·H·T) per layer; lnf's mean, rstd */
    void *lnf, *logits;           /* (N, C); (N, Vp): logits, then their gradient in place */
    void *tmp, *dres, *dln, *datt, *dqkv, *dfc;      /* scratch: (N,C) ×4, (N,3C), (N,4C) */
    float *losses, *loss;         /* (N) per-token cross-entropy; its mean */
};

struct gpt_trainer {
    const struct backend *b;
    const struct attention_ops *attn;
    const char *attn_impl;        /* the backend whose attention the step runs ("cuda", or "flash" in bf16) */
    struct gpt_config c;
    int B, N, Vp;                 /* N = B·T tokens */
    enum dtype dt;
    struct adamw_hp hp;
    size_t np, size[GPT_NTENSORS], off[GPT_NTENSORS];
    float *host_init;             /* the initial parameters: the same on every backend */
    float *params, *grads, *m, *v, *state;   /* device fp32; state: step count, Σ g² */
    void *params_lp;              /* dt copy of params (NULL in fp32) */
    struct gpt_acts a;
    void *ws;                     /* attention workspace */
    int steps;
};

/* Picks the attention for (b, dt): a vendor variant of b that runs dt (the fused kernel), else b's. */
const struct attention_ops *gpt_attention_for(const struct backend *b, enum dtype dt, const char **impl);
/* Device bytes gpt_init allocates on b (without the data); workspace as b's attention sizes it. */
size_t gpt_device_bytes(const struct backend *b, const struct gpt_config *c, int B, enum dtype dt);
/* GPT-2's initialisation (normal, std 0.02; residual projections 0.02/sqrt(2L); biases 0, layer-norm
 * gains 1), from seed; padded rows zero. */
void gpt_init_params(const struct gpt_config *c, uint64_t seed, float *params);

int gpt_init(struct gpt_trainer *t, const struct backend *b, const struct gpt_config *c, int B, enum dtype dt,
             uint64_t seed, char *why, size_t n);
int gpt_reset(struct gpt_trainer *t);                  /* initial parameters, zero moments, step 0 */
/* tokens: device, B·T + 1 consecutive tokens: inputs tokens[0..N), targets tokens[1..N]. */
int gpt_forward(struct gpt_trainer *t, const int32_t *tokens);
int gpt_forward_backward(struct gpt_trainer *t, const int32_t *tokens);
int gpt_update(struct gpt_trainer *t);                 /* gradient norm, clipping, AdamW */
int gpt_step(struct gpt_trainer *t, const int32_t *tokens);
int gpt_loss(struct gpt_trainer *t, float *loss);      /* the last forward's mean loss (waits) */
void gpt_free(struct gpt_trainer *t);

/* Device pointers into the layout: parameter tensor k of layer l (fp32 master, dt copy, gradient). */
float *gpt_param(const struct gpt_trainer *t, enum gpt_tensor k, int l);
float *gpt_grad(const struct gpt_trainer *t, enum gpt_tensor k, int l);
/* Per-layer activation pointers (dt elements) and statistics. */
void *gpt_act(const struct gpt_trainer *t, void *base, size_t per_layer_elems, int l);
#endif
