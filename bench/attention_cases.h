/* attention_cases.h: the causal-attention problem record used by bench/attention_cases.c and the
 * attention workloads (forward; forward + backward). */
#ifndef DLBENCH_ATTENTION_CASES_H
#define DLBENCH_ATTENTION_CASES_H
#include "workload.h"

struct attention_case { int B, H, T, d; };   /* sequences, heads, tokens, head dimension */

extern const struct wcase attention_cases[];
/* Heads' double references computed so far by the attention workloads' checks (rows of one case
 * and dtype share them: harness/workloads/workload_attention.c); for tests. */
int attention_head_refs_computed(void);
#endif
