/* row.h: one result row, what measure_row fills in for backend × workload × case × dtype ×
 * threads: identity, verification, timing summary, work per call and throughput. The output
 * layer writes rows to results.csv and reads them back (harness/output/results.h). */
#ifndef DLBENCH_ROW_H
#define DLBENCH_ROW_H
#include <stddef.h>

struct row {
    char backend[16], device[128], workload[32], family[16], case_name[64], shape[96], dtype[8];
    int threads;                      /* CPU threads; 0 for GPU rows */
    char status[384];                 /* ok | noisy | timeout | failed: … | skipped: … */
    double verify_err, tolerance;     /* NAN when not verified */
    int samples, reps;
    double median_s, min_s, mean_s, stddev_s, ci_lo_s, ci_hi_s;
    double flops, bytes;              /* per call */
    double gflops, gbytes_per_s;      /* from the median */
    double intensity, ceiling_pct;    /* FLOP/byte; % of the roofline bound (NAN if unknown) */
    double items_per_call;            /* samples a call processes (training batch); NAN if n/a */
    double joules_per_call;           /* energy over the timed calls ÷ calls; NAN if unreadable */
    char impl[160];                   /* what the backend ran ("cuDNN IMPLICIT_PRECOMP_GEMM, ws 12 MiB"); may be empty */
    char check[128];                  /* how the output was verified: "full", or the smaller
                                         instance in full plus what was sampled at this size */
    char flags[64];                   /* "cache-assisted": arrays below 4x the last-level cache */
    /* The device while the row was timed (harness/measure/devstate.h): mean SM (CPU: core) and
     * memory clocks and power draw, the power limit, the highest temperature; NAN if unread. */
    double clock_mhz, mem_clock_mhz, power_w, power_limit_w, temp_c;
    char throttle[96];                /* "none", the throttle reasons seen, or "n/a: why" */
    double wall_s;                    /* wall seconds the row took: checks, setup and sampling */
    double array_bytes;               /* streaming cases: bytes per array (not in results.csv) */
    /* Multi-process runs (harness/dist): the rank that measured the row, or -1 (written empty) for a
     * row the `ranks` ranks of a group measured together (collectives, data-parallel steps); ranks:
     * the processes of the run, or of that group; host: the measuring rank's (the group's first). */
    int rank, ranks;
    char host[64];
    double busbw_gbps;                /* collectives: bus bandwidth as nccl-tests defines it */
};

void row_init(struct row *r);                  /* all numbers NAN/0, strings empty */
int row_measured(const struct row *r);         /* status ok or noisy: has timings */
/* backend|workload|case|dtype|threads, then |rank<K>/<N> for a rank's row of a multi-process run and
 * |group<N> for a row N ranks measured together */
void row_key(const struct row *r, char *buf, size_t n);
#endif
