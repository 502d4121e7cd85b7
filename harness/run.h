/* run.h: `dlbench run`: plans backend × workload × case × dtype × threads, verifies each case,
 * times it, and appends its row to the run folder as soon as it finishes. */
#ifndef DLBENCH_RUN_H
#define DLBENCH_RUN_H
#include "run_opts.h"

void run_opts_default(struct run_opts *o, int quick);
/* Returns the process exit code: 0 all ok, 1 a case failed, 2 bad input, 130 interrupted. */
int run_main(struct run_opts *o);
#endif
