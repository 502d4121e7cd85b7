/* noise.h: a baseline's noise model, noise.csv beside its results.csv: for every row, the medians of
 * the repeated runs the baseline was made from, so that `compare` sees the spread between runs of
 * the baseline even when the new side is one run. `dlbench baseline DIR RUN...` writes it. */
#ifndef DLBENCH_NOISE_H
#define DLBENCH_NOISE_H
#include <stddef.h>
#include <stdio.h>

#define NOISE_FILE "noise.csv"
struct noise_row {
    char backend[16], workload[32], case_name[64], dtype[8];
    int threads;
    int n;                 /* runs that measured the row */
    double *median_s;      /* their medians, seconds per call, in run order */
};

/* DIR/noise.csv: row count, 0 when the folder has none, -1 with "file:line: reason". */
int noise_load(const char *dir, struct noise_row **rows, char *why, size_t n);
int noise_read(FILE *f, const char *name, struct noise_row **rows, char *why, size_t n);
void noise_free(struct noise_row *rows, int n);
/* Writes DIR/noise.csv atomically (median, spread and range computed here). 0 or -1. */
int noise_write(const char *dir, const struct noise_row *rows, int n);
/* Relative spread of a row's run medians: the SD of their logs, as a ratio minus 1 (0 for one run). */
double noise_spread(const double *median_s, int n);
#endif
