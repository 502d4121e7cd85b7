/* run_settings.h: a run's effective settings into its record (system.json "run"), with the
 * command line that reproduces them (run_settings.c). */
#ifndef DLBENCH_RUN_SETTINGS_H
#define DLBENCH_RUN_SETTINGS_H
#include "run_opts.h"
#include "sysinfo.h"

void run_settings_record(const struct run_opts *o, int rows_planned, struct sysinfo *si);
#endif
