/* dist.h: many processes, one run. Under mpirun or srun each rank finds its place on its node, binds
 * to its share of the cores (hwloc) and to its own GPU, measures, and sends its rows to rank 0, which
 * writes the one run folder. Collective workloads run on groups (the first k ranks). Every wait has a
 * deadline, so a lost rank fails its rows instead of hanging the run. Built without MPI, or started
 * without a launcher, the program is one process: rank 0 of 1, and every call here is trivial. */
#ifndef DLBENCH_DIST_H
#define DLBENCH_DIST_H
#include "backend.h"
#include "results.h"
#include "sysinfo.h"
#include "timing.h"
#include "workload.h"

struct dist_info {
    int rank, size, local_rank, local_size;
    int mpi;                       /* MPI is initialised: 2+ ranks under a launcher */
    char host[64];
    char launcher[48];             /* "mpirun (Open MPI)", "srun", "none" */
    char binding[192];             /* "hwloc: cores 0-3 (NUMA 0)", "launcher: PUs 0", "none: …" */
};

/* Before anything else (libgomp reads the affinity it is started with): this process's local rank
 * and the ranks on its node from the launcher's environment; binds the process to its share of the
 * node's cores and their memory (hwloc_distrib) unless the launcher bound it or DLBENCH_BIND=none;
 * chooses its GPU (DLBENCH_GPU = local rank) for the CUDA backend. Carried across the re-exec in
 * DLBENCH_BINDING. */
void dist_bind_early(void);
/* World size, rank, local rank and local size as the launcher announces them (-1: not given). */
void dist_env(int *size, int *rank, int *local_rank, int *local_size, const char **launcher);
/* MPI_Init when launched as one of 2+ ranks (mpirun, srun); 0, or -1 with a message printed. */
int dist_init(void);
const struct dist_info *dist_self(void);
int dist_rank(void);
int dist_size(void);
int dist_default_threads(void);    /* physical cores in this rank's binding (at least 1) */
/* Every rank returns rank 0's exit code; MPI_Finalize. */
int dist_finish(int rc);
void dist_abort(int rc) __attribute__((noreturn));
/* After a rank was lost: the other ranks wait for rank 0 to write its rows and end the run. */
void dist_await_abort(void) __attribute__((noreturn));
/* Rank 0's v on every rank (e.g. whether rank 0 refused the run folder). */
int dist_share(int v);
/* Rank 0 gathers every rank's host, binding and GPU into si (section "dist"); collective. */
void dist_describe(struct sysinfo *si);

/* The group sizes a workload runs at: the world (GROUP_ALL); 1, 2, 4, … and the world (SCALING). */
int dist_group_sizes(enum group_mode m, int *ks, int max);
/* The group of the first k ranks, cached; NULL when this rank is not in it. */
const struct coll_group *dist_group(int k);
/* b's communicator for group g (b->coll->open on first use, collective; cached until dist_finish). */
void *dist_comm(const struct backend *b, const struct coll_group *g);

/* Group agreements bounded by a deadline (a wall_seconds() time): 0 done, -1 a member is lost. */
int dist_max(const struct coll_group *g, double *v, int n, double deadline);
/* 1 when every member is ok; 0 with status = the first failing member's status (" (rank K)"
 * appended) on every member; -1 a member is lost. */
int dist_agree(const struct coll_group *g, int ok, char *status, size_t n, double deadline);

/* One item's rows: each rank's row (have: 0 when it has none, e.g. a collective row kept by the group's
 * first rank) goes to rank 0 with its samples. Rank 0 waits wait_s after its own; got: every row in rank
 * order, a rank that did not answer as "failed: rank K lost". Returns the ranks lost (every rank learns
 * it), or 0. */
struct dist_row { struct row r; double *samples; int n; };
int dist_collect(int item, const struct row *mine, int have, const double *samples, int ns, double wait_s,
                 struct dist_row **got, int *ngot);
void dist_rows_free(struct dist_row *rows, int n);
#define DIST_GRACE_S 5.0           /* beyond --case-timeout before a silent rank counts as lost */

/* A row measured by a group of ranks together (collective, data-parallel step): identity, then
 * agreement on every step so all members skip or fail together, a verified call whose error is the
 * worst member's, and the distributed sampler. Returns 0 with the row (group rank 0 keeps it), 2 when
 * this rank is not in the group (no row), 1 interrupted. */
int dist_measure(const struct backend *b, const struct workload *w, const char *case_name, const void *params,
                 enum dtype dt, int threads, int ranks, const struct timing_opts *t, uint64_t seed, struct row *r,
                 struct timing_result *tr);
/* The group a collective workload's setup runs in (set by dist_measure). */
const struct coll_group *dist_current_group(void);
/* The sampler over a group: as time_op, but every sample's time is the slowest member's and every
 * member takes the same decisions. */
int dist_time_op(const struct coll_group *g, const struct backend *b, op_call_fn call, void *st,
                 const struct timing_opts *o, struct timing_result *r);

/* Test hook, DLBENCH_TEST_FAULT=<what>:<rank>[:<case substring>]: whether this rank injects fault
 * `what` ("fail", "hang", "exit") at this case. (DLBENCH_TEST_FAULT=dp-noreduce: every rank of a
 * data-parallel step skips the gradient sum, workload_dp.c.) */
int dist_fault(const char *what, const char *case_name);
/* Before an item: a "hang" fault sleeps for good, an "exit" fault leaves at once; 1 for "fail". */
int dist_fault_before(const char *case_name);
#endif
