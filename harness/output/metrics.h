/* metrics.h: what a result row means, computed in one place for report.md, the plots, compare and
 * the CI JSON: its headline unit and throughput, which side of the GPU/CPU comparison its backend
 * is on (asked of the backend registry), the pairing of a case's rows across backends, their
 * speedup, and geometric means per family. Printers only format these. */
#ifndef DLBENCH_METRICS_H
#define DLBENCH_METRICS_H
#include "row.h"

/* A family reads in GB/s when it is bandwidth-bound (no FLOPs, or family bandwidth/transfer),
 * in GFLOP/s otherwise. */
int row_in_gbps(const struct row *r);
const char *row_unit(const struct row *r);                /* "GB/s" or "GFLOP/s" */
double row_metric(const struct row *r);                   /* throughput in that unit, from the median */
double row_metric_at(const struct row *r, double seconds);   /* the same work done in `seconds` */

/* The backend's kind from the registry (harness/backend.h); a name this binary does not know (an
 * older or other build's CSV): a GPU unless it is "cpu". A variant (cudnn) is reported beside its
 * base backend, not as one side of GPU/CPU. */
int row_is_gpu(const struct row *r);
int row_is_variant(const struct row *r);
int row_is_cpu(const struct row *r);         /* the CPU side of GPU/CPU: a CPU backend, not a variant */
int same_case(const struct row *a, const struct row *b);  /* workload, case and dtype */

/* The rows of key's case that GPU/CPU compares: the CPU row with the most threads among those
 * measured (else any), and the first GPU base-backend row (else the first GPU row). NULL: none. */
void row_pair(const struct row *rows, int n, const struct row *key, const struct row **cpu, const struct row **gpu);
/* a's throughput over b's; NAN unless both are measured. */
double row_speedup(const struct row *a, const struct row *b);

struct family_ratio { const char *family; double ratio; };
/* GPU/CPU of every case measured on both sides, once per case, in row order: *out malloc'ed
 * (free it), returns the count. */
int gpu_cpu_speedups(const struct row *rows, int n, struct family_ratio **out);
/* Geometric mean of the ratios of `family` (NULL: all); *k: how many went in. NAN when none. */
double family_geomean(const struct family_ratio *v, int n, const char *family, int *k);

/* The backend names in rows: the registry's order first, then names it does not know. */
int row_backends(const struct row *rows, int n, const char **names, int max);
#endif
