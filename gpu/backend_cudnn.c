/* backend_cudnn.c: the vendor variant, built when cuDNN's header is found: the CUDA backend's
 * device, stream, memory, timers, GEMM and elementwise ops with cuDNN's convolutions, so reports
 * show dlbench's lowering beside the vendor's kernels, and the training step runs on both.
 * Per case (direction, dtype, shape) the algorithm is chosen once by measurement
 * (cudnnFind*AlgorithmEx on the case's own buffers, inside the first, untimed call) among those
 * whose workspace fits a limit set by free memory, and cached; the row's impl names it, and any
 * faster candidate left out for its workspace. fp32 runs FMA math (no tf32: the same arithmetic as
 * the rows beside it); tf32 rows allow tensor-op math on fp32 data; fp16/bf16 run tensor-op math
 * with fp32 accumulation (cuDNN's pseudo-half configuration) and write fp16/bf16 outputs.
 * libcudnn is loaded at run time (dlopen), so a machine without it still runs everything else. */
#include "backend.h"
#include "cuda_check.h"
#include "cuda_state.h"
#include <cudnn.h>
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The cuDNN functions used, resolved from libcudnn.so.9 by the probe; prototypes from cudnn.h. */
#define CUDNN_FUNCS(X) X(cudnnCreate) X(cudnnSetStream) X(cudnnGetErrorString) X(cudnnGetVersion)    \
    X(cudnnCreateTensorDescriptor) X(cudnnCreateFilterDescriptor) X(cudnnCreateConvolutionDescriptor) \
    X(cudnnDestroyTensorDescriptor) X(cudnnDestroyFilterDescriptor) X(cudnnDestroyConvolutionDescriptor) \
    X(cudnnSetTensor4dDescriptor) X(cudnnSetFilter4dDescriptor) X(cudnnSetConvolution2dDescriptor)   \
    X(cudnnSetConvolutionMathType) X(cudnnGetConvolutionForwardAlgorithmMaxCount)                     \
    X(cudnnGetConvolutionBackwardDataAlgorithmMaxCount) X(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount) \
    X(cudnnGetConvolutionForwardAlgorithm_v7) X(cudnnGetConvolutionBackwardDataAlgorithm_v7)           \
    X(cudnnGetConvolutionBackwardFilterAlgorithm_v7) X(cudnnFindConvolutionForwardAlgorithmEx)         \
    X(cudnnFindConvolutionBackwardDataAlgorithmEx) X(cudnnFindConvolutionBackwardFilterAlgorithmEx)    \
    X(cudnnConvolutionForward) X(cudnnConvolutionBackwardData) X(cudnnConvolutionBackwardFilter)
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
extern const struct matmul_ops cuda_matmul;
extern const struct eltwise_ops cuda_eltwise;
extern const struct train_ops cuda_train;
extern const struct graph_ops cuda_graph;
extern const struct transfer_ops cuda_transfer;

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
        } else if ((s = p_cudnnSetStream(handle, cuda_stream)) != CUDNN_STATUS_SUCCESS) {
            snprintf(why_not, sizeof why_not, "cuDNN: cannot use dlbench's stream: %s", p_cudnnGetErrorString(s));
            state = -1;
        } else state = 1;
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

/* Convolutions in every dtype the GPU has, and the training step (fp32, fp16, bf16). */
static const char *cudnn_unsupported(const char *family, enum dtype dt)
{
    if (strcmp(family, "conv") != 0 && strcmp(family, "train") != 0)
        return "the cudnn variant runs convolutions and the training step";
    return cuda_backend.unsupported(family, dt);
}

/* The impl note, handed out and forgotten by cudnn_impl() (backend.h). */
static char note[192], note_out[192];
static const char *cudnn_impl(void)
{
    snprintf(note_out, sizeof note_out, "%s", note);
    note[0] = 0;
    return note_out;
}

static const char *const fwd_names[] = {"IMPLICIT_GEMM", "IMPLICIT_PRECOMP_GEMM", "GEMM", "DIRECT", "FFT", "FFT_TILING",
                                        "WINOGRAD", "WINOGRAD_NONFUSED"};
static const char *const bwd_data_names[] = {"ALGO_0", "ALGO_1", "FFT", "FFT_TILING", "WINOGRAD", "WINOGRAD_NONFUSED"};
static const char *const bwd_filter_names[] = {"ALGO_0", "ALGO_1", "FFT", "ALGO_3", "WINOGRAD", "WINOGRAD_NONFUSED",
                                               "FFT_TILING"};
static const char *algo_name(enum conv_dir d, int a)
{
    if (d == CONV_FWD) return a >= 0 && a < 8 ? fwd_names[a] : "?";
    if (d == CONV_BWD_DATA) return a >= 0 && a < 6 ? bwd_data_names[a] : "?";
    return a >= 0 && a < 7 ? bwd_filter_names[a] : "?";
}
static const char *const dir_names[] = {"forward", "backward-data", "backward-filter"};

/* One measured candidate, whichever direction's perf struct it came from. */
struct cand { int algo; cudnnStatus_t status; float ms; size_t memory; cudnnMathType_t math; };
#define MAX_CANDS 16

/* A cached case: descriptors, the chosen algorithm and math type, its workspace need. */
struct plan {
    int used;
    enum conv_dir d;
    enum dtype dt;
    struct conv_shape s;
    cudnnTensorDescriptor_t x, y;
    cudnnFilterDescriptor_t w;
    cudnnConvolutionDescriptor_t conv;
    int algo;
    size_t ws;
    char impl[192];
};
#define PLANS 64
static struct plan plans[PLANS];
static int next_slot;
static void *ws;                 /* shared by every plan: the largest chosen workspace so far */
static size_t ws_bytes;

static int dnn_fail(cudnnStatus_t s, const char *call)
{
    /* cuDNN's "not supported" family: this case cannot run here, a skip rather than a failure */
    cuda_set_error("%s%s in %s", s / 1000 == 3 ? BACKEND_UNSUPPORTED : "", p_cudnnGetErrorString(s), call);
    return -1;
}
#define DNN(call) do { cudnnStatus_t s_ = (call); if (s_ != CUDNN_STATUS_SUCCESS) return dnn_fail(s_, #call); } while (0)

static cudnnDataType_t data_type(enum dtype dt)
{
    return dt == DT_F16 ? CUDNN_DATA_HALF : dt == DT_BF16 ? CUDNN_DATA_BFLOAT16 : CUDNN_DATA_FLOAT;
}

static int set_descriptors(struct plan *p)
{
    const struct conv_shape *s = &p->s;
    cudnnDataType_t t = data_type(p->dt);
    if (!p->x) {
        DNN(p_cudnnCreateTensorDescriptor(&p->x));
        DNN(p_cudnnCreateTensorDescriptor(&p->y));
        DNN(p_cudnnCreateFilterDescriptor(&p->w));
        DNN(p_cudnnCreateConvolutionDescriptor(&p->conv));
    }
    DNN(p_cudnnSetTensor4dDescriptor(p->x, CUDNN_TENSOR_NCHW, t, s->n, s->c, s->h, s->w));
    DNN(p_cudnnSetTensor4dDescriptor(p->y, CUDNN_TENSOR_NCHW, t, s->n, s->k, conv_p(s), conv_q(s)));
    DNN(p_cudnnSetFilter4dDescriptor(p->w, t, CUDNN_TENSOR_NCHW, s->k, s->c, s->r, s->s));
    DNN(p_cudnnSetConvolution2dDescriptor(p->conv, s->pad, s->pad, s->stride, s->stride, s->dil, s->dil,
                                        CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));   /* fp32 accumulation */
    DNN(p_cudnnSetConvolutionMathType(p->conv, p->dt == DT_F32 ? CUDNN_FMA_MATH : CUDNN_TENSOR_OP_MATH));
    return 0;
}

#define COPY_CANDS(perf, got, out)                                                                         \
    for (int i_ = 0; i_ < (got) && i_ < MAX_CANDS; i_++)                                                  \
        (out)[i_] = (struct cand){(int)(perf)[i_].algo, (perf)[i_].status, (perf)[i_].time, (perf)[i_].memory, \
                                  (perf)[i_].mathType};

/* cuDNN's heuristic list of candidates with their workspace needs (nothing runs). */
static int heuristics(struct plan *p, struct cand *c, int *n)
{
    int got = 0;
    if (p->d == CONV_FWD) {
        cudnnConvolutionFwdAlgoPerf_t perf[MAX_CANDS];
        DNN(p_cudnnGetConvolutionForwardAlgorithm_v7(handle, p->x, p->w, p->conv, p->y, MAX_CANDS, &got, perf));
        COPY_CANDS(perf, got, c);
    } else if (p->d == CONV_BWD_DATA) {
        cudnnConvolutionBwdDataAlgoPerf_t perf[MAX_CANDS];
        DNN(p_cudnnGetConvolutionBackwardDataAlgorithm_v7(handle, p->w, p->y, p->conv, p->x, MAX_CANDS, &got, perf));
        COPY_CANDS(perf, got, c);
    } else {
        cudnnConvolutionBwdFilterAlgoPerf_t perf[MAX_CANDS];
        DNN(p_cudnnGetConvolutionBackwardFilterAlgorithm_v7(handle, p->x, p->y, p->conv, p->w, MAX_CANDS, &got, perf));
        COPY_CANDS(perf, got, c);
    }
    *n = got < MAX_CANDS ? got : MAX_CANDS;
    return 0;
}

/* Runs and times every candidate that fits `bytes` of workspace on the case's own buffers;
 * results sorted fastest first (cuDNN's order). Writes the output buffer. */
static int find(struct plan *p, const void *a, const void *b, void *out, void *space, size_t bytes, struct cand *c, int *n)
{
    int got = 0, max = 0;
    if (p->d == CONV_FWD) {
        cudnnConvolutionFwdAlgoPerf_t perf[MAX_CANDS];
        DNN(p_cudnnGetConvolutionForwardAlgorithmMaxCount(handle, &max));
        DNN(p_cudnnFindConvolutionForwardAlgorithmEx(handle, p->x, a, p->w, b, p->conv, p->y, out,
                                                     max < MAX_CANDS ? max : MAX_CANDS, &got, perf, space, bytes));
        COPY_CANDS(perf, got, c);
    } else if (p->d == CONV_BWD_DATA) {
        cudnnConvolutionBwdDataAlgoPerf_t perf[MAX_CANDS];
        DNN(p_cudnnGetConvolutionBackwardDataAlgorithmMaxCount(handle, &max));
        DNN(p_cudnnFindConvolutionBackwardDataAlgorithmEx(handle, p->w, b, p->y, a, p->conv, p->x, out,
                                                          max < MAX_CANDS ? max : MAX_CANDS, &got, perf, space, bytes));
        COPY_CANDS(perf, got, c);
    } else {
        cudnnConvolutionBwdFilterAlgoPerf_t perf[MAX_CANDS];
        DNN(p_cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(handle, &max));
        DNN(p_cudnnFindConvolutionBackwardFilterAlgorithmEx(handle, p->x, a, p->y, b, p->conv, p->w, out,
                                                            max < MAX_CANDS ? max : MAX_CANDS, &got, perf, space, bytes));
        COPY_CANDS(perf, got, c);
    }
    *n = got < MAX_CANDS ? got : MAX_CANDS;
    return 0;
}

static int is_tensor_op(cudnnMathType_t m) { return m == CUDNN_TENSOR_OP_MATH || m == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION; }
static double mib(size_t b) { return b / 1048576.0; }

static void appendf(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void appendf(char *buf, size_t n, const char *fmt, ...)
{
    size_t len = strlen(buf);
    if (len + 1 >= n) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + len, n - len, fmt, ap);
    va_end(ap);
}

/* Workspace for the search: a quarter of free memory is left to the rest of the run, and no
 * more than 4 GiB (no quick-suite layer's fastest algorithm needs that much). */
static size_t workspace_limit(void)
{
    size_t fr = cuda_device.mem_free(), lim = fr / 4 * 3;
    return lim < ((size_t)4 << 30) ? lim : (size_t)4 << 30;
}

static int grow_workspace(size_t need)
{
    if (need <= ws_bytes) return 0;
    cuda_device.release(ws);
    ws = NULL;
    ws_bytes = 0;
    if (!(ws = cuda_device.alloc(need))) return -1;
    ws_bytes = need;
    return 0;
}

/* The search for one case: candidates that fit the limit are run and timed; the fastest that
 * succeeded (fp32 rows: without tensor-op math) becomes the plan. */
static int choose(struct plan *p, const void *a, const void *b, void *out)
{
    struct cand c[MAX_CANDS];
    int n = 0;
    size_t limit = workspace_limit(), need = 0;
    char over[128] = "";
    if (heuristics(p, c, &n) != 0) return -1;
    for (int i = 0; i < n; i++) {
        if (c[i].status != CUDNN_STATUS_SUCCESS) continue;
        if (c[i].memory > limit) {
            appendf(over, sizeof over, "%s%s %.0f MiB", over[0] ? ", " : "", algo_name(p->d, c[i].algo), mib(c[i].memory));
            continue;
        }
        if (c[i].memory > need) need = c[i].memory;
    }
    /* the search's workspace: the persistent one if large enough, else a temporary one */
    void *space = ws, *tmp = NULL;
    size_t bytes = ws_bytes;
    if (need > ws_bytes) { /* halving on failure, down to 1 MiB: then search with what there is */
        for (size_t want = need; !tmp; want /= 2) {
            if ((tmp = cuda_device.alloc(want))) { space = tmp; bytes = want; }
            else if (want <= ((size_t)1 << 20)) break;
        }
    }
    int rc = find(p, a, b, out, space, bytes, c, &n);
    cuda_device.release(tmp);
    if (rc != 0) return -1;
    int pick = -1;
    for (int i = 0; i < n && pick < 0; i++)
        if (c[i].status == CUDNN_STATUS_SUCCESS && c[i].memory <= bytes && (p->dt != DT_F32 || !is_tensor_op(c[i].math))) pick = i;
    if (pick < 0) {
        cuda_set_error("%scuDNN has no %s algorithm for this case%s%s (%s)", BACKEND_UNSUPPORTED, dir_names[p->d],
                       over[0] ? " within the workspace limit; over it: " : "", over,
                       n > 0 ? p_cudnnGetErrorString(c[0].status) : "no candidates");
        return -1;
    }
    p->algo = c[pick].algo;
    p->ws = c[pick].memory;
    /* fp32 keeps FMA math (a default-math result could mean tf32 on Ampere and later) */
    if (p->dt != DT_F32) DNN(p_cudnnSetConvolutionMathType(p->conv, c[pick].math));
    if (grow_workspace(p->ws) != 0) return -1;
    snprintf(p->impl, sizeof p->impl, "cuDNN find: %s%s, ws %.1f MiB, %.3f ms", algo_name(p->d, p->algo),
             is_tensor_op(c[pick].math) ? " tensor-op" : "", mib(p->ws), c[pick].ms);
    if (pick > 0) appendf(p->impl, sizeof p->impl, "; %d faster failed", pick);
    if (over[0]) appendf(p->impl, sizeof p->impl, "; not tried, ws over %.0f MiB: %s", mib(limit), over);
    return 0;
}

static struct plan *plan_for(enum conv_dir d, enum dtype dt, const struct conv_shape *s, const void *a, const void *b, void *out)
{
    for (int i = 0; i < PLANS; i++)
        if (plans[i].used && plans[i].d == d && plans[i].dt == dt && !memcmp(&plans[i].s, s, sizeof *s)) return &plans[i];
    struct plan *p = &plans[next_slot];           /* round robin: the oldest goes (its descriptors are reused) */
    next_slot = (next_slot + 1) % PLANS;
    p->used = 0;
    p->d = d;
    p->dt = dt;
    p->s = *s;
    if (set_descriptors(p) != 0 || choose(p, a, b, out) != 0) return NULL;
    p->used = 1;
    return p;
}

static int conv_cudnn(enum conv_dir d, enum dtype dt, const struct conv_shape *s, const void *a, const void *b, void *out)
{
    static const float one = 1.f, zero = 0.f;   /* fp32 scaling factors for every data type here */
    struct plan *p = plan_for(d, dt, s, a, b, out);
    if (!p) return -1;
    snprintf(note, sizeof note, "%s", p->impl);
    if (d == CONV_FWD)
        DNN(p_cudnnConvolutionForward(handle, &one, p->x, a, p->w, b, p->conv, p->algo, ws, ws_bytes, &zero, p->y, out));
    else if (d == CONV_BWD_DATA)
        DNN(p_cudnnConvolutionBackwardData(handle, &one, p->w, b, p->y, a, p->conv, p->algo, ws, ws_bytes, &zero, p->x, out));
    else
        DNN(p_cudnnConvolutionBackwardFilter(handle, &one, p->x, a, p->y, b, p->conv, p->algo, ws, ws_bytes, &zero, p->w, out));
    return 0;
}

static int conv_fwd_cudnn(enum dtype dt, const struct conv_shape *s, const void *x, const void *w, void *y) { return conv_cudnn(CONV_FWD, dt, s, x, w, y); }
static int conv_bwd_data_cudnn(enum dtype dt, const struct conv_shape *s, const void *dy, const void *w, void *dx) { return conv_cudnn(CONV_BWD_DATA, dt, s, dy, w, dx); }
static int conv_bwd_filter_cudnn(enum dtype dt, const struct conv_shape *s, const void *x, const void *dy, void *dw) { return conv_cudnn(CONV_BWD_FILTER, dt, s, x, dy, dw); }

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
    .mm = &cuda_matmul,       /* the training step: cuDNN convolutions, the CUDA backend's other ops */
    .conv = &cudnn_conv,
    .elt = &cuda_eltwise,
    .train = &cuda_train,
    .graph = &cuda_graph,
    .xfer = &cuda_transfer,
    .impl = cudnn_impl,
};
