/* sim_selftest.h: small kernels run on the simulator (cuda_sim.h) to show that it computes the
 * documented fragment layouts and catches the kernel faults it claims to: reading a cp.async
 * target before the wait, a missing barrier, divergent collectives, a barrier some thread never
 * reaches, writing past the launched shared memory. Each returns what the test asserts on. */
#ifndef DLBENCH_SIM_SELFTEST_H
#define DLBENCH_SIM_SELFTEST_H
#ifdef __cplusplus
extern "C" {
#endif
/* Largest |mma − A·B − C| over a random 16×16·16×8 product (bf16 or fp16 inputs), or -1. */
double sim_selftest_mma(int bf16);
/* Lanes whose ldmatrix .x4 (.trans) registers differ from the PTX layout, or -1. */
int sim_selftest_ldmatrix(int trans);
/* Threads of a 64-thread block whose __any_sync differs from "some lane of my warp voted": only
 * lane `lane` (0..31; -1: none) of the second warp votes; or -1. */
int sim_selftest_any(int lane);
/* What a thread read from a cp.async target: before its wait (*before), after it (*after). */
int sim_selftest_cp_async(unsigned *before, unsigned *after);
/* What thread 1 reads of a word thread 0 writes with no barrier between, in either thread order. */
int sim_selftest_missing_barrier(int reverse, unsigned *seen);
/* 0 when the launch fails as it should, with the simulator's reason in why. */
int sim_selftest_divergent(char *why, int n);
int sim_selftest_deadlock(char *why, int n);
int sim_selftest_overrun(char *why, int n);
#ifdef __cplusplus
}
#endif
#endif
