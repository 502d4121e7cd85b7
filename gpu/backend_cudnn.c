/* backend_cudnn.c: the vendor variant, built when cuDNN's header is found: the CUDA backend's
 * device, stream, memory, timers, GEMM and elementwise ops with cuDNN's convolutions, so reports
 * show dlbench's lowering beside the vendor's kernels, and the training step runs on both.
 * Per case (direction, dtype, shape) the algorithm is chosen once by measurement
 * (cudnnFind*AlgorithmEx on the case's own buffers, inside the first, untimed call) among those
 * whose workspace fits a limit set by free memory, and cached; the row's impl names it, and any
 * faster candidate left out for its workspace. fp32 runs FMA math (no tf32: the same arithmetic as
 * the rows beside it); tf32 rows allow tensor-op math on fp32 data; fp16/bf16 run tensor-op math
 * with fp32 accumulation (cuDNN's pseudo-half configuration) and write fp16/bf16 outputs.
 * Tensor-op rows (tf32, fp16, bf16) also try the channels-last path: the inputs transposed to NHWC
 * (filters to KRSC) by dlbench's transpose kernel (conv_cuda.cu), cuDNN's NHWC search, the output
 * transposed back, all inside the call, so the row still reads and writes NCHW like every backend.
 * Beside the legacy search, every row also tries cuDNN's graph API (conv_engines_cudnn.c: the
 * engines its heuristics propose, each plan timed on the case's buffers), on NCHW and, for the
 * tensor-op dtypes, on the channels-last copies: PyTorch reaches cuDNN that way, and on the H200
 * the legacy API's best fp16 NCHW kernels ran at 0.28-0.53x of PyTorch's on the same layers.
 * Paths, by the index tests force with cudnn_conv_layout: 0 find NCHW, 1 find NHWC, 2 graph NCHW,
 * 3 graph NHWC. Every path that can run is timed whole (CUDA events, transposes included) and the
 * fastest kept; the row's impl names it ("cuDNN find: ..." or "cuDNN graph: engine N ..."), with
 * the others' times. DLBENCH_CUDNN_TRACE=1 prints each search and timed plan on stderr.
 * libcudnn is loaded at run time (dlopen), so a machine without it still runs everything else. */
#include "backend.h"
#include "conv_engines_cudnn.h"
#include "cuda_check.h"
#include "cuda_ops.h"
#include "cuda_state.h"
#include <cudnn.h>
#include <dlfcn.h>
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
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
static int engines_ok;            /* the graph API resolved (conv_engines_cudnn.c) */
static char engines_why[128];

static int load_cudnn(char *why, size_t n)
{
    void *lib = dlopen("libcudnn.so.9", RTLD_NOW | RTLD_LOCAL);
    if (!lib) lib = dlopen("libcudnn.so", RTLD_NOW | RTLD_LOCAL);
    if (!lib) { snprintf(why, n, "cuDNN library not found (libcudnn.so.9)"); return -1; }
#define RESOLVE(f) if (!(p_##f = (__typeof__(&f))dlsym(lib, #f))) { snprintf(why, n, "cuDNN lacks %s", #f); return -1; }
    CUDNN_FUNCS(RESOLVE)
    if (cudnn_engines_load(lib, engines_why, sizeof engines_why) == 0) engines_ok = 1;
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

/* One path of a case: the legacy API (cudnnFind*) or the graph API (conv_engines_cudnn.c), on
 * NCHW operands or their channels-last copies; its descriptors and, once searched, its best
 * algorithm or engine. */
enum { NCHW, NHWC, G_NCHW, G_NHWC, LAYOUTS };
static int is_nhwc(int k) { return k == NHWC || k == G_NHWC; }
static int is_graph(int k) { return k >= G_NCHW; }
static const char *const path_names[LAYOUTS] = {"find NCHW", "find NHWC", "graph NCHW", "graph NHWC"};
struct layout {
    cudnnTensorDescriptor_t x, y;     /* legacy paths */
    cudnnFilterDescriptor_t w;
    cudnnConvolutionDescriptor_t conv;
    struct cudnn_engines eng;         /* graph paths */
    int ok, algo;
    size_t ws;
    float ms;                         /* the search's kernel time; then the whole path's (events) */
    char impl[128];
};

/* Tests: -1 (the default) chooses the path by measurement; NCHW, NHWC, G_NCHW or G_NHWC (0-3)
 * takes that one whenever it can run, so each path is verified on every shape. */
int cudnn_conv_layout = -1;

/* A cached case: every path, the one chosen, and what the row's impl says. */
struct plan {
    int used, forced;                 /* forced: cudnn_conv_layout when it was made */
    enum conv_dir d;
    enum dtype dt;
    struct conv_shape s;
    struct layout l[LAYOUTS];
    int use;
    char impl[192];
};
#define PLANS 64
static struct plan plans[PLANS];
static int next_slot;
static void *ws;                 /* shared by every plan: the largest chosen workspace so far */
static size_t ws_bytes;
static void *cl[3];              /* channels-last copies of x, w, y: shared, grown as needed */
static size_t cl_bytes[3];

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
    for (int k = NCHW; k <= NHWC; k++) {   /* the legacy paths' descriptors */
        struct layout *l = &p->l[k];
        cudnnTensorFormat_t f = k == NHWC ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW;
        if (!l->x) {
            DNN(p_cudnnCreateTensorDescriptor(&l->x));
            DNN(p_cudnnCreateTensorDescriptor(&l->y));
            DNN(p_cudnnCreateFilterDescriptor(&l->w));
            DNN(p_cudnnCreateConvolutionDescriptor(&l->conv));
        }
        l->ok = 0;
        DNN(p_cudnnSetTensor4dDescriptor(l->x, f, t, s->n, s->c, s->h, s->w));
        DNN(p_cudnnSetTensor4dDescriptor(l->y, f, t, s->n, s->k, conv_p(s), conv_q(s)));
        DNN(p_cudnnSetFilter4dDescriptor(l->w, t, f, s->k, s->c, s->r, s->s));
        DNN(p_cudnnSetConvolution2dDescriptor(l->conv, s->pad, s->pad, s->stride, s->stride, s->dil, s->dil,
                                            CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));   /* fp32 accumulation */
        DNN(p_cudnnSetConvolutionMathType(l->conv, p->dt == DT_F32 ? CUDNN_FMA_MATH : CUDNN_TENSOR_OP_MATH));
    }
    return 0;
}

#define COPY_CANDS(perf, got, out)                                                                         \
    for (int i_ = 0; i_ < (got) && i_ < MAX_CANDS; i_++)                                                  \
        (out)[i_] = (struct cand){(int)(perf)[i_].algo, (perf)[i_].status, (perf)[i_].time, (perf)[i_].memory, \
                                  (perf)[i_].mathType};

/* cuDNN's heuristic list of candidates with their workspace needs (nothing runs). */
static int heuristics(const struct plan *p, const struct layout *l, struct cand *c, int *n)
{
    int got = 0;
    if (p->d == CONV_FWD) {
        cudnnConvolutionFwdAlgoPerf_t perf[MAX_CANDS];
        DNN(p_cudnnGetConvolutionForwardAlgorithm_v7(handle, l->x, l->w, l->conv, l->y, MAX_CANDS, &got, perf));
        COPY_CANDS(perf, got, c);
    } else if (p->d == CONV_BWD_DATA) {
        cudnnConvolutionBwdDataAlgoPerf_t perf[MAX_CANDS];
        DNN(p_cudnnGetConvolutionBackwardDataAlgorithm_v7(handle, l->w, l->y, l->conv, l->x, MAX_CANDS, &got, perf));
        COPY_CANDS(perf, got, c);
    } else {
        cudnnConvolutionBwdFilterAlgoPerf_t perf[MAX_CANDS];
        DNN(p_cudnnGetConvolutionBackwardFilterAlgorithm_v7(handle, l->x, l->y, l->conv, l->w, MAX_CANDS, &got, perf));
        COPY_CANDS(perf, got, c);
    }
    *n = got < MAX_CANDS ? got : MAX_CANDS;
    return 0;
}

/* Runs and times every candidate that fits `bytes` of workspace on the case's own buffers;
 * results sorted fastest first (cuDNN's order). Writes the output buffer. */
static int find(const struct plan *p, const struct layout *l, const void *a, const void *b, void *out, void *space,
                size_t bytes, struct cand *c, int *n)
{
    int got = 0, max = 0;
    if (p->d == CONV_FWD) {
        cudnnConvolutionFwdAlgoPerf_t perf[MAX_CANDS];
        DNN(p_cudnnGetConvolutionForwardAlgorithmMaxCount(handle, &max));
        DNN(p_cudnnFindConvolutionForwardAlgorithmEx(handle, l->x, a, l->w, b, l->conv, l->y, out,
                                                     max < MAX_CANDS ? max : MAX_CANDS, &got, perf, space, bytes));
        COPY_CANDS(perf, got, c);
    } else if (p->d == CONV_BWD_DATA) {
        cudnnConvolutionBwdDataAlgoPerf_t perf[MAX_CANDS];
        DNN(p_cudnnGetConvolutionBackwardDataAlgorithmMaxCount(handle, &max));
        DNN(p_cudnnFindConvolutionBackwardDataAlgorithmEx(handle, l->w, b, l->y, a, l->conv, l->x, out,
                                                          max < MAX_CANDS ? max : MAX_CANDS, &got, perf, space, bytes));
        COPY_CANDS(perf, got, c);
    } else {
        cudnnConvolutionBwdFilterAlgoPerf_t perf[MAX_CANDS];
        DNN(p_cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(handle, &max));
        DNN(p_cudnnFindConvolutionBackwardFilterAlgorithmEx(handle, l->x, a, l->y, b, l->conv, l->w, out,
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

/* A search's workspace of `need` bytes: the shared one when large enough, else a temporary one
 * (returned, for cuda_device.release), halving on failure down to 1 MiB; *bytes says what there is. */
static void *search_space(size_t need, void **space, size_t *bytes)
{
    void *tmp = NULL;
    *space = ws;
    *bytes = ws_bytes;
    for (size_t want = need; need > ws_bytes && !tmp; want /= 2) {
        if ((tmp = cuda_device.alloc(want))) { *space = tmp; *bytes = want; }
        else if (want <= ((size_t)1 << 20)) break;
    }
    return tmp;
}

/* The search for one layout: candidates that fit the limit are run and timed on a, b, out (in
 * that layout); the fastest that succeeded (fp32 rows: without tensor-op math) becomes l's. */
static int choose_layout(const struct plan *p, struct layout *l, const void *a, const void *b, void *out)
{
    struct cand c[MAX_CANDS];
    int n = 0;
    size_t limit = workspace_limit(), need = 0;
    char over[128] = "";
    if (heuristics(p, l, c, &n) != 0) return -1;
    for (int i = 0; i < n; i++) {
        if (c[i].status != CUDNN_STATUS_SUCCESS) continue;
        if (c[i].memory > limit) {
            appendf(over, sizeof over, "%s%s %.0f MiB", over[0] ? ", " : "", algo_name(p->d, c[i].algo), mib(c[i].memory));
            continue;
        }
        if (c[i].memory > need) need = c[i].memory;
    }
    void *space;
    size_t bytes;
    void *tmp = search_space(need, &space, &bytes);
    int rc = find(p, l, a, b, out, space, bytes, c, &n);
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
    l->algo = c[pick].algo;
    l->ws = c[pick].memory;
    l->ms = c[pick].ms;
    /* fp32 keeps FMA math (a default-math result could mean tf32 on Ampere and later) */
    if (p->dt != DT_F32) DNN(p_cudnnSetConvolutionMathType(l->conv, c[pick].math));
    snprintf(l->impl, sizeof l->impl, "%s%s, ws %.1f MiB", algo_name(p->d, l->algo), is_tensor_op(c[pick].math) ? " tensor-op" : "",
             mib(l->ws));
    if (pick > 0) appendf(l->impl, sizeof l->impl, "; %d faster failed", pick);
    if (over[0]) appendf(l->impl, sizeof l->impl, "; not tried, ws over %.0f MiB: %s", mib(limit), over);
    l->ok = 1;
    return 0;
}

/* The channels-last copies of x, w and y (elements x, w, y of the dtype), grown as needed. */
static int grow_channels_last(const struct plan *p)
{
    const struct conv_shape *s = &p->s;
    size_t es = dtype_size(p->dt);
    size_t need[3] = {(size_t)s->n * s->c * s->h * s->w * es, (size_t)s->k * s->c * s->r * s->s * es,
                      (size_t)s->n * s->k * conv_p(s) * conv_q(s) * es};
    for (int i = 0; i < 3; i++) {
        if (need[i] <= cl_bytes[i]) continue;
        cuda_device.release(cl[i]);
        cl_bytes[i] = 0;
        if (!(cl[i] = cuda_device.alloc(need[i]))) return -1;
        cl_bytes[i] = need[i];
    }
    return 0;
}

/* Which of x (0), w (1), y (2) are a direction's operands a, b and its output. */
static const int operand[3][3] = {{0, 1, 2}, {2, 1, 0}, {0, 2, 1}};

/* x (0), w (1) or y (2) of the case between NCHW (KCRS) and NHWC (KRSC): dlbench's transpose
 * (gpu/conv_cuda.cu), any dtype's bits. */
static int transform(const struct plan *p, int what, int to_nhwc, const void *src, void *dst)
{
    const struct conv_shape *s = &p->s;
    int batch = what == 1 ? s->k : s->n, ch = what == 0 ? s->c : what == 1 ? s->c : s->k;
    int sp = what == 0 ? s->h * s->w : what == 1 ? s->r * s->s : conv_p(s) * conv_q(s);
    return to_nhwc ? conv_layout_cuda(p->dt, batch, ch, sp, src, dst) : conv_layout_cuda(p->dt, batch, sp, ch, src, dst);
}

/* The convolution alone, in path k, on operands in that layout. A legacy call is given the
 * workspace its algorithm asked for (the search's figure), not the whole shared buffer, as
 * PyTorch's legacy path does: what cuDNN timed is what runs. */
static int convolve(struct plan *p, int k, const void *a, const void *b, void *out)
{
    static const float one = 1.f, zero = 0.f;   /* fp32 scaling factors for every data type here */
    struct layout *l = &p->l[k];
    if (is_graph(k)) return cudnn_engines_run(handle, &l->eng, NULL, a, b, out, ws);
    if (p->d == CONV_FWD)
        DNN(p_cudnnConvolutionForward(handle, &one, l->x, a, l->w, b, l->conv, l->algo, ws, l->ws, &zero, l->y, out));
    else if (p->d == CONV_BWD_DATA)
        DNN(p_cudnnConvolutionBackwardData(handle, &one, l->w, b, l->y, a, l->conv, l->algo, ws, l->ws, &zero, l->x, out));
    else
        DNN(p_cudnnConvolutionBackwardFilter(handle, &one, l->x, a, l->y, b, l->conv, l->algo, ws, l->ws, &zero, l->w, out));
    return 0;
}

/* The whole call in path k on NCHW operands: for NHWC, a and b transposed in, the output out. */
static int run_layout(struct plan *p, int k, const void *a, const void *b, void *out)
{
    if (!is_nhwc(k)) return convolve(p, k, a, b, out);
    const int *o = operand[p->d];
    if (transform(p, o[0], 1, a, cl[o[0]]) || transform(p, o[1], 1, b, cl[o[1]])) return -1;
    if (convolve(p, k, cl[o[0]], cl[o[1]], cl[o[2]])) return -1;
    return transform(p, o[2], 0, cl[o[2]], out);
}

/* Milliseconds one call takes by the search's rule: one call, then the mean of three, on the
 * device's timer (CUDA events on the stream). Plans are made in a case's first call, which is never
 * inside the sampler's timing (measure.c verifies that call before time_op starts). */
struct timed_call { struct plan *p; int k; const struct cudnn_engine_plan *e; const void *a, *b; void *out, *space; };
static int timed_run(const struct timed_call *t)
{
    return t->e ? cudnn_engines_run(handle, &t->p->l[t->k].eng, t->e, t->a, t->b, t->out, t->space)
                : run_layout(t->p, t->k, t->a, t->b, t->out);
}
static int time_call(const struct timed_call *t, float *ms)
{
    double s;
    if (timed_run(t) != 0 || cuda_device.timer_start() != 0) return -1;
    for (int r = 0; r < 3; r++)
        if (timed_run(t) != 0) { cuda_device.timer_stop(&s); return -1; }
    if (cuda_device.timer_stop(&s) != 0) return -1;
    *ms = (float)(s * 1e3 / 3);
    return 0;
}

/* The largest power of two, up to 16, that divides every address (the graph API's tensors are
 * described with it: a plan made for 16-byte-aligned operands may assume vector loads). */
static int alignment_of(const void *a, const void *b, const void *out)
{
    uintptr_t bits = (uintptr_t)a | (uintptr_t)b | (uintptr_t)out | 16;
    return (int)(bits & -bits);
}

#define MAX_ENGINES 8             /* plans timed per graph path: cuDNN's heuristics rank them */
#define ENGINE_SEARCH_S 0.25      /* host seconds a path's timing may take past its first plan */

/* DLBENCH_CUDNN_TRACE set: every path's search and each timed plan on stderr. */
static int tracing(void)
{
    static int on = -1;
    if (on < 0) on = getenv("DLBENCH_CUDNN_TRACE") != NULL;
    return on;
}
static void trace_case(const struct plan *p, int k)
{
    const struct conv_shape *s = &p->s;
    fprintf(stderr, "cudnn %s %s N%d C%d %dx%d K%d %dx%d/%d %s:", dir_names[p->d], dtype_name(p->dt), s->n, s->c, s->h, s->w,
            s->k, s->r, s->s, s->stride, path_names[k]);
}

/* The graph API's search for path k (G_NCHW on a, b, out; G_NHWC on their channels-last copies):
 * the heuristics' plans that fit the workspace limit, each run once and then timed over three
 * calls on the device's timer; the fastest becomes l's. Bounded by MAX_ENGINES and
 * ENGINE_SEARCH_S so the quick suite's cuDNN rows keep their time. */
static int search_graph(struct plan *p, int k, const void *a, const void *b, void *out)
{
    struct layout *l = &p->l[k];
    struct cudnn_engine_plan c[MAX_ENGINES];
    int seen = 0;
    if (!engines_ok) { cuda_set_error("%scuDNN's graph API: %s", BACKEND_UNSUPPORTED, engines_why); return -1; }
    cudnn_engines_free(&l->eng);
    if (cudnn_engines_graph(handle, &l->eng, p->d, p->dt, &p->s, k == G_NHWC, alignment_of(a, b, out)) != 0) return -1;
    int n = cudnn_engines_plans(handle, &l->eng, p->dt, workspace_limit(), c, MAX_ENGINES, &seen);
    if (n <= 0) {
        cuda_set_error("%sgraph API: no engine allowed and finalized of %d proposed", BACKEND_UNSUPPORTED, seen);
        return -1;
    }
    size_t need = 0;
    for (int i = 0; i < n; i++) if ((size_t)c[i].ws > need) need = (size_t)c[i].ws;
    void *space;
    size_t bytes;
    void *tmp = search_space(need, &space, &bytes);
    int best = -1, timed = 0;
    float best_ms = 0;
    double t0 = omp_get_wtime();
    for (int i = 0; i < n; i++) {
        if (timed > 0 && omp_get_wtime() - t0 > ENGINE_SEARCH_S) break;
        if ((size_t)c[i].ws > bytes) continue;
        float ms;
        if (time_call(&(struct timed_call){p, k, &c[i], a, b, out, space}, &ms) != 0) continue;
        timed++;
        if (tracing()) {
            trace_case(p, k);
            fprintf(stderr, " engine %lld (#%d of %d) ws %lld: %.4f ms\n", (long long)c[i].engine, c[i].rank + 1, seen,
                    (long long)c[i].ws, ms);
        }
        if (best < 0 || ms < best_ms) { best = i; best_ms = ms; }
    }
    cuda_device.release(tmp);
    for (int i = 0; i < n; i++) if (i != best) cudnn_engine_plan_free(&c[i]);
    if (best < 0) {
        cuda_set_error("%sgraph API: none of %d plans ran (%s)", BACKEND_UNSUPPORTED, n, cuda_device.error());
        return -1;
    }
    l->eng.chosen = c[best];
    l->ws = (size_t)c[best].ws;
    l->ms = best_ms;
    snprintf(l->impl, sizeof l->impl, "engine %lld (#%d of %d proposed, %d timed), ws %.1f MiB", (long long)c[best].engine,
             c[best].rank + 1, seen, timed, mib(l->ws));
    l->ok = 1;
    return 0;
}

/* The graph path's search; when it cannot run, the reason stays in l->impl for the row's note. */
static int choose_graph(struct plan *p, int k, const void *a, const void *b, void *out)
{
    struct layout *l = &p->l[k];
    l->ok = 0;
    if (search_graph(p, k, a, b, out) == 0) return 0;
    const char *why = cuda_device.error();
    if (!strncmp(why, BACKEND_UNSUPPORTED, strlen(BACKEND_UNSUPPORTED))) why += strlen(BACKEND_UNSUPPORTED);
    snprintf(l->impl, sizeof l->impl, "%s", why);
    if (tracing()) { trace_case(p, k); fprintf(stderr, " %s\n", l->impl); }
    return -1;
}

/* The search for one case. Legacy NCHW always; the graph API on NCHW; for tensor-op dtypes both
 * APIs on the channels-last copies too (the NHWC searches write their output there, the NCHW ones
 * into out). Every path that can run is then timed whole (transposes included) and the fastest
 * kept. A path that cannot run is left out; none: the first reason. */
static int choose(struct plan *p, const void *a, const void *b, void *out)
{
    char why[256] = "";
    int nchw = choose_layout(p, &p->l[NCHW], a, b, out) == 0;
    if (!nchw) snprintf(why, sizeof why, "%s", cuda_device.error());
    choose_graph(p, G_NCHW, a, b, out);
    if (p->dt != DT_F32 && grow_channels_last(p) == 0) {
        const int *o = operand[p->d];
        if (transform(p, o[0], 1, a, cl[o[0]]) == 0 && transform(p, o[1], 1, b, cl[o[1]]) == 0) {
            choose_layout(p, &p->l[NHWC], cl[o[0]], cl[o[1]], cl[o[2]]);
            choose_graph(p, G_NHWC, cl[o[0]], cl[o[1]], cl[o[2]]);
        }
    }
    size_t need = 0;
    int ok = 0;
    for (int k = 0; k < LAYOUTS; k++)
        if (p->l[k].ok) { ok++; if (p->l[k].ws > need) need = p->l[k].ws; }
    if (!ok) {
        cuda_set_error("%s", why[0] ? why : cuda_device.error());
        return -1;
    }
    if (grow_workspace(need) != 0) return -1;
    p->use = -1;
    for (int k = 0; k < LAYOUTS; k++) {   /* a path that fails its whole-path timing is left out */
        if (!p->l[k].ok) continue;
        float t;
        if (ok > 1 && time_call(&(struct timed_call){p, k, NULL, a, b, out, NULL}, &t) != 0) { p->l[k].ok = 0; continue; }
        if (ok > 1) p->l[k].ms = t;
        if (p->use < 0 || p->l[k].ms < p->l[p->use].ms) p->use = k;
    }
    if (p->use < 0) return -1;
    if (cudnn_conv_layout >= 0 && cudnn_conv_layout < LAYOUTS && p->l[cudnn_conv_layout].ok) p->use = cudnn_conv_layout;
    const struct layout *u = &p->l[p->use];
    snprintf(p->impl, sizeof p->impl, "cuDNN %s: %s%s%s, %.3f ms", is_graph(p->use) ? "graph" : "find",
             is_nhwc(p->use) ? "NHWC " : "", u->impl, is_nhwc(p->use) ? " + NCHW<->NHWC transposes" : "", u->ms);
    const char *sep = "; ";
    for (int k = 0; k < LAYOUTS; k++)
        if (k != p->use && p->l[k].ok) { appendf(p->impl, sizeof p->impl, "%s%s %.3f", sep, path_names[k], p->l[k].ms); sep = ", "; }
    if (sep[0] == ',') appendf(p->impl, sizeof p->impl, " ms");
    if (!p->l[G_NCHW].ok && p->l[G_NCHW].impl[0]) appendf(p->impl, sizeof p->impl, "; graph: %s", p->l[G_NCHW].impl);
    if (tracing())
        for (int k = 0; k < LAYOUTS; k++)
            if (p->l[k].ok) { trace_case(p, k); fprintf(stderr, " whole path %.4f ms%s\n", p->l[k].ms, k == p->use ? " (used)" : ""); }
    return 0;
}

static struct plan *plan_for(enum conv_dir d, enum dtype dt, const struct conv_shape *s, const void *a, const void *b, void *out)
{
    for (int i = 0; i < PLANS; i++)
        if (plans[i].used && plans[i].d == d && plans[i].dt == dt && plans[i].forced == cudnn_conv_layout &&
            !memcmp(&plans[i].s, s, sizeof *s))
            return &plans[i];
    struct plan *p = &plans[next_slot];           /* round robin: the oldest goes (its descriptors are reused) */
    next_slot = (next_slot + 1) % PLANS;
    p->used = 0;
    p->d = d;
    p->dt = dt;
    p->forced = cudnn_conv_layout;
    p->s = *s;
    for (int k = G_NCHW; k < LAYOUTS; k++) { cudnn_engines_free(&p->l[k].eng); p->l[k].ok = 0; p->l[k].impl[0] = 0; }
    if (set_descriptors(p) != 0 || choose(p, a, b, out) != 0) return NULL;
    p->used = 1;
    return p;
}

static int conv_cudnn(enum conv_dir d, enum dtype dt, const struct conv_shape *s, const void *a, const void *b, void *out)
{
    struct plan *p = plan_for(d, dt, s, a, b, out);
    if (!p) return -1;
    snprintf(note, sizeof note, "%s", p->impl);
    int k = p->use;
    /* a graph plan described for more aligned operands than these: the legacy NCHW path (searched
     * for every case) runs them */
    if (k == G_NCHW && alignment_of(a, b, out) < p->l[k].eng.align && p->l[NCHW].ok) {
        k = NCHW;
        snprintf(note, sizeof note, "cuDNN find: %.100s (operands below the graph plan's %d-byte alignment)",
                 p->l[NCHW].impl, p->l[G_NCHW].eng.align);
    }
    return run_layout(p, k, a, b, out);
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
