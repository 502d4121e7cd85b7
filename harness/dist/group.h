/* group.h: the ranks of a multi-process run as the workloads and the layers above see them. Under
 * mpirun or srun each rank finds its place on its node and binds to its share of the cores (hwloc)
 * and to its own GPU; collective workloads run on groups (the first k ranks) through the backend's
 * collective_ops. Every wait has a deadline, so a lost rank fails rows instead of hanging the run.
 * Built without MPI, or started without a launcher, the program is one process: rank 0 of 1, and
 * every call here is trivial. (dist.h adds rows and measuring on top; describe.h system.json.) */
#ifndef DLBENCH_GROUP_H
#define DLBENCH_GROUP_H
#include "backend.h"
#include "workload.h"

struct dist_info {
    int rank, size, local_rank, local_size;
    int mpi;                       /* MPI is initialised: 2+ ranks under a launcher */
    char host[64];
    char launcher[48];             /* "mpirun (Open MPI)", "srun", "none" */
    char binding[192];             /* "hwloc: PUs 0-3, …", "launcher: PUs 0", "none: …" */
};

/* World size, rank, local rank and local size as the launcher announces them (-1: not given). */
void dist_env(int *size, int *rank, int *local_rank, int *local_size, const char **launcher);
/* Before anything else (libgomp reads the affinity it starts with): binds this process to its share
 * of its node's cores and their memory (hwloc_distrib) unless the launcher bound it or
 * DLBENCH_BIND=none; chooses its GPU (DLBENCH_GPU = the local rank). Carried across the re-exec in
 * DLBENCH_BINDING. */
void dist_bind_early(void);
int dist_default_threads(void);    /* physical cores in this rank's binding (at least 1) */
/* MPI_Init when launched as one of 2+ ranks (mpirun, srun); 0, or -1 with a message printed. */
int dist_init(void);
const struct dist_info *dist_self(void);
int dist_rank(void);
int dist_size(void);
const char *dist_host_of(int rank);   /* rank 0: every rank's host (NULL elsewhere or unknown) */
int dist_finish(int rc);           /* every rank returns rank 0's rc; MPI_Finalize */
void dist_abort(int rc) __attribute__((noreturn));
/* After a rank was lost: the other ranks wait for rank 0 to write its rows and end the run. */
void dist_await_abort(void) __attribute__((noreturn));
int dist_share(int v);             /* rank 0's v on every rank */
double dist_clock(void);           /* CLOCK_MONOTONIC seconds: deadlines */
#define DIST_GRACE_S 5.0           /* beyond --case-timeout before a silent rank counts as lost */

/* The group sizes a workload runs at: the world (GROUP_ALL); 1, 2, 4, … and the world (SCALING). */
int dist_group_sizes(enum group_mode m, int *ks, int max);
/* The group of the first k ranks, made once (collective over its members); NULL when this rank is
 * not in it. */
const struct coll_group *dist_group(int k);
/* b's communicator for group g (b->coll->open on first use, collective; cached until dist_finish). */
void *dist_comm(const struct backend *b, const struct coll_group *g);
/* The group a collective workload's setup runs in (set by dist_measure around each row). */
const struct coll_group *dist_current_group(void);
void dist_set_current_group(const struct coll_group *g);

/* Group agreements bounded by a deadline (a dist_clock() time): 0 done, -1 a member is lost. */
/* Lines the members up like MPI_Barrier (polled without sleeping, so they leave within microseconds
 * of each other): the start of a timed sample. */
int dist_barrier(const struct coll_group *g, double deadline);
int dist_max(const struct coll_group *g, double *v, int n, double deadline);
/* 1 when every member is ok; 0 with status = the first failing member's status (" (rank K)"
 * appended) on every member; -1 a member is lost. */
int dist_agree(const struct coll_group *g, int ok, char *status, size_t n, double deadline);
/* Every rank's message (tagged with item) to rank 0, which waits wait_s for them: msgs[r] (malloc'ed,
 * lens[r] bytes) or NULL for a rank that did not answer. Returns on every rank how many were lost. */
int dist_gather_bytes(int item, const void *msg, int len, double wait_s, void **msgs, int *lens);
/* A fixed-size record from every rank into all (rank 0; size × bytes), at the start of a run. */
void dist_gather_records(const void *mine, size_t bytes, void *all);

/* Test hook, DLBENCH_TEST_FAULT=<what>:<rank>[:<case substring>]: whether this rank injects fault
 * `what` ("fail", "hang", "exit") at this case. (DLBENCH_TEST_FAULT=dp-noreduce: every rank of a
 * data-parallel step skips the gradient sum, workload_dp.c.) */
int dist_fault(const char *what, const char *case_name);
/* Before an item: a "hang" fault sleeps for good, an "exit" fault leaves at once; 1 for "fail". */
int dist_fault_before(const char *case_name);
#endif
