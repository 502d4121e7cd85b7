/* gemm_cuda.c: GEMM through cuBLAS: fp32 (no tf32 unless NVIDIA_TF32_OVERRIDE=1, which verification then catches), tf32, fp16 and bf16 inputs with
 * fp32 accumulation and fp32 output. Row-major C = op(A)·op(B) is computed as the column-major
 * product Cᵀ = op(B)ᵀ·op(A)ᵀ, so no data is transposed. */
#include "cuda_check.h"
#include "cuda_ops.h"
#include "cuda_state.h"

int gemm_cuda(enum dtype dt, int ta, int tb, int m, int n, int k, const void *a, const void *b, float *c)
{
    static const float one = 1.0f, zero = 0.0f;
    cudaDataType_t in = dt == DT_F16 ? CUDA_R_16F : dt == DT_BF16 ? CUDA_R_16BF : CUDA_R_32F;
    cublasComputeType_t ct = dt == DT_F32 ? CUBLAS_COMPUTE_32F
                           : dt == DT_TF32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
    /* Column-major view: B is (n,k) or (k,n), leading dims are the stored row lengths. */
    CUBLAS_CHECK(cublas_lib.GemmEx(cublas_handle, tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N,
                                   n, m, k, &one, b, in, tb ? k : n, a, in, ta ? m : k,
                                   &zero, c, CUDA_R_32F, n, ct, CUBLAS_GEMM_DEFAULT));
    return 0;
}
