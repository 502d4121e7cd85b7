/* conv_igemm.cuh: the forward convolution as an implicit GEMM on the tensor cores (fp16/bf16 in
 * and out, fp32 accumulation), NCHW: the im2col matrix is gathered tile by tile into shared
 * memory and never written to device memory. Device code only: launched by conv_cuda.cu (which
 * times it against im2col + cuBLAS per shape and keeps the faster), and run on the CPU by
 * tests/sim/conv_sim.cc to check it without a GPU.
 *
 * GEMM: y (K, N·P·Q) = w (K, CRS) · col (CRS, N·P·Q), col[crs][npq] = x[n][c][p·st + r·dil − pad]
 * [q·st + s·dil − pad] (zero outside). A block of 4 warps computes a 64 (K) × 128 (N·P·Q) tile,
 * warp (wm, wn) a 32 × 64 part of it with mma.sync m16n8k16; the reduction goes in steps of 32.
 * Each thread owns one column (an output pixel: its image, h0, w0 fixed) and gathers its 32
 * values of a step by 16-bit loads; consecutive threads read consecutive pixels, so a warp's loads
 * are coalesced along W (stride 1). Where C is a multiple of 32 (fp16/bf16) the reduction runs in
 * (r, s, c) order, the filter reordered to (K, R, S, C) by conv_filter_rsc_kernel first: a step is
 * one tap of 32 channels, its bounds checked once and its values one channel plane apart (sm_90
 * SASS: 235 instructions a warp per step of 32 mma.sync, against 867 in (c, r, s) order, where
 * each value advances (c, r, s) by counting and checks its own bounds). The thread's 32 values
 * go to its row of the B tile, stored [n][k], by four 16-byte stores. The w tile (64 × 32, rows
 * contiguous) comes by cp.async when CRS is a multiple of 8, else by 16-bit loads.
 * Double-buffered: the next step's loads are in flight while this one is computed; one barrier
 * per step. Shared memory rows are padded to 40 elements (80 bytes) so ldmatrix is conflict-free.
 * The backward-filter (conv_wgrad_igemm_kernel, below) is the same loop on dw (K, CRS) = dy ·
 * colᵀ, the reduction over N·P·Q cut into slices of fp32 partial sums; where C is a multiple of 32
 * its columns run in (r, s, c) order too (a thread gathers one pixel's 32 channels at one tap, the
 * tile stored [k][n]), 1241 -> 315 instructions a warp per step (K a multiple of 64; 1015 in
 * (c, r, s) order). The backward-data runs
 * the forward kernels once per stride phase of dx (dgrad_plan, at the end): each phase's output
 * pixels are every st-th of dx (igemm_geom's output mapping); its reduction runs over K, so the
 * (r, s, c) order applies where K is a multiple of 32 (the sub-filters written in that order).
 * Index math is 32-bit: the launcher takes tensors below 2^31 elements. */
#ifndef DLBENCH_CONV_IGEMM_CUH
#define DLBENCH_CONV_IGEMM_CUH
#include "fastdiv.h"
#include "mma_sm80.cuh"

#define IG_THREADS 128
#define IG_BM 64             /* output channels per block */
#define IG_BN 128            /* output pixels (N·P·Q) per block: one per thread */
#define IG_BK 32             /* reduction step */
#define IG_LDA (IG_BK + 8)   /* A (w) tile row: 80 bytes */
#define IG_LDBK (IG_BK + 8)  /* B (col) tile, stored [n][k]: a column's 32 values in one 80-byte row */
#define IG_LDB (IG_BN + 8)   /* or [k][n] (the backward-filter in (r, s, c) order): 272-byte rows */

#if defined(DLBENCH_CUDA_SIM) || defined(SM80_PTX)
#define IG_BODY 1
#endif

/* A forward convolution x (N, C, H, W) * w (K, C, R, S) -> y (N, K, P, Q). Its output pixel
 * (p, q) of image n, channel k, lands at y[(n·K + k)·OHW + o0 + os·(p·OW + q)]: y itself (OHW =
 * P·Q, OW = Q, os = 1, o0 = 0) or, for a stride phase of the backward-data (below), every os-th
 * pixel of a larger plane. */
struct igemm_geom {
    int N, C, H, W, K, R, S, P, Q, stride, padh, padw, dil;
    int CRS, PQ, NPQ;
    int OHW, OW, os, o0;
    int rsc;   /* 1: the reduction runs in (r, s, c) order and w is given as (K, R, S, C) (igemm_rsc_ok) */
    struct fastdiv fPQ, fQ;   /* the backward-filter's pixel l -> (image, p, q) each step */
};

static inline igemm_geom igemm_geom_make(int N, int C, int H, int W, int K, int R, int S, int P, int Q, int stride, int padh, int padw,
                                         int dil)
{
    igemm_geom g = {N, C, H, W, K, R, S, P, Q, stride, padh, padw, dil, C * R * S, P * Q, N * P * Q, P * Q, Q, 1, 0, 0,
                    fastdiv_make((uint32_t)(P * Q)), fastdiv_make((uint32_t)Q)};
    return g;
}

/* Whether the reduction can run in (r, s, c) order: whole steps of 32 channels at one filter tap,
 * so a step's 32 values of a column sit at one (h, w) of 32 channel planes, found and bounds-checked
 * once a step (in (c, r, s) order each value steps (c, r, s) and checks its own bounds). The filter
 * must then be (K, R, S, C): conv_filter_rsc_kernel, unless R·S = 1 (the same order). */
static inline bool igemm_rsc_ok(const igemm_geom &g) { return g.C % IG_BK == 0; }

/* The backward-filter's reduction over N·P·Q in slices: enough blocks for two per SM, each slice
 * at least 8 steps, the fp32 partials within max_bytes; the slice length (a multiple of 32). */
static inline int wgrad_slice_len(const igemm_geom &g, int sms, size_t max_bytes, int *slices)
{
    long long tiles = (long long)((g.CRS + IG_BN - 1) / IG_BN) * ((g.K + IG_BM - 1) / IG_BM);
    long long s = (2LL * sms + tiles - 1) / tiles, by_len = g.NPQ / (8 * IG_BK);
    long long by_mem = (long long)(max_bytes / ((size_t)g.K * g.CRS * 4));
    if (s > by_len) s = by_len;
    if (s > by_mem) s = by_mem;
    if (s > 4096) s = 4096;
    if (s < 1) s = 1;
    int per = (int)(((g.NPQ + s - 1) / s + IG_BK - 1) / IG_BK * IG_BK);
    *slices = (g.NPQ + per - 1) / per;
    return per;
}

/* Shared memory of a launch (bytes): two stages of the A and B tiles. */
static inline size_t conv_igemm_smem(void) { return (size_t)2 * (IG_BM * IG_LDA + IG_BN * IG_LDBK) * 2; }

/* Where GEMM column col (image im, pixel (p, q)) of output channel 0 lands in y; channel m adds
 * m·OHW. */
__device__ __forceinline__ size_t igemm_out_base(const igemm_geom &g, int col)
{
    int im = col / g.PQ, pq = col - im * g.PQ, p = pq / g.Q, q = pq - p * g.Q;
    return (size_t)im * g.K * g.OHW + g.o0 + (size_t)g.os * (p * g.OW + q);
}

/* This thread's 32 col values of step k0 (zeros outside the image, past CRS or past N·P·Q),
 * packed in pairs along the reduction. */
__device__ __forceinline__ void igemm_gather_b(uint32_t (&v)[IG_BK / 2], const igemm_geom &g, const uint16_t *xn, int h0, int w0, bool col_ok,
                                               int k0)
{
    const int RS = g.R * g.S;
    int c = k0 / RS, rs = k0 - c * RS, r = rs / g.S, s = rs - r * g.S;
    const uint16_t *xc = xn + (size_t)c * g.H * g.W;
#pragma unroll
    for (int i = 0; i < IG_BK; i++) {
        int ih = h0 + r * g.dil, iw = w0 + s * g.dil;
        bool ok = col_ok && k0 + i < g.CRS && (unsigned)ih < (unsigned)g.H && (unsigned)iw < (unsigned)g.W;
        uint32_t e = ok ? xc[ih * g.W + iw] : 0u;
        if (i & 1) v[i / 2] |= e << 16;
        else v[i / 2] = e;
        if (++s == g.S) {   /* the next (c, r, s) */
            s = 0;
            if (++r == g.R) { r = 0; xc += g.H * g.W; }
        }
    }
}

/* The (r, s, c) order's gather (forward and backward-filter): 32 values one channel plane (HW
 * elements) apart from p, packed in pairs; 32 zeros where !ok (p is then not read). */
__device__ __forceinline__ void gather_planes(uint32_t (&v)[IG_BK / 2], const uint16_t *p, int HW, bool ok)
{
    if (ok) {
#pragma unroll
        for (int i = 0; i < IG_BK / 2; i++) v[i] = pack16(p[2 * i * HW], p[(2 * i + 1) * HW]);
    } else {
#pragma unroll
        for (int i = 0; i < IG_BK / 2; i++) v[i] = 0;
    }
}

/* The same in (r, s, c) order: the step's 32 values are channels c0.. at tap (r, s); a column
 * outside the image (or past N·P·Q) is 32 zeros. */
__device__ __forceinline__ void igemm_gather_b_rsc(uint32_t (&v)[IG_BK / 2], const igemm_geom &g, const uint16_t *xn, int h0, int w0, bool col_ok,
                                                   int c0, int r, int s)
{
    const int ih = h0 + r * g.dil, iw = w0 + s * g.dil, HW = g.H * g.W;
    gather_planes(v, xn + (size_t)c0 * HW + ih * g.W + iw, HW, col_ok && (unsigned)ih < (unsigned)g.H && (unsigned)iw < (unsigned)g.W);
}

/* Where the next step of the reduction starts in (r, s, c) order: channels c0.. of tap (r, s). */
struct rsc_pos {
    int c0, r, s;
    __device__ __forceinline__ void next(const igemm_geom &g)
    {
        c0 += IG_BK;
        if (c0 == g.C) {
            c0 = 0;
            if (++s == g.S) { s = 0; ++r; }
        }
    }
};

/* The w tile of step k0: rows m0.., columns k0.. of w (K, CRS); rows past K or columns past CRS
 * are zeros. VEC: cp.async of 8 elements at a time (CRS % 8 == 0); else 16 scalars per thread
 * through registers (av), stored by igemm_store_a. */
template <bool VEC>
__device__ __forceinline__ void igemm_load_a(uint16_t *As, uint16_t (&av)[IG_BM * IG_BK / IG_THREADS], const igemm_geom &g,
                                             const uint16_t *w, int m0, int k0, int tid)
{
    if (VEC) {
#pragma unroll
        for (int i = 0; i < IG_BM * IG_BK / 8 / IG_THREADS; i++) {
            int c = tid + i * IG_THREADS, row = c / (IG_BK / 8), ck = c % (IG_BK / 8), m = m0 + row, kc = k0 + ck * 8;
            bool ok = m < g.K && kc < g.CRS;
            cp_async16(As + row * IG_LDA + ck * 8, w + (ok ? (size_t)m * g.CRS + kc : 0), ok);
        }
    } else {
#pragma unroll
        for (int i = 0; i < IG_BM * IG_BK / IG_THREADS; i++) {
            int e = tid + i * IG_THREADS, row = e / IG_BK, kc = k0 + e % IG_BK, m = m0 + row;
            av[i] = m < g.K && kc < g.CRS ? w[(size_t)m * g.CRS + kc] : (uint16_t)0;
        }
    }
}

__device__ __forceinline__ void igemm_store_a(uint16_t *As, const uint16_t (&av)[IG_BM * IG_BK / IG_THREADS], int tid)
{
#pragma unroll
    for (int i = 0; i < IG_BM * IG_BK / IG_THREADS; i++) {
        int e = tid + i * IG_THREADS;
        As[(e / IG_BK) * IG_LDA + e % IG_BK] = av[i];
    }
}

/* 32 values (v, packed in pairs) to 16-byte-aligned shared memory at dst: four 16-byte stores. */
__device__ __forceinline__ void store_32(uint16_t *dst, const uint32_t (&v)[IG_BK / 2])
{
    uint4 *d = reinterpret_cast<uint4 *>(dst);
#pragma unroll
    for (int j = 0; j < IG_BK / 8; j++) d[j] = make_uint4(v[4 * j], v[4 * j + 1], v[4 * j + 2], v[4 * j + 3]);
}

/* A column's 32 values into its row of the B tile ([n][k]). */
__device__ __forceinline__ void igemm_store_b(uint16_t *Bs, const uint32_t (&v)[IG_BK / 2], int tid) { store_32(Bs + tid * IG_LDBK, v); }

/* acc (the warp's 32 × 64 part) += A (64 × 32, [m][k]) · B (32 × 128, stored [n][k], or [k][n]
 * where BKN) of one step. */
template <class T, bool BKN = false>
__device__ __forceinline__ void igemm_mma_step(float (&acc)[2][8][4], const uint16_t *Ac, const uint16_t *Bc, int wm, int wn, int lane)
{
#pragma unroll
    for (int kk = 0; kk < IG_BK / 16; kk++) {
        uint32_t a[2][4];
#pragma unroll
        for (int mt = 0; mt < 2; mt++) frag_a<1>(a[mt], Ac, IG_LDA, wm * 32 + mt * 16, kk * 16, lane);
#pragma unroll
        for (int nt = 0; nt < 8; nt += 2) {
            uint32_t b[2][2];
            if (BKN) frag_b2_t<1>(b, Bc, IG_LDB, kk * 16, wn * 64 + nt * 8, lane);
            else frag_b2<1>(b, Bc, IG_LDBK, wn * 64 + nt * 8, kk * 16, lane);
#pragma unroll
            for (int mt = 0; mt < 2; mt++) {
                mma<T>(acc[mt][nt], a[mt], b[0]);
                mma<T>(acc[mt][nt + 1], a[mt], b[1]);
            }
        }
    }
}

/* One block's 64 × 128 output tile at rows m0.., columns n0.. of the GEMM of g. */
template <class T, bool VEC_A>
__device__ __forceinline__ void igemm_fwd_block(const igemm_geom &g, int n0, int m0, const T *__restrict__ x, const T *__restrict__ w,
                                                T *__restrict__ y)
{
#ifdef IG_BODY
    extern __shared__ __align__(16) uint16_t smem[];
    uint16_t *As = smem, *Bs = As + 2 * IG_BM * IG_LDA;
    const int tid = threadIdx.x, lane = tid & 31, wid = tid >> 5, wm = wid >> 1, wn = wid & 1, g4 = lane >> 2, tq = lane & 3;
    constexpr int BSTAGE = IG_BN * IG_LDBK;
    /* this thread's column: output pixel n0 + tid */
    const int npq = n0 + tid;
    const bool col_ok = npq < g.NPQ;
    const int img = col_ok ? npq / g.PQ : 0, pq = col_ok ? npq - img * g.PQ : 0, p = pq / g.Q, q = pq - p * g.Q;
    const int h0 = p * g.stride - g.padh, w0 = q * g.stride - g.padw;
    const uint16_t *xn = (const uint16_t *)x + (size_t)img * g.C * g.H * g.W, *wg = (const uint16_t *)w;

    float acc[2][8][4] = {};

    uint32_t bv[IG_BK / 2];
    uint16_t av[IG_BM * IG_BK / IG_THREADS];
    const int steps = (g.CRS + IG_BK - 1) / IG_BK;
    rsc_pos pos = {0, 0, 0};   /* (r, s, c) order: the next step to gather */
    auto gather = [&](int k0) {
        if (VEC_A && g.rsc) {   /* uniform over the launch; C % 32 == 0 gives whole 16-byte filter rows */
            igemm_gather_b_rsc(bv, g, xn, h0, w0, col_ok, pos.c0, pos.r, pos.s);
            pos.next(g);
        } else {
            igemm_gather_b(bv, g, xn, h0, w0, col_ok, k0);
        }
    };
    igemm_load_a<VEC_A>(As, av, g, wg, m0, 0, tid);
    cp_async_commit();
    gather(0);
    if (!VEC_A) igemm_store_a(As, av, tid);
    igemm_store_b(Bs, bv, tid);
    cp_async_wait<0>();
    __syncthreads();
    for (int st = 0; st < steps; st++) {
        const int cur = st & 1;
        const bool more = st + 1 < steps;
        uint16_t *An = As + (cur ^ 1) * IG_BM * IG_LDA, *Bn = Bs + (cur ^ 1) * BSTAGE;
        if (more) {   /* the next step's loads fly while this one is computed */
            igemm_load_a<VEC_A>(An, av, g, wg, m0, (st + 1) * IG_BK, tid);
            cp_async_commit();
            gather((st + 1) * IG_BK);
        }
        igemm_mma_step<T>(acc, As + cur * IG_BM * IG_LDA, Bs + cur * BSTAGE, wm, wn, lane);
        if (more) {
            if (!VEC_A) igemm_store_a(An, av, tid);
            igemm_store_b(Bn, bv, tid);
            cp_async_wait<0>();
        }
        __syncthreads();   /* the next stage is in place; every warp is done with this one */
    }
    /* y: element (row m, column npq) of the GEMM */
    uint16_t *yo = (uint16_t *)y;
#pragma unroll
    for (int nt = 0; nt < 8; nt++)
#pragma unroll
        for (int e1 = 0; e1 < 2; e1++) {
            int col = n0 + wn * 64 + nt * 8 + 2 * tq + e1;
            if (col >= g.NPQ) continue;
            size_t base = igemm_out_base(g, col);
#pragma unroll
            for (int mt = 0; mt < 2; mt++)
#pragma unroll
                for (int e0 = 0; e0 < 2; e0++) {
                    int m = m0 + wm * 32 + mt * 16 + g4 + 8 * e0;
                    if (m < g.K) yo[base + (size_t)m * g.OHW] = (uint16_t)pack2<T>(acc[mt][nt][2 * e0 + e1], 0.f);
                }
        }
#endif
}

/* w (K, C, R, S) -> wt (K, R, S, C), the filter of the (r, s, c) order (igemm_rsc_ok): one thread
 * per element, grid-stride. T: the storage type (bits moved, not converted). */
template <class T>
__global__ void conv_filter_rsc_kernel(unsigned total, int C, int RS, const T *__restrict__ w, T *__restrict__ wt)
{
    for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
        const unsigned rs = i % RS, c = i / RS % C, k = i / (RS * C);
        wt[((size_t)k * RS + rs) * C + c] = w[i];
    }
}

/* Grid (⌈N·P·Q / 128⌉, ⌈K / 64⌉), 128 threads, conv_igemm_smem() bytes of dynamic shared memory. */
template <class T, bool VEC_A>
__global__ void __launch_bounds__(IG_THREADS) conv_igemm_kernel(igemm_geom g, const T *__restrict__ x, const T *__restrict__ w, T *__restrict__ y)
{
    igemm_fwd_block<T, VEC_A>(g, blockIdx.x * IG_BN, blockIdx.y * IG_BM, x, w, y);
}
/* Backward-filter: dw (K, CRS) = dy (K, N·P·Q) · colᵀ (N·P·Q, CRS), the reduction over
 * l = (n, p, q) cut into gridDim.z slices of whole steps, each block writing its fp32 partial
 * sums part[slice][k][crs] (summed and converted by the launcher's reduce). A block computes a
 * 64 (K) × 128 (CRS) tile. dy tile: each thread owns one l of the step (its image and pixel
 * found once a step) and loads 16 of its K rows; col tile: each thread owns one crs column (c, r,
 * s fixed) and walks the step's 32 pixels by counting. */
__device__ __forceinline__ void wgrad_gather_a(uint16_t (&av)[IG_BM * IG_BK / IG_THREADS], const igemm_geom &g, const uint16_t *dy, int m0,
                                               int l, int img, int pq, int l_end, int tid)
{
    constexpr int RSTEP = IG_THREADS / IG_BK;   /* rows between a thread's successive loads */
    const int row = m0 + tid / IG_BK;
    if (l >= l_end) {
#pragma unroll
        for (int i = 0; i < IG_BM * IG_BK / IG_THREADS; i++) av[i] = 0;
        return;
    }
    const uint16_t *d = dy + ((size_t)img * g.K + row) * g.PQ + pq;   /* read only for rows below K */
    const size_t step = (size_t)RSTEP * g.PQ;
    if (m0 + IG_BM <= g.K) {   /* the whole row block: one base and constant steps, no predicate */
#pragma unroll
        for (int i = 0; i < IG_BM * IG_BK / IG_THREADS; i++) av[i] = d[i * step];
    } else {
#pragma unroll
        for (int i = 0; i < IG_BM * IG_BK / IG_THREADS; i++) av[i] = row + i * RSTEP < g.K ? d[i * step] : (uint16_t)0;
    }
}

__device__ __forceinline__ void wgrad_store_a(uint16_t *As, const uint16_t (&av)[IG_BM * IG_BK / IG_THREADS], int tid)
{
#pragma unroll
    for (int i = 0; i < IG_BM * IG_BK / IG_THREADS; i++) As[(tid / IG_BK + i * (IG_THREADS / IG_BK)) * IG_LDA + tid % IG_BK] = av[i];
}

__device__ __forceinline__ void wgrad_gather_b(uint32_t (&v)[IG_BK / 2], const igemm_geom &g, const uint16_t *xc, int rd, int sd, bool col_ok,
                                               int l0, int l_end)
{
    int img = l0 / g.PQ, pq = l0 - img * g.PQ, p = pq / g.Q, q = pq - p * g.Q;
    const size_t img_elems = (size_t)g.C * g.H * g.W;
    const uint16_t *xi = xc + (size_t)img * img_elems;
#pragma unroll
    for (int i = 0; i < IG_BK; i++) {
        int ih = p * g.stride - g.padh + rd, iw = q * g.stride - g.padw + sd;
        bool ok = col_ok && l0 + i < l_end && (unsigned)ih < (unsigned)g.H && (unsigned)iw < (unsigned)g.W;
        uint32_t e = ok ? xi[ih * g.W + iw] : 0u;
        if (i & 1) v[i / 2] |= e << 16;
        else v[i / 2] = e;
        if (++q == g.Q) {   /* the next pixel */
            q = 0;
            if (++p == g.P) { p = 0; xi += img_elems; }
        }
    }
}

/* The same col tile in (r, s, c) order (C a multiple of 32): the block's 128 columns are four
 * groups of 32 channels, each at one tap; thread (lane, group) gathers pixel l = l0 + lane's 32
 * channels of its group's tap (xc: x at the group's first channel; rd, sd: the tap's offsets), so
 * its bounds are checked once and a warp's loads are consecutive pixels. */
__device__ __forceinline__ void wgrad_gather_b_rsc(uint32_t (&v)[IG_BK / 2], const igemm_geom &g, const uint16_t *xc, int rd, int sd, bool grp_ok,
                                                   int l, int img, int pq, int l_end)
{
    const int p = (int)fastdiv_div((uint32_t)pq, g.fQ), q = pq - p * g.Q, HW = g.H * g.W;
    const int ih = p * g.stride - g.padh + rd, iw = q * g.stride - g.padw + sd;
    gather_planes(v, xc + (size_t)img * g.C * HW + ih * g.W + iw, HW,
                  grp_ok && l < l_end && (unsigned)ih < (unsigned)g.H && (unsigned)iw < (unsigned)g.W);
}

/* Its 32 values into row lane (pixel) of the [k][n] tile, columns 32·group... */
__device__ __forceinline__ void wgrad_store_b_rsc(uint16_t *Bs, const uint32_t (&v)[IG_BK / 2], int tid)
{
    store_32(Bs + (tid & 31) * IG_LDB + 32 * (tid >> 5), v);
}

/* Grid (⌈CRS / 128⌉, ⌈K / 64⌉, slices), 128 threads, conv_igemm_smem() bytes; slice z covers
 * l in [z·per, min((z+1)·per, N·P·Q)), per a multiple of 32. RSC (igemm_rsc_ok): the GEMM's columns
 * in (r, s, c) order, gathered by wgrad_gather_b_rsc; the partials still land as (K, C, R, S). */
template <class T, bool RSC>
__global__ void __launch_bounds__(IG_THREADS)
    conv_wgrad_igemm_kernel(igemm_geom g, int per, const T *__restrict__ x, const T *__restrict__ dy, float *__restrict__ part)
{
#ifdef IG_BODY
    extern __shared__ __align__(16) uint16_t smem[];
    constexpr int BSTAGE = RSC ? IG_BK * IG_LDB : IG_BN * IG_LDBK;
    uint16_t *As = smem, *Bs = As + 2 * IG_BM * IG_LDA;
    const int tid = threadIdx.x, lane = tid & 31, wid = tid >> 5, wm = wid >> 1, wn = wid & 1, g4 = lane >> 2, tq = lane & 3;
    const int n0 = blockIdx.x * IG_BN, m0 = blockIdx.y * IG_BM;
    const int l_begin = blockIdx.z * per, l_end = min(g.NPQ, l_begin + per);
    const int RS = g.R * g.S;
    /* (c, r, s) order: this thread's column crs = n0 + tid; (r, s, c): its group's 32 columns from
     * n0 + 32·wid, channels c.. at tap (r, sc) */
    const int crs = RSC ? n0 + 32 * wid : n0 + tid;
    const bool col_ok = crs < g.CRS;
    int c, r, sc;
    if (RSC) {
        const int rs = col_ok ? crs / g.C : 0;
        c = col_ok ? crs - rs * g.C : 0, r = rs / g.S, sc = rs - r * g.S;
    } else {
        c = col_ok ? crs / RS : 0;
        const int rs = col_ok ? crs - c * RS : 0;
        r = rs / g.S, sc = rs - r * g.S;
    }
    const uint16_t *xc = (const uint16_t *)x + (size_t)c * g.H * g.W, *dyg = (const uint16_t *)dy;
    float acc[2][8][4] = {};
    uint32_t bv[IG_BK / 2];
    uint16_t av[IG_BM * IG_BK / IG_THREADS];
    static_assert(IG_BK == 32, "a warp's lanes are the step's pixels");
    auto gather = [&](int l0) {   /* the step's dy tile and col tile; the thread's pixel l of the dy tile found once */
        const int l = l0 + lane, img = (int)fastdiv_div((uint32_t)l, g.fPQ), pq = l - img * g.PQ;
        wgrad_gather_a(av, g, dyg, m0, l, img, pq, l_end, tid);
        if (RSC) wgrad_gather_b_rsc(bv, g, xc, r * g.dil, sc * g.dil, col_ok, l, img, pq, l_end);
        else wgrad_gather_b(bv, g, xc, r * g.dil, sc * g.dil, col_ok, l0, l_end);
    };
    auto store_b = [&](uint16_t *Bn) {
        if (RSC) wgrad_store_b_rsc(Bn, bv, tid);
        else igemm_store_b(Bn, bv, tid);
    };
    const int steps = l_end > l_begin ? (l_end - l_begin + IG_BK - 1) / IG_BK : 0;
    if (steps > 0) {
        gather(l_begin);
        wgrad_store_a(As, av, tid);
        store_b(Bs);
    }
    __syncthreads();
    for (int st = 0; st < steps; st++) {
        const int cur = st & 1, l0 = l_begin + (st + 1) * IG_BK;
        const bool more = st + 1 < steps;
        if (more) {   /* the next step's loads fly while this one is computed */
            gather(l0);
        }
        igemm_mma_step<T, RSC>(acc, As + cur * IG_BM * IG_LDA, Bs + cur * BSTAGE, wm, wn, lane);
        if (more) {
            wgrad_store_a(As + (cur ^ 1) * IG_BM * IG_LDA, av, tid);
            store_b(Bs + (cur ^ 1) * BSTAGE);
        }
        __syncthreads();   /* the next stage is in place; every warp is done with this one */
    }
    /* partial sums of dw (K, C, R, S); in (r, s, c) order a thread's columns are two groups of 32
     * (nt < 4 and nt >= 4), each one tap: its channel and tap found once per group */
    float *out = part + (size_t)blockIdx.z * g.K * g.CRS;
#pragma unroll
    for (int half = 0; half < 2; half++) {
        const int nb = n0 + wn * 64 + 32 * half, trs = RSC && nb < g.CRS ? nb / g.C : 0, tc = nb - trs * g.C;
#pragma unroll
        for (int mt = 0; mt < 2; mt++)
#pragma unroll
            for (int nt = 4 * half; nt < 4 * half + 4; nt++)
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    const int m = m0 + wm * 32 + mt * 16 + g4 + 8 * (e >> 1), dn = (nt - 4 * half) * 8 + 2 * tq + (e & 1), n = nb + dn;
                    if (m >= g.K || n >= g.CRS) continue;
                    out[(size_t)m * g.CRS + (RSC ? (size_t)(tc + dn) * RS + trs : (size_t)n)] = acc[mt][nt][e];
                }
    }
#endif
}
/* Backward-data by stride phases. dx[n][c][h][w] = Σ dy[n][k][p][q]·w[k][c][r][s] over the
 * (k, r, s, p, q) with p·st − pad + r·dil = h and q·st − pad + s·dil = w. The rows h ≡ ph
 * (mod st) take exactly the taps r with (ph + pad − r·dil) ≡ 0 (mod st), t = st / gcd(st, dil)
 * apart; with h = ph + i·st and r = r0 + j·t, p = base − j·e + i (base = (ph + pad − r0·dil) / st,
 * e = dil / gcd). So each phase (ph, pw) is a forward stride-1 convolution of dy (K channels,
 * P × Q) with a sub-filter (C, K, Rp, Sp) holding its taps in reverse order (j' = Rp − 1 − j),
 * dilation e, padding (Rp − 1)·e − base, into the pixels (ph + i·st, pw + j·st) of dx: none of
 * the multiplications by zero that a stride-st backward as one convolution would do (3 × 3 / 2:
 * 4, 2, 2 and 1 taps in the four phases, 9 in all, where a zero-inserted dy takes 9 each).
 * Stride 1: one phase whose sub-filter is the flipped, transposed filter. Every tap belongs to
 * exactly one phase, so the sub-filters together hold w's elements once. */
#define DG_MAX_STRIDE 4
#define DG_MAX_TAPS 16

struct dgrad_dim {
    int taps[DG_MAX_STRIDE], pad[DG_MAX_STRIDE], out[DG_MAX_STRIDE];   /* per phase: Rp, padding, pixels */
    int phase_of[DG_MAX_TAPS], pos_of[DG_MAX_TAPS];                     /* per tap r: its phase and j' */
};

struct dgrad_plan {
    int K, C, R, S, phases, zero_first;   /* zero_first: some pixels get no tap; dx is zeroed first */
    int rsc;   /* the phases reduce in (r, s, c) order: sub-filters (C, Rp, Sp, K) (igemm_rsc_ok) */
    int index[DG_MAX_STRIDE][DG_MAX_STRIDE];   /* (ph, pw) -> phase, or -1 */
    dgrad_dim dh, dw;
    igemm_geom g[DG_MAX_STRIDE * DG_MAX_STRIDE];
    long long woff[DG_MAX_STRIDE * DG_MAX_STRIDE], welems;   /* sub-filter offsets (multiples of 8) and total */
};

static inline int dgrad_gcd(int a, int b) { return b ? dgrad_gcd(b, a % b) : a; }

static inline void dgrad_dim_make(dgrad_dim *d, int X, int R, int st, int pad, int dil)
{
    const int t = st / dgrad_gcd(st, dil), e = dil / dgrad_gcd(st, dil);
    for (int ph = 0; ph < st; ph++) {
        int first = -1, n = 0;
        for (int r = 0; r < R; r++)
            if (((ph + pad - r * dil) % st + st) % st == 0) {
                if (first < 0) first = r;
                n++;
            }
        d->taps[ph] = n;
        d->out[ph] = X > ph ? (X - ph + st - 1) / st : 0;
        d->pad[ph] = n ? (n - 1) * e - (ph + pad - first * dil) / st : 0;
        for (int r = first, j = 0; n && r < R; r += t, j++) {
            d->phase_of[r] = ph;
            d->pos_of[r] = n - 1 - j;
        }
    }
}

/* The plan of the backward-data of x (N, C, H, W) * w (K, C, R, S) -> y (N, K, P, Q); 0, or -1
 * when the stride or filter exceeds the tables (the caller lowers another way). rsc: the kernel
 * takes the (r, s, c) order where K allows it (the tensor-core kernels; the fp32 one does not). */
static inline int dgrad_plan_make(dgrad_plan *pl, int N, int C, int H, int W, int K, int R, int S, int P, int Q, int st, int pad, int dil,
                                  bool rsc)
{
    if (st < 1 || st > DG_MAX_STRIDE || R > DG_MAX_TAPS || S > DG_MAX_TAPS || dil < 1) return -1;
    const int e = dil / dgrad_gcd(st, dil);
    pl->K = K; pl->C = C; pl->R = R; pl->S = S;
    pl->phases = 0;
    pl->zero_first = 0;
    pl->welems = 0;
    pl->rsc = rsc && K % IG_BK == 0;
    dgrad_dim_make(&pl->dh, H, R, st, pad, dil);
    dgrad_dim_make(&pl->dw, W, S, st, pad, dil);
    for (int ph = 0; ph < st; ph++)
        for (int pw = 0; pw < st; pw++) {
            pl->index[ph][pw] = -1;
            const int Rp = pl->dh.taps[ph], Sp = pl->dw.taps[pw], Hp = pl->dh.out[ph], Wp = pl->dw.out[pw];
            if (!Hp || !Wp) continue;
            if (!Rp || !Sp) { pl->zero_first = 1; continue; }
            const int i = pl->phases++;
            pl->index[ph][pw] = i;
            igemm_geom g = igemm_geom_make(N, K, P, Q, C, Rp, Sp, Hp, Wp, 1, pl->dh.pad[ph], pl->dw.pad[pw], e);
            g.OHW = H * W;
            g.OW = W;
            g.os = st;
            g.o0 = ph * W + pw;
            g.rsc = pl->rsc;
            pl->g[i] = g;
            pl->woff[i] = pl->welems;
            pl->welems += ((long long)C * K * Rp * Sp + 7) / 8 * 8;
        }
    /* the phases with the most taps first: one launch runs them all, the longest blocks start first */
    for (int i = 1; i < pl->phases; i++)
        for (int j = i; j > 0 && pl->g[j].CRS > pl->g[j - 1].CRS; j--) {
            igemm_geom tg = pl->g[j];
            long long to = pl->woff[j];
            pl->g[j] = pl->g[j - 1];
            pl->woff[j] = pl->woff[j - 1];
            pl->g[j - 1] = tg;
            pl->woff[j - 1] = to;
            for (int ph = 0; ph < st; ph++)
                for (int pw = 0; pw < st; pw++)
                    pl->index[ph][pw] = pl->index[ph][pw] == j ? j - 1 : pl->index[ph][pw] == j - 1 ? j : pl->index[ph][pw];
        }
    return 0;
}

/* Whether every phase's filter rows (K·Rp·Sp) are whole 16-byte copies, so the launch can take
 * the cp.async filter loads (the sub-filters start at multiples of 8 elements). */
static inline bool dgrad_vec(const dgrad_plan &pl)
{
    for (int i = 0; i < pl.phases; i++)
        if (pl.g[i].CRS % 8) return false;
    return true;
}

/* Column tiles of the largest phase: the launch's grid x. */
static inline int dgrad_col_tiles(const dgrad_plan &pl, int bn)
{
    int t = 0;
    for (int i = 0; i < pl.phases; i++) t = t > (pl.g[i].NPQ + bn - 1) / bn ? t : (pl.g[i].NPQ + bn - 1) / bn;
    return t;
}

/* w (K, C, R, S) -> the phases' sub-filters, each (C, K, Rp, Sp) at its offset, or (C, Rp, Sp, K)
 * in (r, s, c) order: one thread per element of w, grid-stride. T: the storage type (bits moved,
 * not converted). */
template <class T>
__global__ void dgrad_filter_kernel(unsigned total, dgrad_plan pl, const T *__restrict__ w, T *__restrict__ wsub)
{
    for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
        const unsigned s = i % pl.S, r = i / pl.S % pl.R, c = i / (pl.S * pl.R) % pl.C, k = i / ((unsigned)pl.S * pl.R * pl.C);
        const int ph = pl.dh.phase_of[r], pw = pl.dw.phase_of[s], p = pl.index[ph][pw];
        if (p < 0) continue;   /* a phase without pixels */
        const int Rp = pl.dh.taps[ph], Sp = pl.dw.taps[pw];
        const size_t tap = (size_t)pl.dh.pos_of[r] * Sp + pl.dw.pos_of[s];
        wsub[pl.woff[p] + (pl.rsc ? ((size_t)c * Rp * Sp + tap) * pl.K + k : ((size_t)c * pl.K + k) * Rp * Sp + tap)] = w[i];
    }
}

/* All phases in one launch, so the small ones fill the GPU together: grid (the most column tiles of
 * a phase, ⌈C / 64⌉, phases), blockIdx.z the phase (the longest first: most taps), a block past its
 * phase's tiles returning at once; 128 threads, conv_igemm_smem() bytes. __grid_constant__: the
 * plan stays in parameter memory, indexed there, not copied per thread. */
template <class T, bool VEC_A>
__global__ void __launch_bounds__(IG_THREADS)
    conv_dgrad_igemm_kernel(const __grid_constant__ dgrad_plan pl, const T *__restrict__ dy, const T *__restrict__ wsub, T *__restrict__ dx)
{
    const igemm_geom &g = pl.g[blockIdx.z];
    const int n0 = blockIdx.x * IG_BN, m0 = blockIdx.y * IG_BM;
    if (n0 >= g.NPQ || m0 >= g.K) return;   /* the whole block: before any barrier */
    igemm_fwd_block<T, VEC_A>(g, n0, m0, dy, wsub + pl.woff[blockIdx.z], dx);
}
#endif
