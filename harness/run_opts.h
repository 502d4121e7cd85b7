/* run_opts.h: the options of one `dlbench run` after parsing (main.c fills them, run.c runs them,
 * run_settings.c records them in the run folder). */
#ifndef DLBENCH_RUN_OPTS_H
#define DLBENCH_RUN_OPTS_H
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
    int quiet;                 /* errors and warnings only */
    int suite_given;           /* --suite on the command line (else: the full suite, announced) */
    int no_ceilings;           /* --no-ceilings: no peak measurements, no % of ceiling */
    int argc;                  /* the command line as typed, for the run's record (0: none) */
    char *const *argv;
    double price_cpu, price_gpu;   /* USD/hour overrides; NAN: from the price table */
    const char *prices;        /* price table (default: bench/prices.csv of the source tree) */
    const char *data;          /* --data DIR as given (recorded; dataset.c reads dataset_dir) */
};
#endif
