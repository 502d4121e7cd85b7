/* workloads.c: the registry of workload families; a new family is one line here. */
#include "workload.h"
#include "rng.h"
#include <stdlib.h>
#include <string.h>

extern const struct workload gemm_workload, stream_workload, eltwise_workload, transfer_workload, conv_fwd_workload,
    conv_bwd_data_workload, conv_bwd_filter_workload, train_workload, allreduce_workload, allgather_workload,
    reducescatter_workload, broadcast_workload, dp_train_workload;

const struct workload *const workloads[] = {&gemm_workload, &conv_fwd_workload, &conv_bwd_data_workload,
                                            &conv_bwd_filter_workload, &stream_workload, &eltwise_workload,
                                            &transfer_workload, &train_workload, &allreduce_workload,
                                            &allgather_workload, &reducescatter_workload, &broadcast_workload,
                                            &dp_train_workload};
const int workload_count = sizeof workloads / sizeof workloads[0];

const struct workload *workload_find(const char *name)
{
    for (int i = 0; i < workload_count; i++)
        if (strcmp(workloads[i]->name, name) == 0) return workloads[i];
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

void *upload_rounded(const struct backend *b, enum dtype dt, float *h, size_t n, struct rng *r)
{
    rng_fill_uniform(r, h, n, -1.0f, 1.0f);
    for (size_t i = 0; i < n; i++) h[i] = f32_round_to(dt, h[i]);
    void *packed = malloc(n * dtype_size(dt)), *d = b->dev->alloc(n * dtype_size(dt));
    if (packed && d) {
        dtype_pack(dt, h, packed, n);
        if (b->dev->upload(d, packed, n * dtype_size(dt)) != 0) { b->dev->release(d); d = NULL; }
    }
    free(packed);
    return d;
}
