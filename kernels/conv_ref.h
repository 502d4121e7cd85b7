/* conv_ref.h: ground truth for 2-D convolution, NCHW: x (N,C,H,W), w (K,C,R,S), y (N,K,P,Q) with
 * P = (H + 2·pad - dil·(R-1) - 1)/stride + 1 (Q likewise). Forward y = x ⋆ w; backward-data dx from
 * dy and w; backward-filter dw from x and dy. Direct loops in double: whole tensors for tests,
 * single elements (with the rounding scale) for checking large results by sampling. */
#ifndef DLBENCH_CONV_REF_H
#define DLBENCH_CONV_REF_H
#include <stddef.h>
#ifdef __cplusplus
extern "C" {
#endif

struct conv_shape { int n, c, h, w, k, r, s, stride, pad, dil; };
enum conv_dir { CONV_FWD, CONV_BWD_DATA, CONV_BWD_FILTER };

int conv_p(const struct conv_shape *s);
int conv_q(const struct conv_shape *s);
size_t conv_x_elems(const struct conv_shape *s);
size_t conv_w_elems(const struct conv_shape *s);
size_t conv_y_elems(const struct conv_shape *s);
double conv_flops(const struct conv_shape *s);         /* 2·N·K·P·Q·C·R·S, every direction */
long conv_reduction(const struct conv_shape *s, enum conv_dir d);   /* terms per output element */

void conv_fwd_ref(const struct conv_shape *s, const double *x, const double *w, double *y);
void conv_bwd_data_ref(const struct conv_shape *s, const double *dy, const double *w, double *dx);
void conv_bwd_filter_ref(const struct conv_shape *s, const double *x, const double *dy, double *dw);

/* One output element of direction d at flat index i of its output tensor, from float inputs
 * (a, b) = (x, w) | (dy, w) | (x, dy); *scale = ‖a terms‖₂·‖b terms‖₂, the rounding scale. */
double conv_ref_elem(const struct conv_shape *s, enum conv_dir d, const float *a, const float *b, size_t i, double *scale);
#ifdef __cplusplus
}
#endif
#endif
