/* conv_igemm_f32.cuh: the fp32 implicit GEMMs (FFMA, no tensor cores, any GPU) beside the 16-bit
 * ones of conv_igemm.cuh: the forward y (K, N·P·Q) = w · col and the backward-filter dw (K, CRS) =
 * dy · colᵀ, col gathered tile by tile into shared memory and never written to device memory.
 * Device code only: launched by conv_cuda.cu (timed against im2col + cuBLAS per geometry), and run
 * on the CPU by tests/sim/conv_sim.cc.
 *
 * A block of 256 threads computes a 64 × 128 output tile in steps of 16 along the reduction;
 * thread (tm, tn) = (tid / 16, tid % 16) owns rows 4tm..4tm+3 and columns 4tn..4tn+3 and
 * 64+4tn..64+4tn+3 (32 accumulators; per step and k one float4 of A and two of B from shared
 * memory for 32 FMAs). Both tiles are stored k-major (A transposed, its rows padded to 68 floats
 * so the transposing stores conflict at most 2-way). The next step's values are loaded into
 * registers while this one is computed; one barrier per step. Gathers as in conv_igemm.cuh: a
 * thread owns one column of col (an output pixel for the forward, a (c, r, s) for the
 * backward-filter) and walks 8 of the step's 16 rows by counting. */
#ifndef DLBENCH_CONV_IGEMM_F32_CUH
#define DLBENCH_CONV_IGEMM_F32_CUH
#include "conv_igemm.cuh"

#define FG_THREADS 256
#define FG_BM 64
#define FG_BN 128
#define FG_BK 16
#define FG_LDA (FG_BM + 4)

/* Shared memory of a launch (bytes): two stages of the A and B tiles. */
static inline size_t conv_igemm_f32_smem(void) { return (size_t)2 * FG_BK * (FG_LDA + FG_BN) * 4; }

/* acc += A (16 × 64, k-major) · B (16 × 128, k-major) for this thread's 4 × 8 outputs. */
__device__ __forceinline__ void ffma_step(float (&acc)[4][8], const float *Ac, const float *Bc, int tm, int tn)
{
#pragma unroll
    for (int kk = 0; kk < FG_BK; kk++) {
        float4 a = *reinterpret_cast<const float4 *>(Ac + kk * FG_LDA + 4 * tm);
        float4 b0 = *reinterpret_cast<const float4 *>(Bc + kk * FG_BN + 4 * tn);
        float4 b1 = *reinterpret_cast<const float4 *>(Bc + kk * FG_BN + 64 + 4 * tn);
        const float av[4] = {a.x, a.y, a.z, a.w}, bv[8] = {b0.x, b0.y, b0.z, b0.w, b1.x, b1.y, b1.z, b1.w};
#pragma unroll
        for (int i = 0; i < 4; i++)
#pragma unroll
            for (int j = 0; j < 8; j++) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
    }
}

/* Thread tid's 8 values of the B tile go to rows 8·(tid / 128).., column tid % 128. */
__device__ __forceinline__ void ffma_store_b(float *Bs, const float (&v)[8], int tid)
{
#pragma unroll
    for (int i = 0; i < 8; i++) Bs[(8 * (tid / FG_BN) + i) * FG_BN + tid % FG_BN] = v[i];
}

/* Thread tid's 4 values of the A tile: k = tid % 16, rows tid / 16 + 16i. */
__device__ __forceinline__ void ffma_store_a(float *As, const float (&v)[4], int tid)
{
#pragma unroll
    for (int i = 0; i < 4; i++) As[(tid % FG_BK) * FG_LDA + tid / FG_BK + 16 * i] = v[i];
}

/* Forward, A = w (K, CRS): rows m0 + tid/16 + 16i, column k0 + tid % 16. */
__device__ __forceinline__ void ffma_fwd_load_a(float (&v)[4], const igemm_geom &g, const float *w, int m0, int k0, int tid)
{
    const int kc = k0 + tid % FG_BK;
#pragma unroll
    for (int i = 0; i < 4; i++) {
        int m = m0 + tid / FG_BK + 16 * i;
        v[i] = m < g.K && kc < g.CRS ? w[(size_t)m * g.CRS + kc] : 0.f;
    }
}

/* Forward, B = col: this thread's pixel (h0, w0 of image xn), rows k0 + 8·(tid / 128) + i. */
__device__ __forceinline__ void ffma_fwd_gather_b(float (&v)[8], const igemm_geom &g, const float *xn, int h0, int w0, bool col_ok, int k0)
{
    const int RS = g.R * g.S;
    int c = k0 / RS, rs = k0 - c * RS, r = rs / g.S, s = rs - r * g.S;
    const float *xc = xn + (size_t)c * g.H * g.W;
#pragma unroll
    for (int i = 0; i < 8; i++) {
        int ih = h0 + r * g.dil, iw = w0 + s * g.dil;
        v[i] = col_ok && k0 + i < g.CRS && (unsigned)ih < (unsigned)g.H && (unsigned)iw < (unsigned)g.W ? xc[ih * g.W + iw] : 0.f;
        if (++s == g.S) {
            s = 0;
            if (++r == g.R) { r = 0; xc += g.H * g.W; }
        }
    }
}

/* One block's 64 × 128 output tile at rows m0.., columns n0.. of the GEMM of g. */
__device__ __forceinline__ void ffma_fwd_block(const igemm_geom &g, int n0, int m0, const float *__restrict__ x, const float *__restrict__ w,
                                               float *__restrict__ y)
{
    extern __shared__ __align__(16) uint16_t smem[];
    float *As = reinterpret_cast<float *>(smem), *Bs = As + 2 * FG_BK * FG_LDA;
    const int tid = threadIdx.x, tm = tid / 16, tn = tid % 16;
    const int npq = n0 + tid % FG_BN;
    const bool col_ok = npq < g.NPQ;
    const int img = col_ok ? npq / g.PQ : 0, pq = col_ok ? npq - img * g.PQ : 0, p = pq / g.Q, q = pq - p * g.Q;
    const int h0 = p * g.stride - g.padh, w0 = q * g.stride - g.padw, kb = 8 * (tid / FG_BN);
    const float *xn = x + (size_t)img * g.C * g.H * g.W;
    float acc[4][8] = {};
    float av[4], bv[8];
    const int steps = (g.CRS + FG_BK - 1) / FG_BK;
    ffma_fwd_load_a(av, g, w, m0, 0, tid);
    ffma_fwd_gather_b(bv, g, xn, h0, w0, col_ok, kb);
    ffma_store_a(As, av, tid);
    ffma_store_b(Bs, bv, tid);
    __syncthreads();
    for (int st = 0; st < steps; st++) {
        const int cur = st & 1, k0 = (st + 1) * FG_BK;
        const bool more = st + 1 < steps;
        if (more) {   /* the next step's loads fly while this one is computed */
            ffma_fwd_load_a(av, g, w, m0, k0, tid);
            ffma_fwd_gather_b(bv, g, xn, h0, w0, col_ok, k0 + kb);
        }
        ffma_step(acc, As + cur * FG_BK * FG_LDA, Bs + cur * FG_BK * FG_BN, tm, tn);
        if (more) {
            ffma_store_a(As + (cur ^ 1) * FG_BK * FG_LDA, av, tid);
            ffma_store_b(Bs + (cur ^ 1) * FG_BK * FG_BN, bv, tid);
        }
        __syncthreads();
    }
#pragma unroll
    for (int j = 0; j < 8; j++) {
        int col = n0 + (j < 4 ? 4 * tn + j : 64 + 4 * tn + j - 4);
        if (col >= g.NPQ) continue;
        size_t base = igemm_out_base(g, col);
#pragma unroll
        for (int i = 0; i < 4; i++) {
            int m = m0 + 4 * tm + i;
            if (m < g.K) y[base + (size_t)m * g.OHW] = acc[i][j];
        }
    }
}

/* Grid (⌈N·P·Q / 128⌉, ⌈K / 64⌉), 256 threads, conv_igemm_f32_smem() bytes. */
__global__ void __launch_bounds__(FG_THREADS) conv_igemm_f32_kernel(igemm_geom g, const float *__restrict__ x, const float *__restrict__ w,
                                                                    float *__restrict__ y)
{
    ffma_fwd_block(g, blockIdx.x * FG_BN, blockIdx.y * FG_BM, x, w, y);
}

/* Backward-filter, A = dy (K, N·P·Q): column l = l0 + tid % 16 (its image and pixel found once),
 * rows m0 + tid/16 + 16i. */
__device__ __forceinline__ void ffma_wgrad_load_a(float (&v)[4], const igemm_geom &g, const float *dy, int m0, int l0, int l_end, int tid)
{
    const int l = l0 + tid % FG_BK, img = l / g.PQ, pq = l - img * g.PQ;
    const float *d = dy + (size_t)img * g.K * g.PQ + pq;
#pragma unroll
    for (int i = 0; i < 4; i++) {
        int m = m0 + tid / FG_BK + 16 * i;
        v[i] = l < l_end && m < g.K ? d[(size_t)m * g.PQ] : 0.f;
    }
}

/* Backward-filter, B = colᵀ: this thread's (c, r, s) column (xc = channel c of image 0, rd, sd the
 * tap's offsets), rows l0.. of the step walked pixel by pixel. */
__device__ __forceinline__ void ffma_wgrad_gather_b(float (&v)[8], const igemm_geom &g, const float *xc, int rd, int sd, bool col_ok, int l0,
                                                    int l_end)
{
    int img = l0 / g.PQ, pq = l0 - img * g.PQ, p = pq / g.Q, q = pq - p * g.Q;
    const size_t img_elems = (size_t)g.C * g.H * g.W;
    const float *xi = xc + (size_t)img * img_elems;
#pragma unroll
    for (int i = 0; i < 8; i++) {
        int ih = p * g.stride - g.padh + rd, iw = q * g.stride - g.padw + sd;
        v[i] = col_ok && l0 + i < l_end && (unsigned)ih < (unsigned)g.H && (unsigned)iw < (unsigned)g.W ? xi[ih * g.W + iw] : 0.f;
        if (++q == g.Q) {
            q = 0;
            if (++p == g.P) { p = 0; xi += img_elems; }
        }
    }
}

/* Grid (⌈CRS / 128⌉, ⌈K / 64⌉, slices), 256 threads; slice z covers l in [z·per, (z+1)·per) ∩
 * [0, N·P·Q) (per a multiple of 32, wgrad_slice_len) and writes part[z] (K, CRS) in fp32. */
__global__ void __launch_bounds__(FG_THREADS)
    conv_wgrad_igemm_f32_kernel(igemm_geom g, int per, const float *__restrict__ x, const float *__restrict__ dy, float *__restrict__ part)
{
    extern __shared__ __align__(16) uint16_t smem[];
    float *As = reinterpret_cast<float *>(smem), *Bs = As + 2 * FG_BK * FG_LDA;
    const int tid = threadIdx.x, tm = tid / 16, tn = tid % 16;
    const int n0 = blockIdx.x * FG_BN, m0 = blockIdx.y * FG_BM;
    const int l_begin = blockIdx.z * per, l_end = min(g.NPQ, l_begin + per), lb = 8 * (tid / FG_BN);
    const int crs = n0 + tid % FG_BN, RS = g.R * g.S;
    const bool col_ok = crs < g.CRS;
    const int c = col_ok ? crs / RS : 0, rs = col_ok ? crs - c * RS : 0, r = rs / g.S, sc = rs - r * g.S;
    const float *xc = x + (size_t)c * g.H * g.W;
    float acc[4][8] = {};
    float av[4], bv[8];
    const int steps = l_end > l_begin ? (l_end - l_begin + FG_BK - 1) / FG_BK : 0;
    if (steps > 0) {
        ffma_wgrad_load_a(av, g, dy, m0, l_begin, l_end, tid);
        ffma_wgrad_gather_b(bv, g, xc, r * g.dil, sc * g.dil, col_ok, l_begin + lb, l_end);
        ffma_store_a(As, av, tid);
        ffma_store_b(Bs, bv, tid);
    }
    __syncthreads();
    for (int st = 0; st < steps; st++) {
        const int cur = st & 1, l0 = l_begin + (st + 1) * FG_BK;
        const bool more = st + 1 < steps;
        if (more) {
            ffma_wgrad_load_a(av, g, dy, m0, l0, l_end, tid);
            ffma_wgrad_gather_b(bv, g, xc, r * g.dil, sc * g.dil, col_ok, l0 + lb, l_end);
        }
        ffma_step(acc, As + cur * FG_BK * FG_LDA, Bs + cur * FG_BK * FG_BN, tm, tn);
        if (more) {
            ffma_store_a(As + (cur ^ 1) * FG_BK * FG_LDA, av, tid);
            ffma_store_b(Bs + (cur ^ 1) * FG_BK * FG_BN, bv, tid);
        }
        __syncthreads();
    }
    float *out = part + (size_t)blockIdx.z * g.K * g.CRS;
#pragma unroll
    for (int j = 0; j < 8; j++) {
        int n = n0 + (j < 4 ? 4 * tn + j : 64 + 4 * tn + j - 4);
        if (n >= g.CRS) continue;
#pragma unroll
        for (int i = 0; i < 4; i++) {
            int m = m0 + 4 * tm + i;
            if (m < g.K) out[(size_t)m * g.CRS + n] = acc[i][j];
        }
    }
}

/* The backward-data's phases in one launch (conv_dgrad_igemm_kernel in fp32 FFMA): grid (the most
 * column tiles of a phase, ⌈C / 64⌉, phases), 256 threads, conv_igemm_f32_smem() bytes. */
__global__ void __launch_bounds__(FG_THREADS) conv_dgrad_igemm_f32_kernel(const __grid_constant__ dgrad_plan pl, const float *__restrict__ dy,
                                                                          const float *__restrict__ wsub, float *__restrict__ dx)
{
    const igemm_geom &g = pl.g[blockIdx.z];
    const int n0 = blockIdx.x * FG_BN, m0 = blockIdx.y * FG_BM;
    if (n0 >= g.NPQ || m0 >= g.K) return;
    ffma_fwd_block(g, n0, m0, dy, wsub + pl.woff[blockIdx.z], dx);
}
#endif
