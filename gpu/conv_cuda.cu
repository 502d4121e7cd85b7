/* conv_cuda.cu: convolution on the GPU lowered to GEMM, the algorithm the CPU backend runs too
 * (im2col + GEMM), here with the whole batch in each cuBLAS call. Kernels and their launchers.
 *
 * Shapes: x (N,C,H,W), w (K,C,R,S), y (N,K,P,Q), NCHW; CRS = C·R·S, PQ = P·Q. Inputs and output in
 * the dtype's storage (fp32/tf32: float; fp16, bf16: 16 bits, so im2col moves half the bytes and
 * cuBLAS runs the tensor cores), fp32 accumulation. Images go in chunks of nb so that the lowered
 * matrices stay under WORKSPACE_MAX (one chunk for every quick-suite layer).
 *
 * forward          col[n] (CRS, PQ) = im2col(x[n]); y[n] (K, PQ) = w (K, CRS) · col[n]: one
 *                  strided-batched GEMM per chunk (w shared, stride 0). 1x1, stride 1, no padding:
 *                  col[n] is x[n] itself, no im2col, the whole batch in one GEMM. fp16/bf16 on
 *                  sm_80+ and fp32: also an implicit GEMM (conv_igemm.cuh on the tensor cores,
 *                  conv_igemm_f32.cuh in FFMA: col gathered into shared memory tile by tile,
 *                  never written out), each way timed once per geometry and the faster kept
 *                  (run_chosen; the row's note gives both times).
 * backward-data    stride 1 (pad <= dil·(R-1)), K no wider than C: dx is the forward convolution
 *                  of dy (K input channels, P x Q) with the filter flipped and transposed,
 *                  w'[c][k][r][s] = w[k][c][R-1-r][S-1-s], padding dil·(R-1) - pad: im2col of dy
 *                  + cuBLAS write dx directly (no col2im; 1x1: one GEMM dx[n] = wᵀ·dy[n]).
 *                  Otherwise (strided, or few input channels as MNIST conv1): dcol[n] (CRS, PQ)
 *                  = wᵀ (CRS, K) · dy[n] (K, PQ) in fp32, then col2im gathers dx (each element
 *                  sums its R·S taps: one writer, no atomics). fp32 and fp16/bf16 on sm_80+, any
 *                  stride up to 4: also the implicit GEMM by stride phases (conv_igemm.cuh's
 *                  dgrad_plan: per phase of dx's pixels a forward implicit GEMM of dy with the
 *                  taps that reach it, no multiplications by zero), timed against the above.
 * backward-filter  one reduction GEMM over L = nb·PQ: dw (K, CRS) = dy' (K, L) · colᵀ (L, CRS),
 *                  with col laid out (CRS, nb·PQ) and dy transposed per chunk to dy' (K, nb·PQ).
 *                  The reduction is cut into S slices (a strided-batched GEMM into fp32 partials,
 *                  S chosen to fill the GPU even for MNIST conv1's 32 x 9 output), then one kernel
 *                  adds the partials (and the chunks) in fp32 and writes dw in the dtype. fp32 and
 *                  fp16/bf16 on sm_80+: also the implicit GEMMs (col gathered per tile, the
 *                  slices' partials reduced by the same kernel), timed against this way once.
 * Index math is 32-bit with fast division (fastdiv.h): a lowered chunk stays below 2^31 elements.
 *
 * Also here: conv_layout_cuda, the NCHW <-> NHWC transposes of the cuDNN variant's channels-last
 * path (backend_cudnn.c): per image a (C, H·W) matrix to (H·W, C) and back, filters (K, C, R·S) to
 * (K, R·S, C), through 32 x 32 shared-memory tiles so reads and writes are both coalesced. */
#include "cuda_check.h"
#include "cuda_launch.cuh"
#include "cuda_ops.h"
#include "cuda_state.h"
#include "dtype_cuda.cuh"
#include "fastdiv.h"
#include "conv_igemm.cuh"
#include "conv_igemm_f32.cuh"
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <type_traits>

#define WORKSPACE_MAX ((size_t)256 << 20)   /* lowered matrices of one chunk */
#define PARTIALS_MAX ((size_t)64 << 20)     /* backward-filter's fp32 partial sums */
#define SLICE_MIN 1024                      /* reduction length below which a slice is not worth it */

/* One forward-style lowering: input (C, H, W) per image -> col (C·R·S, P·Q) per image. */
struct geom {
    int C, H, W, R, S, P, Q, stride, padh, padw, dil;
    struct fastdiv fCRS, fRS, fS, fQ;     /* im2col: row -> (n, c, r, s), pq -> (p, q) */
    struct fastdiv fW, fH, fC;            /* col2im: element -> (n, c, h, w) */
};

static geom make_geom(int C, int H, int W, int R, int S, int P, int Q, int stride, int padh, int padw, int dil)
{
    geom g;
    g.C = C; g.H = H; g.W = W; g.R = R; g.S = S; g.P = P; g.Q = Q;
    g.stride = stride; g.padh = padh; g.padw = padw; g.dil = dil;
    g.fCRS = fastdiv_make((uint32_t)(C * R * S));
    g.fRS = fastdiv_make((uint32_t)(R * S));
    g.fS = fastdiv_make((uint32_t)S);
    g.fQ = fastdiv_make((uint32_t)Q);
    g.fW = fastdiv_make((uint32_t)W);
    g.fH = fastdiv_make((uint32_t)H);
    g.fC = fastdiv_make((uint32_t)C);
    return g;
}

/* One block per col row (n, c, r, s): threads run along P·Q, so consecutive threads write
 * consecutive elements and read consecutive (stride 1) or evenly spaced input columns.
 * cn_layout 0: col[n][crs][pq] (per-image matrices); 1: col[crs][n][pq] (one (CRS, nb·PQ) matrix). */
template <class T>
__global__ void im2col_kernel(geom g, int nb, int cn_layout, const T *__restrict__ x, T *__restrict__ col)
{
    const uint32_t row = blockIdx.x, crs_n = (uint32_t)(g.C * g.R * g.S), PQ = (uint32_t)(g.P * g.Q);
    const uint32_t n = fastdiv_div(row, g.fCRS), crs = row - n * crs_n;
    const uint32_t c = fastdiv_div(crs, g.fRS), rs = crs - c * (uint32_t)(g.R * g.S);
    const uint32_t r = fastdiv_div(rs, g.fS), s = rs - r * (uint32_t)g.S;
    const T *xc = x + ((size_t)n * g.C + c) * g.H * g.W;
    T *dst = col + (cn_layout ? (size_t)crs * nb + n : (size_t)row) * PQ;
    const int dh = (int)r * g.dil - g.padh, dw = (int)s * g.dil - g.padw;
    for (uint32_t pq = blockIdx.y * blockDim.x + threadIdx.x; pq < PQ; pq += gridDim.y * blockDim.x) {
        uint32_t p = fastdiv_div(pq, g.fQ), q = pq - p * (uint32_t)g.Q;
        int h = (int)p * g.stride + dh, v = (int)q * g.stride + dw;
        T val = T{};
        if ((unsigned)h < (unsigned)g.H && (unsigned)v < (unsigned)g.W) val = xc[h * g.W + v];
        dst[pq] = val;
    }
}

/* dx[n][c][h][v] = Σ over the (r, s) taps that land on an output position of dcol[n][(c,r,s)][(p,q)]:
 * a gather, one writer per element, no atomics. total = nb·C·H·W < 2^31. */
template <class T>
__global__ void col2im_kernel(uint32_t total, geom g, const float *__restrict__ dcol, T *__restrict__ dx)
{
    const size_t PQ = (size_t)g.P * g.Q;
    for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
        uint32_t t1 = fastdiv_div(i, g.fW), v = i - t1 * (uint32_t)g.W;
        uint32_t t2 = fastdiv_div(t1, g.fH), h = t1 - t2 * (uint32_t)g.H;
        uint32_t n = fastdiv_div(t2, g.fC), c = t2 - n * (uint32_t)g.C;
        const float *base = dcol + ((size_t)n * g.C + c) * g.R * g.S * PQ;
        float acc = 0.f;
        for (int r = 0; r < g.R; r++) {
            int ph = (int)h + g.padh - r * g.dil;
            if (ph < 0 || ph % g.stride) continue;
            int p = ph / g.stride;
            if (p >= g.P) continue;
            for (int s = 0; s < g.S; s++) {
                int qv = (int)v + g.padw - s * g.dil;
                if (qv < 0 || qv % g.stride) continue;
                int q = qv / g.stride;
                if (q >= g.Q) continue;
                acc += base[((size_t)r * g.S + s) * PQ + (size_t)p * g.Q + q];
            }
        }
        dx[i] = from_f32<T>(acc);
    }
}

/* wt[c][k][r][s] = w[k][c][R-1-r][S-1-s]: backward-data's filter as a forward filter. */
template <class T>
__global__ void flip_filter_kernel(uint32_t total, int K, int C, int R, int S, const T *__restrict__ w, T *__restrict__ wt)
{
    for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
        uint32_t s = i % S, r = i / S % R, k = i / (S * R) % K, c = i / ((uint32_t)S * R * K);
        wt[i] = w[(((size_t)k * C + c) * R + (R - 1 - r)) * S + (S - 1 - s)];
    }
}

/* out[j] = (first ? 0 : acc[j]) + Σ_k partial[k][j], into acc, or (last) into out in the dtype. */
template <class T>
__global__ void dw_reduce_kernel(uint32_t count, int slots, const float *__restrict__ partial, float *__restrict__ acc,
                                 int first, int last, T *__restrict__ out)
{
    for (uint32_t j = blockIdx.x * blockDim.x + threadIdx.x; j < count; j += gridDim.x * blockDim.x) {
        float s = first ? 0.f : acc[j];
        for (int k = 0; k < slots; k++) s += partial[(size_t)k * count + j];
        if (last) out[j] = from_f32<T>(s);
        else acc[j] = s;
    }
}

/* What the last call ran, for the row's impl column. */
static char note[320];

/* One device workspace for every lowering, grown on demand (never while a graph is captured:
 * the train workload runs one eager step first). */
static void *workspace(size_t bytes)
{
    static void *ws;
    static size_t have;
    if (bytes <= have) return ws;
    if (ws) cudaFree(ws);
    ws = NULL;
    have = 0;
    cudaError_t e = cudaMalloc(&ws, bytes);
    if (e != cudaSuccess) { cuda_fail(e, "cudaMalloc(conv workspace)", __FILE__, __LINE__); ws = NULL; return NULL; }
    have = bytes;
    return ws;
}

static size_t align256(size_t b) { return (b + 255) & ~(size_t)255; }

struct gemm_types { cudaDataType_t in; cublasComputeType_t ct; };
static gemm_types types_of(enum dtype dt)
{
    gemm_types t = {CUDA_R_32F, CUBLAS_COMPUTE_32F};
    if (dt == DT_F16) t.in = CUDA_R_16F;
    if (dt == DT_BF16) t.in = CUDA_R_16BF;
    if (dt == DT_TF32) t.ct = CUBLAS_COMPUTE_32F_FAST_TF32;
    return t;
}

/* WORKSPACE_MAX, or DLBENCH_CONV_WS_MAX bytes (tests force several chunks with it). */
static size_t workspace_max(void)
{
    static size_t max;
    if (!max) {
        const char *e = getenv("DLBENCH_CONV_WS_MAX");
        long long v = e ? atoll(e) : 0;
        max = v > 0 ? (size_t)v : WORKSPACE_MAX;
    }
    return max;
}

/* Images per chunk so that per_image bytes each fit the workspace (at least one). */
static int chunk_of(size_t per_image, int n)
{
    size_t c = workspace_max() / (per_image ? per_image : 1);
    return c < 1 ? 1 : c > (size_t)n ? n : (int)c;
}

static int too_large(size_t elems, const char *what)
{
    if (elems <= (size_t)INT_MAX) return 0;
    cuda_set_error("unsupported: %s of %zu elements per image exceeds 32-bit indexing", what, elems);
    return 1;
}

template <class T>
static int im2col(const geom &g, int nb, int cn_layout, const T *x, T *col)
{
    uint32_t PQ = (uint32_t)(g.P * g.Q), threads = PQ >= THREADS ? THREADS : (PQ + 31) / 32 * 32;
    uint32_t by = (PQ + threads - 1) / threads;
    dim3 grid((unsigned)nb * (unsigned)(g.C * g.R * g.S), by > 65535 ? 65535 : by);
    im2col_kernel<T><<<grid, threads, 0, cuda_stream>>>(g, nb, cn_layout, x, col);
    CUDA_CHECK_LAUNCH();
    return 0;
}

/* y (N, K, P·Q) = forward convolution of x (N, C, H, W) with w (K, C, R, S) under g; col: a
 * workspace of nb images' lowered matrices (NULL when g is pointwise). */
template <class T>
static int forward_im2col(enum dtype dt, int N, int K, const geom &g, const T *x, const T *w, T *y, T *col, int nb)
{
    static const float one = 1.f, zero = 0.f;
    gemm_types ty = types_of(dt);
    long long crs = (long long)g.C * g.R * g.S, pq = (long long)g.P * g.Q, xs = (long long)g.C * g.H * g.W, ys = K * pq;
    if (!col) { /* pointwise: y[n] (K, HW) = w (K, C) · x[n] (C, HW), the whole batch in one call */
        CUBLAS_CHECK(cublas_lib.GemmStridedBatchedEx(cublas_handle, CUBLAS_OP_N, CUBLAS_OP_N, (int)pq, K, (int)crs, &one, x, ty.in,
                                                     (int)pq, xs, w, ty.in, (int)crs, 0, &zero, y, ty.in, (int)pq, ys, N, ty.ct,
                                                     CUBLAS_GEMM_DEFAULT));
        return 0;
    }
    for (int n0 = 0; n0 < N; n0 += nb) {
        int nc = N - n0 < nb ? N - n0 : nb;
        if (im2col<T>(g, nc, 0, x + n0 * xs, col)) return -1;
        /* column-major view: y[n]ᵀ (PQ, K) = col[n]ᵀ (PQ, CRS) · wᵀ (CRS, K) */
        CUBLAS_CHECK(cublas_lib.GemmStridedBatchedEx(cublas_handle, CUBLAS_OP_N, CUBLAS_OP_N, (int)pq, K, (int)crs, &one, col, ty.in,
                                                     (int)pq, crs * pq, w, ty.in, (int)crs, 0, &zero, y + n0 * ys, ty.in, (int)pq, ys,
                                                     nc, ty.ct, CUBLAS_GEMM_DEFAULT));
    }
    return 0;
}

/* fp16/bf16 on sm_80+: the implicit GEMM of conv_igemm.cuh (grid of 64 × 128 output tiles). In
 * (r, s, c) order (ig.rsc) with taps (R·S > 1) the filter is first copied as (K, R, S, C) into wt. */
template <class T>
static int forward_igemm(const igemm_geom &ig, const T *x, const T *w, T *y, T *wt)
{
    dim3 grid((unsigned)((ig.NPQ + IG_BN - 1) / IG_BN), (unsigned)((ig.K + IG_BM - 1) / IG_BM));
    if (ig.rsc && ig.R * ig.S > 1) {
        unsigned wn = (unsigned)((size_t)ig.K * ig.CRS);
        conv_filter_rsc_kernel<uint16_t><<<grid_for(wn), THREADS, 0, cuda_stream>>>(wn, ig.C, ig.R * ig.S, (const uint16_t *)w, (uint16_t *)wt);
        CUDA_CHECK_LAUNCH();
        w = wt;
    }
    /* the kernel without cp.async filter loads gathers in (c, r, s) order: it gets ig.rsc only
     * where R·S = 1 (an unaligned w), the same order */
    if (ig.CRS % 8 == 0 && ((uintptr_t)w & 15) == 0)
        conv_igemm_kernel<T, true><<<grid, IG_THREADS, conv_igemm_smem(), cuda_stream>>>(ig, x, w, y);
    else
        conv_igemm_kernel<T, false><<<grid, IG_THREADS, conv_igemm_smem(), cuda_stream>>>(ig, x, w, y);
    CUDA_CHECK_LAUNCH();
    return 0;
}

/* fp32 (not tf32, whose rows measure cuBLAS's tensor-core math): the FFMA implicit GEMM. */
static int forward_igemm_f32(const igemm_geom &ig, const float *x, const float *w, float *y)
{
    dim3 grid((unsigned)((ig.NPQ + FG_BN - 1) / FG_BN), (unsigned)((ig.K + FG_BM - 1) / FG_BM));
    conv_igemm_f32_kernel<<<grid, FG_THREADS, conv_igemm_f32_smem(), cuda_stream>>>(ig, x, w, y);
    CUDA_CHECK_LAUNCH();
    return 0;
}

/* Which way a lowering runs (the forward, dir 0; the backward-filter, dir 1; the backward-data,
 * dir 2), per geometry and dtype, for fp32 and, on sm_80+, fp16/bf16: the faster of the two
 * (way_choose: each timed once outside any capture; under a capture an untimed case takes
 * im2col). DLBENCH_CONV_PATH=igemm|im2col (or conv_cuda_force_path) forces one way. */
static int force_path = -1;   /* -1: not read yet; 0 measure; 1 im2col; 2 implicit GEMM */
static way_table conv_ways;
extern "C" void conv_cuda_force_path(int path) { force_path = path; }
extern "C" int conv_cuda_has_igemm(void) { return cuda_cc >= 80; }

/* Runs igemm_way or im2col_way (the note already describes the latter) as chosen above. */
template <class A, class B>
static int run_chosen(enum dtype dt, int dir, const igemm_geom &ig, A igemm_way, B im2col_way, const char *how = "")
{
    if (force_path < 0) {
        const char *e = getenv("DLBENCH_CONV_PATH");
        force_path = e && !strcmp(e, "igemm") ? 2 : e && !strcmp(e, "im2col") ? 1 : 0;
    }
    char what[160];
    snprintf(what, sizeof what, "%s%s%s",
             dt == DT_F32 ? "implicit GEMM in fp32 FFMA (64x128 tiles)" : "implicit GEMM on the tensor cores (mma.sync, 64x128 tiles)",
             ig.rsc ? ", taps outer" : "", how);
    if ((dt != DT_F32 && cuda_cc < 80) || (long long)ig.N * ig.P * ig.Q >= INT_MAX || force_path == 1) return im2col_way();
    if (force_path == 2) {
        snprintf(note, sizeof note, "%s, forced", what);
        return igemm_way();
    }
    struct { igemm_geom g; int dt, dir; } key;
    memset(&key, 0, sizeof key);
    key.g = ig;
    key.dt = dt;
    key.dir = dir;
    way_choice c;
    int rc = way_choose(&conv_ways, &key, sizeof key, igemm_way, im2col_way, [] { return 0; }, &c);
    if (rc <= 0) return rc < 0 ? -1 : im2col_way();
    char was[160];   /* the callers' notes are shorter */
    memcpy(was, note, sizeof was - 1);
    was[sizeof was - 1] = 0;
    if (c.best == 0) {
        snprintf(note, sizeof note, "%.112s, measured %.3f ms against %.3f ms for %s", what, c.ms[0], c.ms[1], was);
        return igemm_way();
    }
    snprintf(note, sizeof note, "%s; measured %.3f ms against %.3f ms for the implicit GEMM", was, c.ms[1], c.ms[0]);
    return im2col_way();
}

/* y (N, K, P·Q) = forward convolution of x with w under g, by im2col + cuBLAS or by the implicit
 * GEMM (fp32; fp16/bf16 on sm_80+), whichever measured faster for this geometry. wt: room for the
 * filter in (r, s, c) order (fp16/bf16; the implicit GEMM writes it where C is a multiple of 32
 * and R·S > 1). */
template <class T>
static int forward_lowered(enum dtype dt, int N, int K, const geom &g, const T *x, const T *w, T *y, T *col, int nb, T *wt)
{
    auto im2col_way = [&] { return forward_im2col<T>(dt, N, K, g, x, w, y, col, nb); };
    igemm_geom ig = igemm_geom_make(N, g.C, g.H, g.W, K, g.R, g.S, g.P, g.Q, g.stride, g.padh, g.padw, g.dil);
    ig.rsc = sizeof(T) == 2 && igemm_rsc_ok(ig);
    if constexpr (sizeof(T) == 2) return run_chosen(dt, 0, ig, [&] { return forward_igemm<T>(ig, x, w, y, wt); }, im2col_way);
    else if (dt != DT_F32) return im2col_way();
    else return run_chosen(dt, 0, ig, [&] { return forward_igemm_f32(ig, x, w, y); }, im2col_way);
}

static int is_pointwise(const geom &g)
{
    return g.R == 1 && g.S == 1 && g.stride == 1 && g.padh == 0 && g.padw == 0;
}

template <class T>
static int conv_forward(enum dtype dt, const struct conv_shape *s, const T *x, const T *w, T *y)
{
    geom g = make_geom(s->c, s->h, s->w, s->r, s->s, conv_p(s), conv_q(s), s->stride, s->pad, s->pad, s->dil);
    if (is_pointwise(g)) {
        snprintf(note, sizeof note, "1x1: cuBLAS strided-batched GEMM over %d images on x, no im2col", s->n);
        return forward_lowered<T>(dt, s->n, s->k, g, x, w, y, NULL, 0, NULL);
    }
    size_t per = (size_t)g.C * g.R * g.S * g.P * g.Q;
    if (too_large(per, "im2col")) return -1;
    int nb = chunk_of(per * sizeof(T), s->n);
    /* one workspace for both ways: room for the implicit GEMM's reordered filter (fp16/bf16), then
     * im2col's columns */
    size_t wtb = sizeof(T) == 2 ? align256(conv_w_elems(s) * sizeof(T)) : 0;
    char *ws = (char *)workspace(wtb + per * sizeof(T) * nb);
    if (!ws) return -1;
    T *col = (T *)(ws + wtb);
    snprintf(note, sizeof note, "im2col + cuBLAS strided-batched GEMM, %d chunk(s) of %d images (col %.1f MiB)",
             (s->n + nb - 1) / nb, nb, per * sizeof(T) * nb / 1048576.0);
    return forward_lowered<T>(dt, s->n, s->k, g, x, w, y, col, nb, (T *)ws);
}

/* Stride 1: dx = forward convolution of dy with the flipped, transposed filter, im2col + cuBLAS. */
template <class T>
static int bwd_data_as_forward(enum dtype dt, const struct conv_shape *s, const T *dy, const T *w, T *dx, int ph, int pw)
{
    int P = conv_p(s), Q = conv_q(s);
    geom g = make_geom(s->k, P, Q, s->r, s->s, s->h, s->w, 1, ph, pw, s->dil);
    size_t wbytes = align256(conv_w_elems(s) * sizeof(T)), per = (size_t)s->k * s->r * s->s * s->h * s->w;
    if (too_large(per, "im2col of dy")) return -1;
    int pointwise = is_pointwise(g), nb = pointwise ? 0 : chunk_of(per * sizeof(T), s->n);
    char *ws = (char *)workspace(wbytes + (pointwise ? 0 : per * sizeof(T) * nb));
    if (!ws) return -1;
    T *wt = (T *)ws;
    uint32_t wn = (uint32_t)conv_w_elems(s);
    flip_filter_kernel<T><<<grid_for(wn), THREADS, 0, cuda_stream>>>(wn, s->k, s->c, s->r, s->s, w, wt);
    CUDA_CHECK_LAUNCH();
    if (pointwise) snprintf(note, sizeof note, "1x1: dx = wᵀ·dy, cuBLAS strided-batched GEMM over %d images", s->n);
    else
        snprintf(note, sizeof note, "forward conv of dy with the flipped filter: im2col + strided-batched GEMM, %d chunk(s) of %d",
                 (s->n + nb - 1) / nb, nb);
    return forward_im2col<T>(dt, s->n, s->c, g, dy, wt, dx, pointwise ? NULL : (T *)(ws + wbytes), nb);
}

/* Any stride on the implicit GEMM (fp32; fp16/bf16 on sm_80+): the stride phases of
 * conv_igemm.cuh's dgrad_plan, each a forward implicit GEMM of dy with its sub-filter into its
 * pixels of dx (stride 1: one phase, the flipped filter), all phases in one launch. */
template <class T>
static int bwd_data_igemm(const dgrad_plan &pl, const struct conv_shape *s, const T *dy, const T *w, T *dx)
{
    typedef typename std::conditional<sizeof(T) == 2, uint16_t, uint32_t>::type bits;
    T *wsub = (T *)workspace((size_t)pl.welems * sizeof(T));
    if (!wsub) return -1;
    unsigned wn = (unsigned)conv_w_elems(s);
    dgrad_filter_kernel<bits><<<grid_for(wn), THREADS, 0, cuda_stream>>>(wn, pl, (const bits *)w, (bits *)wsub);
    CUDA_CHECK_LAUNCH();
    if (pl.zero_first) CUDA_CHECK(cudaMemsetAsync(dx, 0, conv_x_elems(s) * sizeof(T), cuda_stream));
    if (!pl.phases) return 0;
    if constexpr (sizeof(T) == 2) {
        const bool vec = dgrad_vec(pl);
        dim3 grid((unsigned)dgrad_col_tiles(pl, IG_BN), (unsigned)((s->c + IG_BM - 1) / IG_BM), (unsigned)pl.phases);
        if (vec) conv_dgrad_igemm_kernel<T, true><<<grid, IG_THREADS, conv_igemm_smem(), cuda_stream>>>(pl, dy, wsub, dx);
        else conv_dgrad_igemm_kernel<T, false><<<grid, IG_THREADS, conv_igemm_smem(), cuda_stream>>>(pl, dy, wsub, dx);
    } else {
        dim3 grid((unsigned)dgrad_col_tiles(pl, FG_BN), (unsigned)((s->c + FG_BM - 1) / FG_BM), (unsigned)pl.phases);
        conv_dgrad_igemm_f32_kernel<<<grid, FG_THREADS, conv_igemm_f32_smem(), cuda_stream>>>(pl, dy, wsub, dx);
    }
    CUDA_CHECK_LAUNCH();
    return 0;
}

/* Any stride: fp32 dcol = wᵀ · dy per image (one strided-batched GEMM per chunk), col2im gather. */
template <class T>
static int bwd_data_col2im(enum dtype dt, const struct conv_shape *s, const T *dy, const T *w, T *dx)
{
    static const float one = 1.f, zero = 0.f;
    gemm_types ty = types_of(dt);
    geom g = make_geom(s->c, s->h, s->w, s->r, s->s, conv_p(s), conv_q(s), s->stride, s->pad, s->pad, s->dil);
    long long crs = (long long)g.C * g.R * g.S, pq = (long long)g.P * g.Q, xs = (long long)g.C * g.H * g.W, ys = s->k * pq;
    size_t per = (size_t)(crs * pq);
    if (too_large(per, "dcol") || too_large((size_t)xs, "dx")) return -1;
    int nb = chunk_of(per * 4, s->n);
    if ((size_t)nb * xs > (size_t)INT_MAX) nb = (int)(INT_MAX / xs);
    float *dcol = (float *)workspace(per * 4 * nb);
    if (!dcol) return -1;
    snprintf(note, sizeof note, "cuBLAS GEMM to fp32 dcol + col2im gather, %d chunk(s) of %d images", (s->n + nb - 1) / nb, nb);
    for (int n0 = 0; n0 < s->n; n0 += nb) {
        int nc = s->n - n0 < nb ? s->n - n0 : nb;
        /* column-major: dcol[n]ᵀ (PQ, CRS) = dy[n]ᵀ (PQ, K) · w (K, CRS) */
        CUBLAS_CHECK(cublas_lib.GemmStridedBatchedEx(cublas_handle, CUBLAS_OP_N, CUBLAS_OP_T, (int)pq, (int)crs, s->k, &one,
                                                     dy + n0 * ys, ty.in, (int)pq, ys, w, ty.in, (int)crs, 0, &zero, dcol,
                                                     CUDA_R_32F, (int)pq, crs * pq, nc, ty.ct, CUBLAS_GEMM_DEFAULT));
        uint32_t total = (uint32_t)(nc * xs);
        col2im_kernel<T><<<grid_for(total), THREADS, 0, cuda_stream>>>(total, g, dcol, dx + n0 * xs);
        CUDA_CHECK_LAUNCH();
    }
    return 0;
}

/* Slices of a reduction of length L so that about two waves of output tiles run: S >= 1, each
 * slice a multiple of 8 elements (16-byte aligned starts), the rest in a tail GEMM. */
static void slices_of(long long L, int K, long long crs, int *S, long long *Ls, long long *tail)
{
    long long tiles = ((K + 63) / 64) * ((crs + 63) / 64), s = (2LL * cuda_sm_count + tiles - 1) / tiles;
    long long by_len = L / SLICE_MIN, by_mem = (long long)(PARTIALS_MAX / ((size_t)K * crs * 4)) - 1;
    if (s > by_len) s = by_len;
    if (s > by_mem) s = by_mem;
    if (s > 64) s = 64;
    if (s < 2) { *S = 1; *Ls = L; *tail = 0; return; }
    *S = (int)s;
    *Ls = (L / s) & ~7LL;
    *tail = L - s * *Ls;
}

template <class T>
static int bwd_filter_im2col(enum dtype dt, const struct conv_shape *s, const T *x, const T *dy, T *dw)
{
    static const float one = 1.f, zero = 0.f;
    gemm_types ty = types_of(dt);
    geom g = make_geom(s->c, s->h, s->w, s->r, s->s, conv_p(s), conv_q(s), s->stride, s->pad, s->pad, s->dil);
    long long crs = (long long)g.C * g.R * g.S, pq = (long long)g.P * g.Q, xs = (long long)g.C * g.H * g.W, ys = s->k * pq;
    size_t count = (size_t)(s->k * crs), per = (size_t)((crs + s->k) * pq);   /* col and dy' of one image */
    if (too_large(per, "im2col") || too_large(count, "dw")) return -1;
    int nb = chunk_of(per * sizeof(T), s->n), S;
    long long Ls, tail;
    slices_of(nb * pq, s->k, crs, &S, &Ls, &tail);
    size_t col_b = align256((size_t)(crs * pq) * nb * sizeof(T)), dyt_b = align256((size_t)(s->k * pq) * nb * sizeof(T));
    size_t part_b = align256((size_t)(S + 1) * count * 4), acc_b = s->n > nb ? count * 4 : 0;
    char *ws = (char *)workspace(col_b + dyt_b + part_b + acc_b);
    if (!ws) return -1;
    T *col = (T *)ws, *dyt = (T *)(ws + col_b);
    float *part = (float *)(ws + col_b + dyt_b), *acc = (float *)(ws + col_b + dyt_b + part_b);
    geom gt = make_geom(s->k, g.P, g.Q, 1, 1, g.P, g.Q, 1, 0, 0, 1);   /* dy (nb, K, PQ) -> dy' (K, nb·PQ) */
    int chunks = (s->n + nb - 1) / nb;
    snprintf(note, sizeof note, "im2col + 1 cuBLAS GEMM over N·P·Q in %d slice(s) of %lld + fp32 reduce, %d chunk(s) of %d",
             S, Ls, chunks, nb);
    for (int n0 = 0; n0 < s->n; n0 += nb) {
        int nc = s->n - n0 < nb ? s->n - n0 : nb;
        long long L = nc * pq;
        const T *a = col, *b = dyt;
        if (is_pointwise(g) && nc == 1) a = x + n0 * xs;               /* x[n] is already (C, PQ) */
        else if (im2col<T>(g, nc, 1, x + n0 * xs, col)) return -1;
        if (nc == 1) b = dy + n0 * ys;                                  /* dy[n] is already (K, PQ) */
        else if (im2col<T>(gt, nc, 1, dy + n0 * ys, dyt)) return -1;
        int Sc = S;
        long long Lsc = Ls, tc = tail;
        if (nc != nb) slices_of(L, s->k, crs, &Sc, &Lsc, &tc);          /* the last, smaller chunk */
        /* column-major: partial[i]ᵀ (CRS, K) = col[:, slice i] (CRS, Ls) · dy'[:, slice i]ᵀ (Ls, K) */
        CUBLAS_CHECK(cublas_lib.GemmStridedBatchedEx(cublas_handle, CUBLAS_OP_T, CUBLAS_OP_N, (int)crs, s->k, (int)Lsc, &one, a, ty.in,
                                                     (int)L, Lsc, b, ty.in, (int)L, Lsc, &zero, part, CUDA_R_32F, (int)crs,
                                                     (long long)count, Sc, ty.ct, CUBLAS_GEMM_DEFAULT));
        if (tc > 0)
            CUBLAS_CHECK(cublas_lib.GemmEx(cublas_handle, CUBLAS_OP_T, CUBLAS_OP_N, (int)crs, s->k, (int)tc, &one, a + Sc * Lsc, ty.in,
                                           (int)L, b + Sc * Lsc, ty.in, (int)L, &zero, part + (size_t)Sc * count, CUDA_R_32F,
                                           (int)crs, ty.ct, CUBLAS_GEMM_DEFAULT));
        dw_reduce_kernel<T><<<grid_for(count), THREADS, 0, cuda_stream>>>((uint32_t)count, Sc + (tc > 0), part, acc, n0 == 0,
                                                                           n0 + nc == s->n, dw);
        CUDA_CHECK_LAUNCH();
    }
    return 0;
}

/* The implicit GEMM's slices into fp32 partials (fp32: FFMA; fp16/bf16: tensor cores), then the
 * same reduce. */
template <class T>
static int bwd_filter_igemm(const igemm_geom &ig, const T *x, const T *dy, T *dw)
{
    int slices, per = wgrad_slice_len(ig, cuda_sm_count, PARTIALS_MAX, &slices);
    size_t count = (size_t)ig.K * ig.CRS;
    float *part = (float *)workspace((size_t)slices * count * 4);
    if (!part) return -1;
    dim3 grid((unsigned)((ig.CRS + IG_BN - 1) / IG_BN), (unsigned)((ig.K + IG_BM - 1) / IG_BM), (unsigned)slices);
    if constexpr (sizeof(T) == 2) {
        if (ig.rsc) conv_wgrad_igemm_kernel<T, true><<<grid, IG_THREADS, conv_igemm_smem(), cuda_stream>>>(ig, per, x, dy, part);
        else conv_wgrad_igemm_kernel<T, false><<<grid, IG_THREADS, conv_igemm_smem(), cuda_stream>>>(ig, per, x, dy, part);
    } else
        conv_wgrad_igemm_f32_kernel<<<grid, FG_THREADS, conv_igemm_f32_smem(), cuda_stream>>>(ig, per, x, dy, part);
    CUDA_CHECK_LAUNCH();
    dw_reduce_kernel<T><<<grid_for(count), THREADS, 0, cuda_stream>>>((uint32_t)count, slices, part, nullptr, 1, 1, dw);
    CUDA_CHECK_LAUNCH();
    return 0;
}

template <class T>
static int conv_bwd_filter(enum dtype dt, const struct conv_shape *s, const T *x, const T *dy, T *dw)
{
    auto im2col_way = [&] { return bwd_filter_im2col<T>(dt, s, x, dy, dw); };
    if (sizeof(T) != 2 && dt != DT_F32) return im2col_way();
    igemm_geom ig = igemm_geom_make(s->n, s->c, s->h, s->w, s->k, s->r, s->s, conv_p(s), conv_q(s), s->stride, s->pad, s->pad, s->dil);
    ig.rsc = sizeof(T) == 2 && igemm_rsc_ok(ig);
    return run_chosen(dt, 1, ig, [&] { return bwd_filter_igemm<T>(ig, x, dy, dw); }, im2col_way);
}

/* Backward-data: the implicit GEMM by stride phases, timed against the lowered way: the
 * flipped-filter forward, which lowers dy (K·R·S rows of H·W, in the dtype), or the col2im route,
 * which writes fp32 dcol (C·R·S rows of P·Q) and reads it back once more; of those two the fewer
 * bytes (MNIST conv1, C = 1, K = 32: col2im), the flipped route on a tie (one kernel less). */
template <class T>
static int conv_bwd_data(enum dtype dt, const struct conv_shape *s, const T *dy, const T *w, T *dx)
{
    int ph = s->dil * (s->r - 1) - s->pad, pw = s->dil * (s->s - 1) - s->pad;
    int pointwise = s->r == 1 && s->s == 1 && s->pad == 0;
    auto lowered_way = [&] {
        if (s->stride == 1 && ph >= 0 && pw >= 0 && (pointwise || (size_t)s->k * sizeof(T) <= (size_t)s->c * 4))
            return bwd_data_as_forward<T>(dt, s, dy, w, dx, ph, pw);
        return bwd_data_col2im<T>(dt, s, dy, w, dx);
    };
    dgrad_plan pl;
    if ((sizeof(T) != 2 && dt != DT_F32) || (long long)s->n * s->h * s->w >= INT_MAX ||
        dgrad_plan_make(&pl, s->n, s->c, s->h, s->w, s->k, s->r, s->s, conv_p(s), conv_q(s), s->stride, s->pad, s->dil, sizeof(T) == 2))
        return lowered_way();
    igemm_geom ig = igemm_geom_make(s->n, s->c, s->h, s->w, s->k, s->r, s->s, conv_p(s), conv_q(s), s->stride, s->pad, s->pad, s->dil);
    ig.rsc = pl.rsc;   /* for the note (and the choice's key) */
    char how[64];
    if (s->stride == 1) snprintf(how, sizeof how, ", dy with the flipped filter");
    else snprintf(how, sizeof how, ", %d stride phases%s", pl.phases, pl.zero_first ? " + zeroed pixels" : "");
    return run_chosen(dt, 2, ig, [&] { return bwd_data_igemm<T>(pl, s, dy, w, dx); }, lowered_way, how);
}

template <class T>
static int conv_typed(enum conv_dir d, enum dtype dt, const struct conv_shape *s, const void *a, const void *b, void *out)
{
    if (d == CONV_FWD) return conv_forward<T>(dt, s, (const T *)a, (const T *)b, (T *)out);
    if (d == CONV_BWD_FILTER) return conv_bwd_filter<T>(dt, s, (const T *)a, (const T *)b, (T *)out);
    return conv_bwd_data<T>(dt, s, (const T *)a, (const T *)b, (T *)out);
}

extern "C" int conv_cuda(enum conv_dir d, enum dtype dt, const struct conv_shape *s, const void *a, const void *b, void *out)
{
    note[0] = 0;
    if (s->n <= 0 || s->c <= 0 || s->k <= 0 || conv_p(s) <= 0 || conv_q(s) <= 0) {
        cuda_set_error("unsupported: empty convolution shape");
        return -1;
    }
    int rc = with_dtype(dt, [&](auto tag) { return conv_typed<decltype(tag)>(d, dt, s, a, b, out); });
    if (rc == 0) cuda_set_impl("%s", note);
    return rc;
}

extern "C" {
int conv_fwd_cuda(enum dtype dt, const struct conv_shape *s, const void *x, const void *w, void *y)
{ return conv_cuda(CONV_FWD, dt, s, x, w, y); }
int conv_bwd_data_cuda(enum dtype dt, const struct conv_shape *s, const void *dy, const void *w, void *dx)
{ return conv_cuda(CONV_BWD_DATA, dt, s, dy, w, dx); }
int conv_bwd_filter_cuda(enum dtype dt, const struct conv_shape *s, const void *x, const void *dy, void *dw)
{ return conv_cuda(CONV_BWD_FILTER, dt, s, x, dy, dw); }
}

/* Per batch item b: dst[b] (cols, rows) = src[b] (rows, cols)ᵀ, elements of T's size moved as bits.
 * Block 32 x 8: a 32 x 32 tile read along cols, written along rows (the +1 column keeps the
 * shared-memory reads of a warp in 32 banks). */
template <class T>
__global__ void layout_transpose_kernel(int rows, int cols, const T *__restrict__ src, T *__restrict__ dst)
{
    __shared__ T tile[32][33];
    size_t base = (size_t)blockIdx.z * rows * cols;
    int c0 = blockIdx.x * 32, r0 = blockIdx.y * 32;
    for (int i = threadIdx.y; i < 32; i += blockDim.y) {
        int r = r0 + i, c = c0 + threadIdx.x;
        if (r < rows && c < cols) tile[i][threadIdx.x] = src[base + (size_t)r * cols + c];
    }
    __syncthreads();
    for (int i = threadIdx.y; i < 32; i += blockDim.y) {
        int c = c0 + i, r = r0 + threadIdx.x;
        if (c < cols && r < rows) dst[base + (size_t)c * rows + r] = tile[threadIdx.x][i];
    }
}

extern "C" int conv_layout_cuda(enum dtype dt, int batch, int rows, int cols, const void *src, void *dst)
{
    if (batch <= 0 || rows <= 0 || cols <= 0) return 0;
    unsigned gx = (unsigned)((cols + 31) / 32), gy = (unsigned)((rows + 31) / 32);
    if (gy > 65535 || batch > 65535) {
        cuda_set_error("unsupported: a layout transpose of %d x (%d, %d) exceeds the grid", batch, rows, cols);
        return -1;
    }
    dim3 grid(gx, gy, (unsigned)batch), block(32, 8);
    if (dtype_size(dt) == 2)
        layout_transpose_kernel<uint16_t><<<grid, block, 0, cuda_stream>>>(rows, cols, (const uint16_t *)src, (uint16_t *)dst);
    else
        layout_transpose_kernel<uint32_t><<<grid, block, 0, cuda_stream>>>(rows, cols, (const uint32_t *)src, (uint32_t *)dst);
    CUDA_CHECK_LAUNCH();
    return 0;
}
