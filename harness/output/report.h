/* report.h: report.md from result rows alone (so `dlbench report DIR` can rebuild it from CSV):
 * the machine, per-workload CPU/GPU tables with speedups, and notes on every row not ok. */
#ifndef DLBENCH_REPORT_H
#define DLBENCH_REPORT_H
#include <stdio.h>
#include "results.h"
#include "sysinfo.h"

/* plots_md: the plots section (report_plots, plots.h), or NULL. */
void report_write(const struct row *rows, int n, const struct sysinfo *si, const char *plots_md, FILE *f);
/* Writes dir/report.md (and plots when gnuplot is installed) atomically: temp file + rename. */
int report_write_file(const struct row *rows, int n, const struct sysinfo *si, const char *dir);
/* The answer (summary.h), the headline and the per-workload tables: what a run prints on stdout. */
void report_print_summary(const struct row *rows, int n, const struct sysinfo *si, FILE *f);

/* Multi-process runs (report_dist.c): *view = the rows the single-device sections show (rank 0's,
 * and rows of one rank; NULL and n when the run had one process); report_dist writes the sections of
 * every rank, the collectives and data-parallel training. */
int report_rank_view(const struct row *rows, int n, struct row **view);
void report_dist(const struct row *rows, int n, const struct sysinfo *si, FILE *f);
/* USD per hour of the allocation a row of r->ranks ranks used (per-GPU prices × ranks, per-machine
 * prices × hosts); NAN without a price. */
double report_allocation_usd_per_hour(const struct sysinfo *si, const struct row *r, const char **covers);

#endif
