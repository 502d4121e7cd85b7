/* conv_engines_cudnn.h: one convolution through cuDNN's graph API (the backend descriptors), the
 * cudnn backend's second way in beside the legacy cudnnFind*: an operation graph of the one
 * convolution, the engine configurations cuDNN's heuristics propose for it, each finalized into an
 * execution plan that backend_cudnn.c times on the case's own buffers. */
#ifndef DLBENCH_CONV_ENGINES_CUDNN_H
#define DLBENCH_CONV_ENGINES_CUDNN_H
#include "conv_ref.h"
#include "dtype.h"
#include <cudnn.h>
#include <stddef.h>
#include <stdint.h>

/* One finalized execution plan: an engine configuration and what it needs. */
struct cudnn_engine_plan {
    cudnnBackendDescriptor_t cfg, plan;
    int64_t ws;                        /* workspace bytes */
    int64_t engine;                    /* cuDNN's global engine index (the row's impl names it) */
    int rank;                          /* its place in the heuristics' list, from 0 */
};

/* One case's operation graph (x, w, y, the convolution, the operation, the graph) and, once
 * chosen, its plan and the variant pack of the last pointers it ran on. */
struct cudnn_engines {
    cudnnBackendDescriptor_t desc[6];
    struct cudnn_engine_plan chosen;
    cudnnBackendDescriptor_t pack;
    const void *pa, *pb;
    void *pout, *pws;
    enum conv_dir d;
    int align;                         /* the byte alignment the tensors were described with */
};

/* Resolves the graph API's functions from the already-opened libcudnn; -1 with the reason. */
int cudnn_engines_load(void *lib, char *why, size_t n);

/* Builds g's operation graph: direction d, dtype dt (tf32: fp32 tensors), shape s, NCHW/KCRS or
 * (nhwc) NHWC/KRSC strides, tensors aligned to `align` bytes. 0, or -1 with cuda_set_error's reason. */
int cudnn_engines_graph(cudnnHandle_t h, struct cudnn_engines *g, enum conv_dir d, enum dtype dt,
                        const struct conv_shape *s, int nhwc, int align);

/* Up to max finalized plans for g, in the heuristics' order (mode A, then the fallback list when A
 * gives none): engines that compile at run time, need more than ws_limit of workspace, or whose
 * numerics the dtype forbids (fp32: no tensor cores, no down-converted inputs; every dtype: no
 * reduced-precision accumulation) are left out; *seen counts what the heuristics proposed. */
int cudnn_engines_plans(cudnnHandle_t h, struct cudnn_engines *g, enum dtype dt, size_t ws_limit,
                        struct cudnn_engine_plan *out, int max, int *seen);

/* Runs plan p (g's chosen one when p is NULL) on operands a, b (the direction's inputs) and out,
 * with workspace ws. */
int cudnn_engines_run(cudnnHandle_t h, struct cudnn_engines *g, const struct cudnn_engine_plan *p,
                      const void *a, const void *b, void *out, void *ws);

void cudnn_engine_plan_free(struct cudnn_engine_plan *p);
void cudnn_engines_free(struct cudnn_engines *g);

#endif
