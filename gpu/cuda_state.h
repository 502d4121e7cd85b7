/* cuda_state.h: the CUDA backend's shared handles (one device, one stream, one cuBLAS handle),
 * created by the backend's probe and used by every gpu/ operation. */
#ifndef DLBENCH_CUDA_STATE_H
#define DLBENCH_CUDA_STATE_H
#include <cuda_runtime_api.h>
#include "cublas_dl.h"
#ifdef __cplusplus
extern "C" {
#endif
extern cudaStream_t cuda_stream;
extern cublasHandle_t cublas_handle;
extern int cuda_sm_count;                 /* sizes grid-stride launches */
extern int cuda_cc;                       /* compute capability of GPU 0, major·10 + minor */
#ifdef __cplusplus
}
#endif
#endif
