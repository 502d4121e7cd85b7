/* backend.h: one backend = one const table of functions. The harness talks to the CPU and CUDA
 * backends only through this table; ops may run asynchronously until sync()/timer_stop(). */
#ifndef DLBENCH_BACKEND_H
#define DLBENCH_BACKEND_H
#include <stddef.h>
#include "dtype.h"

/* Receives one `key: value` fact about the machine from a backend's info(). */
typedef void (*info_put_fn)(void *user, const char *section, const char *key, const char *value);

struct backend {
    const char *name;                               /* "cpu", "cuda": the results' backend column */
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

    /* Operations. Row-major; dims and layouts are documented beside each family's reference. */
    int (*gemm)(enum dtype dt, int ta, int tb, int m, int n, int k,
                const void *a, const void *b, float *c);
};

/* The registry (harness/registry.c): every backend compiled into this program, CPU first. */
extern const struct backend *const backends[];
extern const int backend_count;
const struct backend *backend_find(const char *name);
#endif
