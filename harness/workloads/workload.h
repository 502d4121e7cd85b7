/* workload.h: what a workload family declares so the harness can run, verify and count it on any
 * backend. Cases are data (bench/<family>_cases.c); the family supplies shapes' FLOPs/bytes, inputs and
 * the check against kernels/. */
#ifndef DLBENCH_WORKLOAD_H
#define DLBENCH_WORKLOAD_H
#include <stddef.h>
#include <stdint.h>
#include "backend.h"

struct wcase {
    const char *name;          /* unique in its workload: "sq2048", "bert-base.ffn-up" */
    const char *about;         /* where the shape comes from */
    int quick;                 /* part of the quick suite */
    const void *params;        /* the family's shape struct */
};

/* How a workload uses the ranks of a multi-process run (harness/dist). */
enum group_mode {
    GROUP_NONE,                /* every rank measures it alone (a row per rank) */
    GROUP_ALL,                 /* all ranks together: one row (collectives) */
    GROUP_SCALING,             /* groups of 1, 2, 4, … and all ranks: one row per group size */
};

struct workload {
    const char *name;          /* results' workload column: "gemm" */
    const char *family;        /* report grouping and backend->unsupported() key: "gemm" */
    const char *what;          /* one line for `dlbench list` */
    unsigned dtypes;           /* bit (1u << dtype) for each dtype offered */
    unsigned quick_dtypes;     /* the dtypes the quick suite runs unless --dtype is given (0: all offered):
                                * the others repeat a cost the quick ones already show, so they are left
                                * to the full suite (README, "The quick suite"); `dlbench list` shows them */
    const struct wcase *cases; /* ends with an entry whose name is NULL */
    size_t params_size;        /* bytes of one params struct (for --size cases) */
    enum group_mode group;     /* GROUP_NONE unless measured by ranks together (dist_measure) */

    /* --size: params (and the case's name) for dims (1..4 numbers) applied to a listed case;
     * cases that come out with the same name run once. -1 with why when the dims do not fit. */
    int (*custom)(const long *dims, int ndims, const void *base, void *params, char *name, size_t nn,
                  char *why, size_t n);
    void (*shape)(const void *params, char *buf, size_t n);          /* "M=64,N=4096,K=1024,NT" */
    double (*flops)(const void *params, enum dtype dt);
    double (*bytes)(const void *params, enum dtype dt);
    size_t (*device_bytes)(const void *params, enum dtype dt);       /* what setup allocates */
    double (*items)(const void *params);   /* samples per call (training batch); NULL: n/a */
    int composite;             /* a call runs many backend ops (a training step): the backend's
                                * last-op impl note does not describe the row, so it is not kept */
    /* Whether the run's input data (--data) serves this case, checked before anything is
     * measured; -1 with a one-line reason naming the file. NULL: the case needs no data. */
    int (*check_data)(const void *params, char *why, size_t n);
    /* Whether the case trains on the image set (--data DIR's MNIST, else the synthetic one), which
     * the run makes or loads once, before anything is measured. NULL: it does not. */
    int (*uses_images)(const void *params);
    /* Whether this backend cannot run the case at dt for reasons known before any setup (a table it
     * lacks, a variant that would repeat its base's rows): 0, or -1 with why (what setup would say
     * after "unsupported: "). Setup refuses the same way; the run's estimate counts such rows as
     * skips. NULL: every case runs where backend_runs() says the family does. */
    int (*refuses)(const struct backend *b, const void *params, enum dtype dt, char *why, size_t n);
    /* FLOPs of the double-precision reference the check recomputes on the host (the run's time
     * estimate); NULL: none beyond comparing the output. */
    double (*check_flops)(const void *params, enum dtype dt);
    /* The share of the roofline a call of this case typically reaches on a CPU (gpu 0) or a GPU,
     * for the run's time estimate; NULL: the family's default (eta.c). */
    double (*efficiency)(const void *params, int gpu);
    /* Rows whose keys are equal (and not 0) share that reference: it is computed once per process,
     * so the estimate counts it once. NULL or 0: each row computes its own. */
    uint64_t (*check_key)(const void *params);
    /* Collectives: bus bandwidth ÷ algorithm bandwidth at n ranks (nccl-tests); NULL: n/a */
    double (*bus_factor)(const void *params, int n);

    /* setup: seeded inputs uploaded, outputs poisoned with NaN. NULL with why on failure; a why
     * starting "unsupported: " makes the row skipped rather than failed. */
    void *(*setup)(const struct backend *b, const void *params, enum dtype dt, uint64_t seed,
                   char *why, size_t n);
    int (*call)(void *state);                                        /* one op, may be async */
    /* After one call: downloads and compares with kernels/ (harness/workloads/verify.h); returns
     * the error measure, or a negative value with why when the check itself could not run. On
     * success why may say how it checked when not element by element ("4096 samples + NaN/Inf
     * scan of N"); on an error above tolerance, where (e.g. "NaN at 123"). */
    double (*check)(void *state, char *why, size_t n);
    double (*tolerance)(const void *params, enum dtype dt);
    void (*teardown)(void *state);

    /* Optional. A smaller instance of the same kernel, checked in full before the timed size
     * (whose check then samples): fills small_params, returns 1; 0 when the case is checked in
     * full itself. NULL: always checked in full. */
    int (*small)(const void *params, void *small_params);
    /* Optional, streaming (bandwidth) cases: bytes of each array; below 4x the device's last-level
     * cache the row is flagged "cache-assisted". */
    double (*array_bytes)(const void *params);
    /* Optional: 1 when the case updates its arrays in place (SGD, Adam): no line is read for
     * ownership, so it may run faster than the STREAM-counted bandwidth ceiling. */
    int (*in_place)(const void *params);
};

/* The quick suite caps DRAM-sized bandwidth arrays (bytes each; 0: no cap, 4x the largest
 * last-level cache as the full suite uses). */
#define QUICK_ARRAY_CAP_BYTES ((size_t)256 << 20)
extern size_t bandwidth_cap_bytes;

extern const struct workload *const workloads[];
extern const int workload_count;
const struct workload *workload_find(const char *name);
const struct wcase *wcase_find(const struct workload *w, const char *name);   /* w's case by name; NULL: none (or no w) */
uint64_t case_stream(const char *workload, const char *case_name, enum dtype dt);
#endif
