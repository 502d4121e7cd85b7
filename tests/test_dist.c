/* test_dist.c: the parts of multi-process runs that need no MPI: the launcher's environment (Slurm's
 * tasks-per-node notation), the group sizes a workload runs at, the collectives' sizes, bus-bandwidth
 * factors and tolerances as nccl-tests and exact arithmetic define them, a group row skipped in a
 * one-process run, and the report's scaling efficiency and allocation cost. The MPI side runs under
 * mpirun in tests/mpi/. */
#include "collective_cases.h"
#include "dist.h"
#include "dist_impl.h"
#include "report.h"
#include "testutil.h"
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct workload allreduce_workload, allgather_workload, reducescatter_workload, broadcast_workload, dp_train_workload;

static void clear_launchers(void)
{
    const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "SLURM_STEP_ID", "SLURM_PROCID", "PMI_SIZE", "PMI_RANK"};
    for (int i = 0; i < 5; i++) unsetenv(vars[i]);
}

Test(dist, slurm_environment)
{
    int size, rank, lr, ls;
    const char *launcher;
    clear_launchers();
    setenv("SLURM_STEP_ID", "0", 1);
    setenv("SLURM_PROCID", "9", 1);
    setenv("SLURM_LOCALID", "1", 1);
    setenv("SLURM_STEP_NUM_TASKS", "11", 1);
    setenv("SLURM_STEP_TASKS_PER_NODE", "4(x2),3", 1);
    setenv("SLURM_NODEID", "2", 1);
    dist_env(&size, &rank, &lr, &ls, &launcher);
    cr_expect_str_eq(launcher, "srun");
    cr_expect(size == 11 && rank == 9 && lr == 1 && ls == 3, "11 9 1 3: %d %d %d %d", size, rank, lr, ls);
    setenv("SLURM_NODEID", "1", 1);
    dist_env(&size, &rank, &lr, &ls, &launcher);
    cr_expect_eq(ls, 4, "node 1 of \"4(x2),3\" runs 4 tasks");
    clear_launchers();
    setenv("OMPI_COMM_WORLD_SIZE", "4", 1);
    setenv("OMPI_COMM_WORLD_RANK", "2", 1);
    setenv("OMPI_COMM_WORLD_LOCAL_RANK", "0", 1);
    setenv("OMPI_COMM_WORLD_LOCAL_SIZE", "2", 1);
    dist_env(&size, &rank, &lr, &ls, &launcher);
    cr_expect(size == 4 && rank == 2 && lr == 0 && ls == 2 && !strcmp(launcher, "mpirun (Open MPI)"));
    clear_launchers();
    dist_env(&size, &rank, &lr, &ls, &launcher);
    cr_expect(size == -1 && !strcmp(launcher, "none"), "no launcher: one process");
}

Test(dist, group_sizes)
{
    int ks[32];
    dist_me.size = 6;
    cr_assert_eq(dist_group_sizes(GROUP_SCALING, ks, 32), 4);
    cr_expect(ks[0] == 1 && ks[1] == 2 && ks[2] == 4 && ks[3] == 6, "%d %d %d %d", ks[0], ks[1], ks[2], ks[3]);
    cr_assert_eq(dist_group_sizes(GROUP_ALL, ks, 32), 1);
    cr_expect_eq(ks[0], 6);
    dist_me.size = 8;
    cr_assert_eq(dist_group_sizes(GROUP_SCALING, ks, 32), 4, "1, 2, 4, 8: the world once");
    cr_expect_eq(ks[3], 8);
    dist_me.size = 1;
    cr_assert_eq(dist_group_sizes(GROUP_SCALING, ks, 32), 1);
    cr_expect_eq(dist_group_sizes(GROUP_NONE, ks, 32), 0);
}

/* busbw / algbw: 2(n-1)/n, (n-1)/n, (n-1)/n, 1 (nccl-tests' PERFORMANCE.md). */
Test(dist, bus_bandwidth_factors)
{
    const struct coll_case c = {COLL_ALL_REDUCE, 1 << 20};
    for (int n = 1; n <= 8; n *= 2) {
        cr_expect_float_eq(allreduce_workload.bus_factor(&c, n), 2.0 * (n - 1) / n, 1e-12);
        cr_expect_float_eq(allgather_workload.bus_factor(&(struct coll_case){COLL_ALL_GATHER, 1 << 20}, n), (n - 1.0) / n, 1e-12);
        cr_expect_float_eq(reducescatter_workload.bus_factor(&(struct coll_case){COLL_REDUCE_SCATTER, 1 << 20}, n), (n - 1.0) / n, 1e-12);
        cr_expect_float_eq(broadcast_workload.bus_factor(&(struct coll_case){COLL_BROADCAST, 1 << 20}, n), 1.0, 1e-12);
    }
    cr_expect_float_eq(allreduce_workload.bus_factor(&c, 8), 1.75, 1e-12);
}

/* S as nccl-tests counts it: whole elements per rank for all-gather and reduce-scatter. */
Test(dist, collective_sizes_and_tolerances)
{
    const struct coll_case g = {COLL_ALL_GATHER, 1024}, a = {COLL_ALL_REDUCE, 1024};
    dist_me.size = 3;
    cr_expect_float_eq(allgather_workload.bytes(&g, DT_F32), 85 * 4 * 3, 0, "1024 B over 3 ranks: 85 floats each");
    cr_expect_float_eq(allgather_workload.bytes(&g, DT_BF16), 170 * 2 * 3, 0);
    cr_expect_float_eq(allreduce_workload.bytes(&a, DT_F32), 1024, 0);
    cr_expect_eq(allgather_workload.device_bytes(&g, DT_F32), (size_t)(85 + 255) * 4, "send 85, receive 3 x 85");
    cr_expect_float_eq(allreduce_workload.tolerance(&a, DT_BF16), 0, 0, "integers up to 4n = 12: exact in bf16");
    dist_me.size = 65;
    cr_expect(allreduce_workload.tolerance(&a, DT_BF16) > 0, "65 ranks of +-4 can pass 256: rounding allowed");
    cr_expect_float_eq(allreduce_workload.tolerance(&a, DT_F32), 0, 0);
    cr_expect_float_eq(broadcast_workload.tolerance(&(struct coll_case){COLL_BROADCAST, 8}, DT_BF16), 0, 0);
    dist_me.size = 1;
}

/* One process: a group row is a skipped row with the reason, never a hang or a failure. */
Test(dist, group_rows_skip_in_one_process)
{
    struct timing_opts t = {0.01, 0.05, 0.01, 10, 100, 0};   /* warm-up: the one call */
    struct row r;
    struct timing_result tr;
    const struct backend *cpu = backend_find("cpu");
    int rc = dist_measure(cpu, &allreduce_workload, "1K", allreduce_workload.cases[4].params, DT_F32, 1, 1, &t, 42, &r, &tr);
    cr_assert_eq(rc, 0);
    cr_expect(!strncmp(r.status, "skipped: one process", 20), "%s", r.status);
    cr_expect(r.rank == -1 && r.ranks == 1);
    rc = dist_measure(cpu, &dp_train_workload, "x", dp_train_workload.cases[1].params, DT_F32, 1, 2, &t, 42, &r, &tr);
    cr_expect_eq(rc, 2, "no group of 2 in a world of 1: no row");
}

static struct row dp_row(int ranks, double items, double median)
{
    struct row r;
    row_init(&r);
    strcpy(r.backend, "cpu"); strcpy(r.workload, "dp-train"); strcpy(r.family, "dp-train");
    strcpy(r.case_name, "mlp.b128.weak"); strcpy(r.dtype, "fp32"); strcpy(r.status, "ok");
    r.rank = -1; r.ranks = ranks; r.items_per_call = items; r.median_s = r.ci_lo_s = r.ci_hi_s = median;
    r.flops = 1e9; r.gflops = 1e9 / median * 1e-9; r.verify_err = 3e-6;
    return r;
}

/* Efficiency = samples/s at k ÷ (k × samples/s at 1); cost = epoch hours × price × machines used. */
Test(dist, scaling_efficiency_and_allocation_cost)
{
    struct row rows[3] = {dp_row(1, 128, 0.1), dp_row(2, 256, 0.125), dp_row(4, 512, 0.2)};
    struct sysinfo si = {0};
    sysinfo_put(&si, "price.cpu", "usd_per_hour", "0.36");
    sysinfo_put(&si, "price.cpu", "covers", "whole instance");
    sysinfo_put(&si, "dist", "rank.0", "node-a, local rank 0 of 2; x");
    sysinfo_put(&si, "dist", "rank.1", "node-a, local rank 1 of 2; x");
    sysinfo_put(&si, "dist", "rank.2", "node-b, local rank 0 of 2; x");
    sysinfo_put(&si, "dist", "rank.3", "node-b, local rank 1 of 2; x");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    report_dist(rows, 3, &si, f);
    fclose(f);
    /* 2 ranks: 2048/s = 80% of 2 x 1280/s, one machine; 4 ranks: 2560/s = 50%, two machines.
     * epoch: 60000/256 x 0.125 = 29.30 s -> x 0.36 $/h = $0.00293; 60000/512 x 0.2 = 23.44 s x 0.72 = $0.00469 */
    cr_expect(strstr(buf, "| mlp.b128.weak | cpu | 2 | 256 | 125.00 [125.00, 125.00] | 2048 | 80% | 29.30 | $0.00293 |") != NULL, "%s", buf);
    cr_expect(strstr(buf, "| mlp.b128.weak | cpu | 4 | 512 | 200.00 [200.00, 200.00] | 2560 | 50% | 23.44 | $0.00469 |") != NULL, "%s", buf);
    free(buf);
    sysinfo_free(&si);
}

/* The single-device sections see rank 0's rows and rows of one rank; every row stays in the notes. */
Test(dist, report_view_keeps_rank0)
{
    struct row rows[4] = {dp_row(1, 128, 0.1), dp_row(2, 256, 0.1), dp_row(2, 256, 0.1), dp_row(2, 256, 0.1)};
    rows[2].rank = 0; rows[3].rank = 1;
    struct row *view;
    int n = report_rank_view(rows, 4, &view);
    cr_assert(view);
    cr_expect_eq(n, 2);
    cr_expect(view[0].ranks == 1 && view[1].rank == 0);
    free(view);
    rows[1].ranks = rows[2].ranks = rows[3].ranks = 1;
    rows[2].rank = rows[3].rank = 0;
    cr_expect_eq(report_rank_view(rows, 4, &view), 4, "one process: every row");
    cr_expect(view == NULL);
}
