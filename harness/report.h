/* report.h: report.md from result rows alone (so `dlbench report DIR` can rebuild it from CSV):
 * the machine, per-workload CPU/GPU tables with speedups, and notes on every row not ok. */
#ifndef DLBENCH_REPORT_H
#define DLBENCH_REPORT_H
#include <stdio.h>
#include "results.h"
#include "sysinfo.h"

void report_write(const struct row *rows, int n, const struct sysinfo *si, FILE *f);
int report_write_file(const struct row *rows, int n, const struct sysinfo *si, const char *path);
void report_print_summary(const struct row *rows, int n, FILE *f);   /* tables only */
#endif
