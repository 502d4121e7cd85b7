/* dp_cases.h: the data-parallel training-step cases: model, batch and how it scales with the ranks
 * (weak: the batch per rank is fixed; strong: the global batch is fixed and split). */
#ifndef DLBENCH_DP_CASES_H
#define DLBENCH_DP_CASES_H
#include "workload.h"
#include "train_ref.h"

enum dp_scaling { DP_WEAK, DP_STRONG };
struct dp_case { const struct model_spec *model; int batch; enum dp_scaling scaling; };

extern const struct wcase dp_cases[];
#endif
