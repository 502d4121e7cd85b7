/* test_reliability.c: nothing measured is lost and one failing backend leaves the other's rows
 * intact: a backend that fails on purpose, SIGINT (exit 130, a report, the run recorded as
 * interrupted), SIGKILL (a readable CSV that `report` turns into a report of an incomplete run). */
#include "results.h"
#include "run.h"
#include "run_record.h"
#include "testutil.h"
#include <criterion/criterion.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

static int broken;
static char fault[128];
static int faulty_probe(char *why, size_t n)
{
    if (broken && why) snprintf(why, n, "disabled after: %s", fault);
    return !broken;
}
static const char *faulty_error(void) { return fault; }
static int faulty_gemm(enum dtype dt, int ta, int tb, int m, int n, int k, const void *a, const void *b, float *c)
{
    if (m == 256) { /* a sticky fault in the middle of the run, as an illegal address would be */
        broken = 1;
        snprintf(fault, sizeof fault, "injected sticky fault");
        return -1;
    }
    return backend_find("cpu")->mm->gemm(dt, ta, tb, m, n, k, a, b, c);
}

Test(reliability, failing_backend_leaves_the_other_intact)
{
    static struct backend faulty;
    faulty = *backend_find("cpu");
    faulty.name = "faulty";
    faulty.probe = faulty_probe;
    static struct device_ops dev;
    static struct matmul_ops mm;
    dev = *faulty.dev;
    dev.error = faulty_error;
    faulty.dev = &dev;
    mm.gemm = faulty_gemm;
    faulty.mm = &mm;
    const struct backend *list[] = {backend_find("cpu"), &faulty};
    backends_replace(list, 2);
    char *dir = temp_dir(), out[600], why[256];
    snprintf(out, sizeof out, "%s/run", dir);
    struct run_opts o;
    run_opts_default(&o, 1);
    o.workloads = "gemm";
    o.filter = "sq*";
    o.dtypes = 1u << DT_F32;
    o.out_dir = out;
    o.quiet = 1;
    o.no_ceilings = 1;   /* not what this test is about, and 3.6 GB of STREAM arrays on a big-L3 machine */
    o.timing.max_time = 0.3;
    int rc = run_main(&o);
    backends_replace(NULL, 0);
    cr_expect_eq(rc, 1, "a failed row makes the exit code 1");
    struct row *rows;
    char path[700];
    snprintf(path, sizeof path, "%s/results.csv", out);
    int n = results_load(path, &rows, why, sizeof why);
    cr_assert_eq(n, 10, "%d rows (%s)", n, why);
    int cpu_ok = 0, failed = 0, disabled = 0;
    for (int i = 0; i < n; i++) {
        if (!strcmp(rows[i].backend, "cpu")) cpu_ok += row_measured(&rows[i]);
        else if (!strcmp(rows[i].case_name, "sq256")) failed += !strcmp(rows[i].status, "failed: injected sticky fault");
        else if (strcmp(rows[i].case_name, "sq128")) disabled += strstr(rows[i].status, "skipped: disabled after") != NULL;
    }
    cr_expect_eq(cpu_ok, 5, "every CPU row measured");
    cr_expect_eq(failed, 1, "the faulting row says why");
    cr_expect_eq(disabled, 3, "the backend is disabled for the rest of the run");
    free(rows);
    free(dir);
}

static pid_t spawn_run(const char *out)
{
    char *bin = getenv("DLBENCH_BIN") ? getenv("DLBENCH_BIN") : DLBENCH_BIN;
    /* 16 MB arrays (not 4x the last-level cache) so that rows finish in seconds on any machine, and
     * 0.5 s of sampling per row so that the run is still going when the signal comes */
    char *argv[] = {bin, "run", "--suite", "quick", "--backend", "cpu", "--workload", "stream,eltwise", "--size", "4000000",
                    "--min-time", "0.5", "--out", (char *)out, "--quiet", "--no-ceilings", NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    extern char **environ;
    cr_assert_eq(posix_spawn(&pid, bin, &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    return pid;
}

/* Waits until results.csv holds `rows` rows (60 s at most). */
static void wait_rows(const char *out, int rows)
{
    char path[700], line[4096];
    snprintf(path, sizeof path, "%s/results.csv", out);
    for (int t = 0; t < 600; t++) {
        FILE *f = fopen(path, "r");
        int n = 0;
        if (f) { while (fgets(line, sizeof line, f)) n++; fclose(f); }
        if (n > rows) return;
        usleep(100000);
    }
    cr_assert_fail("no %d rows in %s after 60 s", rows, path);
}

static void interrupted_run(int sig)
{
    char *dir = temp_dir(), out[600], path[700], why[256];
    snprintf(out, sizeof out, "%s/run", dir);
    pid_t pid = spawn_run(out);
    wait_rows(out, 2);
    kill(pid, sig);
    int st;
    waitpid(pid, &st, 0);
    if (sig == SIGINT) cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 130, "SIGINT: exit status %d", WEXITSTATUS(st));
    else cr_expect(WIFSIGNALED(st), "killed");
    struct row *rows;
    snprintf(path, sizeof path, "%s/results.csv", out);
    int n = results_load(path, &rows, why, sizeof why);
    cr_expect(n >= 2, "every completed row readable: %d (%s)", n, why);
    if (n > 0) free(rows);
    snprintf(path, sizeof path, "%s/report.md", out);
    char said[4096] = "";
    if (sig == SIGKILL) {
        cr_expect_eq(access(path, F_OK), -1, "a killed run writes no report");
        cr_expect_eq(run_dlbench((char *[]){"report", out, NULL}, NULL, 0, said, sizeof said), 0);
        cr_expect(strstr(said, "run: incomplete: the run never recorded its end") != NULL, "report says: %s", said);
    }
    cr_expect_eq(access(path, F_OK), 0, "report.md for what completed");
    /* how the run ended, in system.json and on top of report.md */
    struct sysinfo si;
    char state[256];
    snprintf(path, sizeof path, "%s/system.json", out);
    cr_assert_eq(sysinfo_read_json(&si, path, why, sizeof why), 0, "%s", why);
    enum run_state ended = run_record_state(&si, state, sizeof state);
    if (sig == SIGINT) cr_expect(ended == RUN_INTERRUPTED && !strcmp(sysinfo_get(&si, "run", "state"), "interrupted (SIGINT, Ctrl-C)"), "%s", state);
    else cr_expect(ended == RUN_INCOMPLETE, "killed: %s", state);
    sysinfo_free(&si);
    snprintf(path, sizeof path, "%s/report.md", out);
    FILE *f = fopen(path, "r");
    char md[4096] = "";
    if (f) { md[fread(md, 1, sizeof md - 1, f)] = 0; fclose(f); }
    cr_expect(strstr(md, "**This run did not finish**") != NULL, "report.md says so on top: %.600s", md);
    free(dir);
}

Test(reliability, sigint_writes_report_and_exits_130, .timeout = 120) { interrupted_run(SIGINT); }
Test(reliability, sigkill_leaves_a_readable_csv, .timeout = 120) { interrupted_run(SIGKILL); }
