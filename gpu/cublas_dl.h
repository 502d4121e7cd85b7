/* cublas_dl.h: the cuBLAS functions the CUDA backend calls, through a table filled at run time
 * (dlopen of libcublas, like cuDNN and NCCL): libcublasLt's static initialisation costs every
 * process that links it about 80 ms of CPU, which each start of dlbench paid twice (the
 * OpenBLAS/pinning re-exec) even for --help or a CPU-only run, and a binary linked against it
 * would not start at all where cuBLAS is absent. Calls read cublas_lib.GemmEx(...) and so on. */
#ifndef DLBENCH_CUBLAS_DL_H
#define DLBENCH_CUBLAS_DL_H
#include <cublas_v2.h>
#include <stddef.h>
#ifdef __cplusplus
extern "C" {
#define CUBLAS_DL_FN(f) decltype(&f)
#else
#define CUBLAS_DL_FN(f) __typeof__(&f)
#endif

struct cublas_api {
    CUBLAS_DL_FN(cublasCreate) Create;
    CUBLAS_DL_FN(cublasSetStream) SetStream;
    CUBLAS_DL_FN(cublasSetWorkspace) SetWorkspace;
    CUBLAS_DL_FN(cublasGetStatusString) GetStatusString;
    CUBLAS_DL_FN(cublasGetProperty) GetProperty;
    /* spelled out: C++ sees a second, inline cublasGemmEx taking the compute type as cudaDataType */
    cublasStatus_t (*GemmEx)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int m, int n, int k, const void *alpha, const void *A,
                             cudaDataType, int lda, const void *B, cudaDataType, int ldb, const void *beta, void *C, cudaDataType, int ldc,
                             cublasComputeType_t, cublasGemmAlgo_t);
    cublasStatus_t (*GemmStridedBatchedEx)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int m, int n, int k, const void *alpha,
                                           const void *A, cudaDataType, int lda, long long strideA, const void *B, cudaDataType, int ldb,
                                           long long strideB, const void *beta, void *C, cudaDataType, int ldc, long long strideC,
                                           int batch, cublasComputeType_t, cublasGemmAlgo_t);
};
extern struct cublas_api cublas_lib;

/* Loads libcublas.so.<the headers' major> (else libcublas.so) once and fills cublas_lib: 0, or -1
 * with why (the library or one of its functions missing); later calls give the first answer. */
int cublas_dl_open(char *why, size_t n);
#ifdef __cplusplus
}
#endif
#endif
