/* test_compare.c: the regression rule on synthetic samples (no false alarms across many seeds,
 * a 20% slowdown caught, a 2% one under a 5% threshold ignored) and `dlbench compare` end to end:
 * exit codes, hardware fingerprints, malformed files. */
#include "compare.h"
#include "results.h"
#include "rng.h"
#include "stats.h"
#include "sysinfo.h"
#include "testutil.h"
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Timing-like samples: median 1 ms x scale, ~2% multiplicative noise, a few slow outliers. */
static void samples(struct rng *r, double scale, double *x, int n)
{
    for (int i = 0; i < n; i++) {
        x[i] = 1e-3 * scale * exp(0.02 * rng_normal(r));
        if (rng_uniform(r) < 0.03) x[i] *= 1.5;
    }
}

Test(compare_rule, identical_distributions_never_regress)
{
    struct rng r;
    double a[60], b[60];
    int slower = 0;
    for (uint64_t seed = 0; seed < 300; seed++) {
        rng_seed(&r, seed, 1);
        samples(&r, 1.0, a, 60);
        samples(&r, 1.0, b, 60);
        struct verdict_result v;
        compare_classify(a, 60, b, 60, 0.05, 0.01, &v);
        slower += v.v == V_SLOWER;
    }
    cr_expect_eq(slower, 0, "%d false regressions in 300 seeds", slower);
}

Test(compare_rule, twenty_percent_slowdown_is_a_regression)
{
    struct rng r;
    double a[40], b[40];
    rng_seed(&r, 7, 1);
    samples(&r, 1.0, a, 40);
    samples(&r, 1.2, b, 40);
    struct verdict_result v;
    compare_classify(a, 40, b, 40, 0.05, 0.01, &v);
    cr_expect_eq(v.v, V_SLOWER, "verdict %s, change %.3f, p %g", verdict_names[v.v], v.change, v.p);
    compare_classify(b, 40, a, 40, 0.05, 0.01, &v);
    cr_expect_eq(v.v, V_FASTER);
}

Test(compare_rule, two_percent_under_five_percent_threshold_is_same)
{
    struct rng r;
    double a[200], b[200];
    rng_seed(&r, 8, 1);
    samples(&r, 1.0, a, 200);
    samples(&r, 1.02, b, 200);
    struct verdict_result v;
    compare_classify(a, 200, b, 200, 0.05, 0.01, &v);
    cr_expect_eq(v.v, V_SAME, "verdict %s, change %.3f", verdict_names[v.v], v.change);
}

Test(compare_rule, large_change_without_evidence_is_ambiguous)
{
    const double a[3] = {1.0, 1.3, 0.9}, b[3] = {1.2, 0.95, 1.4};
    struct verdict_result v;
    compare_classify(a, 3, b, 3, 0.05, 0.01, &v);
    cr_expect_eq(v.v, V_AMBIGUOUS, "verdict %s, change %.3f p %g", verdict_names[v.v], v.change, v.p);
}

/* A run folder with two gemm rows whose samples are scaled by `scale`. */
static void write_run_threads(const char *dir, const char *cpu_model, double scale, uint64_t seed, int threads)
{
    char why[256], path[512], fmt[8];
    struct results_out o;
    struct sysinfo si = {0};
    struct rng r;
    cr_assert_eq(results_open(&o, dir, why, sizeof why), 0, "%s", why);
    rng_seed(&r, seed, 2);
    for (int c = 0; c < 2; c++) {
        struct row row;
        double s[50];
        row_init(&row);
        strcpy(row.backend, "cpu"); strcpy(row.workload, "gemm"); strcpy(row.family, "gemm");
        strcpy(row.case_name, c ? "sq256" : "sq128"); strcpy(row.dtype, "fp32"); strcpy(row.status, "ok");
        row.threads = threads;
        samples(&r, scale * (c + 1), s, 50);
        struct summary sum;
        summarize(s, 50, &sum);
        row.samples = 50; row.reps = 1; row.median_s = sum.median; row.flops = 1e6; row.bytes = 1e4;
        row.gflops = 1e-3 / sum.median; row.ci_lo_s = sum.ci_lo; row.ci_hi_s = sum.ci_hi;
        cr_assert_eq(results_append(&o, &row, s, 50), 0);
    }
    results_close(&o);
    snprintf(fmt, sizeof fmt, "%d", DLBENCH_FORMAT);
    sysinfo_put(&si, "dlbench", "format", fmt);
    sysinfo_put(&si, "cpu", "model", cpu_model);
    sysinfo_put(&si, "cpu", "cores", "2");
    snprintf(path, sizeof path, "%s/system.json", dir);
    cr_assert_eq(sysinfo_write_json(&si, path), 0);
    sysinfo_free(&si);
}

static void write_run(const char *dir, const char *cpu_model, double scale, uint64_t seed)
{
    write_run_threads(dir, cpu_model, scale, seed, 2);
}

Test(compare_cli, one_thread_run_against_two_thread_baseline)
{
    char *t = temp_dir(), a[512], b[512], out[1 << 14], err[4096];
    snprintf(a, sizeof a, "%s/a", t);
    snprintf(b, sizeof b, "%s/b", t);
    write_run_threads(a, "CPU X", 1.0, 1, 2);
    write_run_threads(b, "CPU X", 1.9, 2, 1);
    cr_expect_eq(run_dlbench((char *[]){"compare", a, b, NULL}, err, sizeof err, out, sizeof out), 1, "%s%s", out, err);
    cr_expect(strstr(out, "cpu|gemm|sq128|fp32|2→1") != NULL && strstr(out, "2 slower") != NULL, "%s", out);
    free(t);
}

Test(compare_cli, exit_codes_and_fingerprints)
{
    char *t = temp_dir(), a[512], b[512], c[512], d[512], out[1 << 14], err[4096];
    snprintf(a, sizeof a, "%s/a", t); snprintf(b, sizeof b, "%s/b", t);
    snprintf(c, sizeof c, "%s/c", t); snprintf(d, sizeof d, "%s/d", t);
    write_run(a, "CPU X", 1.0, 1);
    write_run(b, "CPU X", 1.0, 2);
    write_run(c, "CPU X", 1.25, 3);
    write_run(d, "CPU Y", 1.0, 4);
    cr_expect_eq(run_dlbench((char *[]){"compare", a, b, NULL}, err, sizeof err, out, sizeof out), 0, "%s%s", out, err);
    cr_expect(strstr(out, "0 slower") != NULL, "%s", out);
    cr_expect_eq(run_dlbench((char *[]){"compare", a, c, NULL}, err, sizeof err, out, sizeof out), 1, "%s", out);
    cr_expect(strstr(out, "2 slower") != NULL && strstr(out, "REGRESSION"), "%s", out);
    char csvpath[600];
    snprintf(csvpath, sizeof csvpath, "%s/results.csv", c);
    cr_expect_eq(run_dlbench((char *[]){"compare", a, csvpath, "--csv", NULL}, err, sizeof err, out, sizeof out), 1);
    cr_expect(strncmp(out, "key,family,", 11) == 0, "%s", out);
    cr_expect_eq(run_dlbench((char *[]){"compare", a, c, "--threshold", "30", NULL}, err, sizeof err, out, sizeof out), 0);
    cr_expect_eq(run_dlbench((char *[]){"compare", a, d, NULL}, err, sizeof err, out, sizeof out), 2);
    cr_expect(strstr(err, "hardware differs") != NULL, "%s", err);
    cr_expect_eq(run_dlbench((char *[]){"compare", a, d, "--allow-different-hardware", NULL}, err, sizeof err, out, sizeof out), 0);
    cr_expect_eq(run_dlbench((char *[]){"compare", a, NULL}, err, sizeof err, out, sizeof out), 2);
    cr_expect_eq(run_dlbench((char *[]){"compare", a, b, "--alpha", "2", NULL}, err, sizeof err, out, sizeof out), 2);
    /* A malformed results.csv: exit 2 and the line named */
    FILE *f = fopen(csvpath, "a");
    fputs("cpu,x,gemm,gemm,sq999,s,fp32,two,ok\n", f);
    fclose(f);
    cr_expect_eq(run_dlbench((char *[]){"compare", a, c, NULL}, err, sizeof err, out, sizeof out), 2);
    cr_expect(strstr(err, "results.csv:4:") != NULL, "%s", err);
    free(t);
}
