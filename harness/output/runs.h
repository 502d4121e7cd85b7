/* runs.h: run folders as compare, ab and baseline read them: system.json, results.csv and, in a
 * baseline, noise.csv; the machine fingerprint that says whether two folders are comparable. */
#ifndef DLBENCH_RUNS_H
#define DLBENCH_RUNS_H
#include "noise.h"
#include "row.h"
#include "sysinfo.h"
#include <stddef.h>

struct run_folder {
    char dir[4096];
    struct row *rows;
    int nrows;
    struct sysinfo si;
    struct noise_row *noise;   /* the folder's noise model (baselines), else NULL */
    int nnoise;
};

/* A run folder, or the path of its results.csv. 0, or -1 with one line in why: "X is not a dlbench
 * run folder (no system.json)", "X does not exist", or what is malformed (file:line). */
int run_folder_load(struct run_folder *r, const char *path, char *why, size_t n);
void run_folder_free(struct run_folder *r);
/* What must match for timings to be comparable: CPU model and cores, GPU, driver major. */
void run_fingerprint(const struct sysinfo *si, char *buf, size_t n);
/* 0 when every folder's fingerprint equals the first's; else -1 with what differs and where. */
int run_fingerprints_match(const struct run_folder *f, int n, char *why, size_t wn);
#endif
