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
    /* Collectives: bus bandwidth ÷ algorithm bandwidth at n ranks (nccl-tests); NULL: n/a */
    double (*bus_factor)(const void *params, int n);

    /* setup: seeded inputs uploaded, outputs poisoned with NaN. NULL with why on failure; a why
     * starting "unsupported: " makes the row skipped rather than failed. */
    void *(*setup)(const struct backend *b, const void *params, enum dtype dt, uint64_t seed,
                   char *why, size_t n);
    int (*call)(void *state);                                        /* one op, may be async */
    /* After one call: downloads and compares with kernels/; returns the error measure, or a
     * negative value with why when the check itself could not run. */
    double (*check)(void *state, char *why, size_t n);
    double (*tolerance)(const void *params, enum dtype dt);
    void (*teardown)(void *state);
};

extern const struct workload *const workloads[];
extern const int workload_count;
const struct workload *workload_find(const char *name);
uint64_t case_stream(const char *workload, const char *case_name, enum dtype dt);
struct rng;
/* Fills h with seeded values in [-1, 1] rounded to dt and uploads them packed in dt; the device
 * buffer, or NULL with the backend's error set. */
void *upload_rounded(const struct backend *b, enum dtype dt, float *h, size_t n, struct rng *r);
#endif
