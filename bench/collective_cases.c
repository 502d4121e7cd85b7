/* collective_cases.c: all-reduce, all-gather, reduce-scatter and broadcast from 8 B (latency) to
 * 1 GiB (bandwidth), every 4x from 16 B: the sizes of nccl-tests' sweeps and of the mpi4py peer
 * (1K, 64K, 1M, 16M, 64M). Quick suite: all-reduce at 1K, 64K, 1M and 16M, the others at 1M. */
#include "collective_cases.h"

#define C(OP, BYTES) (&(const struct coll_case){OP, BYTES})
#define SIZES(OP, ABOUT, QAR)                                                \
    {"8B", ABOUT, 0, C(OP, 8)},                                              \
    {"16B", ABOUT, 0, C(OP, 16)},                                            \
    {"64B", ABOUT, 0, C(OP, 64)},                                            \
    {"256B", ABOUT, 0, C(OP, 256)},                                          \
    {"1K", ABOUT, QAR, C(OP, 1 << 10)},                                      \
    {"4K", ABOUT, 0, C(OP, 4 << 10)},                                        \
    {"16K", ABOUT, 0, C(OP, 16 << 10)},                                      \
    {"64K", ABOUT, QAR, C(OP, 64 << 10)},                                    \
    {"256K", ABOUT, 0, C(OP, 256 << 10)},                                    \
    {"1M", ABOUT, 1, C(OP, 1 << 20)},                                        \
    {"4M", ABOUT, 0, C(OP, 4 << 20)},                                        \
    {"16M", ABOUT, QAR, C(OP, 16 << 20)},                                    \
    {"64M", ABOUT, 0, C(OP, 64 << 20)},                                      \
    {"256M", ABOUT, 0, C(OP, 256 << 20)},                                    \
    {"1G", ABOUT, 0, C(OP, (size_t)1 << 30)},                                \
    {0}

const struct wcase allreduce_cases[] = {SIZES(COLL_ALL_REDUCE, "sum of every rank's array, on every rank", 1)};
const struct wcase allgather_cases[] = {SIZES(COLL_ALL_GATHER, "every rank's S/n slice, concatenated on every rank", 0)};
const struct wcase reducescatter_cases[] = {SIZES(COLL_REDUCE_SCATTER, "slice K of the sum of every rank's array, on rank K", 0)};
const struct wcase broadcast_cases[] = {SIZES(COLL_BROADCAST, "rank 0's array, on every rank", 0)};
