/* ab.c: `dlbench ab BASE_REV [NEW_REV]`: interleaved A/B. Builds the baseline revision in its own git
 * worktree under build/ab/; each round starts both binaries as fresh `dlbench run` processes with
 * the same options and seed, side by side, and hands a turn between them (turns.h) so that only one
 * works at a time and each row of one is measured right after the same row of the other; then
 * judges the rounds pairwise (compare's paired rule). The state of a shared machine, which drifts
 * within seconds, then hits both sides of a round's row alike. */
#include "ab.h"
#include "backend.h"
#include "cli.h"
#include "compare.h"
#include "results.h"
#include "sysinfo.h"
#include "timing.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define AB_DEFAULT_ROUNDS 3
#define MAX_ARGS 256

static const char *usage_ab =
    "usage: dlbench ab BASE_REV [NEW_REV] [options] [-- RUN_OPTIONS]\n"
    "       dlbench ab --base-bin PATH [--new-bin PATH] [options] [-- RUN_OPTIONS]\n"
    "  Builds git revision BASE_REV (and NEW_REV; default: this binary, the working tree's build)\n"
    "  in worktrees under build/ab/. Each round starts both as fresh `dlbench run RUN_OPTIONS`\n"
    "  processes (--suite quick unless they name one; the same options and seed on both sides) that\n"
    "  take turns row by row, base first in odd rounds and new first in even ones, so each row of one\n"
    "  is measured right after the same row of the other; the rounds are judged pairwise (the paired\n"
    "  rule of `dlbench compare`). Ctrl-C stops the round running (its rows are kept) and compares the\n"
    "  complete rounds.\n"
    "  When both binaries know it, the rounds run with --no-ceilings (compare judges times).\n"
    "  --rounds K          rounds (runs per side; default 3)\n"
    "  --out DIR           folder for the rounds' run folders and ab.md (default results/ab-<UTC time>)\n"
    "  --base-bin PATH     an already built baseline binary instead of BASE_REV\n"
    "  --new-bin PATH      an already built new binary instead of NEW_REV or this one\n"
    "  --jobs N            parallel jobs of the builds (default: the CPUs)\n"
    "  --threshold PCT, --alpha A, --run-noise PCT, --allow-missing, --allow-different-hardware,\n"
    "  --csv               as for compare\n"
    "exit: 0 no regression; 1 regression(s), rows gone, or the new side failed a round; 2 bad input,\n"
    "      a revision that does not build, or the baseline failed a round; 130 interrupted\n";

enum { O_ROUNDS = 256, O_OUT, O_BASE_BIN, O_NEW_BIN, O_JOBS };

struct ab_opts {
    const char *rev[2];          /* base, new revision (new NULL: this binary) */
    const char *bin[2];          /* prebuilt binaries instead */
    const char *out;
    long rounds, jobs;
    char **run_args;             /* RUN_OPTIONS */
    int no_ceilings;             /* both binaries know --no-ceilings: compare judges times, not % of ceiling */
    int turns;                   /* both binaries take turns (DLBENCH_TURNS): the rounds run side by side */
    int nrun_args;
    struct compare_opts cmp;
};

/* The child running now. Children get their own process group, so a Ctrl-C reaches ab alone and ab
 * passes it on once: the child then writes its report and stops; a second Ctrl-C kills it. */
static volatile pid_t current_child[2];

static void on_interrupt(int sig)
{
    (void)sig;
    if (timing_interrupted) {
        for (int i = 0; i < 2; i++) if (current_child[i] > 0) kill(current_child[i], SIGKILL);
        _exit(130);
    }
    timing_interrupted = 1;
    for (int i = 0; i < 2; i++) if (current_child[i] > 0) kill(current_child[i], SIGINT);
}

/* In a forked child: its own process group (a Ctrl-C reaches ab alone), stdout and stderr appended
 * to log (inherited when NULL), then argv. Never returns. */
static __attribute__((noreturn)) void exec_child(char *const argv[], const char *log)
{
    setpgid(0, 0);
    if (log) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd < 0) _exit(127);
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
    }
    execvp(argv[0], argv);
    _exit(127);
}

/* Runs argv with its output appended to log (or inherited when NULL). Returns the exit status,
 * 128+signal when killed, or -1 when it could not start. */
static int spawn(char *const argv[], const char *log)
{
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) exec_child(argv, log);
    int st;
    current_child[0] = pid;
    if (timing_interrupted) kill(pid, SIGINT);   /* interrupted between fork and here */
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) { current_child[0] = 0; return -1; }
    current_child[0] = 0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The first line argv prints on stdout (stderr dropped); 0, or -1 when it fails or prints nothing. */
static int capture(char *const argv[], char *buf, size_t n)
{
    int fd[2];
    if (pipe(fd) != 0) return -1;
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(fd[1], 1);
        if (devnull >= 0) dup2(devnull, 2);
        close(fd[0]);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(fd[1]);
    size_t got = 0;
    ssize_t k;
    while (got + 1 < n && ((k = read(fd[0], buf + got, n - 1 - got)) > 0 || (k < 0 && errno == EINTR))) if (k > 0) got += (size_t)k;
    close(fd[0]);
    buf[got] = 0;
    buf[strcspn(buf, "\n")] = 0;
    int st;
    while (waitpid(pid, &st, 0) < 0) if (errno != EINTR) return -1;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 && buf[0] ? 0 : -1;
}

/* Whether `bin run --help` lists option `opt` (an older baseline may not know a newer option). */
static int run_knows(const char *bin, const char *opt)
{
    int fd[2];
    if (pipe(fd) != 0) return 0;
    pid_t pid = fork();
    if (pid < 0) { close(fd[0]); close(fd[1]); return 0; }
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(fd[1], 1);
        if (devnull >= 0) dup2(devnull, 2);
        close(fd[0]);
        execl(bin, bin, "run", "--help", (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    char buf[16384];
    size_t got = 0;
    ssize_t k;
    while (got + 1 < sizeof buf && ((k = read(fd[0], buf + got, sizeof buf - 1 - got)) > 0 || (k < 0 && errno == EINTR)))
        if (k > 0) got += (size_t)k;
    buf[got] = 0;
    close(fd[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0) if (errno != EINTR) break;
    return strstr(buf, opt) != NULL;
}

/* The last line of a build log that names an error (else its last non-empty line), for one line
 * on stderr. Make's own "*** [...] Error N" lines only repeat that a command failed. */
static void last_error(const char *log, char *out, size_t n)
{
    FILE *f = fopen(log, "r");
    char line[1024], last[1024] = "";
    out[0] = 0;
    if (!f) return;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        if (!line[0]) continue;
        snprintf(last, sizeof last, "%s", line);
        if ((strstr(line, "error") || strstr(line, "Error") || strstr(line, "fatal")) && !strstr(line, "***"))
            snprintf(out, n, "%s", line);
    }
    fclose(f);
    if (!out[0]) snprintf(out, n, "%s", last);
}

/* Whether a GPU backend can run here: if none can, the GPU code is built for one architecture only
 * (it never runs here), which saves most of the minutes nvcc takes. */
static int gpu_usable(void)
{
    char why[256];
    for (int b = 0; b < backend_count; b++)
        if (backends[b]->kind == BACKEND_GPU && !backends[b]->base && backends[b]->probe(why, sizeof why)) return 1;
    return 0;
}

static int is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* Builds revision rev in <top>/build/ab/<sha12> (a detached git worktree, kept and reused): the
 * binary's path into bin. 0, or 2 after one line on stderr. `what` is "base" or "new". */
static int build_rev(const char *rev, const char *what, long jobs, char *bin, size_t n, char *about, size_t an)
{
    char top[2048], sha[128], spec[512], wt[2400], log[2500], head[128], err[1024], jarg[32];
    char *toplevel[] = {"git", "rev-parse", "--show-toplevel", NULL};
    if (capture(toplevel, top, sizeof top) != 0) {
        fprintf(stderr, "dlbench: ab: not inside a git checkout: %s needs one (or give --%s-bin)\n", rev, what);
        return 2;
    }
    snprintf(spec, sizeof spec, "%s^{commit}", rev);
    char *parse[] = {"git", "rev-parse", "--verify", "--quiet", spec, NULL};
    if (capture(parse, sha, sizeof sha) != 0) {
        fprintf(stderr, "dlbench: ab: '%s' is not a revision of %s\n", rev, top);
        return 2;
    }
    snprintf(wt, sizeof wt, "%s/build/ab/%.12s", top, sha);
    snprintf(log, sizeof log, "%s/build/ab/%.12s.log", top, sha);
    snprintf(log, sizeof log, "%s/build/ab", top);
    mkdir_p(log);
    snprintf(log, sizeof log, "%s/build/ab/%.12s/.git", top, sha);
    char *wt_head[] = {"git", "-C", wt, "rev-parse", "HEAD", NULL};
    int reuse = access(log, F_OK) == 0 && capture(wt_head, head, sizeof head) == 0 && !strcmp(head, sha);
    snprintf(log, sizeof log, "%s/build/ab/%.12s.log", top, sha);
    remove(log);
    if (!reuse) {
        char *prune[] = {"git", "-C", top, "worktree", "prune", NULL};
        char *add[] = {"git", "-C", top, "worktree", "add", "--force", "--detach", wt, sha, NULL};
        spawn(prune, log);
        if (spawn(add, log) != 0) {
            last_error(log, err, sizeof err);
            fprintf(stderr, "dlbench: ab: cannot check out %s into %s: %s\n", rev, wt, err);
            return 2;
        }
    }
    /* The dependencies are those this binary runs with: skip the worktree's install step. */
    char deps[2600];
    snprintf(deps, sizeof deps, "%s/build", wt);
    mkdir_p(deps);
    snprintf(deps, sizeof deps, "%s/build/.deps-ok", wt);
    FILE *d = fopen(deps, "a");
    if (d) fclose(d);
    int gpu = gpu_usable();
    snprintf(jarg, sizeof jarg, "-j%ld", jobs);
    char *make[] = {"make", "-C", wt, jarg, "all", NULL, NULL};
    if (!gpu) make[5] = "CUDA_ARCH=75";
    fprintf(stderr, "dlbench: ab: building %s %s (%.12s)%s in %s\n", what, rev, sha, gpu ? "" : " (no GPU here: CUDA code for sm_75 only)", wt);
    double t0 = wall_seconds();
    if (spawn(make, log) != 0) {
        last_error(log, err, sizeof err);
        fprintf(stderr, "dlbench: ab: %s %s (%.12s) does not build: %s (log: %s)\n", what, rev, sha, err, log);
        return 2;
    }
    const char *cands[] = {"build/dlbench", "build/nocuda/dlbench"};
    bin[0] = 0;
    for (int i = 0; i < 2 && !bin[0]; i++) {
        snprintf(bin, n, "%s/%s", wt, cands[i]);
        if (!is_file(bin)) bin[0] = 0;
    }
    if (!bin[0]) { fprintf(stderr, "dlbench: ab: %s %s built, but no build/dlbench in %s\n", what, rev, wt); return 2; }
    snprintf(about, an, "`%s` (%.12s, built in `%s`%s, %.0f s)", rev, sha, wt, gpu ? "" : " with CUDA_ARCH=75", wall_seconds() - t0);
    return 0;
}

static int ab_options(int argc, char **argv, struct ab_opts *o)
{
    struct option lo[32];
    int k = 0, split = 0, c;
    const struct option own[] = {
        {"rounds", required_argument, NULL, O_ROUNDS}, {"out", required_argument, NULL, O_OUT},
        {"base-bin", required_argument, NULL, O_BASE_BIN}, {"new-bin", required_argument, NULL, O_NEW_BIN},
        {"jobs", required_argument, NULL, O_JOBS}};
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) lo[k++] = own[i];
    for (const struct option *p = compare_long_options; p->name; p++) lo[k++] = *p;
    lo[k++] = (struct option){"help", no_argument, NULL, 'h'};
    lo[k++] = (struct option){"version", no_argument, NULL, 'V'};
    lo[k] = (struct option){NULL, 0, NULL, 0};
    memset(o, 0, sizeof *o);
    compare_opts_default(&o->cmp);
    o->rounds = AB_DEFAULT_ROUNDS;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    o->jobs = cpus > 0 ? cpus : 1;
    for (int i = 1; i < argc && !split; i++) if (!strcmp(argv[i], "--")) split = i;
    int nargs = split ? split : argc;
    while ((c = cli_next_option(nargs, argv, "ab", usage_ab, lo)) >= 0) {
        int bad = 0;
        if (c == O_ROUNDS) bad = cli_long("--rounds", optarg, 1, 1000, &o->rounds);
        else if (c == O_JOBS) bad = cli_long("--jobs", optarg, 1, 1024, &o->jobs);
        else if (c == O_OUT) o->out = optarg;
        else if (c == O_BASE_BIN) o->bin[0] = optarg;
        else if (c == O_NEW_BIN) o->bin[1] = optarg;
        else bad = compare_option(&o->cmp, c, optarg);
        if (bad) return 2;
    }
    if (c != CLI_END) return c == CLI_EXIT0 ? 0 : 2;
    int nrev = nargs - optind;
    if (nrev > 2) { cli_err("ab", "unexpected argument '%s' (run options go after '--')", argv[optind + 2]); return 2; }
    if (nrev >= 1) o->rev[0] = argv[optind];
    if (nrev == 2) o->rev[1] = argv[optind + 1];
    if (o->rev[0] && o->bin[0]) { cli_err("ab", "give BASE_REV or --base-bin, not both"); return 2; }
    if (o->rev[1] && o->bin[1]) { cli_err("ab", "give NEW_REV or --new-bin, not both"); return 2; }
    if (!o->rev[0] && !o->bin[0]) { cli_err("ab", "needs the baseline: BASE_REV or --base-bin (dlbench ab --help)"); return 2; }
    for (int s = 0; s < 2; s++)
        if (o->bin[s] && access(o->bin[s], X_OK) != 0) { cli_err(s ? "--new-bin" : "--base-bin", "%s is not an executable", o->bin[s]); return 2; }
    o->run_args = split ? argv + split + 1 : NULL;
    o->nrun_args = split ? argc - split - 1 : 0;
    if (o->nrun_args > MAX_ARGS - 8) { cli_err("ab", "too many run options"); return 2; }
    for (int i = 0; i < o->nrun_args; i++)
        if (!strncmp(o->run_args[i], "--out", 5)) { cli_err("ab", "--out among the run options: the rounds' folders are ab's (ab --out DIR)"); return 2; }
    return -1;
}

/* The round schedule: round r (1-based) runs both sides side by side, taking turns; the side that
 * goes first alternates, base in odd rounds and new in even ones, so neither side always measures a
 * row first. */
int ab_first_side(int round)
{
    return round % 2 ? 0 : 1;
}

static const char *const side_name[2] = {"base", "new"};

/* Whether the run options choose a suite; if not, ab runs the quick one. */
static int has_suite(const struct ab_opts *o)
{
    for (int i = 0; i < o->nrun_args; i++) if (!strncmp(o->run_args[i], "--suite", 7)) return 1;
    return 0;
}

/* One side of a round: its process and ab's ends of the two turn pipes. */
struct child {
    pid_t pid;
    int to, from;        /* ab writes the turn to `to`, the run gives it back on `from` */
    int alive, status;   /* alive: still taking turns; status: exit status (128+signal), -1 not started */
    long turns;          /* turns it gave back */
};

/* Starts argv with stdout and stderr appended to log and DLBENCH_TURNS naming its ends of two fresh
 * pipes (turns.h). Every descriptor ab keeps is close-on-exec, so the other side's run never holds
 * this one's pipe: when a run exits, ab sees the end of its pipe. 0, or -1. */
static int start_child(char *const argv[], const char *log, struct child *c)
{
    int down[2], up[2];
    memset(c, 0, sizeof *c);
    c->status = -1;
    c->to = c->from = -1;
    if (pipe2(down, O_CLOEXEC) != 0) return -1;
    if (pipe2(up, O_CLOEXEC) != 0) { close(down[0]); close(down[1]); return -1; }
    pid_t pid = fork();
    if (pid < 0) { close(down[0]); close(down[1]); close(up[0]); close(up[1]); return -1; }
    if (pid == 0) {
        char spec[64];
        fcntl(down[0], F_SETFD, 0);
        fcntl(up[1], F_SETFD, 0);
        snprintf(spec, sizeof spec, "%d,%d", down[0], up[1]);
        setenv("DLBENCH_TURNS", spec, 1);
        exec_child(argv, log);
    }
    close(down[0]);
    close(up[1]);
    c->pid = pid;
    c->to = down[1];
    c->from = up[0];
    c->alive = 1;
    return 0;
}

static void child_stop_turns(struct child *c)
{
    if (c->to >= 0) close(c->to);
    if (c->from >= 0) close(c->from);
    c->to = c->from = -1;
    c->alive = 0;
}

/* Hands the turn to each living side in alternation, first side first, until both have exited. A
 * run that does not take turns (a baseline built before them) holds the turn until it exits, so
 * the two then run one after the other. On Ctrl-C the pipes close: both runs, interrupted too, stop
 * waiting and write what they have. */
static void relay(struct child c[2], int first)
{
    int s = first;
    while (c[0].alive || c[1].alive) {
        if (timing_interrupted) { child_stop_turns(&c[0]); child_stop_turns(&c[1]); break; }
        if (!c[s].alive) { s ^= 1; continue; }
        char t = 't';
        ssize_t k;
        while ((k = write(c[s].to, &t, 1)) < 0 && errno == EINTR && !timing_interrupted) {}
        if (k == 1) {
            while ((k = read(c[s].from, &t, 1)) < 0 && errno == EINTR && !timing_interrupted) {}
            if (k == 1) c[s].turns++;
        }
        if (k != 1 && !timing_interrupted) child_stop_turns(&c[s]);   /* exited, or never took turns */
        s ^= 1;
    }
}

static void reap(struct child *c)
{
    int st;
    if (c->pid <= 0) return;
    while (waitpid(c->pid, &st, 0) < 0)
        if (errno != EINTR) { c->status = -1; return; }
    c->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Runs the rounds; returns the complete rounds, and *fail_side, *fail_status for a round that failed
 * (-1 when none; 2 interrupted). Each run's output goes to <out>/<side>-<round>.log. */
static int run_rounds(const struct ab_opts *o, char bins[2][4096], const char *out, int *fail_side, int *fail_status,
                      char *order, size_t on)
{
    int done = 0, k = 0;
    *fail_side = -1;
    order[0] = 0;
    signal(SIGPIPE, SIG_IGN);   /* a run that exits early: its pipe's end is an error, not ab's death */
    for (int round = 1; round <= o->rounds; round++) {
        struct child c[2] = {{.status = -1, .to = -1, .from = -1}, {.status = -1, .to = -1, .from = -1}};
        char dir[2][4400], log[4410];
        char *argv[2][MAX_ARGS];
        int first = ab_first_side(round);
        double t0 = wall_seconds();
        for (int s = 0; s < 2; s++) {
            int n = 0;
            snprintf(dir[s], sizeof dir[s], "%s/%s-%d", out, side_name[s], round);
            argv[s][n++] = bins[s];
            argv[s][n++] = "run";
            if (!has_suite(o)) { argv[s][n++] = "--suite"; argv[s][n++] = "quick"; }
            if (o->no_ceilings) argv[s][n++] = "--no-ceilings";
            for (int j = 0; j < o->nrun_args; j++) argv[s][n++] = o->run_args[j];
            argv[s][n++] = "--out";
            argv[s][n++] = dir[s];
            argv[s][n++] = "--quiet";
            argv[s][n] = NULL;
        }
        /* side by side when both take turns; else one after the other, the first side first */
        for (int pass = 0; pass < (o->turns ? 1 : 2); pass++) {
            for (int s = 0; s < 2; s++) {
                if (!o->turns && s != (first ^ pass)) continue;
                snprintf(log, sizeof log, "%.4400s.log", dir[s]);
                if (start_child(argv[s], log, &c[s]) != 0) c[s].status = 127;
                else current_child[s] = c[s].pid;
            }
            if (timing_interrupted)    /* interrupted while starting them */
                for (int s = 0; s < 2; s++) if (c[s].pid > 0) kill(c[s].pid, SIGINT);
            relay(c, first);
            for (int s = 0; s < 2; s++) {
                if (!o->turns && s != (first ^ pass)) continue;
                child_stop_turns(&c[s]);
                reap(&c[s]);
                current_child[s] = 0;
            }
            if (timing_interrupted) break;
        }
        if (timing_interrupted) { *fail_side = 2; *fail_status = 130; break; }
        k += snprintf(order + k, on - k, "%s%d: %s, %s", k ? "; " : "", round, side_name[first], side_name[!first]);
        for (int s = 0; s < 2; s++) {
            int st = c[s].status;
            if (st == 0 || st == 1) continue;  /* 1: a case failed; its row says so and compare counts it */
            fprintf(stderr, "dlbench: ab: round %d/%ld %s FAILED (exit status %d; %s/%s-%d.log)\n", round, o->rounds,
                    side_name[s], st, out, side_name[s], round);
            if (*fail_side < 0) { *fail_side = s; *fail_status = st; }
        }
        fprintf(stderr, "dlbench: ab: round %d/%ld (%s first, turns %ld/%ld) %5.0f s\n", round, o->rounds, side_name[first],
                c[0].turns, c[1].turns, wall_seconds() - t0);
        if (*fail_side >= 0) break;
        done = round;
    }
    return done;
}

/* The two binaries: given, built from a revision, or (new) this one. 0, or the exit code. */
static int ab_binaries(const struct ab_opts *o, char bins[2][4096], char about[2][4600])
{
    for (int s = 0; s < 2; s++) {
        if (o->bin[s]) {
            snprintf(bins[s], sizeof bins[s], "%s", o->bin[s]);
            snprintf(about[s], sizeof about[s], "binary `%s`", o->bin[s]);
        } else if (o->rev[s]) {
            int rc = build_rev(o->rev[s], side_name[s], o->jobs, bins[s], sizeof bins[s], about[s], sizeof about[s]);
            if (rc) return rc;
        } else {
            ssize_t len = readlink("/proc/self/exe", bins[s], sizeof bins[s] - 1);
            if (len <= 0) { fprintf(stderr, "dlbench: ab: cannot find this binary (/proc/self/exe)\n"); return 2; }
            bins[s][len] = 0;
            snprintf(about[s], sizeof about[s], "this binary, dlbench %s (%s), `%.4000s`", DLBENCH_VERSION, DLBENCH_GIT_REV, bins[s]);
            /* Run as /proc/self/exe: a forked child execs ab's own file even when a rebuild has
             * replaced it at that path meanwhile (the base build takes a while; make may run). */
            snprintf(bins[s], sizeof bins[s], "/proc/self/exe");
        }
    }
    return 0;
}

/* What the report says above the table: revisions, rounds and their order, options, a failure. */
static void ab_preamble(const struct ab_opts *o, char about[2][4600], const char *out, int done, const char *order,
                        int paired, double wall, int fail_side, int fail_status, char *pre, size_t n)
{
    size_t k = 0;
    k += snprintf(pre + k, n - k, "ab: base %s; new %s\n\nrounds: %d of %ld complete; in each, the two sides ran side by "
                  "side in fresh processes, %s (round: side with the first turn): %s\n\nrun options (both sides, same seed): ",
                  about[0], about[1], done, o->rounds,
                  paired ? "taking turns row by row" : "one after the other (a side does not take turns: built before them)",
                  order);
    if (!has_suite(o) && k < n) k += snprintf(pre + k, n - k, "--suite quick ");
    if (o->no_ceilings && k < n) k += snprintf(pre + k, n - k, "--no-ceilings ");
    for (int i = 0; i < o->nrun_args && k < n; i++) k += snprintf(pre + k, n - k, "%s%s", i ? " " : "", o->run_args[i]);
    while (k > 0 && k < n && pre[k - 1] == ' ') pre[--k] = 0;
    if (k < n) k += snprintf(pre + k, n - k, "; wall time %.0f s\n", wall);
    if (fail_side == 2 && k < n) snprintf(pre + k, n - k, "\n**Interrupted**: rounds after %d were not run.\n", done);
    else if (fail_side >= 0 && k < n)
        snprintf(pre + k, n - k, "\n**Round %d failed on the %s side** (exit status %d; its rows so far are kept in "
                 "`%s/%s-%d`, output in its .log): the A/B stopped; the table covers the complete rounds.\n",
                 done + 1, side_name[fail_side], fail_status, out, side_name[fail_side], done + 1);
}

/* compare BASE-1.. -- NEW-1.. over the complete rounds, into <out>/ab.md (or .csv) and stdout. */
static int ab_compare(struct ab_opts *o, const char *out, int done, const char *pre)
{
    char path[4200];
    const char **paths[2];
    char (*dirs)[4400] = malloc(sizeof *dirs * 2 * done);
    for (int s = 0; s < 2; s++) {
        paths[s] = malloc(sizeof(char *) * done);
        for (int r = 0; r < done; r++) {
            snprintf(dirs[s * done + r], sizeof dirs[0], "%s/%s-%d", out, side_name[s], r + 1);
            paths[s][r] = dirs[s * done + r];
        }
    }
    o->cmp.base = paths[0];
    o->cmp.neu = paths[1];
    o->cmp.nbase = o->cmp.nnew = done;
    o->cmp.preamble = pre;
    o->cmp.title = "dlbench ab";
    snprintf(path, sizeof path, "%s/ab.%s", out, o->cmp.csv ? "csv" : "md");
    FILE *f = fopen(path, "w+");
    int rc = compare_folders(&o->cmp, f ? f : stdout);
    if (f) {
        char buf[8192];
        size_t got;
        rewind(f);
        while ((got = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, got, stdout);
        fclose(f);
        fprintf(stderr, "dlbench: ab: report in %s\n", path);
    }
    free(dirs);
    free(paths[0]);
    free(paths[1]);
    return rc;
}

int ab_main(int argc, char **argv)
{
    struct ab_opts o;
    char bins[2][4096], about[2][4600], out[4096], order[8192], pre[24000];
    int rc = ab_options(argc, argv, &o);
    if (rc >= 0) return rc;
    if ((rc = ab_binaries(&o, bins, about)) != 0) return rc;
    /* The ceilings take a good part of a short run and compare does not use them. */
    o.no_ceilings = run_knows(bins[0], "--no-ceilings") && run_knows(bins[1], "--no-ceilings");
    for (int i = 0; i < o.nrun_args; i++) o.no_ceilings &= strcmp(o.run_args[i], "--no-ceilings") != 0;
    /* side by side only when both take turns: a run that does not would work during the other's */
    o.turns = run_knows(bins[0], "DLBENCH_TURNS") && run_knows(bins[1], "DLBENCH_TURNS");
    if (o.out) snprintf(out, sizeof out, "%s", o.out);
    else {
        char stamp[32];
        time_t now = time(NULL);
        strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", gmtime(&now));
        snprintf(out, sizeof out, "results/ab-%s", stamp);
    }
    if (mkdir_p(out) != 0) { fprintf(stderr, "dlbench: ab: cannot create %s: %s\n", out, strerror(errno)); return 2; }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_interrupt;   /* no SA_RESTART: the wait for a round returns to pass it on */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    fprintf(stderr, "dlbench: ab: %ld rounds, base and new %s, into %s/\n", o.rounds,
            o.turns ? "side by side taking turns" : "one after the other", out);
    int fail_side, fail_status = 0;
    double t0 = wall_seconds();
    int done = run_rounds(&o, bins, out, &fail_side, &fail_status, order, sizeof order);
    ab_preamble(&o, about, out, done, order, o.turns, wall_seconds() - t0, fail_side, fail_status, pre, sizeof pre);
    o.cmp.paired = 1;   /* round i of both sides shares its moment even when run one after the other */
    if (fail_side == 0 || fail_side == 1) fprintf(stderr, "dlbench: ab: a round failed; see the report\n");
    if (done == 0) {
        fprintf(stderr, "dlbench: ab: no complete round to compare (output: %s/)\n", out);
        return fail_side == 2 ? 130 : fail_side == 0 ? 2 : 1;
    }
    rc = ab_compare(&o, out, done, pre);
    if (fail_side == 2) return 130;
    if (fail_side == 1) return rc == 2 ? 2 : 1;
    if (fail_side == 0) return 2;
    return rc;
}
