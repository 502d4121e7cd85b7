/* attention_cases.h: the causal-attention problem record used by bench/attention_cases.c and the
 * attention workloads (forward; forward + backward). */
#ifndef DLBENCH_ATTENTION_CASES_H
#define DLBENCH_ATTENTION_CASES_H
#include "workload.h"

struct attention_case { int B, H, T, d; };   /* sequences, heads, tokens, head dimension */

extern const struct wcase attention_cases[];
#endif
