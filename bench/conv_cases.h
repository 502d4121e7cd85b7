/* conv_cases.h: convolution layers as data, shared by the forward, backward-data and
 * backward-filter workloads. */
#ifndef DLBENCH_CONV_CASES_H
#define DLBENCH_CONV_CASES_H
#include "workload.h"
#include "conv_ref.h"

extern const struct wcase conv_cases[];
#endif
