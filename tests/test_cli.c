/* test_cli.c: the dlbench binary end to end: bad arguments get one line and exit 2; a small run
 * writes verified rows, samples, system.json and report.md; `report` rebuilds the report. */
#include "results.h"
#include "backend.h"
#include "testutil.h"
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void expect_exit2_one_line(char *const args[])
{
    char err[4096], out[4096];
    int rc = run_dlbench(args, err, sizeof err, out, sizeof out);
    int lines = 0;
    for (char *p = err; *p; p++) lines += *p == '\n';
    cr_expect_eq(rc, 2, "%s %s: exit %d, stderr: %s", args[0], args[1] ? args[1] : "", rc, err);
    cr_expect_eq(lines, 1, "%s %s %s: expected one line, got: %s", args[0], args[1] ? args[1] : "",
                 args[1] && args[2] ? args[2] : "", err);
    cr_expect(strncmp(err, "dlbench: ", 9) == 0, "message should start with 'dlbench: ': %s", err);
}

#define BAD(...) expect_exit2_one_line((char *[]){__VA_ARGS__, NULL})

Test(cli, bad_arguments_exit_2_with_one_line)
{
    BAD("frobnicate");
    BAD("run", "--bogus", "1");
    BAD("run", "--threads");
    BAD("run", "--threads", "12x");
    BAD("run", "--threads", "-1");
    BAD("run", "--threads", "0");
    BAD("run", "--threads", "");
    BAD("run", "--threads", "1,,2");
    BAD("run", "--threads", "100000");
    BAD("run", "--size", "12x");
    BAD("run", "--size", "0");
    BAD("run", "--size", "x5");
    BAD("run", "--size", "1099511627776x1099511627776");
    BAD("run", "--size", "1x2x3x4x5");
    BAD("run", "--size", "-5");
    BAD("run", "--size", "100x100", "--workload", "gemm");
    BAD("run", "--dtype", "fp64");
    BAD("run", "--backend", "tpu");
    BAD("run", "--workload", "nope");
    BAD("run", "--suite", "medium");
    BAD("run", "--min-time", "abc");
    BAD("run", "--min-time", "-1");
    BAD("run", "--max-time", "nan");
    BAD("run", "--min-time", "2", "--max-time", "1");
    BAD("run", "--seed", "99999999999999999999999");
    BAD("run", "--filter", "no-such-case-anywhere");
    BAD("run", "--out", "/proc/dlbench-cannot-write-here");
    BAD("run", "stray");
    BAD("run", "--price-cpu", "-1");
    BAD("run", "--price-gpu", "free");
    BAD("run", "--prices", "/nonexistent/prices.csv");
    BAD("run", "--workload", "train", "--data", "/nonexistent/mnist");
    BAD("run", "--workload", "conv_fwd", "--size", "64");
    BAD("run", "--case-timeout", "0");
    BAD("list", "extra");
    BAD("info", "--bogus");
    BAD("report");
    BAD("report", "/nonexistent/run");
}

/* getopt_long conventions on every command: -h/--help and -V/--version exit 0 with usage or version on
 * stdout; a mistyped long option is answered with the nearest valid one. */
Test(cli, every_command_has_help_and_version)
{
    static const char *cmds[] = {"run", "list", "info", "report", "compare", "ab", "baseline"};
    char out[8192], err[1024], want[64];
    for (int c = 0; c < 7; c++) {
        snprintf(want, sizeof want, "usage: dlbench %s", cmds[c]);
        for (int h = 0; h < 2; h++) {
            int rc = run_dlbench((char *[]){(char *)cmds[c], h ? "--help" : "-h", NULL}, err, sizeof err, out, sizeof out);
            cr_expect_eq(rc, 0, "%s %s: exit %d", cmds[c], h ? "--help" : "-h", rc);
            cr_expect(strncmp(out, want, strlen(want)) == 0, "%s help: %s", cmds[c], out);
            rc = run_dlbench((char *[]){(char *)cmds[c], h ? "--version" : "-V", NULL}, err, sizeof err, out, sizeof out);
            cr_expect_eq(rc, 0, "%s %s: exit %d", cmds[c], h ? "--version" : "-V", rc);
            cr_expect(strncmp(out, "dlbench ", 8) == 0, "%s version: %s", cmds[c], out);
        }
    }
    cr_expect_eq(run_dlbench((char *[]){"-V", NULL}, NULL, 0, out, sizeof out), 0);
    cr_expect(strncmp(out, "dlbench ", 8) == 0);
    BAD("run", "--treads", "2");
    BAD("run", "--threads=0");
    BAD("run", "--quiet=yes");
    BAD("compare", "--threshold=x", "a", "b");
    BAD("-x");
    run_dlbench((char *[]){"run", "--treads", "2", NULL}, err, sizeof err, NULL, 0);
    cr_expect(strstr(err, "did you mean '--threads'?") != NULL, "%s", err);
}

Test(cli, help_and_version_exit_0)
{
    char out[8192];
    cr_expect_eq(run_dlbench((char *[]){"--help", NULL}, NULL, 0, out, sizeof out), 0);
    cr_expect(strstr(out, "run") != NULL);
    cr_expect_eq(run_dlbench((char *[]){"run", "--help", NULL}, NULL, 0, out, sizeof out), 0);
    cr_expect(strstr(out, "--threads") != NULL);
    cr_expect_eq(run_dlbench((char *[]){"--version", NULL}, NULL, 0, out, sizeof out), 0);
    cr_expect(strncmp(out, "dlbench ", 8) == 0);
    cr_expect_eq(run_dlbench((char *[]){"list", NULL}, NULL, 0, out, sizeof out), 0);
    cr_expect(strstr(out, "cuda") != NULL, "list names the cuda backend, available or not");
    cr_expect_eq(run_dlbench((char *[]){"info", "--no-ceilings", NULL}, NULL, 0, out, sizeof out), 0);
    cr_expect(strstr(out, "openblas_parallel") != NULL && strstr(out, "cores") != NULL, "%s", out);
}

Test(cli, small_run_writes_verified_rows_and_report)
{
    char *dir = temp_dir(), run[512], path[600], why[256], out[1 << 15];
    snprintf(run, sizeof run, "%s/run", dir);
    char out_opt[600];
    snprintf(out_opt, sizeof out_opt, "--out=%s", run); /* both `--opt=value` and `--opt value` */
    /* --max-time 2: the quick suite's 0.5 s can end with 3 samples on a heavily loaded machine */
    int rc = run_dlbench((char *[]){"run", "--suite=quick", "--workload", "gemm", "--filter=sq128",
                                    "--dtype", "fp32", "--max-time", "2", out_opt, NULL},
                         NULL, 0, out, sizeof out);
    cr_assert_eq(rc, 0, "exit %d", rc);
    cr_expect(strstr(out, "## The answer") != NULL && strstr(out, "| sq128 |") != NULL, "summary on stdout: %s", out);
    struct row *rows;
    snprintf(path, sizeof path, "%s/results.csv", run);
    int n = results_load(path, &rows, why, sizeof why);
    int gemm_backends = 0;
    for (int b = 0; b < backend_count; b++) gemm_backends += backend_runs(backends[b], "gemm");
    cr_assert_eq(n, gemm_backends, "one row per backend that runs GEMM (cpu, onednn, cuda): %d (%s)", n, why);
    cr_expect_str_eq(rows[0].backend, "cpu");
    cr_expect(!strcmp(rows[0].status, "ok") || !strcmp(rows[0].status, "noisy"), "%s", rows[0].status);
    cr_expect(rows[0].gflops > 0 && rows[0].samples >= 6 && rows[0].verify_err <= rows[0].tolerance);
    for (int i = 1; i < n; i++)  /* onednn and cuda: measured, or skipped with a reason */
        cr_expect(!strcmp(rows[i].status, "ok") || !strcmp(rows[i].status, "noisy") || !strncmp(rows[i].status, "skipped: ", 9),
                  "%s: %s", rows[i].backend, rows[i].status);
    cr_expect_str_eq(rows[n - 1].backend, "cuda");
    free(rows);
    snprintf(path, sizeof path, "%s/report.md", run);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "report.md written");
    fclose(f);
    remove(path);
    cr_expect_eq(run_dlbench((char *[]){"report", run, NULL}, NULL, 0, NULL, 0), 0);
    cr_expect_not_null(f = fopen(path, "r"), "report rebuilt from CSV");
    if (f) fclose(f);
    /* A refused run leaves no folder behind. */
    char refused[600];
    snprintf(refused, sizeof refused, "%s/refused", dir);
    expect_exit2_one_line((char *[]){"run", "--prices", "/nonexistent/prices.csv", "--out", refused, NULL});
    cr_expect_neq(access(refused, F_OK), 0, "%s was created by a refused run", refused);
    /* A second run into the same folder is refused rather than mixing two runs. */
    expect_exit2_one_line((char *[]){"run", "--suite", "quick", "--filter", "sq128", "--out", run, NULL});
    free(dir);
}

/* The quick suite's GPU rows: conv without tf32 and without the MNIST layers (both left to the
 * full suite), the training step in fp32 and bf16; --dtype names what runs whatever the suite.
 * The GPU is hidden so the rows are planned and skipped in a moment, with or without one. */
Test(cli, quick_suite_dtypes_per_workload)
{
    char *dir = temp_dir(), run[512], path[600], why[256];
    setenv("CUDA_VISIBLE_DEVICES", "", 1);
    for (int explicit = 0; explicit < 2; explicit++) {
        snprintf(run, sizeof run, "%s/run%d", dir, explicit);
        char *args[] = {"run", "--suite", "quick", "--backend", "cuda,cudnn", "--workload", "conv_fwd,train", "--no-ceilings",
                        "--out", run, "--quiet", explicit ? "--dtype" : NULL, "fp32,tf32,fp16,bf16", NULL};
        cr_assert_eq(run_dlbench(args, NULL, 0, NULL, 0), 0);
        struct row *rows;
        snprintf(path, sizeof path, "%s/results.csv", run);
        int n = results_load(path, &rows, why, sizeof why);
        cr_assert_gt(n, 0, "%s", why);
        int count[2][4] = {{0}}, mnist = 0; /* [conv, train][dtype] */
        for (int i = 0; i < n; i++) {
            int conv = !strcmp(rows[i].workload, "conv_fwd");
            int dt = 0;
            while (dt < DT_COUNT && strcmp(dtype_name((enum dtype)dt), rows[i].dtype)) dt++;
            cr_assert_lt(dt, 4, "%s", rows[i].dtype);
            count[!conv][dt]++;
            mnist += conv && !strncmp(rows[i].case_name, "mnist", 5);
            cr_expect(!strncmp(rows[i].status, "skipped: ", 9), "%s %s: %s", rows[i].backend, rows[i].case_name, rows[i].status);
        }
        free(rows);
        cr_expect_eq(mnist, 0, "the MNIST conv layers are not in the quick suite");
        cr_expect(count[0][DT_F32] == 8 && count[0][DT_F16] == 8 && count[0][DT_BF16] == 8,
                  "4 ResNet layers x cuda, cudnn in fp32/fp16/bf16: %d %d %d", count[0][DT_F32], count[0][DT_F16], count[0][DT_BF16]);
        cr_expect_eq(count[0][DT_TF32], explicit ? 8 : 0, "tf32 conv rows: %d", count[0][DT_TF32]);
        cr_expect(count[1][DT_F32] > 0 && count[1][DT_BF16] == count[1][DT_F32], "train fp32 %d bf16 %d", count[1][DT_F32], count[1][DT_BF16]);
        cr_expect_eq(count[1][DT_F16], explicit ? count[1][DT_F32] : 0, "fp16 train rows: %d", count[1][DT_F16]);
    }
    free(dir);
}
