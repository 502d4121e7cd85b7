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

#endif
