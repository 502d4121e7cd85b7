/* workloads.c: the registry of workload families; a new family is one line here. */
#include "workload.h"
#include <stdlib.h>
#include <string.h>

extern const struct workload gemm_workload, stream_workload, eltwise_workload, transfer_workload, conv_fwd_workload,
    conv_bwd_data_workload, conv_bwd_filter_workload, train_workload, attention_fwd_workload, attention_fwd_bwd_workload,
    allreduce_workload, allgather_workload, reducescatter_workload, broadcast_workload, dp_train_workload;

const struct workload *const workloads[] = {&gemm_workload, &conv_fwd_workload, &conv_bwd_data_workload,
                                            &conv_bwd_filter_workload, &stream_workload, &eltwise_workload,
                                            &transfer_workload, &train_workload, &attention_fwd_workload,
                                            &attention_fwd_bwd_workload, &allreduce_workload, &allgather_workload,
                                            &reducescatter_workload, &broadcast_workload, &dp_train_workload};
const int workload_count = sizeof workloads / sizeof workloads[0];
size_t bandwidth_cap_bytes;

const struct workload *workload_find(const char *name)
{
    for (int i = 0; i < workload_count; i++)
        if (strcmp(workloads[i]->name, name) == 0) return workloads[i];
    return NULL;
}

const struct wcase *wcase_find(const struct workload *w, const char *name)
{
    for (const struct wcase *c = w ? w->cases : NULL; c && c->name; c++)
        if (strcmp(c->name, name) == 0) return c;
    return NULL;
}

/* FNV-1a over the case's identity: the same inputs for every backend and thread count. */
uint64_t case_stream(const char *workload, const char *case_name, enum dtype dt)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *s = workload; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    for (const char *s = case_name; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (h ^ (uint64_t)dt) * 1099511628211ull;
}
