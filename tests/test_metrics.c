/* test_metrics.c: the one place row metrics are computed (harness/output/metrics.c): units, the
 * backend's side from the registry (and the fallback for names it does not know), GPU/CPU pairing
 * with several thread counts and a vendor variant, speedups counted once per case, and the report
 * headline agreeing with them whatever the row order. */
#include "metrics.h"
#include "report.h"
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct row mk(const char *backend, const char *cs, int threads, double gflops)
{
    struct row r;
    row_init(&r);
    snprintf(r.backend, sizeof r.backend, "%s", backend);
    strcpy(r.workload, "gemm"); strcpy(r.family, "gemm"); strcpy(r.dtype, "fp32");
    snprintf(r.case_name, sizeof r.case_name, "%s", cs);
    strcpy(r.shape, "M=1 N=1 K=1 NN");
    strcpy(r.status, isnan(gflops) ? "skipped: test" : "ok");
    r.threads = threads;
    r.flops = 1e9; r.bytes = 1e8; r.intensity = 10;
    r.median_s = 1.0 / gflops; r.ci_lo_s = r.median_s * 0.99; r.ci_hi_s = r.median_s * 1.01;
    r.gflops = gflops; r.gbytes_per_s = 0.1 * gflops;
    r.samples = 10; r.reps = 1;
    return r;
}

Test(metrics, units)
{
    struct row r = mk("cpu", "a", 2, 100);
    cr_expect_str_eq(row_unit(&r), "GFLOP/s");
    cr_expect_float_eq(row_metric(&r), 100, 1e-9);
    cr_expect_float_eq(row_metric_at(&r, 0.5), 2.0, 1e-9, "1e9 FLOPs in 0.5 s");
    strcpy(r.family, "bandwidth");
    cr_expect_str_eq(row_unit(&r), "GB/s");
    cr_expect_float_eq(row_metric(&r), 10, 1e-9);
    strcpy(r.family, "gemm");
    r.flops = 0;
    cr_expect(row_in_gbps(&r), "no FLOPs: bandwidth-bound");
}

Test(metrics, sides_from_the_registry_and_unknown_names)
{
    struct row r = mk("cpu", "a", 2, 1);
    cr_expect(row_is_cpu(&r) && !row_is_gpu(&r) && !row_is_variant(&r));
    strcpy(r.backend, "cuda");
    cr_expect(row_is_gpu(&r) && !row_is_variant(&r) && !row_is_cpu(&r));
    strcpy(r.backend, "rocm"); /* an older or other build's CSV: not "cpu", so a GPU */
    cr_expect(row_is_gpu(&r) && !row_is_variant(&r));
}

Test(metrics, pair_takes_most_threads_and_the_base_gpu)
{
    /* the 1-thread row first, as a --threads 1,2 run writes them */
    struct row rows[] = {mk("cpu", "a", 1, 50), mk("cpu", "a", 2, 100), mk("cuda", "a", 0, 1000), mk("cudnn", "a", 0, 2000),
                         mk("cpu", "b", 1, 10), mk("cpu", "b", 2, NAN), mk("cudnn", "b", 0, 40)};
    const struct row *cpu, *gpu;
    row_pair(rows, 7, &rows[0], &cpu, &gpu);
    cr_expect_eq(cpu, &rows[1], "the CPU side is the row with the most threads");
    cr_expect_eq(gpu, &rows[2], "the GPU side is the base backend, not its variant");
    cr_expect_float_eq(row_speedup(gpu, cpu), 10, 1e-9);
    row_pair(rows, 7, &rows[4], &cpu, &gpu);
    cr_expect_eq(cpu, &rows[4], "a measured row beats an unmeasured one with more threads");
    cr_expect_eq(gpu, &rows[6], "a variant stands in when the base backend has no row");
    cr_expect(isnan(row_speedup(&rows[5], &rows[6])), "no speedup from an unmeasured row");
    struct family_ratio *sp;
    int n = gpu_cpu_speedups(rows, 7, &sp), k;
    cr_assert_eq(n, 2, "one ratio per case: %d", n);
    cr_expect_float_eq(sp[0].ratio, 10, 1e-9);
    cr_expect_float_eq(sp[1].ratio, 4, 1e-9);
    cr_expect_float_eq(family_geomean(sp, n, "gemm", &k), sqrt(40), 1e-9);
    cr_expect_eq(k, 2);
    cr_expect(isnan(family_geomean(sp, n, "conv", &k)) && k == 0);
    free(sp);
    const char *names[8];
    int nb = row_backends(rows, 7, names, 8);
    cr_expect_eq(nb, 3);
    cr_expect(nb == 3 && !strcmp(names[0], "cpu") && !strcmp(names[1], "cuda") && !strcmp(names[2], "cudnn"));
}

/* The headline's geomean is the same computation as the speedup plot's, with the fewer-thread CPU
 * row first (it used to show "—" then). */
Test(metrics, headline_uses_the_pairs_whatever_the_order)
{
    struct row rows[] = {mk("cpu", "a", 1, 50), mk("cpu", "a", 2, 100), mk("cuda", "a", 0, 1000),
                         mk("cpu", "b", 1, 20), mk("cpu", "b", 2, 40), mk("cuda", "b", 0, 160)};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    report_print_summary(rows, 6, f);
    fclose(f);
    cr_expect(strstr(buf, "| gemm | 6.32× | 2 |") != NULL, "geomean of 10 and 4: %s", buf);
    free(buf);
}
