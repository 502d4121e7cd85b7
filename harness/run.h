/* run.h: `dlbench run`: plans backend × workload × case × dtype × threads, verifies each case,
 * times it, and appends its row to the run folder as soon as it finishes. */
#ifndef DLBENCH_RUN_H
#define DLBENCH_RUN_H
#include <stdint.h>
#include "timing.h"

#define MAX_THREAD_COUNTS 16

struct run_opts {
    const char *backends;      /* comma list or NULL for all */
    const char *workloads;     /* comma list or NULL for all */
    const char *filter;        /* substring or glob on "workload/case" */
    int quick;
    long threads[MAX_THREAD_COUNTS];
    int nthreads;              /* 0: one thread per physical core */
    unsigned dtypes;           /* bit mask; 0: every dtype a workload offers */
    long dims[4];
    int ndims;                 /* > 0: --size given, replaces the case lists */
    struct timing_opts timing;
    const char *out_dir;       /* the run folder; NULL: results/<UTC time>-<host> */
    uint64_t seed;
    int quiet;                 /* no progress lines */
    int no_ceilings;           /* skip measuring the ceilings (no % of ceiling) */
    double price_cpu, price_gpu;   /* USD/hour overrides; NAN: from the price table */
    const char *prices;        /* price table (default: bench/prices.csv of the source tree) */
};

void run_opts_default(struct run_opts *o, int quick);
/* Returns the process exit code: 0 all ok, 1 a case failed, 2 bad input, 130 interrupted. */
int run_main(struct run_opts *o);
#endif
