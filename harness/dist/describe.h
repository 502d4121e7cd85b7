/* describe.h: a multi-process run in system.json: rank 0 gathers every rank's host, binding and GPU
 * (section "dist") and says which ranks go without a GPU. */
#ifndef DLBENCH_DESCRIBE_H
#define DLBENCH_DESCRIBE_H
#include "sysinfo.h"

void dist_describe(struct sysinfo *si);   /* collective: every rank calls it */
#endif
