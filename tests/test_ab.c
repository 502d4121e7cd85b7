/* test_ab.c: `dlbench ab` with stand-in binaries (shell scripts that log each call and hand out
 * prepared run folders and take turns as a run does): the turns row by row and the same options
 * on both sides, an older baseline that does not take turns running on its own, a slowed new
 * side caught, a round that fails keeps what was measured and stops, a revision that does not
 * build or does not exist is one line and exit 2. */
#include "ab.h"
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
#include <sys/stat.h>
#include <unistd.h>

static char out[1 << 16], err[8192];

/* A run folder of two gemm rows at 1 ms and 2 ms x scale. */
static void write_run(const char *dir, double scale, uint64_t seed)
{
    char why[256], path[600];
    struct results_out o;
    struct sysinfo si = {0};
    struct rng r;
    cr_assert_eq(results_open(&o, dir, why, sizeof why), 0, "%s", why);
    rng_seed(&r, seed, 3);
    for (int c = 0; c < 2; c++) {
        struct row row;
        double s[30];
        struct summary sum;
        row_init(&row);
        strcpy(row.backend, "cpu"); strcpy(row.workload, "gemm"); strcpy(row.family, "gemm");
        strcpy(row.case_name, c ? "sq256" : "sq128"); strcpy(row.dtype, "fp32"); strcpy(row.status, "ok");
        row.threads = 2; row.flops = 1e6; row.bytes = 1e4;
        for (int i = 0; i < 30; i++) s[i] = 1e-3 * (c + 1) * scale * exp(0.005 * rng_normal(&r));
        summarize(s, 30, &sum);
        row.samples = 30; row.reps = 1; row.median_s = sum.median; row.ci_lo_s = sum.ci_lo; row.ci_hi_s = sum.ci_hi;
        cr_assert_eq(results_append(&o, &row, s, 30), 0);
    }
    results_close(&o);
    sysinfo_put(&si, "dlbench", "format", "1");
    sysinfo_put(&si, "cpu", "model", "CPU X");
    sysinfo_put(&si, "cpu", "cores", "2");
    snprintf(path, sizeof path, "%s/system.json", dir);
    cr_assert_eq(sysinfo_write_json(&si, path), 0);
    sysinfo_free(&si);
}

/* A stand-in for one side's binary: `run --help` lists --no-ceilings and DLBENCH_TURNS when `knows`
 * says so, and then it takes turns as a run does (turns.h): start-up, two rows, the report; in its
 * start-up it logs "<side> <args>" to t/calls.log, in each row "<side> row<i>" to t/turns.log. It
 * copies the prepared folder t/tpl/<side>-<n> (its n-th call) to --out; on call fail_at it leaves
 * half a folder and exits 3. */
static void write_fake_knowing(const char *t, const char *side, int fail_at, int knows, char *path, size_t n)
{
    snprintf(path, n, "%s/fake-%s", t, side);
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fprintf(f, "#!/bin/sh\ncase \"$*\" in *--help*) echo \"usage: dlbench run --quiet%s\"; exit 0;; esac\n",
            knows ? " --no-ceilings DLBENCH_TURNS" : "");
    if (knows)
        fputs("R=; W=; [ -n \"$DLBENCH_TURNS\" ] && R=${DLBENCH_TURNS%,*} && W=${DLBENCH_TURNS#*,}\n"
              "take() { [ -z \"$R\" ] || dd bs=1 count=1 <&$R >/dev/null 2>&1; }\n"
              "give() { [ -z \"$W\" ] || printf t >&$W; }\n", f);
    else
        fputs("take() { :; }\ngive() { :; }\n", f);
    fprintf(f, "take; echo \"%s $*\" >> %s/calls.log; give\nout=\nwhile [ $# -gt 0 ]; do [ \"$1\" = --out ] && out=$2; shift; done\n"
               "for i in 1 2; do take; echo \"%s row$i\" >> %s/turns.log; give; done\ntake\n"
               "k=$(grep -c '^%s ' %s/calls.log)\n"
               "if [ \"$k\" = %d ]; then mkdir -p \"$out\"; cp %s/tpl/%s-$k/results.csv \"$out\"/; exit 3; fi\n"
               "cp -r %s/tpl/%s-$k \"$out\"\n",
            side, t, side, t, side, t, fail_at, t, side, t, side);
    fclose(f);
    chmod(path, 0755);
}

static void write_fake(const char *t, const char *side, int fail_at, char *path, size_t n)
{
    write_fake_knowing(t, side, fail_at, 1, path, n);
}

/* Prepared rounds: base at 1.0 (+-0.5% drift), new at new_scale. */
static void prepare(const char *t, double new_scale, int rounds)
{
    static const double drift[] = {1.0, 1.004, 0.997, 1.002, 0.999};
    char dir[600];
    for (int r = 1; r <= rounds; r++) {
        snprintf(dir, sizeof dir, "%s/tpl/base-%d", t, r);
        write_run(dir, drift[r % 5], 100 + r);
        snprintf(dir, sizeof dir, "%s/tpl/new-%d", t, r);
        write_run(dir, new_scale * drift[(r + 2) % 5], 200 + r);
    }
}

static char *slurp_file(const char *path)
{
    static char buf[1 << 14];
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    buf[n] = 0;
    if (f) fclose(f);
    return buf;
}

Test(ab, both_sides_take_turns_row_by_row_with_the_same_options)
{
    char *t = temp_dir(), a[600], b[600], o[600], path[700], want[4096];
    prepare(t, 1.0, 3);
    write_fake(t, "base", 0, a, sizeof a);
    write_fake(t, "new", 0, b, sizeof b);
    snprintf(o, sizeof o, "%s/ab", t);
    int rc = run_dlbench((char *[]){"ab", "--base-bin", a, "--new-bin", b, "--rounds", "3", "--out", o, "--", "--backend", "cpu",
                                    "--workload", "gemm", NULL}, err, sizeof err, out, sizeof out);
    cr_expect_eq(rc, 0, "%s%s", out, err);
    /* each round: the side with the first turn starts up first, base in odd rounds, new in even */
    snprintf(path, sizeof path, "%s/calls.log", t);
    size_t k = 0;
    for (int r = 1; r <= 3; r++)
        for (int i = 0; i < 2; i++) {
            int s = i ^ (ab_first_side(r));
            k += snprintf(want + k, sizeof want - k, "%s run --suite quick --no-ceilings --backend cpu --workload gemm --out %s/%s-%d --quiet\n",
                          s ? "new" : "base", o, s ? "new" : "base", r);
        }
    cr_expect_str_eq(slurp_file(path), want);
    /* and each row of one is measured right after the same row of the other */
    snprintf(path, sizeof path, "%s/turns.log", t);
    cr_expect_str_eq(slurp_file(path), "base row1\nnew row1\nbase row2\nnew row2\n"
                                       "new row1\nbase row1\nnew row2\nbase row2\n"
                                       "base row1\nnew row1\nbase row2\nnew row2\n");
    cr_expect(strstr(out, "rounds: 3 of 3 complete; in each, the two sides ran side by side in fresh processes, taking turns "
                          "row by row (round: side with the first turn): 1: base, new; 2: new, base; 3: base, new"), "%s", out);
    cr_expect(strstr(out, "run options (both sides, same seed): --suite quick --no-ceilings --backend cpu --workload gemm;"), "%s", out);
    cr_expect(strstr(out, "rule (paired rounds"), "judged pairwise: %s", out);
    cr_expect(strstr(out, "0 slower") && strstr(out, "| 3/3 |"), "%s", out);
    snprintf(path, sizeof path, "%s/ab.md", o);
    cr_expect(strstr(slurp_file(path), "## dlbench ab\n\nab: base binary `") != NULL, "ab.md holds the report");
    cr_expect_eq(ab_first_side(1), 0);
    cr_expect_eq(ab_first_side(2), 1);
    free(t);
}

Test(ab, a_slowed_new_side_is_flagged)
{
    char *t = temp_dir(), a[600], b[600], o[600];
    prepare(t, 1.3, 3);
    write_fake_knowing(t, "base", 0, 0, a, sizeof a);   /* an older baseline without --no-ceilings */
    write_fake(t, "new", 0, b, sizeof b);
    snprintf(o, sizeof o, "%s/ab", t);
    int rc = run_dlbench((char *[]){"ab", "--base-bin", a, "--new-bin", b, "--out", o, NULL}, err, sizeof err, out, sizeof out);
    cr_expect_eq(rc, 1, "%s%s", out, err);
    cr_expect(strstr(out, "2 slower") && strstr(out, "run options (both sides, same seed): --suite quick;"), "%s", out);
    /* the older baseline does not take turns: the two sides run one after the other, never together */
    cr_expect(strstr(out, "one after the other (a side does not take turns"), "%s", out);
    char path[700];
    snprintf(path, sizeof path, "%s/turns.log", t);
    cr_expect_str_eq(slurp_file(path), "base row1\nbase row2\nnew row1\nnew row2\n"
                                       "new row1\nnew row2\nbase row1\nbase row2\n"
                                       "base row1\nbase row2\nnew row1\nnew row2\n");
    free(t);
}

Test(ab, a_round_that_fails_stops_and_keeps_what_was_measured)
{
    char *t = temp_dir(), a[600], b[600], o[600], path[700];
    prepare(t, 1.0, 3);
    write_fake(t, "base", 0, a, sizeof a);
    write_fake(t, "new", 2, b, sizeof b);
    snprintf(o, sizeof o, "%s/ab", t);
    int rc = run_dlbench((char *[]){"ab", "--base-bin", a, "--new-bin", b, "--out", o, NULL}, err, sizeof err, out, sizeof out);
    cr_expect_eq(rc, 1, "the new side failed: %s%s", out, err);
    cr_expect(strstr(out, "**Round 2 failed on the new side** (exit status 3") && strstr(out, "rounds: 1 of 3 complete"), "%s", out);
    cr_expect(strstr(out, "| 1/1 |"), "the complete round is compared: %s", out);
    snprintf(path, sizeof path, "%s/new-2/results.csv", o);
    cr_expect_eq(access(path, F_OK), 0, "the failed round's rows are kept");
    snprintf(path, sizeof path, "%s/base-3", o);
    cr_expect_neq(access(path, F_OK), 0, "no round after the failure");
    /* the baseline failing its first round: nothing to compare, bad input */
    char *t2 = temp_dir();
    prepare(t2, 1.0, 3);
    write_fake(t2, "base", 1, a, sizeof a);
    write_fake(t2, "new", 0, b, sizeof b);
    snprintf(o, sizeof o, "%s/ab", t2);
    rc = run_dlbench((char *[]){"ab", "--base-bin", a, "--new-bin", b, "--out", o, NULL}, err, sizeof err, out, sizeof out);
    cr_expect_eq(rc, 2, "%s%s", out, err);
    cr_expect(strstr(err, "no complete round"), "%s", err);
    free(t);
    free(t2);
}

static int lines(const char *s)
{
    int k = 0;
    for (; *s; s++) k += *s == '\n';
    return k;
}

/* A git repository whose Makefile fails like a compiler would. */
static void broken_repo(const char *t)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "cd %s && git init -q repo && cd repo && printf 'all:\\n\\t@echo \"src/x.c:3:1: error: expected ; before }\" >&2; exit 1\\n' > Makefile"
             " && git add Makefile && git -c user.name=t -c user.email=t@t commit -qm broken",
             t);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
}

Test(ab, a_baseline_that_does_not_build_is_one_line_and_exit_2)
{
    char *t = temp_dir(), repo[600];
    broken_repo(t);
    snprintf(repo, sizeof repo, "%s/repo", t);
    cr_assert_eq(chdir(repo), 0);
    int rc = run_dlbench((char *[]){"ab", "HEAD", NULL}, err, sizeof err, out, sizeof out);
    cr_expect_eq(rc, 2, "%s%s", out, err);
    cr_expect(strstr(err, "does not build: src/x.c:3:1: error: expected ; before }") != NULL, "%s", err);
    cr_expect_eq(lines(err), 2, "a progress line and the error line: %s", err);
    rc = run_dlbench((char *[]){"ab", "no-such-rev", NULL}, err, sizeof err, out, sizeof out);
    cr_expect_eq(rc, 2);
    cr_expect(strstr(err, "'no-such-rev' is not a revision") != NULL, "%s", err);
    cr_assert_eq(chdir("/"), 0);
    rc = run_dlbench((char *[]){"ab", "HEAD", NULL}, err, sizeof err, out, sizeof out);
    cr_expect_eq(rc, 2);
    cr_expect(strstr(err, "not inside a git checkout") != NULL, "%s", err);
    cr_expect_eq(run_dlbench((char *[]){"ab", NULL}, err, sizeof err, out, sizeof out), 2);
    cr_expect_eq(run_dlbench((char *[]){"ab", "HEAD", "--", "--out", "x", NULL}, err, sizeof err, out, sizeof out), 2);
    cr_expect(strstr(err, "--out among the run options") != NULL, "%s", err);
    free(t);
}

/* Two real runs side by side: both take turns through start-up, every row and its sampling
 * windows, and a row slowed on purpose (DLBENCH_TEST_SLOW: each timed call runs twice) on the new
 * side only is flagged in its rows. */
Test(ab, real_runs_take_turns_and_a_row_slowed_on_purpose_is_flagged, .timeout = 120)
{
    char *t = temp_dir(), o[600], wrap[700], path[700];
    const char *bin = getenv("DLBENCH_BIN") ? getenv("DLBENCH_BIN") : DLBENCH_BIN;
    snprintf(wrap, sizeof wrap, "%s/slowed", t);
    FILE *f = fopen(wrap, "w");
    cr_assert(f);
    fprintf(f, "#!/bin/sh\nDLBENCH_TEST_SLOW='gemm/sq256' exec %s \"$@\"\n", bin);
    fclose(f);
    chmod(wrap, 0755);
    snprintf(o, sizeof o, "%s/ab", t);
    int rc = run_dlbench((char *[]){"ab", "--base-bin", (char *)bin, "--new-bin", wrap, "--rounds", "1", "--out", o, "--", "--backend",
                                    "cpu", "--workload", "gemm", "--filter", "gemm/sq@(128|256)", "--dtype", "fp32", "--threads", "1",
                                    "--max-time", "0.3", NULL}, err, sizeof err, out, sizeof out);
    cr_expect(rc == 0 || rc == 1, "%s%s", out, err);
    cr_expect(strstr(out, "taking turns row by row"), "%s", out);
    long tb = 0, tn = 0;
    const char *p = strstr(err, "turns ");
    cr_assert(p && sscanf(p, "turns %ld/%ld", &tb, &tn) == 2, "%s", err);
    cr_expect(tb >= 3 && tn >= 3, "start-up, two rows and their windows: %ld/%ld turns", tb, tn);
    snprintf(path, sizeof path, "%s/new-1/results.csv", o);
    const char *csv = slurp_file(path);
    cr_expect(strstr(csv, "slowed-on-purpose") != NULL, "the slowed row says so");
    snprintf(path, sizeof path, "%s/base-1/results.csv", o);
    cr_expect(strstr(slurp_file(path), "slowed-on-purpose") == NULL);
    free(t);
}
