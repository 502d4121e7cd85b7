/* backend.h: one backend = one const table of functions. The harness talks to the CPU and CUDA
 * backends only through this table; ops may run asynchronously until sync()/timer_stop(). */
#ifndef DLBENCH_BACKEND_H
#define DLBENCH_BACKEND_H
#include <stddef.h>
#include <stdint.h>
#include "dtype.h"
#include "eltwise_ref.h"   /* struct adam_hp */
#include "conv_ref.h"      /* struct conv_shape */

/* Receives one `key: value` fact about the machine from a backend's info(). */
typedef void (*info_put_fn)(void *user, const char *section, const char *key, const char *value);

struct backend {
    const char *name;                               /* "cpu", "cuda": the results' backend column */
    const char *families;                           /* comma list it runs (a variant); NULL: all */
    /* 1 when usable; else 0 and why ("no CUDA driver", "built without CUDA", "disabled after …") */
    int (*probe)(char *why, size_t n);
    void (*info)(info_put_fn put, void *user);      /* device facts for `info` and system.json */
    const char *(*device_name)(void);               /* "AMD EPYC 9R14", "NVIDIA H100 80GB HBM3" */
    int (*set_threads)(int n);                      /* CPU: OpenMP + OpenBLAS threads; NULL on GPUs */
    /* NULL when dt runs natively for this op family ("gemm", …); else the reason it is skipped */
    const char *(*unsupported)(const char *family, enum dtype dt);
    size_t (*mem_free)(void);                       /* bytes a case may allocate now */

    /* Memory and timing. All return 0 on success, -1 with error() set. */
    void *(*alloc)(size_t bytes);                   /* NULL with error() set on failure */
    void (*release)(void *p);
    int (*upload)(void *dst, const void *host_src, size_t bytes);
    int (*download)(void *host_dst, const void *src, size_t bytes);
    int (*sync)(void);
    int (*timer_start)(void);                       /* CPU: clock_gettime; CUDA: event on stream */
    int (*timer_stop)(double *seconds);             /* waits for the work, then reads the timer */
    const char *(*error)(void);                     /* why the last call failed */

    size_t (*cache_bytes)(void);                    /* last-level cache (CPU L3s, GPU L2) */

    /* Operations. Row-major; dims and layouts are documented beside each family's reference. */
    int (*gemm)(enum dtype dt, int ta, int tb, int m, int n, int k,
                const void *a, const void *b, float *c);
    /* Convolution, NCHW (kernels/conv_ref.h); inputs in dt's storage, fp32 output. */
    int (*conv_fwd)(enum dtype dt, const struct conv_shape *s, const void *x, const void *w, float *y);
    int (*conv_bwd_data)(enum dtype dt, const struct conv_shape *s, const void *dy, const void *w, float *dx);
    int (*conv_bwd_filter)(enum dtype dt, const struct conv_shape *s, const void *x, const void *dy, float *dw);
    /* Bandwidth and elementwise ops, fp32, n elements; row ops take x as (rows, cols). */
    int (*copy)(size_t n, const float *a, float *b);                            /* b = a */
    int (*scale)(size_t n, float s, const float *a, float *b);                  /* b = s·a */
    int (*add)(size_t n, const float *a, const float *b, float *c);             /* c = a + b */
    int (*triad)(size_t n, float s, const float *b, const float *c, float *a);  /* a = b + s·c */
    int (*dot)(size_t n, const float *a, const float *b, float *out);           /* out[0] = a·b */
    int (*relu_fwd)(size_t n, const float *x, float *y);
    int (*relu_bwd)(size_t n, const float *x, const float *dy, float *dx);      /* dx = dy·[x > 0] */
    int (*gelu_fwd)(size_t n, const float *x, float *y);                        /* tanh form */
    int (*gelu_bwd)(size_t n, const float *x, const float *dy, float *dx);
    /* y[o][c][i] = x[o][c][i] + bias[c] for (outer, ch, inner); x may be y */
    int (*bias_add)(int outer, int ch, int inner, const float *x, const float *bias, float *y);
    int (*softmax_fwd)(int rows, int cols, const float *x, float *y);
    int (*layernorm_fwd)(int rows, int cols, const float *x, const float *gamma, const float *beta,
                         float eps, float *y);
    int (*sgd_update)(size_t n, float lr, float *w, const float *g);            /* w -= lr·g */
    int (*adam_update)(size_t n, const struct adam_hp *h, float *w, const float *g, float *m, float *v);

    /* Training-step layers (kernels/train_ref.h): db[c] = Σ dy[o][c][i]; 2x2/2 max-pool of
     * `planes` (H, W) planes with the argmax (0..3) kept for backward; softmax cross-entropy
     * writing per-row losses, their mean (loss[0]) and dz = (softmax - onehot) / rows. */
    int (*bias_grad)(int outer, int ch, int inner, const float *dy, float *db);
    int (*maxpool2_fwd)(int planes, int h, int w, const float *x, float *y, uint8_t *idx);
    int (*maxpool2_bwd)(int planes, int h, int w, const float *dy, const uint8_t *idx, float *dx);
    int (*softmax_xent)(int rows, int cols, const float *z, const int32_t *labels, float *losses, float *loss, float *dz);

    /* Step capture (CUDA graphs; NULL on the CPU): ops between begin and end are recorded, not
     * run; launch replays them. Energy: cumulative joules of the device (NVML, RAPL), or -1 and why. */
    int (*graph_begin)(void);
    int (*graph_end)(void);
    int (*graph_launch)(void);
    int (*energy_read)(double *joules, char *why, size_t n);

    /* FLOP/s ceiling kernel (NULL where a large GEMM is the better ceiling): iters loop trips,
     * flops_per_iter FLOPs each, result summed into *out so nothing is optimised away. */
    int (*fma_peak)(long iters, float *out);
    double (*fma_peak_flops_per_iter)(void);

    /* Host<->device copies (GPU backends; NULL on the CPU). Asynchronous on the backend's stream. */
    void *(*host_alloc_pinned)(size_t bytes);
    void (*host_free_pinned)(void *p);
    int (*memcpy_h2d)(void *dst, const void *host_src, size_t bytes);
    int (*memcpy_d2h)(void *host_dst, const void *src, size_t bytes);
    int (*memcpy_d2d)(void *dst, const void *src, size_t bytes);
};

/* The registry (harness/registry.c): every backend compiled into this program, CPU first. */
extern const struct backend *const *backends;
extern int backend_count;
const struct backend *backend_find(const char *name);
/* Tests only: run with another list (e.g. a backend that fails on purpose); NULL restores. */
void backends_replace(const struct backend *const *list, int n);
#endif
