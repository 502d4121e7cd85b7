/* results.h: the run folder's CSV files: results.csv (one row per backend × workload × case ×
 * dtype × threads, struct row in harness/measure/row.h) and samples.csv (every timed sample),
 * appended and fsync'ed as each case finishes so nothing measured is lost. */
#ifndef DLBENCH_RESULTS_H
#define DLBENCH_RESULTS_H
#include "row.h"
#include <stdio.h>

extern const char *const results_columns[];   /* header of results.csv, in order */
#define RESULTS_NCOLS 41
#define RESULTS_NCOLS_V1 27                    /* the first results.csv: still read */
#define RESULTS_NCOLS_V2 28                    /* with impl, before check, flags and device state */
#define RESULTS_NCOLS_V3 37                    /* with device state, before rank, ranks, host, busbw_gbps */

struct results_out { FILE *csv, *samples; };
/* Creates dir (and parents) and both CSV files with headers. -1 with a reason on failure. */
int results_open(struct results_out *o, const char *dir, char *why, size_t n);
int results_append(struct results_out *o, const struct row *r, const double *samples, int nsamples);
void results_close(struct results_out *o);
/* Replaces dir/results.csv by these rows atomically (the run's end, once the ceilings are final,
 * rewrites every row's ceiling_pct). 0 or -1. */
int results_rewrite(const char *dir, const struct row *rows, int n);

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
