/* cuda_check.h: CUDA_CHECK / CUBLAS_CHECK for backend functions that return int: on failure
 * they record "<error> in <call> at file:line", mark sticky errors fatal, and return -1. */
#ifndef DLBENCH_CUDA_CHECK_H
#define DLBENCH_CUDA_CHECK_H
#include <cuda_runtime_api.h>
#include <cublas_v2.h>
#ifdef __cplusplus
extern "C" {
#endif
void cuda_fail(cudaError_t e, const char *call, const char *file, int line);
void cublas_fail(cublasStatus_t s, const char *call, const char *file, int line);
/* Records a message as the GPU device's error (what error() returns): for failures found on the
 * host side and for vendor variants (cuDNN) that share the CUDA backend's device. */
void cuda_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Records what the CUDA backend's last operation ran (its impl note, backend.h). */
void cuda_set_impl(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#ifdef __cplusplus
}
#endif

#define CUDA_CHECK(call) do { cudaError_t e_ = (call); \
    if (e_ != cudaSuccess) { cuda_fail(e_, #call, __FILE__, __LINE__); return -1; } } while (0)
#define CUBLAS_CHECK(call) do { cublasStatus_t s_ = (call); \
    if (s_ != CUBLAS_STATUS_SUCCESS) { cublas_fail(s_, #call, __FILE__, __LINE__); return -1; } } while (0)
/* After every <<<>>>: a bad launch configuration shows up here, not at the next sync. */
#define CUDA_CHECK_LAUNCH() CUDA_CHECK(cudaGetLastError())
#endif
