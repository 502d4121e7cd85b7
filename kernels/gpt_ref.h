/* gpt_ref.h: ground truth for the GPT training step: the model's configuration and parameter
 * layout (one contiguous fp32 buffer, the same on every backend), its FLOP count, and double
 * references of its layers (layer-norm with statistics, AdamW with weight decay and clipping) and
 * of the whole forward/backward pass. */
#ifndef DLBENCH_GPT_REF_H
#define DLBENCH_GPT_REF_H
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

/* GPT-2 style: token + position embedding, L pre-norm blocks (layer-norm, fused QKV, causal
 * attention over H heads, projection, residual; layer-norm, MLP C -> 4C -> C with tanh GELU,
 * residual), final layer-norm, LM head tied to the token embedding. T is the context length. */
struct gpt_config { const char *name; int L, C, H, T, V; };

/* Parameter tensors in buffer order; per-layer tensors are stacked over the L layers (layer l's
 * qkv weight at off[GPT_QKVW] + l·3C·C). Linear weights are (out, in) row-major. The token
 * embedding has Vp = gpt_vocab_padded(V) rows (the LM head GEMM's N is then a multiple of 128);
 * rows V..Vp-1 are zero and stay zero (no token selects them, their logits are masked). */
enum gpt_tensor {
    GPT_WTE, GPT_WPE, GPT_LN1W, GPT_LN1B, GPT_QKVW, GPT_QKVB, GPT_PROJW, GPT_PROJB,
    GPT_LN2W, GPT_LN2B, GPT_FCW, GPT_FCB, GPT_FCPW, GPT_FCPB, GPT_LNFW, GPT_LNFB, GPT_NTENSORS
};
#define GPT_LN_EPS 1e-5f

int gpt_vocab_padded(int V);
/* Sizes and offsets of the tensors (elements); returns the buffer's length. */
size_t gpt_layout(const struct gpt_config *c, size_t size[GPT_NTENSORS], size_t off[GPT_NTENSORS]);
/* N: parameters of the unpadded model, as PyTorch counts them (gpt2.small: 124,439,808). */
size_t gpt_param_count(const struct gpt_config *c);
/* FLOPs of one training step on B sequences of T tokens, as llm.c counts them:
 * (6·N + 6·L·C·T) per token (weight matmuls forward and backward, plus causal attention). */
double gpt_step_flops(const struct gpt_config *c, int B);

/* One row of layer-norm: y = (x - mean)·rstd·gamma + beta, rstd = 1/sqrt(var + eps). */
void layernorm_fwd_ref(int cols, const double *x, const double *gamma, const double *beta, double *y,
                       double *mean, double *rstd);
/* Its backward given the row's statistics: dx (=, not +=), dgamma and dbeta accumulated (+=). */
void layernorm_bwd_ref(int cols, const double *x, const double *gamma, double mean, double rstd,
                       const double *dy, double *dx, double *dgamma, double *dbeta);

/* PyTorch's AdamW (decoupled weight decay) after clip_grad_norm_: g is scaled by
 * min(1, clip / (‖g‖ + 1e-6)) over all parameters first (clip <= 0: no clipping). */
struct adamw_hp { float lr, beta1, beta2, eps, weight_decay, clip; };
double adamw_clip_scale(const struct adamw_hp *h, double grad_norm);
/* One element at step (1-based), gradient already scaled: returns the new w, updates m and v. */
double adamw_ref(const struct adamw_hp *h, int step, double w, double g, double *m, double *v);

/* Forward (and backward when grads is non-NULL) of B sequences of Tn <= T tokens: inputs and
 * targets (B, Tn); params in the layout above. losses (B·Tn): each token's cross-entropy; returns
 * their mean. grads (gpt_layout's length, zeroed here): d mean loss / d params. */
double gpt_ref(const struct gpt_config *c, int B, int Tn, const float *params, const int32_t *inputs,
               const int32_t *targets, double *losses, double *grads);
#ifdef __cplusplus
}
#endif
#endif
