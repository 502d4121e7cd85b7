/* backend_cudnn.c: the vendor variant, built when cuDNN's header is found: the CUDA backend's
 * device, stream, memory and timers with cuDNN's convolutions instead of dlbench's lowering, so
 * reports show how far the plain lowering is from the vendor's tuned kernels. fp32 only, with
 * CUDNN_FMA_MATH (no tf32 tensor cores): the same arithmetic as the fp32 rows it sits beside.
 * libcudnn is loaded at run time (dlopen), so a machine without it still runs everything else. */
#include "backend.h"
#include "cuda_check.h"
#include "cuda_state.h"
#include <cudnn.h>
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

/* The cuDNN functions used, resolved from libcudnn.so.9 by the probe; prototypes from cudnn.h. */
#define CUDNN_FUNCS(X) X(cudnnCreate) X(cudnnSetStream) X(cudnnGetErrorString) X(cudnnGetVersion)    \
    X(cudnnCreateTensorDescriptor) X(cudnnCreateFilterDescriptor) X(cudnnCreateConvolutionDescriptor) \
    X(cudnnSetTensor4dDescriptor) X(cudnnSetFilter4dDescriptor) X(cudnnSetConvolution2dDescriptor)   \
    X(cudnnSetConvolutionMathType) X(cudnnGetConvolutionForwardAlgorithm_v7)                          \
    X(cudnnGetConvolutionBackwardDataAlgorithm_v7) X(cudnnGetConvolutionBackwardFilterAlgorithm_v7)   \
    X(cudnnGetConvolutionForwardWorkspaceSize) X(cudnnGetConvolutionBackwardDataWorkspaceSize)        \
    X(cudnnGetConvolutionBackwardFilterWorkspaceSize) X(cudnnConvolutionForward)                      \
    X(cudnnConvolutionBackwardData) X(cudnnConvolutionBackwardFilter)
#define DECLARE(f) static __typeof__(&f) p_##f;
CUDNN_FUNCS(DECLARE)

static int load_cudnn(char *why, size_t n)
{
    void *lib = dlopen("libcudnn.so.9", RTLD_NOW | RTLD_LOCAL);
    if (!lib) lib = dlopen("libcudnn.so", RTLD_NOW | RTLD_LOCAL);
    if (!lib) { snprintf(why, n, "cuDNN library not found (libcudnn.so.9)"); return -1; }
#define RESOLVE(f) if (!(p_##f = (__typeof__(&f))dlsym(lib, #f))) { snprintf(why, n, "cuDNN lacks %s", #f); return -1; }
    CUDNN_FUNCS(RESOLVE)
    return 0;
}

extern const struct backend cuda_backend;
extern const struct device_ops cuda_device;

static cudnnHandle_t handle;
static int state;                 /* 0 unprobed, 1 usable, -1 not */
static char why_not[256];

static int cudnn_probe(char *why, size_t n)
{
    if (!cuda_backend.probe(why, n)) return 0;
    if (state == 0) {
        cudnnStatus_t s;
        if (load_cudnn(why_not, sizeof why_not) != 0) state = -1;
        else if ((s = p_cudnnCreate(&handle)) != CUDNN_STATUS_SUCCESS) {
            snprintf(why_not, sizeof why_not, "cuDNN: %s", p_cudnnGetErrorString(s));
            state = -1;
        } else { p_cudnnSetStream(handle, cuda_stream); state = 1; }
    }
    if (state < 0 && why) snprintf(why, n, "%s", why_not);
    return state > 0;
}

static void cudnn_info(info_put_fn put, void *u)
{
    char v[64], why[128];
    if (!p_cudnnGetVersion && load_cudnn(why, sizeof why) != 0) { put(u, "cudnn", "status", why); return; }
    size_t ver = p_cudnnGetVersion();
    snprintf(v, sizeof v, "%zu.%zu.%zu", ver / 10000, ver / 100 % 100, ver % 100);
    put(u, "cudnn", "version", v);
}

static const char *cudnn_unsupported(const char *family, enum dtype dt)
{
    if (strcmp(family, "conv") != 0) return "the cudnn variant runs convolutions only";
    if (dt != DT_F32) return "cuDNN writes fp16/bf16 outputs; dlbench compares fp32 outputs";
    return NULL;
}

/* Descriptors and algorithms for the last shape and direction, made outside the timed calls
 * (the first, verified call makes them). */
static struct {
    int valid;
    enum conv_dir d;
    struct conv_shape s;
    cudnnTensorDescriptor_t x, y;
    cudnnFilterDescriptor_t w;
    cudnnConvolutionDescriptor_t conv;
    int algo;
    void *ws;
    size_t ws_bytes;
} plan;

#define DNN(call) do { cudnnStatus_t s_ = (call); if (s_ != CUDNN_STATUS_SUCCESS) { \
    cuda_set_error("%s in %s", p_cudnnGetErrorString(s_), #call); return -1; } } while (0)

static int make_plan(enum conv_dir d, const struct conv_shape *s)
{
    if (plan.valid && plan.d == d && !memcmp(&plan.s, s, sizeof *s)) return 0;
    if (!plan.x) {
        DNN(p_cudnnCreateTensorDescriptor(&plan.x));
        DNN(p_cudnnCreateTensorDescriptor(&plan.y));
        DNN(p_cudnnCreateFilterDescriptor(&plan.w));
        DNN(p_cudnnCreateConvolutionDescriptor(&plan.conv));
    }
    plan.valid = 0;
    DNN(p_cudnnSetTensor4dDescriptor(plan.x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, s->n, s->c, s->h, s->w));
    DNN(p_cudnnSetTensor4dDescriptor(plan.y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, s->n, s->k, conv_p(s), conv_q(s)));
    DNN(p_cudnnSetFilter4dDescriptor(plan.w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, s->k, s->c, s->r, s->s));
    DNN(p_cudnnSetConvolution2dDescriptor(plan.conv, s->pad, s->pad, s->stride, s->stride, s->dil, s->dil,
                                        CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    DNN(p_cudnnSetConvolutionMathType(plan.conv, CUDNN_FMA_MATH));
    int got = 0;
    size_t ws = 0;
    if (d == CONV_FWD) {
        cudnnConvolutionFwdAlgoPerf_t perf[8];
        DNN(p_cudnnGetConvolutionForwardAlgorithm_v7(handle, plan.x, plan.w, plan.conv, plan.y, 8, &got, perf));
        if (got < 1 || perf[0].status != CUDNN_STATUS_SUCCESS) { cuda_set_error("cuDNN found no forward algorithm"); return -1; }
        plan.algo = perf[0].algo;
        DNN(p_cudnnGetConvolutionForwardWorkspaceSize(handle, plan.x, plan.w, plan.conv, plan.y, perf[0].algo, &ws));
    } else if (d == CONV_BWD_DATA) {
        cudnnConvolutionBwdDataAlgoPerf_t perf[8];
        DNN(p_cudnnGetConvolutionBackwardDataAlgorithm_v7(handle, plan.w, plan.y, plan.conv, plan.x, 8, &got, perf));
        if (got < 1 || perf[0].status != CUDNN_STATUS_SUCCESS) { cuda_set_error("cuDNN found no backward-data algorithm"); return -1; }
        plan.algo = perf[0].algo;
        DNN(p_cudnnGetConvolutionBackwardDataWorkspaceSize(handle, plan.w, plan.y, plan.conv, plan.x, perf[0].algo, &ws));
    } else {
        cudnnConvolutionBwdFilterAlgoPerf_t perf[8];
        DNN(p_cudnnGetConvolutionBackwardFilterAlgorithm_v7(handle, plan.x, plan.y, plan.conv, plan.w, 8, &got, perf));
        if (got < 1 || perf[0].status != CUDNN_STATUS_SUCCESS) { cuda_set_error("cuDNN found no backward-filter algorithm"); return -1; }
        plan.algo = perf[0].algo;
        DNN(p_cudnnGetConvolutionBackwardFilterWorkspaceSize(handle, plan.x, plan.y, plan.conv, plan.w, perf[0].algo, &ws));
    }
    if (ws > plan.ws_bytes) {
        cuda_device.release(plan.ws);
        plan.ws_bytes = 0;
        if (!(plan.ws = cuda_device.alloc(ws))) return -1;
        plan.ws_bytes = ws;
    }
    plan.d = d;
    plan.s = *s;
    plan.valid = 1;
    return 0;
}

static int conv_cudnn(enum conv_dir d, enum dtype dt, const struct conv_shape *s, const void *a, const void *b, float *out)
{
    static const float one = 1.f, zero = 0.f;
    if (dt != DT_F32) { cuda_set_error("cudnn variant is fp32 only"); return -1; }
    if (make_plan(d, s) != 0) return -1;
    if (d == CONV_FWD)
        DNN(p_cudnnConvolutionForward(handle, &one, plan.x, a, plan.w, b, plan.conv, plan.algo, plan.ws, plan.ws_bytes,
                                    &zero, plan.y, out));
    else if (d == CONV_BWD_DATA)
        DNN(p_cudnnConvolutionBackwardData(handle, &one, plan.w, b, plan.y, a, plan.conv, plan.algo, plan.ws, plan.ws_bytes,
                                         &zero, plan.x, out));
    else
        DNN(p_cudnnConvolutionBackwardFilter(handle, &one, plan.x, a, plan.y, b, plan.conv, plan.algo, plan.ws, plan.ws_bytes,
                                           &zero, plan.w, out));
    return 0;
}

static int conv_fwd_cudnn(enum dtype dt, const struct conv_shape *s, const void *x, const void *w, float *y) { return conv_cudnn(CONV_FWD, dt, s, x, w, y); }
static int conv_bwd_data_cudnn(enum dtype dt, const struct conv_shape *s, const void *dy, const void *w, float *dx) { return conv_cudnn(CONV_BWD_DATA, dt, s, dy, w, dx); }
static int conv_bwd_filter_cudnn(enum dtype dt, const struct conv_shape *s, const void *x, const void *dy, float *dw) { return conv_cudnn(CONV_BWD_FILTER, dt, s, x, dy, dw); }

static const struct conv_ops cudnn_conv = {
    .fwd = conv_fwd_cudnn, .bwd_data = conv_bwd_data_cudnn, .bwd_filter = conv_bwd_filter_cudnn};

const struct backend cudnn_backend = {
    .name = "cudnn",
    .kind = BACKEND_GPU,
    .base = &cuda_backend,
    .probe = cudnn_probe,
    .info = cudnn_info,
    .unsupported = cudnn_unsupported,
    .dev = &cuda_device,
    .conv = &cudnn_conv,
};
