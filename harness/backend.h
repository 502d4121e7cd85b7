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

enum backend_kind { BACKEND_CPU, BACKEND_GPU };

/* The device a backend runs on: memory, clocks, threads. A vendor variant (cudnn, onednn) points
 * at its base backend's table, so both share one device state. All int returns: 0, or -1 with
 * error() set. */
struct device_ops {
    const char *(*name)(void);                      /* "AMD EPYC 9R14", "NVIDIA H100 80GB HBM3" */
    int (*set_threads)(int n);                      /* CPU: OpenMP + OpenBLAS threads; NULL on GPUs */
    size_t (*mem_free)(void);                       /* bytes a case may allocate now */
    size_t (*cache_bytes)(void);                    /* last-level cache (CPU L3s, GPU L2) */
    void *(*alloc)(size_t bytes);                   /* NULL with error() set on failure */
    void (*release)(void *p);
    int (*upload)(void *dst, const void *host_src, size_t bytes);
    int (*download)(void *host_dst, const void *src, size_t bytes);
    int (*sync)(void);
    int (*timer_start)(void);                       /* CPU: clock_gettime; CUDA: event on stream */
    int (*timer_stop)(double *seconds);             /* waits for the work, then reads the timer */
    const char *(*error)(void);                     /* why the last call failed */
    /* Cumulative joules of the device (NVML, RAPL), or -1 and why; NULL: no counter. */
    int (*energy_read)(double *joules, char *why, size_t n);
};

/* Operations, row-major; dims and layouts are documented beside each family's reference in
 * kernels/. A NULL table: the backend does not run that family. */
struct matmul_ops {
    int (*gemm)(enum dtype dt, int ta, int tb, int m, int n, int k, const void *a, const void *b, float *c);
};
struct conv_ops {   /* NCHW (kernels/conv_ref.h); inputs in dt's storage, fp32 output */
    int (*fwd)(enum dtype dt, const struct conv_shape *s, const void *x, const void *w, float *y);
    int (*bwd_data)(enum dtype dt, const struct conv_shape *s, const void *dy, const void *w, float *dx);
    int (*bwd_filter)(enum dtype dt, const struct conv_shape *s, const void *x, const void *dy, float *dw);
};
struct eltwise_ops {   /* fp32, n elements; row ops take x as (rows, cols) */
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
};
/* Training-step layers (kernels/train_ref.h): db[c] = Σ dy[o][c][i]; 2x2/2 max-pool of `planes`
 * (H, W) planes with the argmax (0..3) kept for backward; softmax cross-entropy, forward and
 * backward fused: per-row losses, their mean (loss[0]) and dz = (softmax - onehot) / rows. */
struct train_ops {
    int (*bias_bwd)(int outer, int ch, int inner, const float *dy, float *db);
    int (*maxpool2_fwd)(int planes, int h, int w, const float *x, float *y, uint8_t *idx);
    int (*maxpool2_bwd)(int planes, int h, int w, const float *dy, const uint8_t *idx, float *dx);
    int (*softmax_xent)(int rows, int cols, const float *z, const int32_t *labels, float *losses, float *loss, float *dz);
};

/* Optional capabilities (NULL: absent). */
struct peak_ops {   /* FLOP/s ceiling kernel where a large GEMM is not the better ceiling */
    int (*fma)(long iters, float *out);             /* iters trips, result summed into *out */
    double (*fma_flops_per_iter)(void);
};
struct graph_ops {  /* step capture (CUDA graphs): ops between begin and end are recorded, not run */
    int (*begin)(void);
    int (*end)(void);
    int (*launch)(void);                            /* replays the captured ops */
};
struct transfer_ops {  /* host<->device copies, asynchronous on the backend's stream */
    void *(*host_alloc_pinned)(size_t bytes);
    void (*host_free_pinned)(void *p);
    int (*h2d)(void *dst, const void *host_src, size_t bytes);
    int (*d2h)(void *host_dst, const void *src, size_t bytes);
    int (*d2d)(void *dst, const void *src, size_t bytes);
};

/* Collectives over a group of ranks, one process per device (harness/dist makes the groups: the
 * first `size` ranks of the run). Reductions sum; dt is fp32 or bf16; counts are elements. */
struct coll_group {
    int rank, size;                                 /* this process in the group */
    void *mpi_comm;                                 /* MPI_Comm *: the CPU's transport, NCCL's bootstrap */
    /* Copies bytes from group rank 0 to every member (bootstraps NCCL's unique id). 0 or -1. */
    int (*bcast)(const struct coll_group *g, void *buf, size_t bytes);
};
struct collective_ops {
    /* NULL, or 1 when this process can take part (NCCL: its library loads); else 0 and why. */
    int (*available)(char *why, size_t n);
    /* Per-group state (an NCCL communicator): collective over the group; NULL with error() set. */
    void *(*open)(const struct coll_group *g);
    void (*close)(void *comm);
    int (*all_reduce)(void *comm, enum dtype dt, size_t count, const void *send, void *recv);  /* recv = Σ send */
    /* count per rank: recv holds size·count in rank order */
    int (*all_gather)(void *comm, enum dtype dt, size_t count, const void *send, void *recv);
    /* send holds size·count; recv gets this rank's count elements of the sum */
    int (*reduce_scatter)(void *comm, enum dtype dt, size_t count, const void *send, void *recv);
    int (*broadcast)(void *comm, enum dtype dt, size_t count, const void *send, void *recv);  /* from rank 0 */
    /* Overlap with compute (data-parallel gradients): an in-place sum started after the work queued
     * so far, and a wait that orders everything queued afterwards behind every sum started. */
    int (*all_reduce_start)(void *comm, enum dtype dt, size_t count, void *buf);
    int (*wait_all)(void *comm);
};

struct backend {
    const char *name;                               /* "cpu", "cuda": the results' backend column */
    enum backend_kind kind;
    const struct backend *base;                     /* a vendor variant: the backend whose device it shares */
    /* 1 when usable; else 0 and why ("no CUDA driver", "built without CUDA", "disabled after …") */
    int (*probe)(char *why, size_t n);
    void (*info)(info_put_fn put, void *user);      /* device facts for `info` and system.json */
    /* NULL when dt runs natively for this op family ("gemm", …); else the reason it is skipped */
    const char *(*unsupported)(const char *family, enum dtype dt);
    const struct device_ops *dev;

    const struct matmul_ops *mm;                    /* operations */
    const struct conv_ops *conv;
    const struct eltwise_ops *elt;
    const struct train_ops *train;
    const struct collective_ops *coll;              /* with MPI: MPI (CPU), NCCL (CUDA); else NULL */

    const struct peak_ops *peak;                    /* optional capabilities */
    const struct graph_ops *graph;
    const struct transfer_ops *xfer;
};

/* The registry (harness/registry.c): every backend compiled into this program, CPU first. */
extern const struct backend *const *backends;
extern int backend_count;
const struct backend *backend_find(const char *name);
/* Whether b has the operations a workload family ("gemm", "conv", "bandwidth", "transfer",
 * "train", "collective", "dp-train") needs. */
int backend_runs(const struct backend *b, const char *family);
/* Tests only: run with another list (e.g. a backend that fails on purpose); NULL restores. */
void backends_replace(const struct backend *const *list, int n);
#endif
