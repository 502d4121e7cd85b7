/* test_compare.c: `dlbench compare` end to end on synthetic run folders: several folders per side,
 * one folder per side, a thread-count change, rows and whole backends gone, noisy rows, Markdown
 * escaping, a baseline's noise model, exit codes, hardware fingerprints, malformed files and
 * things that are not run folders. */
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

/* One row of a synthetic run: identity, status, median (the samples spread ~1% around it). */
struct fake_row { const char *backend, *case_name; int threads; const char *status; double median; };

static void write_folder(const char *dir, const char *cpu_model, const struct fake_row *rows, int n, uint64_t seed)
{
    char why[256], path[512], fmt[8];
    struct results_out o;
    struct sysinfo si = {0};
    struct rng r;
    cr_assert_eq(results_open(&o, dir, why, sizeof why), 0, "%s", why);
    rng_seed(&r, seed, 2);
    for (int c = 0; c < n; c++) {
        struct row row;
        double s[40];
        row_init(&row);
        snprintf(row.backend, sizeof row.backend, "%s", rows[c].backend);
        strcpy(row.workload, "gemm"); strcpy(row.family, "gemm"); strcpy(row.dtype, "fp32");
        snprintf(row.case_name, sizeof row.case_name, "%s", rows[c].case_name);
        snprintf(row.status, sizeof row.status, "%s", rows[c].status);
        row.threads = rows[c].threads;
        row.flops = 1e6; row.bytes = 1e4;
        int measured = !strcmp(row.status, "ok") || !strcmp(row.status, "noisy");
        for (int i = 0; i < 40; i++) s[i] = rows[c].median * exp(0.01 * rng_normal(&r));
        if (measured) {
            struct summary sum;
            summarize(s, 40, &sum);
            row.samples = 40; row.reps = 1; row.median_s = sum.median; row.gflops = 1e-3 / sum.median;
            row.ci_lo_s = sum.ci_lo; row.ci_hi_s = sum.ci_hi;
            if (!strcmp(row.status, "noisy")) { row.ci_lo_s = 0.8 * sum.median; row.ci_hi_s = 1.2 * sum.median; }
        }
        cr_assert_eq(results_append(&o, &row, s, measured ? 40 : 0), 0);
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

/* Two CPU gemm rows, 1 ms and 2 ms x scale, at `threads`. */
static void write_run_threads(const char *dir, const char *cpu_model, double scale, uint64_t seed, int threads)
{
    const struct fake_row rows[] = {{"cpu", "sq128", threads, "ok", 1e-3 * scale}, {"cpu", "sq256", threads, "ok", 2e-3 * scale}};
    write_folder(dir, cpu_model, rows, 2, seed);
}

static void write_run(const char *dir, const char *cpu_model, double scale, uint64_t seed)
{
    write_run_threads(dir, cpu_model, scale, seed, 2);
}

static char out[1 << 16], err[8192];
#define DLB(...) run_dlbench((char *[]){__VA_ARGS__, NULL}, err, sizeof err, out, sizeof out)

static char *folder(const char *t, const char *name)
{
    static char buf[16][512];
    static int k;
    char *p = buf[k++ % 16];
    snprintf(p, 512, "%s/%s", t, name);
    return p;
}

Test(compare_cli, several_runs_per_side)
{
    char *t = temp_dir();
    /* runs spread by ~1% (run-to-run scale), new side 25% slower */
    const double drift[3] = {1.0, 1.012, 0.991};
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "a%d", i); write_run(folder(t, name), "CPU X", drift[i], 10 + i);
        snprintf(name, sizeof name, "b%d", i); write_run(folder(t, name), "CPU X", drift[(i + 1) % 3], 20 + i);
        snprintf(name, sizeof name, "c%d", i); write_run(folder(t, name), "CPU X", 1.25 * drift[(i + 2) % 3], 30 + i);
    }
    int rc = DLB("compare", folder(t, "a0"), folder(t, "a1"), folder(t, "a2"), "--", folder(t, "b0"), folder(t, "b1"), folder(t, "b2"));
    cr_expect_eq(rc, 0, "unchanged: %s%s", out, err);
    cr_expect(strstr(out, "0 slower") && strstr(out, "2 no change"), "%s", out);
    cr_expect(strstr(out, "cannot be seen") == NULL, "several runs per side see the spread: %s", out);
    rc = DLB("compare", folder(t, "a0"), folder(t, "a1"), folder(t, "a2"), "--", folder(t, "c0"), folder(t, "c1"), folder(t, "c2"));
    cr_expect_eq(rc, 1, "25%% slower: %s%s", out, err);
    cr_expect(strstr(out, "2 slower") && strstr(out, "**REGRESSION**") && strstr(out, "| 3/3 |"), "%s", out);
    /* options after the new side's folders, and --threshold above the shift */
    rc = DLB("compare", folder(t, "a0"), folder(t, "a1"), "--", folder(t, "c0"), folder(t, "c1"), "--threshold", "40");
    cr_expect_eq(rc, 0, "%s%s", out, err);
    /* three operands without '--' are ambiguous */
    cr_expect_eq(DLB("compare", folder(t, "a0"), folder(t, "a1"), folder(t, "c0")), 2);
    cr_expect(strstr(err, "'--'") != NULL, "%s", err);
    /* the same folders judged as paired rounds (ab's rule), and --paired with unequal sides */
    rc = DLB("compare", "--paired", folder(t, "a0"), folder(t, "a1"), folder(t, "a2"), "--", folder(t, "c0"), folder(t, "c1"), folder(t, "c2"));
    cr_expect_eq(rc, 1, "%s%s", out, err);
    cr_expect(strstr(out, "rule (paired rounds") && strstr(out, "2 slower"), "%s", out);
    cr_expect_eq(DLB("compare", "--paired", folder(t, "a0"), folder(t, "a1"), "--", folder(t, "c0")), 2);
    cr_expect(strstr(err, "--paired needs as many NEW folders as BASE folders (2 and 1)"), "%s", err);
    free(t);
}

Test(compare_cli, one_run_per_side_says_it_cannot_see_the_spread)
{
    char *t = temp_dir();
    write_run(folder(t, "a"), "CPU X", 1.0, 1);
    write_run(folder(t, "b"), "CPU X", 1.02, 2);
    cr_expect_eq(DLB("compare", folder(t, "a"), folder(t, "b")), 0, "%s%s", out, err);
    cr_expect(strstr(out, "cannot be seen") && strstr(out, "0 slower"), "%s", out);
    /* 1.5x: beyond the threshold, within the default assumption (55%: a shared VM's row can be 4x
     * slower from one run to the next); flagged once the assumption is that of a quiet machine */
    write_run(folder(t, "c"), "CPU X", 1.5, 3);
    cr_expect_eq(DLB("compare", folder(t, "a"), folder(t, "c")), 0, "%s%s", out, err);
    cr_expect(strstr(out, "2 too noisy to judge,") && strstr(out, "too noisy to judge (spread 55.0%"), "%s", out);
    cr_expect_eq(DLB("compare", folder(t, "a"), folder(t, "c"), "--run-noise", "2"), 1, "%s%s", out, err);
    write_run(folder(t, "d"), "CPU X", 3.0, 4);
    cr_expect_eq(DLB("compare", folder(t, "a"), folder(t, "d")), 0, "3x is within 55%%: %s%s", out, err);
    write_run(folder(t, "e"), "CPU X", 6.0, 5);
    cr_expect_eq(DLB("compare", folder(t, "a"), folder(t, "e")), 1, "6x is beyond even 55%%: %s%s", out, err);
    free(t);
}

/* Records run settings in a folder's system.json as `run` does. */
static void set_run(const char *dir, const char *threads, const char *state)
{
    char path[600], why[256];
    struct sysinfo si;
    snprintf(path, sizeof path, "%s/system.json", dir);
    cr_assert_eq(sysinfo_read_json(&si, path, why, sizeof why), 0, "%s", why);
    sysinfo_put(&si, "run", "suite", "quick");
    sysinfo_put(&si, "run", "threads", threads);
    sysinfo_put(&si, "run", "state", state);
    cr_assert_eq(sysinfo_write_json(&si, path), 0);
    sysinfo_free(&si);
}

Test(compare_cli, one_thread_run_against_two_thread_baseline)
{
    char *t = temp_dir();
    write_run_threads(folder(t, "a"), "CPU X", 1.0, 1, 2);
    write_run_threads(folder(t, "b"), "CPU X", 1.9, 2, 1);
    set_run(folder(t, "a"), "2", "completed");
    set_run(folder(t, "b"), "1", "interrupted (SIGINT, Ctrl-C)");
    cr_expect_eq(DLB("compare", folder(t, "a"), folder(t, "b"), "--run-noise", "2"), 1, "%s%s", out, err);
    cr_expect(strstr(out, "| cpu | gemm | sq128 | fp32 | 2→1 |") != NULL && strstr(out, "2 slower") != NULL, "%s", out);
    cr_expect(strstr(out, "**Run settings differ** (rows may not be comparable): threads `2` in") != NULL, "%s", out);
    cr_expect(strstr(out, "suite `") == NULL, "only what differs: %s", out);
    cr_expect(strstr(out, "**Run not completed**") && strstr(out, "(interrupted (SIGINT, Ctrl-C))"), "%s", out);
    free(t);
}

Test(compare_cli, rows_gone_in_new_fail_unless_allowed)
{
    char *t = temp_dir();
    const struct fake_row base[] = {{"cpu", "sq128", 2, "ok", 1e-3}, {"cpu", "sq256", 2, "ok", 2e-3}, {"cpu", "sq512", 2, "ok", 4e-3},
                                    {"cpu", "sq1024", 2, "skipped: not in base", 8e-3}};
    const struct fake_row neu[] = {{"cpu", "sq128", 2, "ok", 1e-3}, {"cpu", "sq256", 2, "skipped: out of host memory", 2e-3},
                                   {"cpu", "sq512", 2, "failed: error 3 > tolerance 1", 4e-3}, {"cpu", "sq1024", 2, "ok", 8e-3}};
    write_folder(folder(t, "a"), "CPU X", base, 4, 1);
    write_folder(folder(t, "b"), "CPU X", neu, 4, 2);
    cr_expect_eq(DLB("compare", folder(t, "a"), folder(t, "b")), 1, "%s%s", out, err);
    cr_expect(strstr(out, "sq256 | fp32 | 2 |") && strstr(out, "**gone in new**: skipped: out of host memory"), "%s", out);
    cr_expect(strstr(out, "**gone in new**: failed: error 3 > tolerance 1"), "%s", out);
    cr_expect(strstr(out, "2 gone in new") && strstr(out, "0 slower"), "%s", out);
    cr_expect(strstr(out, "1 only in new"), "sq1024 was skipped in the base: %s", out);
    cr_expect_eq(DLB("compare", folder(t, "a"), folder(t, "b"), "--allow-missing"), 0, "%s%s", out, err);
    cr_expect(strstr(out, "allowed: --allow-missing"), "%s", out);
    /* a new run that lacks the row entirely */
    write_folder(folder(t, "c"), "CPU X", base, 1, 3);
    cr_expect_eq(DLB("compare", folder(t, "a"), folder(t, "c")), 1, "%s%s", out, err);
    cr_expect(strstr(out, "**gone in new**: no row"), "%s", out);
    free(t);
}

Test(compare_cli, a_whole_backend_gone_is_named_first)
{
    char *t = temp_dir();
    const struct fake_row base[] = {{"cpu", "sq128", 2, "ok", 1e-3}, {"cuda", "sq128", 0, "ok", 1e-5}, {"cuda", "sq256", 0, "ok", 2e-5}};
    const struct fake_row neu[] = {{"cpu", "sq128", 2, "ok", 1e-3}, {"cuda", "sq128", 0, "skipped: no CUDA driver", 0},
                                   {"cuda", "sq256", 0, "skipped: no CUDA driver", 0}};
    write_folder(folder(t, "a"), "CPU X", base, 3, 1);
    write_folder(folder(t, "b"), "CPU X", neu, 3, 2);
    cr_expect_eq(DLB("compare", folder(t, "a"), folder(t, "b")), 1, "%s%s", out, err);
    char *named = strstr(out, "**Backend cuda is gone in new**: 2 rows measured in the baseline, none in the new run (skipped: no CUDA driver)");
    char *table = strstr(out, "| backend |");
    cr_expect(named && table && named < table, "named before the table: %s", out);
    cr_expect(strstr(out, "2 gone in new"), "%s", out);
    cr_expect(strstr(out, "| cuda | gemm |") == NULL, "its rows are not listed one by one: %s", out);
    cr_expect_eq(DLB("compare", folder(t, "a"), folder(t, "b"), "--csv"), 1);
    cr_expect(strstr(out, "cuda,gemm,sq256,fp32,0,0,gemm,") && strstr(out, ",gone,skipped: no CUDA driver"), "csv lists them: %s", out);
    free(t);
}

Test(compare_cli, noisy_rows_are_reported_as_such_not_as_regressions)
{
    char *t = temp_dir();
    const struct fake_row base[] = {{"cpu", "sq128", 2, "ok", 1e-3}, {"cpu", "sq256", 2, "ok", 2e-3}};
    const struct fake_row neu[] = {{"cpu", "sq128", 2, "noisy", 1.3e-3}, {"cpu", "sq256", 2, "ok", 2e-3}};
    write_folder(folder(t, "a"), "CPU X", base, 2, 1);
    write_folder(folder(t, "b"), "CPU X", neu, 2, 2);
    /* +30% in a run flagged noisy (CI +-20%), judged as on a quiet machine: within that run's noise */
    cr_expect_eq(DLB("compare", folder(t, "a"), folder(t, "b"), "--run-noise", "2"), 0, "%s%s", out, err);
    cr_expect(strstr(out, "too noisy to judge (spread") && strstr(out, "flagged noisy") && strstr(out, "0 slower") &&
              strstr(out, "1 too noisy to judge"), "%s", out);
    /* the same +30% without the noise is a regression there */
    const struct fake_row quiet[] = {{"cpu", "sq128", 2, "ok", 1.3e-3}, {"cpu", "sq256", 2, "ok", 2e-3}};
    write_folder(folder(t, "c"), "CPU X", quiet, 2, 3);
    cr_expect_eq(DLB("compare", folder(t, "a"), folder(t, "c"), "--run-noise", "2"), 1, "%s%s", out, err);
    free(t);
}

/* Every table line of a Markdown output has as many cell separators (unescaped '|') as its header. */
static int cells(const char *line)
{
    int k = 0;
    for (const char *p = line; *p && *p != '\n'; p++) k += *p == '|' && (p == line || p[-1] != '\\');
    return k;
}

Test(compare_cli, markdown_escapes_pipes_and_keeps_key_fields_in_columns)
{
    char *t = temp_dir();
    const struct fake_row rows[] = {{"cpu", "odd|name", 2, "ok", 1e-3}, {"cpu", "sq256", 2, "ok", 2e-3}};
    write_folder(folder(t, "a"), "CPU X", rows, 2, 1);
    write_folder(folder(t, "b"), "CPU X", rows, 2, 2);
    cr_expect_eq(DLB("compare", folder(t, "a"), folder(t, "b")), 0, "%s%s", out, err);
    cr_expect(strstr(out, "| cpu | gemm | odd\\|name | fp32 | 2 |") != NULL, "%s", out);
    cr_expect(strstr(out, "cpu|gemm") == NULL, "no |-joined keys: %s", out);
    const char *hdr = strstr(out, "| backend |");
    cr_assert(hdr);
    int want = cells(hdr), lines = 0;
    for (const char *l = hdr; l && *l == '|'; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL, lines++)
        cr_expect_eq(cells(l), want, "line %d: %.*s", lines, (int)strcspn(l, "\n"), l);
    cr_expect_eq(lines, 4, "header, rule and two rows: %s", out);
    free(t);
}

Test(compare_cli, a_baseline_noise_model_judges_one_new_run)
{
    char *t = temp_dir();
    const double drift[5] = {1.0, 1.01, 0.99, 1.005, 0.995};
    char *runs[5];
    for (int i = 0; i < 5; i++) {
        char name[8];
        snprintf(name, sizeof name, "r%d", i);
        runs[i] = folder(t, name);
        write_run(runs[i], "CPU X", drift[i], 40 + i);
    }
    write_run(folder(t, "base"), "CPU X", drift[0], 40);
    cr_expect_eq(DLB("baseline", folder(t, "base"), runs[0], runs[1], runs[2], runs[3], runs[4]), 0, "%s%s", out, err);
    cr_expect(strstr(out, "2 rows from 5 runs"), "%s", out);
    char path[600], line[512];
    snprintf(path, sizeof path, "%s/noise.csv", folder(t, "base"));
    FILE *f = fopen(path, "r");
    cr_assert(f, "no %s", path);
    cr_expect(fgets(line, sizeof line, f) && strstr(line, "backend,workload,case,dtype,threads,runs,median_s,spread_pct,") == line, "%s", line);
    cr_expect(fgets(line, sizeof line, f) && strstr(line, "cpu,gemm,sq128,fp32,2,5,"), "%s", line);
    fclose(f);
    write_run(folder(t, "same"), "CPU X", 1.003, 50);
    write_run(folder(t, "slow"), "CPU X", 1.15, 51);
    cr_expect_eq(DLB("compare", folder(t, "base"), folder(t, "same")), 0, "%s%s", out, err);
    cr_expect(strstr(out, "baseline with a noise model") && strstr(out, "| 5/1 |") && !strstr(out, "cannot be seen"), "%s", out);
    cr_expect_eq(DLB("compare", folder(t, "base"), folder(t, "slow")), 1, "%s%s", out, err);
    /* bad input to baseline */
    cr_expect_eq(DLB("baseline", folder(t, "base"), runs[0]), 2);
    write_run(folder(t, "other"), "CPU Y", 1.0, 60);
    cr_expect_eq(DLB("baseline", folder(t, "base"), runs[0], folder(t, "other")), 2);
    cr_expect(strstr(err, "hardware differs: cpu.model"), "%s", err);
    /* a malformed noise.csv is named with its line */
    f = fopen(path, "a");
    fputs("cpu,gemm,sq999,fp32,2,1,1,0,0,not-a-number\n", f);
    fclose(f);
    cr_expect_eq(DLB("compare", folder(t, "base"), folder(t, "same")), 2);
    cr_expect(strstr(err, "noise.csv:4: malformed row"), "%s", err);
    free(t);
}

Test(compare_cli, exit_codes_and_fingerprints)
{
    char *t = temp_dir(), *a = folder(t, "a"), *b = folder(t, "b"), *c = folder(t, "c"), *d = folder(t, "d");
    write_run(a, "CPU X", 1.0, 1);
    write_run(b, "CPU X", 1.0, 2);
    write_run(c, "CPU X", 1.5, 3);
    write_run(d, "CPU Y", 1.0, 4);
    cr_expect_eq(DLB("compare", a, b), 0, "%s%s", out, err);
    cr_expect(strstr(out, "0 slower") != NULL, "%s", out);
    cr_expect_eq(DLB("compare", a, c, "--run-noise", "2"), 1, "%s", out);
    cr_expect(strstr(out, "2 slower") != NULL && strstr(out, "REGRESSION"), "%s", out);
    char csvpath[600];
    snprintf(csvpath, sizeof csvpath, "%s/results.csv", c);
    cr_expect_eq(DLB("compare", a, csvpath, "--csv", "--run-noise=2"), 1);
    cr_expect(strstr(out, "backend,workload,case,dtype,threads,new_threads,family,") == out, "%s", out);
    cr_expect(strstr(out, "\ncpu,gemm,sq128,fp32,2,2,gemm,") != NULL && strstr(out, ",slower,"), "%s", out);
    cr_expect_eq(DLB("compare", a, c, "--threshold", "80", "--run-noise", "2"), 0);
    cr_expect_eq(DLB("compare", a, d), 2);
    cr_expect(strstr(err, "hardware differs: cpu.model 'CPU X'") != NULL && strstr(err, "'CPU Y'"), "%s", err);
    cr_expect_eq(DLB("compare", a, d, "--allow-different-hardware"), 0);
    cr_expect_eq(DLB("compare", a), 2);
    cr_expect_eq(DLB("compare", a, b, "--alpha", "2"), 2);
    cr_expect_eq(DLB("compare", a, b, "--run-noise", "-1"), 2);
    /* not a run folder, and nothing at all */
    cr_expect_eq(DLB("compare", a, t), 2);
    char want[600];
    snprintf(want, sizeof want, "%s is not a dlbench run folder (no system.json)", t);
    cr_expect(strstr(err, want) != NULL, "%s", err);
    cr_expect_eq(DLB("compare", a, folder(t, "nothing")), 2);
    cr_expect(strstr(err, "does not exist") != NULL, "%s", err);
    /* A malformed results.csv: exit 2 and the line named */
    FILE *f = fopen(csvpath, "a");
    fputs("cpu,x,gemm,gemm,sq999,s,fp32,two,ok\n", f);
    fclose(f);
    cr_expect_eq(DLB("compare", a, c), 2);
    cr_expect(strstr(err, "results.csv:4:") != NULL, "%s", err);
    free(t);
}
