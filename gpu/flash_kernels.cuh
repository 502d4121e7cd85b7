/* flash_kernels.cuh: the fused causal attention kernels of the flash variant (fp16/bf16),
 * FlashAttention-2 style: tiles in shared memory, scores and probabilities only in registers,
 * online softmax, no T×T matrix in device memory; tensor cores through mma.sync m16n8k16
 * (gpu/mma_sm80.cuh; on Hopper the legacy MMA path, not wgmma). Device code only: launched by
 * flash_cuda.cu, and run on the CPU by tests/sim/flash_sim.cc to check it without a GPU.
 * Forward: a block of 4 warps owns 64 or 128 query rows (16 or 32 per warp: MT m-tiles, the
 * launcher times both per shape) and walks the 64-key tiles up to its diagonal; K
 * and V tiles are double-buffered in shared memory, the next one's cp.async copies in flight
 * while this one is computed. Backward: a block owns 64 or 128 keys (4 warps of 16; or 4 of 32
 * at d = 64, 8 of 16 at d = 128), walks the 32-row query tiles from its diagonal on, Q, dO, lse and
 * D double-buffered the same way, accumulates dK and dV in registers and adds dQ into an fp32
 * buffer with atomics, four columns per reduction (one red.global.add.v4.f32 on sm_90); or, in
 * FlashAttention-2's split layout (d = 64, 128), 128 keys and 64-row query tiles with one warp
 * layout per phase, Pᵀ and dSᵀ passed through shared memory. The launcher times those a head
 * size has per shape.
 * Fragments come from shared memory through ldmatrix or plain 32-bit loads (LD = 1 or 0): the
 * same values, which the flash variant's probe checks bit for bit before trusting ldmatrix. Rows
 * are padded by 16 bytes, so either way no two lanes of a phase share a bank.
 * What a tile costs beside its mma.sync (scripts/sass-mix.py counts it in the SASS): B fragments
 * two n-tiles per ldmatrix.x4; the causal and length masks only on the tiles that need them (the
 * diagonal's and the last); the scale folded into one FFMA before the SFU's ex2 (fast_exp2); the
 * cp.async addresses one base and constant steps per thread (tile_async); dQ's rows found once a
 * tile and added without divergent lanes (dq_row, dq_add). On sm_90, bf16, the
 * forward's main loop at d = 128 went from 7.9 to 5.5 other instructions per mma (every path of
 * the loop counted; 3.1 on a tile without masks), the split-layout backward's from 5.6–6.9 to
 * 3.4–4.1 (2.7–3.3), d = 64's forward from 14.1 to 8.3 (4.8). */
#ifndef DLBENCH_FLASH_KERNELS_CUH
#define DLBENCH_FLASH_KERNELS_CUH
#include <math.h>
#include "mma_sm80.cuh"

#define FLASH_THREADS 128
#define BC 64      /* keys per tile of the forward */
#define BQ 32      /* backward: query rows per tile */
#define PAD 8      /* elements of padding per shared-memory row */
#define LOG2E 1.4426950408889634f
#define LN2 0.6931471805599453f

#if defined(DLBENCH_CUDA_SIM) || defined(SM80_PTX)
#define FLASH_BODY 1
#endif

/* Rows [row0, row0 + ROWS) of a (Tn, ·) tensor into shared memory by cp.async, 16 bytes per copy, by
 * NT threads; rows at or past Tn land as zeros. The caller commits and waits. Where NT is a
 * multiple of the row's D/8 chunks (d = 64, 128) a thread copies one column chunk of every NT/(D/8)-th
 * row: its addresses are one base and constant steps, with no predicate unless the tile crosses Tn
 * (per copy 2 integer instructions beside the copy, instead of a division and a 64-bit product). */
template <int D, int ROWS, int NT = FLASH_THREADS>
__device__ __forceinline__ void tile_async(uint16_t *dst, const uint16_t *src, long ld, int row0, int Tn, int tid)
{
    constexpr int CH = D / 8, LDS = D + PAD, N = ROWS * CH, IT = (N + NT - 1) / NT;
    if constexpr (NT % CH == 0) {
        constexpr int RS = NT / CH;   /* rows between a thread's successive copies */
        const int r = tid / CH, cc = tid % CH;
        const uint16_t *p = src + (size_t)(row0 + r) * ld + cc * 8;   /* read only while row0 + r + i·RS < Tn */
        uint16_t *d = dst + r * LDS + cc * 8;
        const long step = (long)RS * ld;
        if (row0 + ROWS <= Tn) {
#pragma unroll
            for (int i = 0; i < IT; i++)
                if (N % NT == 0 || r + i * RS < ROWS) cp_async16(d + i * RS * LDS, p + i * step, true);
        } else {
            const int left = Tn - row0 - r;   /* this thread's rows still inside the sequence, from p on */
#pragma unroll
            for (int i = 0; i < IT; i++) {
                const bool full = i * RS < left;
                if (N % NT == 0 || r + i * RS < ROWS) cp_async16(d + i * RS * LDS, full ? p + i * step : src, full);
            }
        }
    } else {
#pragma unroll
        for (int i = 0; i < IT; i++) {
            const int c = tid + i * NT, r = c / CH, cc = c % CH, t = row0 + r;
            if (N % NT == 0 || c < N) cp_async16(dst + r * LDS + cc * 8, src + (size_t)(t < Tn ? t : 0) * ld + cc * 8, t < Tn);
        }
    }
}

/* Backward: query tile i0's Q and dO rows (ROWS of them), its lse and D values (zeros past Tn,
 * so a masked probability of 0 never meets a NaN), as one committed group of copies by NT threads. */
template <int D, int NT, int ROWS = BQ>
__device__ __forceinline__ void bwd_fetch(uint16_t *Qd, uint16_t *dOd, float *lsd, float *Dd, const uint16_t *q, const uint16_t *dout,
                                          const float *lse, const float *Dv, long ld_in, long ld_out, int i0, int Tn, int tid)
{
    static_assert(2 * ROWS <= NT, "one thread per lse and D value");
    tile_async<D, ROWS, NT>(Qd, q, ld_in, i0, Tn, tid);
    tile_async<D, ROWS, NT>(dOd, dout, ld_out, i0, Tn, tid);
    if (tid < 2 * ROWS) {
        int r = tid % ROWS, t = i0 + r;
        cp_async4((tid < ROWS ? lsd : Dd) + r, (tid < ROWS ? lse : Dv) + (t < Tn ? t : 0), t < Tn);
    }
    cp_async_commit();
}

/* Keys per tile of the forward: 64, or 32 where two m-tiles of d = 128 leave no registers for
 * 64 keys' scores (128 O accumulators + 64 scores per thread spilled on sm_90; + 32 do not). */
static constexpr __host__ __device__ int flash_fwd_bk(int d, int mt) { return mt == 2 && d > 80 ? 32 : BC; }

/* Forward. Grid (query blocks of 64·MT rows, B·H), the largest query blocks (most key tiles)
 * first. Warp w owns rows 16·MT·w .. +16·MT (MT m-tiles): every K and V fragment read from shared
 * memory feeds MT tensor-core instructions (MT = 2 halves the shared-memory traffic per FLOP;
 * the Q fragments are then re-read per k-step instead of held in registers). K and V tiles are
 * double-buffered: the next one's cp.async copies fly while this one is computed. */
template <class T, int D, int LD, int MT>
__global__ void __launch_bounds__(FLASH_THREADS)
    flash_fwd_kernel(int H, int Tn, long ld_in, long ld_out, float sl2, const T *__restrict__ q, const T *__restrict__ k,
                     const T *__restrict__ v, T *__restrict__ o, float *__restrict__ lse)
{
#ifdef FLASH_BODY
    constexpr int LDS = D + PAD, BRM = 64 * MT, BK = flash_fwd_bk(D, MT);
    extern __shared__ __align__(16) uint16_t smem[];
    uint16_t *Qs = smem, *Ks = Qs + BRM * LDS, *Vs = Ks + 2 * BK * LDS;   /* K, V: two buffers each */
    const int tid = threadIdx.x, lane = tid & 31, w = tid >> 5, g = lane >> 2, tq = lane & 3;
    const int bh = blockIdx.y, b = bh / H, h = bh % H, q0 = (gridDim.x - 1 - blockIdx.x) * BRM;
    const size_t in = (size_t)b * Tn * ld_in + (size_t)h * D, out = (size_t)b * Tn * ld_out + (size_t)h * D;
    const uint16_t *kg = (const uint16_t *)k + in, *vg = (const uint16_t *)v + in;
    tile_async<D, BRM>(Qs, (const uint16_t *)q + in, ld_in, q0, Tn, tid);
    cp_async_commit();
    tile_async<D, BK>(Ks, kg, ld_in, 0, Tn, tid);
    tile_async<D, BK>(Vs, vg, ld_in, 0, Tn, tid);
    cp_async_commit();
    cp_async_wait<1>();   /* Q has landed; the first K/V tile may still fly */
    __syncthreads();
    constexpr int QR = MT == 1 ? D / 16 : 1;   /* Q fragments held in registers (MT = 1 only) */
    uint32_t qa[QR][4];
    if (MT == 1) {
#pragma unroll
        for (int kk = 0; kk < QR; kk++) frag_a<LD>(qa[kk], Qs, LDS, w * 16, kk * 16, lane);
    }

    float acc[MT][D / 8][4], m_r[MT][2], l_r[MT][2];
    int row[MT][2];
#pragma unroll
    for (int mt = 0; mt < MT; mt++) {
#pragma unroll
        for (int dn = 0; dn < D / 8; dn++) acc[mt][dn][0] = acc[mt][dn][1] = acc[mt][dn][2] = acc[mt][dn][3] = 0.f;
        m_r[mt][0] = m_r[mt][1] = -INFINITY;
        l_r[mt][0] = l_r[mt][1] = 0.f;
        row[mt][0] = q0 + (MT * w + mt) * 16 + g;
        row[mt][1] = row[mt][0] + 8;
    }
    const int kv_end = min(Tn, q0 + BRM);
    int buf = 0;
    for (int k0 = 0; k0 < kv_end; k0 += BK, buf ^= 1) {
        __syncthreads();   /* every warp is done with the previous tile: the other buffer is free */
        if (k0 + BK < kv_end) {
            tile_async<D, BK>(Ks + (buf ^ 1) * BK * LDS, kg, ld_in, k0 + BK, Tn, tid);
            tile_async<D, BK>(Vs + (buf ^ 1) * BK * LDS, vg, ld_in, k0 + BK, Tn, tid);
            cp_async_commit();
            cp_async_wait<1>();
        } else {
            cp_async_wait<0>();
        }
        __syncthreads();   /* this tile has landed, every thread's part of it */
        const uint16_t *Kb = Ks + buf * BK * LDS, *Vb = Vs + buf * BK * LDS;
        const int rw = q0 + 16 * MT * w;   /* the warp's first row */
        if (k0 > rw + 16 * MT - 1) continue;   /* every key of the tile is after this warp's rows: masked whole */
        float s[MT][BK / 8][4];
#pragma unroll
        for (int mt = 0; mt < MT; mt++)
#pragma unroll
            for (int nt = 0; nt < BK / 8; nt++) s[mt][nt][0] = s[mt][nt][1] = s[mt][nt][2] = s[mt][nt][3] = 0.f;
#pragma unroll
        for (int kk = 0; kk < D / 16; kk++) {
            uint32_t qf[MT][4];
#pragma unroll
            for (int mt = 0; mt < MT; mt++) {
                if (MT == 1) {
#pragma unroll
                    for (int e = 0; e < 4; e++) qf[mt][e] = qa[kk % QR][e];
                } else {
                    frag_a<LD>(qf[mt], Qs, LDS, (MT * w + mt) * 16, kk * 16, lane);
                }
            }
#pragma unroll
            for (int nt = 0; nt < BK / 8; nt += 2) {
                uint32_t bb[2][2];
                frag_b2<LD>(bb, Kb, LDS, nt * 8, kk * 16, lane);
#pragma unroll
                for (int mt = 0; mt < MT; mt++) {
                    mma<T>(s[mt][nt], qf[mt], bb[0]);
                    mma<T>(s[mt][nt + 1], qf[mt], bb[1]);
                }
            }
        }
        /* Masks only where the tile has a key after one of the warp's rows or past Tn (the tiles at
         * the diagonal and the last): elsewhere the scores go straight to the softmax. */
        const bool edge = k0 + BK - 1 > rw || k0 + BK > Tn;
#pragma unroll
        for (int mt = 0; mt < MT; mt++) {
            if (edge) {
#pragma unroll
                for (int nt = 0; nt < BK / 8; nt++)
#pragma unroll
                    for (int e = 0; e < 4; e++) {
                        int key = k0 + nt * 8 + 2 * tq + (e & 1);
                        if (key > row[mt][e >> 1] || key >= Tn) s[mt][nt][e] = -INFINITY;
                    }
            }
            /* this tile's row maxima (a row's 4 lanes), raw: the scale sl2 > 0 is applied after */
            float tmax[2] = {-INFINITY, -INFINITY};
#pragma unroll
            for (int nt = 0; nt < BK / 8; nt++)
#pragma unroll
                for (int e = 0; e < 4; e++) tmax[e >> 1] = fmaxf(tmax[e >> 1], s[mt][nt][e]);
            float base[2], alpha[2], rs[2] = {0.f, 0.f};
#pragma unroll
            for (int i = 0; i < 2; i++) {
                tmax[i] = fmaxf(tmax[i], __shfl_xor_sync(0xffffffffu, tmax[i], 1));
                tmax[i] = fmaxf(tmax[i], __shfl_xor_sync(0xffffffffu, tmax[i], 2));
                float mn = fmaxf(m_r[mt][i], tmax[i] * sl2);   /* in log2 units */
                base[i] = mn == -INFINITY ? 0.f : mn;   /* a row with no key yet: keep exp2 of -inf at 0, never NaN */
                alpha[i] = fast_exp2(m_r[mt][i] - base[i]);
                m_r[mt][i] = mn;
            }
#pragma unroll
            for (int nt = 0; nt < BK / 8; nt++)
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    float p = fast_exp2(fmaf(s[mt][nt][e], sl2, -base[e >> 1]));   /* one FFMA and the SFU */
                    s[mt][nt][e] = p;
                    rs[e >> 1] += p;
                }
#pragma unroll
            for (int i = 0; i < 2; i++) {
                rs[i] += __shfl_xor_sync(0xffffffffu, rs[i], 1);
                rs[i] += __shfl_xor_sync(0xffffffffu, rs[i], 2);
                l_r[mt][i] = l_r[mt][i] * alpha[i] + rs[i];
            }
            /* O rescaled only when some row's maximum moved (alpha = 1 exactly otherwise): past the
             * first tiles most rows' maxima stay, and the D/2 multiplies a row pair costs are a tenth
             * of an interior tile's instructions at d = 128 */
            if (__any_sync(0xffffffffu, alpha[0] != 1.f || alpha[1] != 1.f)) {
#pragma unroll
                for (int dn = 0; dn < D / 8; dn++) {
                    acc[mt][dn][0] *= alpha[0]; acc[mt][dn][1] *= alpha[0];
                    acc[mt][dn][2] *= alpha[1]; acc[mt][dn][3] *= alpha[1];
                }
            }
        }
        /* O += P·V: the score accumulators of n-tiles 2kk, 2kk+1 are the A fragment of k-step kk */
#pragma unroll
        for (int kk = 0; kk < BK / 16; kk++) {
            uint32_t pa[MT][4];
#pragma unroll
            for (int mt = 0; mt < MT; mt++) acc_to_frag_a<T>(pa[mt], s[mt][2 * kk], s[mt][2 * kk + 1]);
#pragma unroll
            for (int dn = 0; dn < D / 8; dn += 2) {
                uint32_t bb[2][2];
                frag_b2_t<LD>(bb, Vb, LDS, kk * 16, dn * 8, lane);
#pragma unroll
                for (int mt = 0; mt < MT; mt++) {
                    mma<T>(acc[mt][dn], pa[mt], bb[0]);
                    mma<T>(acc[mt][dn + 1], pa[mt], bb[1]);
                }
            }
        }
    }
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int i = 0; i < 2; i++) {
            if (row[mt][i] >= Tn) continue;
            float inv = l_r[mt][i] > 0.f ? 1.f / l_r[mt][i] : 0.f;
            uint32_t *dst = reinterpret_cast<uint32_t *>((uint16_t *)o + out + (size_t)row[mt][i] * ld_out + 2 * tq);
#pragma unroll
            for (int dn = 0; dn < D / 8; dn++) dst[dn * 4] = pack2<T>(acc[mt][dn][2 * i] * inv, acc[mt][dn][2 * i + 1] * inv);
            if (tq == 0) lse[(size_t)bh * Tn + row[mt][i]] = (m_r[mt][i] + log2f(l_r[mt][i])) * LN2;
        }
#endif
}

/* dQ rows r0.. of a 16-row m-tile in the fp32 accumulator ((B, T, H, D) packed), as this lane adds
 * them (dq_add): its row (r0 + g, or r0 + g + 8 for odd tq) at column 2(tq − odd), or NULL when that
 * row is past Tn. Found once per tile and m-tile; each n-tile adds its column as a constant. */
template <int D>
__device__ __forceinline__ float *dq_row(float *dq_acc, int b, int Tn, int H, int h, int r0, int lane)
{
    const int g = lane >> 2, tq = lane & 3, odd = tq & 1, query = r0 + g + 8 * odd;
    return query < Tn ? dq_acc + (((size_t)b * Tn + query) * H + h) * D + 2 * (tq - odd) : nullptr;
}

/* Adds a 16×8 tile of dQ (an mma accumulator: rows g and g + 8 of the m-tile, columns c0 + 2tq..)
 * at row (dq_row) + c0, four columns per reduction: lanes tq and tq^1 swap halves so the even one
 * holds row g, columns 2tq..2tq+3 and the odd one row g+8, columns 2tq-2..2tq+1; the values chosen
 * by selects, so the lanes do not diverge. */
__device__ __forceinline__ void dq_add(float *row, int c0, const float (&c)[4], int lane)
{
    const bool odd = lane & 1;
    const float x = __shfl_xor_sync(0xffffffffu, odd ? c[0] : c[2], 1);
    const float y = __shfl_xor_sync(0xffffffffu, odd ? c[1] : c[3], 1);
    if (row) red_add4(row + c0, odd ? x : c[0], odd ? y : c[1], odd ? c[2] : x, odd ? c[3] : y);
}

/* Stores one m-tile of dK (times scale) and dV in T: rows key0 + g and key0 + g + 8 (those before
 * Tn), columns col0 + 8·dn + 2tq.., from the accumulators of N n-tiles; base is the (b, h) offset
 * of the (B, T, H·d) tensors, ld their row stride. */
template <class T, int N>
__device__ __forceinline__ void store_dkdv(T *dk, T *dv, size_t base, long ld, int key0, int Tn, int col0, const float (&ka)[N][4],
                                           const float (&va)[N][4], float scale, int lane)
{
    const int g = lane >> 2, tq = lane & 3;
#pragma unroll
    for (int i = 0; i < 2; i++) {
        const int key = key0 + g + 8 * i;
        if (key >= Tn) continue;
        uint32_t *kd = reinterpret_cast<uint32_t *>((uint16_t *)dk + base + (size_t)key * ld + col0 + 2 * tq);
        uint32_t *vd = reinterpret_cast<uint32_t *>((uint16_t *)dv + base + (size_t)key * ld + col0 + 2 * tq);
#pragma unroll
        for (int dn = 0; dn < N; dn++) {
            kd[dn * 4] = pack2<T>(ka[dn][2 * i] * scale, ka[dn][2 * i + 1] * scale);
            vd[dn * 4] = pack2<T>(va[dn][2 * i], va[dn][2 * i + 1]);
        }
    }
}

/* The backward's variants per head dimension d (v = 1, 2, 3). v = 1 and 2 are flash_bwd_kernel
 * with 16·KT keys per warp times NW warps: v = 1 is 4 warps of 16 keys (64 keys a block), every d;
 * v = 2 is 128 keys a block, as 4 warps of 32 at d = 64 (dK and dV then take 128 accumulators) or
 * 8 warps of 16 at d = 128 (32 keys would need 256), and does not exist at d = 80 (its dQ columns,
 * 10 n-tiles, do not split 4 ways); 128 keys a block halve the dQ atomics and the Q/dO tile loads per
 * FLOP. v = 3 is flash_bwd_split_kernel (d = 64, 128). */
static constexpr __host__ __device__ bool flash_bwd_has(int d, int v) { return v == 1 || (v == 2 && d != 80) || (v == 3 && d % 64 == 0); }
static constexpr __host__ __device__ int flash_bwd_kt(int d, int v) { return v == 2 && d <= 64 ? 2 : 1; }
static constexpr __host__ __device__ int flash_bwd_nw(int d, int v) { return v == 2 && d > 80 ? 8 : 4; }

/* Backward. Grid (key blocks of 16·KT·NW keys, B·H), NW warps. Warp w owns keys k0 + 16·KT·w ..
 * +16·KT (KT m-tiles) as the rows of Sᵀ = K·Qᵀ, so P, dP and dS stay transposed in registers: dV +=
 * Pᵀ·dO and dK += dSᵀ·Q reuse them as A fragments; each Q and dO fragment read from shared memory
 * feeds KT tensor-core instructions. dQ = dS·K goes through shared memory (dSᵀ stored [key][query])
 * and fp32 atomics, once per block and query tile: more keys a block (KT = 2 or NW = 8) means fewer
 * atomics, and fewer Q/dO tile loads, per FLOP. */
template <class T, int D, int LD, int KT, int NW>
__global__ void __launch_bounds__(32 * NW)
    flash_bwd_kernel(int H, int Tn, long ld_in, long ld_out, float sl2, float scale, const T *__restrict__ q, const T *__restrict__ k,
                     const T *__restrict__ v, const T *__restrict__ dout, const float *__restrict__ lse,
                     const float *__restrict__ Dv, float *__restrict__ dq_acc, T *__restrict__ dk, T *__restrict__ dv)
{
#ifdef FLASH_BODY
    constexpr int NT = 32 * NW, LDS = D + PAD, LDP = BQ + PAD, BCK = 16 * KT * NW;
    constexpr int NJ = D / 8 / (NW / 2);   /* dQ's n-tiles per warp: BQ/16 = 2 row groups × NW/2 column groups */
    static_assert(D / 8 % (NW / 2) == 0, "dQ's columns must split evenly over the warps");
    extern __shared__ __align__(16) uint16_t smem[];
    uint16_t *Ks = smem, *Vs = Ks + BCK * LDS, *Qs = Vs + BCK * LDS, *dOs = Qs + 2 * BQ * LDS, *dSs = dOs + 2 * BQ * LDS;
    float *ls = reinterpret_cast<float *>(dSs + BCK * LDP), *Ds = ls + 2 * BQ;
    const int tid = threadIdx.x, lane = tid & 31, w = tid >> 5, g = lane >> 2, tq = lane & 3;
    const int bh = blockIdx.y, b = bh / H, h = bh % H, k0 = blockIdx.x * BCK;
    const size_t in = (size_t)b * Tn * ld_in + (size_t)h * D, out = (size_t)b * Tn * ld_out + (size_t)h * D;
    tile_async<D, BCK, NT>(Ks, (const uint16_t *)k + in, ld_in, k0, Tn, tid);
    tile_async<D, BCK, NT>(Vs, (const uint16_t *)v + in, ld_in, k0, Tn, tid);
    bwd_fetch<D, NT>(Qs, dOs, ls, Ds, (const uint16_t *)q + in, (const uint16_t *)dout + out, lse + (size_t)bh * Tn, Dv + (size_t)bh * Tn,
                 ld_in, ld_out, k0, Tn, tid);   /* one group: K, V and the first query tile */
    float dka[KT][D / 8][4], dva[KT][D / 8][4];
    int key[KT][2];
#pragma unroll
    for (int kt = 0; kt < KT; kt++) {
#pragma unroll
        for (int dn = 0; dn < D / 8; dn++)
#pragma unroll
            for (int e = 0; e < 4; e++) dka[kt][dn][e] = dva[kt][dn][e] = 0.f;
        key[kt][0] = k0 + (KT * w + kt) * 16 + g;
        key[kt][1] = key[kt][0] + 8;
    }
    int buf = 0;
    for (int i0 = k0; i0 < Tn; i0 += BQ, buf ^= 1) {   /* queries before k0 see none of these keys */
        /* No barrier before the copies: the other buffer was last read before the previous tile's
         * barrier ahead of dQ, and dSᵀ is next written after the barrier below. */
        if (i0 + BQ < Tn) {   /* the next tile flies while this one is computed */
            const int o = (buf ^ 1) * BQ;
            bwd_fetch<D, NT>(Qs + o * LDS, dOs + o * LDS, ls + o, Ds + o, (const uint16_t *)q + in, (const uint16_t *)dout + out,
                         lse + (size_t)bh * Tn, Dv + (size_t)bh * Tn, ld_in, ld_out, i0 + BQ, Tn, tid);
            cp_async_wait<1>();
        } else {
            cp_async_wait<0>();
        }
        __syncthreads();   /* this tile has landed, every thread's part of it; every warp is done with the last dSᵀ */
        const uint16_t *Qb = Qs + buf * BQ * LDS, *dOb = dOs + buf * BQ * LDS;
        const float *lb = ls + buf * BQ, *Db = Ds + buf * BQ;
        float s[KT][BQ / 8][4], dp[KT][BQ / 8][4];
#pragma unroll
        for (int kt = 0; kt < KT; kt++)
#pragma unroll
            for (int nt = 0; nt < BQ / 8; nt++)
#pragma unroll
                for (int e = 0; e < 4; e++) s[kt][nt][e] = dp[kt][nt][e] = 0.f;
#pragma unroll
        for (int kk = 0; kk < D / 16; kk++) {   /* Sᵀ = K·Qᵀ and dPᵀ = V·dOᵀ */
            uint32_t ka[KT][4], va[KT][4];
#pragma unroll
            for (int kt = 0; kt < KT; kt++) {
                frag_a<LD>(ka[kt], Ks, LDS, (KT * w + kt) * 16, kk * 16, lane);
                frag_a<LD>(va[kt], Vs, LDS, (KT * w + kt) * 16, kk * 16, lane);
            }
#pragma unroll
            for (int nt = 0; nt < BQ / 8; nt += 2) {
                uint32_t bq[2][2], bo[2][2];
                frag_b2<LD>(bq, Qb, LDS, nt * 8, kk * 16, lane);
                frag_b2<LD>(bo, dOb, LDS, nt * 8, kk * 16, lane);
#pragma unroll
                for (int kt = 0; kt < KT; kt++)
#pragma unroll
                    for (int j = 0; j < 2; j++) {
                        mma<T>(s[kt][nt + j], ka[kt], bq[j]);
                        mma<T>(dp[kt][nt + j], va[kt], bo[j]);
                    }
            }
        }
        /* Pᵀ = exp(S − lse) under the causal mask; dSᵀ = Pᵀ∘(dPᵀ − D) (scale applied at the end).
         * The mask only where a key of the warp is after a query of the tile, or a query is past Tn. */
        const bool edge = k0 + (KT * w + KT) * 16 - 1 > i0 || i0 + BQ > Tn;
#pragma unroll
        for (int kt = 0; kt < KT; kt++)
#pragma unroll
            for (int nt = 0; nt < BQ / 8; nt++)
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    int qi = nt * 8 + 2 * tq + (e & 1), query = i0 + qi;
                    float p = fast_exp2(fmaf(s[kt][nt][e], sl2, -lb[qi] * LOG2E));
                    if (edge && (query >= Tn || key[kt][e >> 1] > query)) p = 0.f;
                    s[kt][nt][e] = p;
                    dp[kt][nt][e] = p * (dp[kt][nt][e] - Db[qi]);
                }
#pragma unroll
        for (int kq = 0; kq < BQ / 16; kq++) {   /* dV += Pᵀ·dO, dK += dSᵀ·Q */
            uint32_t pa[KT][4], da[KT][4];
#pragma unroll
            for (int kt = 0; kt < KT; kt++) {
                acc_to_frag_a<T>(pa[kt], s[kt][2 * kq], s[kt][2 * kq + 1]);
                acc_to_frag_a<T>(da[kt], dp[kt][2 * kq], dp[kt][2 * kq + 1]);
            }
#pragma unroll
            for (int dn = 0; dn < D / 8; dn += 2) {
                uint32_t bo[2][2], bq[2][2];
                frag_b2_t<LD>(bo, dOb, LDS, kq * 16, dn * 8, lane);
                frag_b2_t<LD>(bq, Qb, LDS, kq * 16, dn * 8, lane);
#pragma unroll
                for (int kt = 0; kt < KT; kt++)
#pragma unroll
                    for (int j = 0; j < 2; j++) {
                        mma<T>(dva[kt][dn + j], pa[kt], bo[j]);
                        mma<T>(dka[kt][dn + j], da[kt], bq[j]);
                    }
            }
        }
#pragma unroll
        for (int kt = 0; kt < KT; kt++)
#pragma unroll
            for (int nt = 0; nt < BQ / 8; nt++) {   /* dSᵀ into shared memory, [key][query] */
                const int r = (KT * w + kt) * 16 + g;
                *reinterpret_cast<uint32_t *>(dSs + r * LDP + nt * 8 + 2 * tq) = pack2<T>(dp[kt][nt][0], dp[kt][nt][1]);
                *reinterpret_cast<uint32_t *>(dSs + (r + 8) * LDP + nt * 8 + 2 * tq) = pack2<T>(dp[kt][nt][2], dp[kt][nt][3]);
            }
        __syncthreads();
        /* dQ (BQ × D) += dS (BQ × BCK)·K (BCK × D): warp w takes query rows 16(w%2).. and columns
         * 8·NJ·(w/2).. (half of them with 4 warps, a quarter with 8) */
        const int m0 = (w & 1) * 16, nb = (w >> 1) * NJ;
        float dqa[NJ][4];
#pragma unroll
        for (int j = 0; j < NJ; j++) dqa[j][0] = dqa[j][1] = dqa[j][2] = dqa[j][3] = 0.f;
#pragma unroll
        for (int kk = 0; kk < BCK / 16; kk++) {
            uint32_t sa[4];
            frag_a_t<LD>(sa, dSs, LDP, m0, kk * 16, lane);
#pragma unroll
            for (int j = 0; j < NJ; j += 2) {
                if (j + 1 < NJ) {   /* two n-tiles a load; d = 80's odd fifth alone */
                    uint32_t bk[2][2];
                    frag_b2_t<LD>(bk, Ks, LDS, kk * 16, (nb + j) * 8, lane);
                    mma<T>(dqa[j], sa, bk[0]);
                    mma<T>(dqa[j + 1], sa, bk[1]);
                } else {
                    uint32_t bk[2];
                    frag_b_t<LD>(bk, Ks, LDS, kk * 16, (nb + j) * 8, lane);
                    mma<T>(dqa[j], sa, bk);
                }
            }
        }
        float *dq_r = dq_row<D>(dq_acc, b, Tn, H, h, i0 + m0, lane);
#pragma unroll
        for (int j = 0; j < NJ; j++) dq_add(dq_r, (nb + j) * 8, dqa[j], lane);
    }
#pragma unroll
    for (int kt = 0; kt < KT; kt++) store_dkdv<T>(dk, dv, in, ld_in, k0 + (KT * w + kt) * 16, Tn, 0, dka[kt], dva[kt], scale, lane);
#endif
}

/* Backward in FlashAttention-2's split layout, for d = 64 and 128 (a multiple of 64: D/32 n-tiles, in pairs,
 * per warp in phase C):
 * 8 warps, 128 keys a block, 64-row query tiles, and one warp layout per phase, so each fragment
 * read from shared memory feeds 2 to 4 tensor-core instructions (1 in flash_bwd_kernel at 16 keys
 * per warp, which cannot take 32: dK and dV would need 256 accumulators):
 *   A. Sᵀ = K·Qᵀ and dPᵀ = V·dOᵀ (128 × 64): warp w owns keys 32(w%4).. and queries 32(w/4)..; Pᵀ
 *      and dSᵀ = Pᵀ∘(dPᵀ − D) go to shared memory, [key][query];
 *   B. dV += Pᵀ·dO and dK += dSᵀ·Q (128 × D): warp w owns keys 32(w%4).. and columns D/2·(w/4)..,
 *      in registers across the tiles (2·2·D/16·4 = 128 floats at d = 128);
 *   C. dQ = dS·K (64 × D): warp w owns queries 32(w%2).. and columns D/4·(w/2)..; into the fp32
 *      accumulator by dq_add.
 * Shared memory per 128 keys and 64 queries: about 600 KiB read for 2560 mma.sync, against about
 * 850 KiB in flash_bwd_kernel at 8 warps of 16 keys, with half its barriers. Q, dO, lse and D are
 * double-buffered (DB: the next tile's copies fly during this whole tile; 173 KiB a block at
 * d = 128, for Hopper's 227) or single (138.5 KiB, within an A100's 163: the next tile's copies
 * are issued once phase B is done with this one and land during phase C). Warps skip the 16-wide
 * steps that the causal mask zeroes wholly (on the tiles at the block's diagonal). */
template <class T, int D, int LD, bool DB>
__global__ void __launch_bounds__(256)
    flash_bwd_split_kernel(int H, int Tn, long ld_in, long ld_out, float sl2, float scale, const T *__restrict__ q,
                           const T *__restrict__ k, const T *__restrict__ v, const T *__restrict__ dout, const float *__restrict__ lse,
                           const float *__restrict__ Dv, float *__restrict__ dq_acc, T *__restrict__ dk, T *__restrict__ dv)
{
#ifdef FLASH_BODY
    constexpr int NT = 256, BN = 128, BM = 64, LDS = D + PAD, LDP = BM + PAD, NB = D / 16, NC = D / 32;
    static_assert(D % 64 == 0, "phase C splits the columns 4 ways in pairs of n-tiles of 8");
    extern __shared__ __align__(16) uint16_t smem[];
    constexpr int NBUF = DB ? 2 : 1;
    uint16_t *Ks = smem, *Vs = Ks + BN * LDS, *Qb0 = Vs + BN * LDS, *dOb0 = Qb0 + NBUF * BM * LDS, *Ps = dOb0 + NBUF * BM * LDS;
    uint16_t *dSs = Ps + BN * LDP;
    float *lb0 = reinterpret_cast<float *>(dSs + BN * LDP), *Db0 = lb0 + NBUF * BM;
    const int tid = threadIdx.x, lane = tid & 31, w = tid >> 5, g = lane >> 2, tq = lane & 3;
    const int bh = blockIdx.y, b = bh / H, h = bh % H, k0 = blockIdx.x * BN;
    const int wk = w & 3, wh = w >> 2;   /* phases A and B: the key group; the query (A) or column (B) half */
    const size_t in = (size_t)b * Tn * ld_in + (size_t)h * D, out = (size_t)b * Tn * ld_out + (size_t)h * D;
    const uint16_t *qg = (const uint16_t *)q + in, *dog = (const uint16_t *)dout + out;
    const float *lg = lse + (size_t)bh * Tn, *Dg = Dv + (size_t)bh * Tn;
    tile_async<D, BN, NT>(Ks, (const uint16_t *)k + in, ld_in, k0, Tn, tid);
    tile_async<D, BN, NT>(Vs, (const uint16_t *)v + in, ld_in, k0, Tn, tid);
    bwd_fetch<D, NT, BM>(Qb0, dOb0, lb0, Db0, qg, dog, lg, Dg, ld_in, ld_out, k0, Tn, tid);   /* one group: K, V, the first tile */
    float dka[2][NB][4], dva[2][NB][4];
#pragma unroll
    for (int mt = 0; mt < 2; mt++)
#pragma unroll
        for (int dn = 0; dn < NB; dn++)
#pragma unroll
            for (int e = 0; e < 4; e++) dka[mt][dn][e] = dva[mt][dn][e] = 0.f;
    const int kw = k0 + 32 * wk;   /* the warp's first key in phases A and B */
    for (int i0 = k0, buf = 0; i0 < Tn; i0 += BM, buf ^= DB) {   /* queries before k0 see none of these keys */
        const uint16_t *Qs = Qb0 + buf * BM * LDS, *dOs = dOb0 + buf * BM * LDS;
        const float *ls = lb0 + buf * BM, *Ds = Db0 + buf * BM;
        if (DB && i0 + BM < Tn) {   /* the other buffer was last read in the previous tile's phase B, before its barrier */
            const int o = buf ^ 1;
            bwd_fetch<D, NT, BM>(Qb0 + o * BM * LDS, dOb0 + o * BM * LDS, lb0 + o * BM, Db0 + o * BM, qg, dog, lg, Dg, ld_in, ld_out, i0 + BM,
                                 Tn, tid);
            cp_async_wait<1>();
        } else {
            cp_async_wait<0>();
        }
        __syncthreads();   /* this tile has landed, and every warp is done with the last one's dSᵀ */
        {   /* A: this warp's 32 × 32 of Sᵀ and dPᵀ, then Pᵀ and dSᵀ into shared memory */
            const int qw = 32 * wh;   /* the warp's first query row in the tile */
            float s[2][4][4], dp[2][4][4];
#pragma unroll
            for (int mt = 0; mt < 2; mt++)
#pragma unroll
                for (int nt = 0; nt < 4; nt++)
#pragma unroll
                    for (int e = 0; e < 4; e++) s[mt][nt][e] = dp[mt][nt][e] = 0.f;
            if (kw <= i0 + qw + 31) {   /* else every key of the warp is after every query of it: all masked */
#pragma unroll
                for (int kk = 0; kk < D / 16; kk++) {
                    uint32_t ka[2][4], va[2][4];
#pragma unroll
                    for (int mt = 0; mt < 2; mt++) {
                        frag_a<LD>(ka[mt], Ks, LDS, 32 * wk + 16 * mt, 16 * kk, lane);
                        frag_a<LD>(va[mt], Vs, LDS, 32 * wk + 16 * mt, 16 * kk, lane);
                    }
#pragma unroll
                    for (int nt = 0; nt < 4; nt += 2) {
                        uint32_t bq[2][2], bo[2][2];
                        frag_b2<LD>(bq, Qs, LDS, qw + 8 * nt, 16 * kk, lane);
                        frag_b2<LD>(bo, dOs, LDS, qw + 8 * nt, 16 * kk, lane);
#pragma unroll
                        for (int mt = 0; mt < 2; mt++)
#pragma unroll
                            for (int j = 0; j < 2; j++) {
                                mma<T>(s[mt][nt + j], ka[mt], bq[j]);
                                mma<T>(dp[mt][nt + j], va[mt], bo[j]);
                            }
                    }
                }
            }
            /* the mask only where a key of the warp is after a query of it, or a query is past Tn */
            const bool edge = kw + 31 > i0 + qw || i0 + qw + 32 > Tn;
#pragma unroll
            for (int mt = 0; mt < 2; mt++)
#pragma unroll
                for (int nt = 0; nt < 4; nt++) {
#pragma unroll
                    for (int e = 0; e < 4; e++) {
                        int qi = qw + 8 * nt + 2 * tq + (e & 1), query = i0 + qi, kr = kw + 16 * mt + g + 8 * (e >> 1);
                        float p = fast_exp2(fmaf(s[mt][nt][e], sl2, -ls[qi] * LOG2E));
                        if (edge && (query >= Tn || kr > query)) p = 0.f;
                        s[mt][nt][e] = p;
                        dp[mt][nt][e] = p * (dp[mt][nt][e] - Ds[qi]);
                    }
                    const int r = 32 * wk + 16 * mt + g, c = qw + 8 * nt + 2 * tq;
                    *reinterpret_cast<uint32_t *>(Ps + r * LDP + c) = pack2<T>(s[mt][nt][0], s[mt][nt][1]);
                    *reinterpret_cast<uint32_t *>(Ps + (r + 8) * LDP + c) = pack2<T>(s[mt][nt][2], s[mt][nt][3]);
                    *reinterpret_cast<uint32_t *>(dSs + r * LDP + c) = pack2<T>(dp[mt][nt][0], dp[mt][nt][1]);
                    *reinterpret_cast<uint32_t *>(dSs + (r + 8) * LDP + c) = pack2<T>(dp[mt][nt][2], dp[mt][nt][3]);
                }
        }
        __syncthreads();   /* Pᵀ and dSᵀ complete */
        {   /* B: dV += Pᵀ·dO, dK += dSᵀ·Q over the tile's 64 queries, 16 at a time */
            const int cw = D / 2 * wh;   /* the warp's first column */
#pragma unroll
            for (int kq = 0; kq < BM / 16; kq++) {
                if (kw > i0 + 16 * kq + 15) continue;   /* these 16 queries are before every key of the warp */
                uint32_t pa[2][4], da[2][4];
#pragma unroll
                for (int mt = 0; mt < 2; mt++) {
                    frag_a<LD>(pa[mt], Ps, LDP, 32 * wk + 16 * mt, 16 * kq, lane);
                    frag_a<LD>(da[mt], dSs, LDP, 32 * wk + 16 * mt, 16 * kq, lane);
                }
#pragma unroll
                for (int dn = 0; dn < NB; dn += 2) {
                    uint32_t bo[2][2], bq[2][2];
                    frag_b2_t<LD>(bo, dOs, LDS, 16 * kq, cw + 8 * dn, lane);
                    frag_b2_t<LD>(bq, Qs, LDS, 16 * kq, cw + 8 * dn, lane);
#pragma unroll
                    for (int mt = 0; mt < 2; mt++)
#pragma unroll
                        for (int j = 0; j < 2; j++) {
                            mma<T>(dva[mt][dn + j], pa[mt], bo[j]);
                            mma<T>(dka[mt][dn + j], da[mt], bq[j]);
                        }
                }
            }
        }
        __syncthreads();   /* this buffer of Q, dO, lse and D is free: single-buffered, the next tile's copies fly during phase C */
        if (!DB && i0 + BM < Tn) bwd_fetch<D, NT, BM>(Qb0, dOb0, lb0, Db0, qg, dog, lg, Dg, ld_in, ld_out, i0 + BM, Tn, tid);
        {   /* C: dQ (64 × D) += dS (64 × 128)·K (128 × D), the warp's 32 × D/4 */
            const int wq = w & 1, cw = D / 4 * (w >> 1), qw = 32 * wq;
            float dqa[2][NC][4];
#pragma unroll
            for (int mt = 0; mt < 2; mt++)
#pragma unroll
                for (int j = 0; j < NC; j++) dqa[mt][j][0] = dqa[mt][j][1] = dqa[mt][j][2] = dqa[mt][j][3] = 0.f;
#pragma unroll
            for (int kk = 0; kk < BN / 16; kk++) {
                if (k0 + 16 * kk > i0 + qw + 31) break;   /* these keys and all after them are after every query of the warp */
                uint32_t sa[2][4];
#pragma unroll
                for (int mt = 0; mt < 2; mt++) frag_a_t<LD>(sa[mt], dSs, LDP, qw + 16 * mt, 16 * kk, lane);
#pragma unroll
                for (int j = 0; j < NC; j += 2) {
                    uint32_t bk[2][2];
                    frag_b2_t<LD>(bk, Ks, LDS, 16 * kk, cw + 8 * j, lane);
#pragma unroll
                    for (int mt = 0; mt < 2; mt++) {
                        mma<T>(dqa[mt][j], sa[mt], bk[0]);
                        mma<T>(dqa[mt][j + 1], sa[mt], bk[1]);
                    }
                }
            }
#pragma unroll
            for (int mt = 0; mt < 2; mt++) {
                float *dq_r = dq_row<D>(dq_acc, b, Tn, H, h, i0 + qw + 16 * mt, lane);
#pragma unroll
                for (int j = 0; j < NC; j++) dq_add(dq_r, cw + 8 * j, dqa[mt][j], lane);
            }
        }
    }
#pragma unroll
    for (int mt = 0; mt < 2; mt++) store_dkdv<T>(dk, dv, in, ld_in, kw + 16 * mt, Tn, D / 2 * wh, dka[mt], dva[mt], scale, lane);
#endif
}

/* Shared memory of a launch (bytes) for head dimension d. */
static inline size_t flash_fwd_smem(int d, int mt) { return (size_t)(64 * mt + 4 * flash_fwd_bk(d, mt)) * (d + PAD) * 2; }
static inline size_t flash_bwd_split_smem(int d, bool db)
{
    size_t nbuf = db ? 2 : 1;
    return (2 * 128 + nbuf * 2 * 64) * (size_t)(d + PAD) * 2 + (size_t)2 * 128 * (64 + PAD) * 2 + nbuf * 2 * 64 * sizeof(float);
}
static inline size_t flash_bwd_smem(int d, int v)
{
    size_t keys = (size_t)16 * flash_bwd_kt(d, v) * flash_bwd_nw(d, v);
    return (2 * keys + 4 * BQ) * (d + PAD) * 2 + keys * (BQ + PAD) * 2 + 4 * BQ * sizeof(float);
}

/* Bytes of shared memory of backward variant id: 1, 2 (flash_bwd_kernel), 3 and 4 (the split
 * layout double- and single-buffered). */
static inline size_t flash_bwd_id_smem(int d, int id) { return id >= 3 ? flash_bwd_split_smem(d, id == 3) : flash_bwd_smem(d, id); }

/* The backward variants offered at head dimension d on a GPU whose blocks may opt in to `optin`
 * bytes of shared memory (0: unknown, every one offered): ids[] in order from 1, 2 and the split
 * layout, as 3 (double-buffered) or, where only that fits, 4 (single); bit v of *dropped for each
 * variant v that d has and this memory does not take. Returns how many. */
static inline int flash_bwd_offered(int d, size_t optin, int ids[3], int *dropped)
{
    int n = 0;
    *dropped = 0;
    for (int v = 1; v <= 3; v++) {
        if (!flash_bwd_has(d, v)) continue;
        int id = v == 3 && optin && flash_bwd_id_smem(d, 3) > optin ? 4 : v;
        if (optin && flash_bwd_id_smem(d, id) > optin) *dropped |= 1 << v;
        else ids[n++] = id;
    }
    return n;
}
#endif
