/* summary.h: the answer on top of report.md and of a run's stdout, in plain words for someone
 * deciding between the CPU and the GPU: which is faster per family (best row against best row),
 * what a training epoch takes and costs on each, and what was not measured and why. Everything
 * after it (settings, machine, ceilings, tables) is detail. */
#ifndef DLBENCH_SUMMARY_H
#define DLBENCH_SUMMARY_H
#include "row.h"
#include "sysinfo.h"
#include <stdio.h>

void summary_write(const struct row *rows, int n, const struct sysinfo *si, FILE *f);

/* Figures in the units people read: 236 GFLOP/s, 1.9 TFLOP/s, 45 GB/s; 12 s, 3.5 min, 2.1 h;
 * 300 MiB, 23.5 GiB. */
void fmt_rate(double v, const char *unit, char *buf, size_t n);   /* v in G<unit> */
void fmt_seconds_human(double s, char *buf, size_t n);
void fmt_bytes_human(double bytes, char *buf, size_t n);
#endif
