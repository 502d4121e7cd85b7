/* mma_sm80.cuh: the warp-level sm_80 instructions the fused kernels use (mma.sync m16n8k16 on
 * bf16/fp16 with fp32 accumulation, ldmatrix, cp.async with zero fill), each beside its host
 * counterpart in tests/sim/cuda_sim.h (built with -DDLBENCH_CUDA_SIM), so the same kernel source
 * runs on a GPU and, to be checked, on a CPU. Fragment layouts: PTX ISA, "Matrix Fragments for
 * mma.m16n8k16", "ldmatrix" and "cp.async". */
#ifndef DLBENCH_MMA_SM80_CUH
#define DLBENCH_MMA_SM80_CUH
#include <stdint.h>
#ifndef DLBENCH_CUDA_SIM
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
#define SM80_PTX 1   /* the instructions exist from sm_80 on; older targets get empty bodies */
#endif
#endif

__device__ __forceinline__ uint32_t ld32(const uint16_t *p) { return *reinterpret_cast<const uint32_t *>(p); }
__device__ __forceinline__ uint32_t pack16(uint16_t lo, uint16_t hi) { return (uint32_t)lo | (uint32_t)hi << 16; }

template <class T> __device__ __forceinline__ uint32_t pack2(float lo, float hi);
template <> __device__ __forceinline__ uint32_t pack2<__nv_bfloat16>(float lo, float hi)
{
    __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);   /* .x (lo) in the low half */
    return *reinterpret_cast<uint32_t *>(&v);
}
template <> __device__ __forceinline__ uint32_t pack2<__half>(float lo, float hi)
{
    __half2 v = __floats2half2_rn(lo, hi);
    return *reinterpret_cast<uint32_t *>(&v);
}

/* The accumulators of n-tiles 2k and 2k+1 (c0, c1: 16×8 fp32 each) as the A fragment (16×16) of
 * k-step k, rounded to T: mma's C layout is A's two halves, so scores become the next product's
 * left operand without leaving registers. */
template <class T> __device__ __forceinline__ void acc_to_frag_a(uint32_t (&a)[4], const float (&c0)[4], const float (&c1)[4])
{
    a[0] = pack2<T>(c0[0], c0[1]);
    a[1] = pack2<T>(c0[2], c0[3]);
    a[2] = pack2<T>(c1[0], c1[1]);
    a[3] = pack2<T>(c1[2], c1[3]);
}

/* c (16×8 fp32) += a (16×16) · b (16×8). Lane l, g = l/4, t = l%4 holds: a[0] (row g, k 2t..2t+1),
 * a[1] (row g+8, k 2t..), a[2] (row g, k 2t+8..), a[3] (row g+8, k 2t+8..); b[0] (k 2t..2t+1, col g),
 * b[1] (k 2t+8.., col g); c[0..1] (row g, cols 2t..2t+1), c[2..3] (row g+8, cols 2t..2t+1). */
template <class T> __device__ __forceinline__ void mma(float (&c)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]);
template <> __device__ __forceinline__ void mma<__nv_bfloat16>(float (&c)[4], const uint32_t (&a)[4], const uint32_t (&b)[2])
{
#if defined(DLBENCH_CUDA_SIM)
    sim_mma_m16n8k16(c, a, b, true);
#elif defined(SM80_PTX)
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#endif
}
template <> __device__ __forceinline__ void mma<__half>(float (&c)[4], const uint32_t (&a)[4], const uint32_t (&b)[2])
{
#if defined(DLBENCH_CUDA_SIM)
    sim_mma_m16n8k16(c, a, b, false);
#elif defined(SM80_PTX)
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#endif
}

/* ldmatrix: lanes 8i..8i+7 give the row addresses of 8×8 matrix i (16 bytes each); register i of
 * lane l receives row l/4, columns 2(l%4)..+1 of matrix i, or with .trans rows 2(l%4)..+1, column l/4. */
__device__ __forceinline__ void ldsm_x4(uint32_t (&r)[4], const uint16_t *p, bool trans)
{
#if defined(DLBENCH_CUDA_SIM)
    sim_ldmatrix(r, 4, p, trans);
#elif defined(SM80_PTX)
    uint32_t a = (uint32_t)__cvta_generic_to_shared(p);
    if (trans)
        asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                     : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(a));
    else
        asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                     : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(a));
#endif
}

__device__ __forceinline__ void ldsm_x2(uint32_t (&r)[2], const uint16_t *p, bool trans)
{
#if defined(DLBENCH_CUDA_SIM)
    sim_ldmatrix(r, 2, p, trans);
#elif defined(SM80_PTX)
    uint32_t a = (uint32_t)__cvta_generic_to_shared(p);
    if (trans)
        asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0,%1}, [%2];\n" : "=r"(r[0]), "=r"(r[1]) : "r"(a));
    else
        asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0,%1}, [%2];\n" : "=r"(r[0]), "=r"(r[1]) : "r"(a));
#endif
}

/* Fragments from shared memory through ldmatrix (LD = 1) or plain 32-bit loads (LD = 0): the
 * same registers either way. ld: the row stride in elements (rows 16-byte aligned for ldmatrix). */
/* A (16×16): rows row0.., k k0.. of s stored [row][k] (row stride ld). */
template <int LD> __device__ __forceinline__ void frag_a(uint32_t (&a)[4], const uint16_t *s, int ld, int row0, int k0, int lane)
{
    if (LD) {
        ldsm_x4(a, s + (row0 + (lane & 7) + (lane & 8)) * ld + k0 + ((lane & 16) >> 1), false);
    } else {
        const uint16_t *p = s + (row0 + (lane >> 2)) * ld + k0 + 2 * (lane & 3);
        a[0] = ld32(p); a[1] = ld32(p + 8 * ld); a[2] = ld32(p + 8); a[3] = ld32(p + 8 * ld + 8);
    }
}

/* A (16×16): rows row0.., k k0.. of s stored [k][row]. */
template <int LD> __device__ __forceinline__ void frag_a_t(uint32_t (&a)[4], const uint16_t *s, int ld, int row0, int k0, int lane)
{
    if (LD) {
        ldsm_x4(a, s + (k0 + (lane & 7) + ((lane & 16) >> 1)) * ld + row0 + (lane & 8), true);
    } else {
        const int g = lane >> 2, t = lane & 3;
        const uint16_t *p = s + (k0 + 2 * t) * ld + row0 + g;
        a[0] = pack16(p[0], p[ld]);
        a[1] = pack16(p[8], p[ld + 8]);
        a[2] = pack16(p[8 * ld], p[9 * ld]);
        a[3] = pack16(p[8 * ld + 8], p[9 * ld + 8]);
    }
}

/* B (16×8): k k0.., n n0.. of s stored [n][k]. */
template <int LD> __device__ __forceinline__ void frag_b(uint32_t (&b)[2], const uint16_t *s, int ld, int n0, int k0, int lane)
{
    if (LD) {
        const int l = lane & 15;
        ldsm_x2(b, s + (n0 + (l & 7)) * ld + k0 + (l & 8), false);
    } else {
        const uint16_t *p = s + (n0 + (lane >> 2)) * ld + k0 + 2 * (lane & 3);
        b[0] = ld32(p); b[1] = ld32(p + 8);
    }
}

/* B (16×8): k k0.., n n0.. of s stored [k][n]. */
template <int LD> __device__ __forceinline__ void frag_b_t(uint32_t (&b)[2], const uint16_t *s, int ld, int k0, int n0, int lane)
{
    if (LD) {
        ldsm_x2(b, s + (k0 + (lane & 15)) * ld + n0, true);
    } else {
        const uint16_t *p = s + (k0 + 2 * (lane & 3)) * ld + n0 + (lane >> 2);
        b[0] = pack16(p[0], p[ld]);
        b[1] = pack16(p[8 * ld], p[9 * ld]);
    }
}

/* Two B fragments, n-tiles n0 and n0 + 8 (b[0], b[1]), k k0.., of s stored [n][k]: one ldmatrix.x4
 * where frag_b takes an x2 per n-tile, so half the load instructions for the same bytes. */
template <int LD> __device__ __forceinline__ void frag_b2(uint32_t (&b)[2][2], const uint16_t *s, int ld, int n0, int k0, int lane)
{
    if (LD) {
        uint32_t r[4];
        ldsm_x4(r, s + (n0 + (lane & 7) + ((lane & 16) >> 1)) * ld + k0 + (lane & 8), false);
        b[0][0] = r[0]; b[0][1] = r[1]; b[1][0] = r[2]; b[1][1] = r[3];
    } else {
        frag_b<0>(b[0], s, ld, n0, k0, lane);
        frag_b<0>(b[1], s, ld, n0 + 8, k0, lane);
    }
}

/* The same of s stored [k][n] (frag_b_t's layout). */
template <int LD> __device__ __forceinline__ void frag_b2_t(uint32_t (&b)[2][2], const uint16_t *s, int ld, int k0, int n0, int lane)
{
    if (LD) {
        uint32_t r[4];
        ldsm_x4(r, s + (k0 + (lane & 15)) * ld + n0 + ((lane & 16) >> 1), true);
        b[0][0] = r[0]; b[0][1] = r[1]; b[1][0] = r[2]; b[1][1] = r[3];
    } else {
        frag_b_t<0>(b[0], s, ld, k0, n0, lane);
        frag_b_t<0>(b[1], s, ld, k0, n0 + 8, lane);
    }
}

/* 2^x by the special-function unit alone (ex2.approx.ftz: relative error about 2^-22, results
 * below 2^-126 flushed to zero). exp2f without fast-math wraps the same instruction in a range
 * check and two multiplications for subnormal results, which a softmax does not need: a
 * probability below 2^-126 of its row's maximum adds nothing to an fp32 sum. */
__device__ __forceinline__ float fast_exp2(float x)
{
#if defined(DLBENCH_CUDA_SIM)
    return exp2f(x);
#elif defined(SM80_PTX)
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
    return y;
#else
    return exp2f(x);
#endif
}

/* 16 bytes global -> shared without passing through registers (.cg: cached in L2 only); when
 * full is false none are read and the 16 bytes are zeros (a row past the sequence's end). The
 * copy lands at the cp_async_wait that covers its group. Both addresses 16-byte aligned. */
__device__ __forceinline__ void cp_async16(void *smem_dst, const void *gmem_src, bool full)
{
#if defined(DLBENCH_CUDA_SIM)
    sim_cp_async(smem_dst, gmem_src, 16, full ? 16 : 0);
#elif defined(SM80_PTX)
    uint32_t a = (uint32_t)__cvta_generic_to_shared(smem_dst);
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(a), "l"(gmem_src), "r"(full ? 16 : 0));
#endif
}

/* The same for one 4-byte word (.ca: 4-byte copies may not bypass L1). */
__device__ __forceinline__ void cp_async4(void *smem_dst, const void *gmem_src, bool full)
{
#if defined(DLBENCH_CUDA_SIM)
    sim_cp_async(smem_dst, gmem_src, 4, full ? 4 : 0);
#elif defined(SM80_PTX)
    uint32_t a = (uint32_t)__cvta_generic_to_shared(smem_dst);
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(a), "l"(gmem_src), "r"(full ? 4 : 0));
#endif
}

/* Closes the group of copies issued since the last commit. */
__device__ __forceinline__ void cp_async_commit(void)
{
#if defined(DLBENCH_CUDA_SIM)
    sim_cp_async_commit();
#elif defined(SM80_PTX)
    asm volatile("cp.async.commit_group;\n" ::);
#endif
}

/* Waits until at most N of this thread's committed groups are in flight (the others have landed);
 * other threads' copies are visible after the __syncthreads() that follows. */
template <int N> __device__ __forceinline__ void cp_async_wait(void)
{
#if defined(DLBENCH_CUDA_SIM)
    sim_cp_async_wait(N);
#elif defined(SM80_PTX)
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
#endif
}

/* p[0..3] += a, b, c, d in global memory (p 16-byte aligned), nothing returned: one vector
 * reduction on sm_90 (red.global.add.v4.f32), four scalar ones before it. */
__device__ __forceinline__ void red_add4(float *p, float a, float b, float c, float d)
{
#if defined(DLBENCH_CUDA_SIM)
    sim_red_add4(p, a, b, c, d);
#elif defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    atomicAdd(reinterpret_cast<float4 *>(p), make_float4(a, b, c, d));
#else
    atomicAdd(p, a);
    atomicAdd(p + 1, b);
    atomicAdd(p + 2, c);
    atomicAdd(p + 3, d);
#endif
}
#endif
