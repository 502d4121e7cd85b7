/* fill_cuda.cu: seeded inputs generated on the GPU by the counter-based generator the host uses
 * (kernels/cbrng.h: identical bits, no host upload), and the NaN/Inf scan of an output on the GPU;
 * kernels and their launchers only. */
#include "cbrng.h"
#include "cuda_check.h"
#include "cuda_launch.cuh"
#include "cuda_ops.h"
#include "cuda_state.h"
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>

/* Element i rounded to nearest even into the storage type (as kernels/dtype.c does on the host). */
struct to_f32 { __device__ float operator()(float v) const { return v; } };
struct to_f16 { __device__ __half operator()(float v) const { return __float2half_rn(v); } };
struct to_bf16 { __device__ __nv_bfloat16 operator()(float v) const { return __float2bfloat16_rn(v); } };

template <class T, class Conv>
__global__ void fill_kernel(size_t n, uint64_t key, float lo, float hi, T *out, Conv conv)
{
    size_t stride = (size_t)gridDim.x * blockDim.x;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += stride)
        out[i] = conv(cbrng_uniform(key, i, lo, hi));
}

/* count[0] += non-finite elements; first[0] = min index of one (starts at n). mask: the exponent
 * bits of 16-bit storage (all set: NaN or Inf), 0 for fp32. */
__global__ void scan_nonfinite_kernel(size_t n, const void *__restrict__ src, unsigned short mask,
                                      unsigned long long *count, unsigned long long *first)
{
    size_t stride = (size_t)gridDim.x * blockDim.x;
    unsigned long long bad = 0, at = n;
    const float *x = (const float *)src;
    const unsigned short *h = (const unsigned short *)src;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += stride)
        if (mask ? (h[i] & mask) == mask : !isfinite(x[i])) { bad++; if (i < at) at = i; }
    if (bad) { atomicAdd(count, bad); atomicMin(first, at); }
}

extern "C" {
int fill_cuda(void *dst, enum dtype dt, size_t n, uint64_t key, float lo, float hi)
{
    if (n == 0) return 0;
    int g = grid_for(n);
    if (dt == DT_F16) fill_kernel<<<g, THREADS, 0, cuda_stream>>>(n, key, lo, hi, (__half *)dst, to_f16{});
    else if (dt == DT_BF16) fill_kernel<<<g, THREADS, 0, cuda_stream>>>(n, key, lo, hi, (__nv_bfloat16 *)dst, to_bf16{});
    else fill_kernel<<<g, THREADS, 0, cuda_stream>>>(n, key, lo, hi, (float *)dst, to_f32{});
    CUDA_CHECK_LAUNCH();
    return 0;
}

int scan_nonfinite_cuda(const void *src, enum dtype dt, size_t n, size_t *count, size_t *first)
{
    static unsigned long long *d; /* [count, first], allocated once */
    unsigned long long h[2] = {0, n};
    if (!d) CUDA_CHECK(cudaMalloc(&d, sizeof h));
    CUDA_CHECK(cudaMemcpyAsync(d, h, sizeof h, cudaMemcpyHostToDevice, cuda_stream));
    if (n) {
        scan_nonfinite_kernel<<<grid_for(n), THREADS, 0, cuda_stream>>>(n, src, dtype_nonfinite_mask(dt), d, d + 1);
        CUDA_CHECK_LAUNCH();
    }
    CUDA_CHECK(cudaMemcpyAsync(h, d, sizeof h, cudaMemcpyDeviceToHost, cuda_stream));
    CUDA_CHECK(cudaStreamSynchronize(cuda_stream));
    *count = (size_t)h[0];
    *first = (size_t)h[1];
    return 0;
}
}
