/* test_run_record.c: a run folder reproduces its run: the settings, the command line and the
 * environment round-trip through system.json, the reproducing command holds every setting,
 * `report` says how the run ended (also given results.csv), and shell quoting is sound. */
#include "run_record.h"
#include "run.h"
#include "run_settings.h"
#include "testutil.h"
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

Test(run_record, shell_quote)
{
    char q[64];
    shell_quote("--threads", q, sizeof q);
    cr_expect_str_eq(q, "--threads");
    shell_quote("gemm/sq*", q, sizeof q);
    cr_expect_str_eq(q, "'gemm/sq*'");
    shell_quote("it's", q, sizeof q);
    cr_expect_str_eq(q, "'it'\\''s'");
    shell_quote("", q, sizeof q);
    cr_expect_str_eq(q, "''");
    shell_quote("a very long value that does not fit", q, 12);
    cr_expect(strlen(q) < 12 && q[0] == '\'' && q[strlen(q) - 1] == '\'', "cut short but still quoted: %s", q);
}

/* Every effective setting into system.json and back, and into the reproducing command. */
Test(run_record, settings_round_trip_through_system_json)
{
    struct run_opts o;
    struct sysinfo si = {0}, back;
    char *dir = temp_dir(), path[600], why[256];
    char *argv[] = {"dlbench", "run", "--suite", "quick", "--filter", "gemm/sq*", "--threads", "1,2", NULL};
    run_opts_default(&o, 1);
    o.suite_given = 1;
    o.workloads = "gemm";
    o.filter = "gemm/sq*";
    o.dtypes = (1u << DT_F32) | (1u << DT_BF16);
    o.threads[0] = 1; o.threads[1] = 2; o.nthreads = 2;
    o.timing.min_time = 0.25;
    o.timing.max_time = 2.5;
    o.seed = 7;
    o.price_cpu = 0.5;
    o.no_ceilings = 1;
    o.argc = 8;
    o.argv = argv;
    setenv("OMP_WAIT_POLICY", "passive", 1);
    setenv("CUDA_VISIBLE_DEVICES", "1", 1);
    setenv("DLBENCH_CONV_PATH", "im2col", 1);   /* a knob that picks the kernel */
    setenv("DLBENCH_REEXEC", "1", 1);           /* dlbench's own bookkeeping: not a setting */
    run_settings_record(&o, 12, &si);
    run_record_start(&si);
    sysinfo_put(&si, "dlbench", "format", "1");
    snprintf(path, sizeof path, "%s/system.json", dir);
    cr_assert_eq(sysinfo_write_json(&si, path), 0);
    cr_assert_eq(sysinfo_read_json(&back, path, why, sizeof why), 0, "%s", why);
    const char *expect[][2] = {{"suite", "quick"}, {"workloads", "gemm"}, {"filter", "gemm/sq*"}, {"dtypes", "fp32,bf16"},
                               {"threads", "1,2"}, {"min_time_s", "0.25"}, {"max_time_s", "2.5"}, {"case_timeout_s", "600"},
                               {"seed", "7"}, {"price_cpu", "0.5"}, {"rows_planned", "12"}, {"state", "running"},
                               {"command_line", "dlbench run --suite quick --filter 'gemm/sq*' --threads 1,2"}};
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
        const char *v = sysinfo_get(&back, "run", expect[i][0]);
        cr_expect(v && !strcmp(v, expect[i][1]), "run.%s: %s, expected %s", expect[i][0], v ? v : "(none)", expect[i][1]);
    }
    cr_expect_str_eq(sysinfo_get(&back, "env", "OMP_WAIT_POLICY") ?: "", "passive");
    cr_expect_str_eq(sysinfo_get(&back, "env", "CUDA_VISIBLE_DEVICES") ?: "", "1");
    cr_expect_str_eq(sysinfo_get(&back, "env", "DLBENCH_CONV_PATH") ?: "", "im2col");
    cr_expect_null(sysinfo_get(&back, "env", "HOME"), "only variables that change results");
    cr_expect_null(sysinfo_get(&back, "env", "DLBENCH_REEXEC"), "only variables that change results");
    const char *rep = sysinfo_get(&back, "run", "reproduce");
    cr_assert_not_null(rep);
    const char *words[] = {"OMP_WAIT_POLICY=passive", "CUDA_VISIBLE_DEVICES=1", "DLBENCH_CONV_PATH=im2col", "dlbench run", "--suite quick", "--workload gemm",
                           "--filter 'gemm/sq*'", "--dtype fp32,bf16", "--threads 1,2", "--min-time 0.25", "--max-time 2.5",
                           "--case-timeout 600", "--seed 7", "--price-cpu 0.5", "--no-ceilings"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) cr_expect(strstr(rep, words[i]), "'%s' in %s", words[i], rep);
    cr_expect_null(strstr(rep, "--out"), "a reproduction writes a new folder");
    unsetenv("OMP_WAIT_POLICY");
    unsetenv("CUDA_VISIBLE_DEVICES");
    unsetenv("DLBENCH_CONV_PATH");
    unsetenv("DLBENCH_REEXEC");
    sysinfo_free(&si);
    sysinfo_free(&back);
    free(dir);
}

Test(run_record, states_read_back)
{
    struct sysinfo si = {0};
    char s[256];
    cr_expect_eq(run_record_state(&si, s, sizeof s), RUN_UNRECORDED);
    run_record_start(&si);
    cr_expect_eq(run_record_state(&si, s, sizeof s), RUN_INCOMPLETE, "never wrote its end");
    cr_expect(strstr(s, "incomplete") != NULL, "%s", s);
    sysinfo_set(&si, "run", "rows_planned", "10");
    run_record_end(&si, "interrupted (SIGINT, Ctrl-C)", 4, 1.5, 130);
    cr_expect_eq(run_record_state(&si, s, sizeof s), RUN_INTERRUPTED);
    cr_expect(strstr(s, "4 of 10") != NULL, "%s", s);
    run_record_end(&si, "completed", 10, 2.0, 0);
    cr_expect_eq(run_record_state(&si, s, sizeof s), RUN_COMPLETED);
    int states = 0;
    for (int i = 0; i < si.n; i++) states += !strcmp(si.items[i].section, "run") && !strcmp(si.items[i].key, "state");
    cr_expect_eq(states, 1, "the state is replaced, not appended");
    sysinfo_free(&si);
}

/* The binary end to end: a tiny run records its command line; `report` on its results.csv says
 * how it ended and reproduces the command line; a folder without system.json is refused. */
Test(run_record, report_reproduces_the_command_line, .timeout = 120)
{
    char *dir = temp_dir(), out[600], csv[700], buf[8192], err[2048];
    snprintf(out, sizeof out, "%s/run", dir);
    char *args[] = {"run", "--suite", "quick", "--backend", "cpu", "--workload", "gemm", "--filter", "sq128", "--dtype",
                    "fp32", "--threads", "1", "--min-time", "0.01", "--max-time", "0.05", "--no-ceilings", "--seed", "9",
                    "--quiet", "--out", out, NULL};
    cr_assert_eq(run_dlbench(args, err, sizeof err, buf, sizeof buf), 0, "%s", err);
    cr_expect_eq(buf[0], 0, "--quiet prints nothing on stdout: %s", buf);
    cr_expect_eq(err[0], 0, "--quiet prints nothing on stderr without an error: %s", err);
    snprintf(csv, sizeof csv, "%s/results.csv", out);
    cr_assert_eq(run_dlbench((char *[]){"report", csv, NULL}, err, sizeof err, buf, sizeof buf), 0, "%s", err);
    cr_expect(strstr(buf, "run: completed: 1 of 1 planned rows") != NULL, "%s", buf);
    cr_expect(strstr(buf, "run --suite quick --backend cpu --workload gemm --filter sq128 --dtype fp32 --threads 1 --min-time 0.01 "
                          "--max-time 0.05 --case-timeout 600 --seed 9 --no-ceilings") != NULL, "%s", buf);
    snprintf(csv, sizeof csv, "%s/report.md", out);
    FILE *f = fopen(csv, "r");
    cr_assert_not_null(f);
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    buf[len] = 0;
    fclose(f);
    cr_expect(strstr(buf, "- **Command line**: `") != NULL && strstr(buf, "--filter sq128") != NULL, "report.md: %s", buf);
    cr_expect_eq(run_dlbench((char *[]){"report", dir, NULL}, err, sizeof err, NULL, 0), 2);
    cr_expect(strstr(err, "is not a dlbench run folder (no system.json)") != NULL, "%s", err);
    free(dir);
}
