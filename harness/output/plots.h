/* plots.h: SVG plots of a run through gnuplot (plots.c), for report.md. */
#ifndef DLBENCH_PLOTS_H
#define DLBENCH_PLOTS_H
#include <stddef.h>
#include "row.h"
#include "sysinfo.h"

/* Writes dir/plots/ (data files, plots.gp, SVGs); returns the Markdown section for report.md in
 * md (links, or how to get plots when gnuplot is missing), or NULL when nothing could be written. */
const char *report_plots(const struct row *rows, int n, const struct sysinfo *si, const char *dir, char *md, size_t mdn);
#endif
