/* backend.h: one backend = one const table of functions. The harness talks to the CPU and CUDA
 * backends only through this table; ops may run asynchronously until sync()/timer_stop(). */
#ifndef DLBENCH_BACKEND_H
#define DLBENCH_BACKEND_H
#include <stddef.h>
#include <stdint.h>
#include "dtype.h"
#include "eltwise_ref.h"   /* struct adam_hp */
#include "conv_ref.h"      /* struct conv_shape */
#include "attention_ref.h" /* struct attn_shape */
#include "gpt_ref.h"       /* struct adamw_hp */

/* Receives one `key: value` fact about the machine from a backend's info(). */
typedef void (*info_put_fn)(void *user, const char *section, const char *key, const char *value);

enum backend_kind { BACKEND_CPU, BACKEND_GPU };

/* One reading of a device's state while it works: NVML on GPUs, cpufreq (or /proc/cpuinfo) on
 * CPUs. NAN where a value is not readable; why says what could not be read ("" when all could). */
struct dev_state {
    double clock_mhz;           /* GPU: SM clock; CPU: mean current frequency of the online cores */
    double mem_clock_mhz, power_w, power_limit_w, temp_c;
    unsigned long long reasons; /* NVML clocks-event (throttle) reason bits, valid when have_reasons */
    int have_reasons;
    char why[96];
};

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
    /* Seeded inputs made where the data lives: n elements of dt's storage at dst, element i =
     * cbrng_uniform(key, i, lo, hi) rounded to dt (kernels/cbrng.h); lo == hi fills lo (NaN: a
     * poison). NULL: the harness generates on the host and uploads. */
    int (*fill)(void *dst, enum dtype dt, size_t n, uint64_t key, float lo, float hi);
    /* How many of n elements of dt's storage at src are NaN or infinite, and the first such index
     * (n when none). NULL: the harness downloads and scans. */
    int (*scan_nonfinite)(const void *src, enum dtype dt, size_t n, size_t *count, size_t *first);
    /* The device's state now (clocks, power, temperature, throttle reasons); NULL: none. */
    void (*state_read)(struct dev_state *s);
    /* The memory bandwidth the hardware states (GB/s, bytes read plus written), with how it was
     * derived; NAN with why in how when the hardware does not say. NULL: not known. */
    double (*stated_bandwidth)(char *how, size_t n);
};

/* Operations, row-major; dims and layouts are documented beside each family's reference in
 * kernels/. A NULL table: the backend does not run that family. */
struct matmul_ops {
    int (*gemm)(enum dtype dt, int ta, int tb, int m, int n, int k, const void *a, const void *b, float *c);
};
/* NCHW (kernels/conv_ref.h); inputs and output in dt's storage (tf32: fp32 storage), fp32
 * accumulation: an fp16 convolution writes fp16, as cuDNN and PyTorch do. */
struct conv_ops {
    int (*fwd)(enum dtype dt, const struct conv_shape *s, const void *x, const void *w, void *y);
    int (*bwd_data)(enum dtype dt, const struct conv_shape *s, const void *dy, const void *w, void *dx);
    int (*bwd_filter)(enum dtype dt, const struct conv_shape *s, const void *x, const void *dy, void *dw);
};
/* Elementwise and row ops on n elements; row ops take x as (rows, cols). Where an op takes a dt,
 * its arrays are in dt's storage (fp32, fp16, bf16) and the arithmetic is fp32; parameter vectors
 * (bias, gamma, beta) stay fp32. dot and the optimizer updates are fp32 (master weights). */
struct eltwise_ops {
    int (*copy)(enum dtype dt, size_t n, const void *a, void *b);                        /* b = a */
    int (*scale)(enum dtype dt, size_t n, float s, const void *a, void *b);              /* b = s·a */
    int (*add)(enum dtype dt, size_t n, const void *a, const void *b, void *c);          /* c = a + b */
    int (*triad)(enum dtype dt, size_t n, float s, const void *b, const void *c, void *a); /* a = b + s·c */
    int (*dot)(size_t n, const float *a, const float *b, float *out);                    /* out[0] = a·b */
    int (*relu_fwd)(enum dtype dt, size_t n, const void *x, void *y);
    int (*relu_bwd)(enum dtype dt, size_t n, const void *x, const void *dy, void *dx);   /* dx = dy·[x > 0] */
    int (*gelu_fwd)(enum dtype dt, size_t n, const void *x, void *y);                    /* tanh form */
    int (*gelu_bwd)(enum dtype dt, size_t n, const void *x, const void *dy, void *dx);
    /* y[o][c][i] = x[o][c][i] + bias[c] for (outer, ch, inner); x may be y */
    int (*bias_add)(enum dtype dt, int outer, int ch, int inner, const void *x, const float *bias, void *y);
    int (*softmax_fwd)(enum dtype dt, int rows, int cols, const void *x, void *y);
    int (*layernorm_fwd)(enum dtype dt, int rows, int cols, const void *x, const float *gamma, const float *beta,
                         float eps, void *y);
    int (*sgd_update)(size_t n, float lr, float *w, const float *g);            /* w -= lr·g */
    int (*adam_update)(size_t n, const struct adam_hp *h, float *w, const float *g, float *m, float *v);
    /* y = x converted from dtype `from` to `to` (round to nearest even): mixed precision's casts */
    int (*cast)(size_t n, enum dtype from, const void *x, enum dtype to, void *y);
};
/* Training-step layers (kernels/train_ref.h): db[c] = Σ dy[o][c][i]; 2x2/2 max-pool of `planes`
 * (H, W) planes with the argmax (0..3) kept for backward; softmax cross-entropy, forward and
 * backward fused: per-row losses, their mean (loss[0]) and dz = (softmax - onehot) / rows. */
struct train_ops {
    int (*bias_bwd)(int outer, int ch, int inner, const float *dy, float *db);
    int (*maxpool2_fwd)(int planes, int h, int w, const float *x, float *y, uint8_t *idx);
    int (*maxpool2_bwd)(int planes, int h, int w, const float *dy, const uint8_t *idx, float *dx);
    int (*softmax_xent)(int rows, int cols, const float *z, const int32_t *labels, float *losses, float *loss, float *dz);
    /* Optional (GPU backends, for captured steps): the step's input and count advance on the
     * device. next_batch copies batch (*step mod nbatches) of the dataset xs (nbatches·batch, xlen),
     * ys (nbatches·batch) into the slot x, y and then increments *step; adam_update_dev is
     * adam_update with the step (bias correction) read from *step in device memory. */
    int (*next_batch)(int32_t *step, int nbatches, int batch, size_t xlen, const float *xs, const int32_t *ys,
                      float *x, int32_t *y);
    int (*adam_update_dev)(size_t n, const struct adam_hp *h, const int32_t *step, float *w, const float *g,
                           float *m, float *v);
};

/* Causal attention (kernels/attention_ref.h: layout, scale, lse), every tensor in dt's storage,
 * lse fp32. ws: workspace(dt, s) bytes of device memory, shared by fwd and bwd; query it after
 * set_threads (the CPU sizes it per thread). bwd needs the o and lse of fwd on the same inputs. */
struct attention_ops {
    size_t (*workspace)(enum dtype dt, const struct attn_shape *s);
    int (*fwd)(enum dtype dt, const struct attn_shape *s, const void *q, const void *k, const void *v, void *o,
               float *lse, void *ws);
    int (*bwd)(enum dtype dt, const struct attn_shape *s, const void *q, const void *k, const void *v, const void *o,
               const void *dout, const float *lse, void *dq, void *dk, void *dv, void *ws);
};
/* The GPT step's other layers (kernels/gpt_ref.h). Activations and their gradients in dt's storage
 * (fp32; bf16/fp16 where unsupported("train", dt) allows), rows = tokens; parameters, their
 * gradients and statistics fp32. Outputs are overwritten unless marked +=. */
struct transformer_ops {
    /* c (m, n) = op(a)·op(b), packed row-major; a, b in dt, c in out (dt or fp32), fp32 accumulation */
    int (*gemm)(enum dtype dt, enum dtype out, int ta, int tb, int m, int n, int k, const void *a, const void *b, void *c);
    /* y[b,t,:] = wte[tok[b,t]] + wpe[t]; tok (B, T); a token outside [0, V) selects no row */
    int (*embed_fwd)(enum dtype dt, int B, int T, int C, int V, const int32_t *tok, const float *wte, const float *wpe, void *y);
    /* dwte[tok[b,t]] += dy[b,t];  dwpe[t] = Σ_b dy[b,t] */
    int (*embed_bwd)(enum dtype dt, int B, int T, int C, int V, const int32_t *tok, const void *dy, float *dwte, float *dwpe);
    /* y = layer-norm of x's rows (eps GPT_LN_EPS), mean and rstd (rows) kept for the backward */
    int (*layernorm_fwd)(enum dtype dt, int rows, int C, const void *x, const float *gamma, const float *beta, void *y,
                         float *mean, float *rstd);
    /* dx = (acc ? dx : 0) + d loss/dx (the residual stream's gradient accumulates); dgamma, dbeta = Σ rows */
    int (*layernorm_bwd)(enum dtype dt, int rows, int C, const void *x, const float *gamma, const float *mean,
                         const float *rstd, const void *dy, void *dx, int acc, float *dgamma, float *dbeta);
    int (*bias_add)(enum dtype dt, int rows, int n, void *y, const float *bias);                  /* y += bias */
    int (*bias_gelu)(enum dtype dt, int rows, int n, void *h, const float *bias, void *g);        /* h += bias; g = gelu(h) */
    /* out = res + y + bias; out may be res */
    int (*bias_residual)(enum dtype dt, int rows, int n, const void *y, const float *bias, const void *res, void *out);
    int (*gelu_bwd)(enum dtype dt, size_t n, const void *h, const void *dg, void *dh);          /* dh may be dg */
    int (*bias_grad)(enum dtype dt, int rows, int n, const void *dy, float *db);                /* db = Σ rows dy */
    /* Row softmax cross-entropy over the first V of Vp columns, in place: z (rows, Vp) becomes
     * (softmax - onehot(target)) / rows, padded columns 0; losses (rows); loss[0] = their mean. */
    int (*xent)(enum dtype dt, int rows, int V, int Vp, void *z, const int32_t *targets, float *losses, float *loss);
    /* AdamW after gradient clipping, one contiguous buffer of n parameters. state (device, 2
     * floats): [0] the step count, incremented here; [1] Σ g² over all n (from elt->dot). A step
     * therefore reads nothing from the host and replays as a CUDA graph. w_lp: the dt copy of w
     * the GEMMs read, rewritten here (NULL in fp32). */
    int (*adamw)(size_t n, const struct adamw_hp *h, float *w, const float *g, float *m, float *v, float *state,
                 enum dtype dt, void *w_lp);
    int (*cast)(enum dtype dt, size_t n, const float *x, void *y);                                /* y = x in dt */
};

/* Optional capabilities (NULL: absent). */
struct peak_ops {   /* FLOP/s ceiling loops where a large GEMM is not the better ceiling */
    double (*flops_per_iter)(enum dtype dt);        /* 0: no loop for dt */
    int (*run)(enum dtype dt, long iters, float *out); /* iters trips, result summed into *out */
    const char *(*path)(enum dtype dt);             /* the instructions it runs ("AVX-512 FMA"); NULL: none */
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
    /* Optional: what the operations since the previous impl() call ran (the last note an op left:
     * "cuDNN IMPLICIT_PRECOMP_GEMM tensor-op, ws 12.0 MiB", a oneDNN primitive's name), for the
     * row's impl column; "" when none left one. Each call forgets the note, so a stale one never
     * reaches another row (the harness calls it before and after a case's first call). */
    const char *(*impl)(void);
    const struct device_ops *dev;

    const struct matmul_ops *mm;                    /* operations */
    const struct conv_ops *conv;
    const struct eltwise_ops *elt;
    const struct train_ops *train;
    const struct attention_ops *attn;
    const struct transformer_ops *xformer;           /* the GPT step's layers (with attn) */
    const struct collective_ops *coll;              /* with MPI: MPI (CPU), NCCL (CUDA); else NULL */

    const struct peak_ops *peak;                    /* optional capabilities */
    const struct graph_ops *graph;
    const struct transfer_ops *xfer;
};
/* An operation that cannot run a case (no algorithm, no primitive for this shape) fails with an
 * error() starting "unsupported: "; the harness then makes the row "skipped: <the rest>". */
#define BACKEND_UNSUPPORTED "unsupported: "

/* The registry (harness/registry.c): every backend compiled into this program, CPU first. */
extern const struct backend *const *backends;
extern int backend_count;
const struct backend *backend_find(const char *name);
/* Whether b has the operations a workload family ("gemm", "conv", "bandwidth", "transfer",
 * "train", "attention", "collective", "dp-train") needs. A vendor variant runs a family only where
 * one of the tables it uses is the variant's own (cudnn: conv and train, not gemm rows that would
 * repeat its base's). */
int backend_runs(const struct backend *b, const char *family);
/* Tests only: run with another list (e.g. a backend that fails on purpose); NULL restores. */
void backends_replace(const struct backend *const *list, int n);
#endif
