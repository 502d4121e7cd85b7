/* results.h: one result row per backend × workload × case × dtype × threads, and the run folder's
 * CSV files: results.csv (rows) and samples.csv (every timed sample), appended and fsync'ed as
 * each case finishes so nothing measured is lost. */
#ifndef DLBENCH_RESULTS_H
#define DLBENCH_RESULTS_H
#include <stdio.h>

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
    /* Multi-process runs (harness/dist): the rank that measured the row, or -1 (written empty) for a
     * row the `ranks` ranks of a group measured together (collectives, data-parallel steps); ranks:
     * the processes of the run, or of that group; host: the measuring rank's (the group's first). */
    int rank, ranks;
    char host[64];
    double busbw_gbps;                /* collectives: bus bandwidth as nccl-tests defines it */
};

extern const char *const results_columns[];   /* header of results.csv, in order */
#define RESULTS_NCOLS 31
#define RESULTS_NCOLS_V1 27                    /* before rank, ranks, host, busbw_gbps: still read */

void row_init(struct row *r);                  /* all numbers NAN/0, strings empty */
int row_measured(const struct row *r);         /* status ok or noisy: has timings */
/* backend|workload|case|dtype|threads, then |rank<K>/<N> for a rank's row of a multi-process run and
 * |group<N> for a row N ranks measured together */
void row_key(const struct row *r, char *buf, size_t n);

struct results_out { FILE *csv, *samples; };
/* Creates dir (and parents) and both CSV files with headers. -1 with a reason on failure. */
int results_open(struct results_out *o, const char *dir, char *why, size_t n);
int results_append(struct results_out *o, const struct row *r, const double *samples, int nsamples);
void results_close(struct results_out *o);

/* CSV primitives shared by the writers and readers (RFC 4180 quoting). */
void csv_write_field(FILE *f, const char *s);
/* Reads one record; fields point into *buf (realloc'ed). Returns field count, 0 at EOF. *line advances by the lines consumed; *terminated
 * says whether the record ended with a newline (a crash can leave the last one without). */
int csv_read_record(FILE *f, char **buf, size_t *cap, char ***fields, int *fcap, int *line, int *terminated);

/* Loads results.csv. Returns row count (rows malloc'ed), or -1 with "file:line: reason". */
int results_load(const char *path, struct row **rows, char *why, size_t n);
int results_read(FILE *f, const char *name, struct row **rows, char *why, size_t n);

struct sample_set { char key[192]; double *v; int n; };
/* Loads samples.csv grouped by row key. Returns set count, or -1 with "file:line: reason". */
int samples_load(const char *path, struct sample_set **sets, char *why, size_t n);
int samples_read(FILE *f, const char *name, struct sample_set **sets, char *why, size_t n);
void samples_free(struct sample_set *sets, int n);
int mkdir_p(const char *dir);
#endif
