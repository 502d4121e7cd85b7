/* cuda_sim.h: enough of CUDA's device side, on the host, to run dlbench's warp-level kernels on a
 * CPU in a test: a block's threads are fibers that run until they wait (barrier, warp collective),
 * and mma.sync, ldmatrix, shuffles and cp.async are computed from the fragment layouts the PTX ISA
 * documents. It checks what the kernels compute, not how fast: CI has no GPU, and without this the
 * fused kernels would be verified only where one is lent. Include it before a kernel header; build
 * with -DDLBENCH_CUDA_SIM (gpu/mma_sm80.cuh then calls sim_* instead of its inline PTX). */
#ifndef DLBENCH_CUDA_SIM_H
#define DLBENCH_CUDA_SIM_H
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <algorithm>
#include <functional>

#ifndef DLBENCH_CUDA_SIM
#error "build the simulated kernels with -DDLBENCH_CUDA_SIM"
#endif

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __grid_constant__
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
#define __shared__   /* dynamic shared memory only: `extern __shared__ smem[]` is the simulator's smem */

struct sim_dim3 { unsigned x, y, z; };
struct sim_fiber;
extern sim_fiber *sim_current;          /* the running thread */
extern sim_dim3 sim_block_idx, sim_grid_dim, sim_block_dim;
const sim_dim3 &sim_thread_idx(void);
#define threadIdx sim_thread_idx()
#define blockIdx sim_block_idx
#define gridDim sim_grid_dim
#define blockDim sim_block_dim

struct alignas(16) uint4 { unsigned x, y, z, w; };
static inline uint4 make_uint4(unsigned x, unsigned y, unsigned z, unsigned w) { return uint4{x, y, z, w}; }
struct alignas(16) float4 { float x, y, z, w; };
using std::max;
using std::min;

/* 16-bit storage types: bits only, converted with round to nearest even (kernels/dtype.c). */
extern "C" {
uint16_t f32_to_bf16(float f);
uint16_t f32_to_f16(float f);
float bf16_to_f32(uint16_t h);
float f16_to_f32(uint16_t h);
}
struct __nv_bfloat16 { uint16_t bits; };
struct __half { uint16_t bits; };
struct __nv_bfloat162 { __nv_bfloat16 x, y; };
struct __half2 { __half x, y; };
static inline __nv_bfloat162 __floats2bfloat162_rn(float lo, float hi)
{
    return __nv_bfloat162{{f32_to_bf16(lo)}, {f32_to_bf16(hi)}};
}
static inline __half2 __floats2half2_rn(float lo, float hi) { return __half2{{f32_to_f16(lo)}, {f32_to_f16(hi)}}; }
/* dtype_cuda.cuh's conversions, for kernels written on the storage type T (bias_add_kernels.cuh). */
static inline float to_f32(float v) { return v; }
static inline float to_f32(__half v) { return f16_to_f32(v.bits); }
static inline float to_f32(__nv_bfloat16 v) { return bf16_to_f32(v.bits); }
template <class T> T from_f32(float v);
template <> inline float from_f32<float>(float v) { return v; }
template <> inline __half from_f32<__half>(float v) { return __half{f32_to_f16(v)}; }
template <> inline __nv_bfloat16 from_f32<__nv_bfloat16>(float v) { return __nv_bfloat16{f32_to_bf16(v)}; }

/* Block and warp collectives: every thread of the block (warp) must reach them, as on the GPU;
 * a thread that never does is reported as a deadlock. */
void sim_syncthreads(void);
float sim_shfl_xor(float v, int lane_mask);
/* __any_sync over the whole warp: nonzero when some lane's predicate is. */
int sim_any(int pred);
/* c (16×8 fp32) += a (16×16) · b (16×8) with a warp's fragments (PTX "mma.m16n8k16"); bf16 or fp16
 * inputs, products exact, sums in double rounded to fp32 once. */
void sim_mma_m16n8k16(float (&c)[4], const uint32_t (&a)[4], const uint32_t (&b)[2], bool bf16);
/* ldmatrix .m8n8 .x1/.x2/.x4 (.trans): lanes 8i..8i+7 give the rows of matrix i. */
void sim_ldmatrix(uint32_t *r, int nmat, const void *row, bool trans);
/* cp.async of 4, 8 or 16 bytes (src_bytes of them read, the rest zero), both addresses aligned to
 * the size: the global bytes are read when issued and land in shared memory only at the wait that
 * covers their group, so a kernel that reads before waiting sees the old contents. */
void sim_cp_async(void *dst, const void *src, int bytes, int src_bytes);
void sim_cp_async_commit(void);
void sim_cp_async_wait(int pending);

/* red.global.add.v4.f32: p must be 16-byte aligned. */
void sim_red_add4(float *p, float a, float b, float c, float d);

#define __syncthreads() sim_syncthreads()
#define __shfl_xor_sync(mask, v, m) sim_shfl_xor((v), (m))
#define __any_sync(mask, p) sim_any((p) ? 1 : 0)
static inline float atomicAdd(float *p, float v)   /* fibers never interleave inside a statement */
{
    float old = *p;
    *p = old + v;
    return old;
}

/* Kernel headers are included inside namespace dlbench_sim (DLBENCH_SIM_KERNELS_BEGIN/END), so a
 * kernel compiled here never shares a symbol with its GPU launch stub in the same program. A
 * block's dynamic shared memory is the kernels' `extern __shared__ smem[]`, which therefore
 * names dlbench_sim::smem (227 KiB, an H100's opt-in maximum per block). */
#define DLBENCH_SIM_KERNELS_BEGIN namespace dlbench_sim {
#define DLBENCH_SIM_KERNELS_END }
#define SIM_SMEM_BYTES (227 * 1024)
namespace dlbench_sim {
extern uint16_t smem[];
}

/* Runs body once per thread of a (grid_x, grid_y[, grid_z]) grid of blocks of `threads` threads, one block
 * at a time. The first smem_bytes of smem are filled with 0xff before each block (NaN in every
 * dtype), the rest is a canary the block must leave alone. Between waits the threads run one
 * after another, in thread order or, after sim_set_reverse(1), from the last thread to the
 * first: a kernel that reads what another thread wrote without a barrier between gets a
 * different answer in one of the two orders. Returns 0, or -1 with sim_error() set (a deadlock,
 * threads of a warp in different collectives, a shared-memory overrun). */
void sim_set_reverse(bool on);
/* A cp.async lands somewhere between its issue and the wait that covers its group: at the wait
 * (the default, so a read before the wait sees the old contents) or, after sim_set_eager_copies(1),
 * at once (so a copy into a buffer that another thread may still be reading, without a barrier
 * between, overwrites what that thread reads next). */
void sim_set_eager_copies(bool on);
int sim_launch(unsigned grid_x, unsigned grid_y, unsigned threads, size_t smem_bytes, const std::function<void()> &body);
int sim_launch3(unsigned grid_x, unsigned grid_y, unsigned grid_z, unsigned threads, size_t smem_bytes, const std::function<void()> &body);
const char *sim_error(void);
#endif
