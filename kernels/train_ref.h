/* train_ref.h: ground truth for the training step: the layer list that describes a model, and
 * double-precision references of the layers the step adds to GEMM/conv/ReLU: bias gradient,
 * 2x2 max-pooling and softmax cross-entropy; plus a whole-model reference forward pass. */
#ifndef DLBENCH_TRAIN_REF_H
#define DLBENCH_TRAIN_REF_H
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

enum layer_kind { LAYER_LINEAR, LAYER_CONV3X3, LAYER_RELU, LAYER_MAXPOOL2 };
struct layer_spec { enum layer_kind kind; int out; };   /* out: features (linear), channels (conv) */
#define MAX_LAYERS 12
struct model_spec {
    const char *name;
    int in_c, in_h, in_w, classes;
    int nlayers;
    struct layer_spec layers[MAX_LAYERS];   /* conv: 3x3, stride 1, pad 1, with bias */
};
/* Per-sample activation shape after each layer: dims[l] = {C, H, W} of layer l's output. */
void model_dims(const struct model_spec *m, int dims[][3]);
size_t model_params(const struct model_spec *m, int layer);     /* weights + bias of one layer */
double model_step_flops(const struct model_spec *m, int batch); /* forward + backward, GEMM/conv only */

/* db[c] = Σ over (outer, inner) of dy[outer][c][inner] */
void bias_bwd_ref(int outer, int ch, int inner, const float *dy, double *db);
/* 2x2/2 max-pool of planes (H, W) -> (H/2, W/2); backward routes dy to the max (first on ties). */
void maxpool2_ref(int planes, int h, int w, const double *x, double *y);
void maxpool2_bwd_ref(int planes, int h, int w, const double *x, const double *dy, double *dx);
/* mean over rows of -log softmax(z)[label]; dz = (softmax(z) - onehot) / rows */
double softmax_xent_ref(int rows, int cols, const double *z, const int32_t *labels, double *dz);
/* Forward pass of m on `batch` samples x (batch, in_c·in_h·in_w) with float parameters params[l]
 * (weights then bias, as laid out on the backends): logits (batch, classes) in double. */
void model_forward_ref(const struct model_spec *m, int batch, const float *x, float *const *params, double *logits,
                       double **acts);
#ifdef __cplusplus
}
#endif
#endif
