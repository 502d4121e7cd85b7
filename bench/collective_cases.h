/* collective_cases.h: the collective cases (nccl-tests' four data-parallel collectives): which
 * operation, and S, the size in bytes of the whole array as nccl-tests counts it. */
#ifndef DLBENCH_COLLECTIVE_CASES_H
#define DLBENCH_COLLECTIVE_CASES_H
#include "workload.h"

enum coll_op { COLL_ALL_REDUCE, COLL_ALL_GATHER, COLL_REDUCE_SCATTER, COLL_BROADCAST };
struct coll_case { enum coll_op op; size_t bytes; };
extern const struct wcase allreduce_cases[], allgather_cases[], reducescatter_cases[], broadcast_cases[];
#endif
