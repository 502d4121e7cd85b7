/* main.c: the dlbench command line: list, info, run, report, compare, ab, baseline; --help for each, --version.
 * Bad arguments get one line on stderr and exit code 2. */
#include "ab.h"
#include "backend.h"
#include "baseline.h"
#include "ceilings.h"
#include "ci_json.h"
#include "cpu_topology.h"
#include "openblas_core.h"
#include "cli.h"
#include "compare.h"
#include "dataset.h"
#include "group.h"
#include "merge.h"
#include "prices.h"
#include "files.h"
#include "report.h"
#include "results.h"
#include "run.h"
#include "run_record.h"
#include "sysinfo.h"
#include "workload.h"
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *usage_main =
    "usage: dlbench <command> [options]\n"
    "  list      workloads, cases and backends (with why a backend is unavailable)\n"
    "  info      the machine: CPU topology, OpenMP/OpenBLAS, GPUs, build, measured ceilings\n"
    "  run       verify and time the cases; writes results/<UTC time>-<host>/\n"
    "  report    rebuild report.md, plots and JSON of a run folder from its CSV files\n"
    "  compare   compare runs (BASE NEW, or BASE... -- NEW...); exit 1 on a regression or rows gone (for CI)\n"
    "  ab        build a baseline git revision and run it and this build in alternation, then compare\n"
    "  baseline  record the spread between repeated runs in a baseline folder (noise.csv) for compare\n"
    "  merge     one fleet report from run folders of several machines\n"
    "  dlbench <command> -h|--help for its options; -V|--version on any command\n"
    "  options: --opt=value or --opt value; any unambiguous prefix of a long option\n";

static const char *usage_run =
    "usage: dlbench run [options]\n"
    "  --suite quick|full     quick: small cases, 0.1-0.4 s of samples per case, bandwidth arrays\n"
    "                         capped at 256 MiB, about two minutes; full (the default): every case,\n"
    "                         tens of minutes (the run announces its estimated length before it starts)\n"
    "  --backend LIST         cpu,cuda,cudnn,flash (default all; dlbench list)\n"
    "  --workload LIST        workload names (dlbench list)\n"
    "  --filter PATTERN       substring or glob on workload/case, e.g. 'gemm/bert*', '*/@(copy|triad)'\n"
    "  --dtype LIST           fp32,tf32,fp16,bf16 (default: all each workload offers)\n"
    "  --threads LIST         CPU thread counts, e.g. 1,2 (default: one per physical core)\n"
    "  --size N|MxNxK|ROWSxCOLS  one custom size instead of the case lists\n"
    "  --min-time S           sampling time before the noise rule may stop (0.5; quick 0.1)\n"
    "  --max-time S           sampling time after which a row is flagged noisy (5; quick 0.4)\n"
    "  --case-timeout S       wall time after which a case is abandoned as timeout (600)\n"
    "  --out DIR              the run folder (default results/<UTC time>-<host>)\n"
    "  --seed N               input seed (42)\n"
    "  --data DIR|FILE        DIR: MNIST IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte)\n"
    "                         for the MLP/CNN steps; FILE: text for the GPT steps, one token per byte;\n"
    "                         default: a synthetic MNIST-shaped set and a synthetic bigram token stream\n"
    "  --price-cpu USD/H      price of this whole CPU machine per hour; a row pays the share of\n"
    "                         the PUs its threads occupy (default: the price table, per vCPU-hour)\n"
    "  --price-gpu USD/H      price of one GPU per hour (default: the price table, per GPU)\n"
    "  --prices FILE          another price table (pattern,kind,instance,usd_per_hour,vcpus,gpus,\n"
    "                         source,date); default: $DLBENCH_PRICES, else the installed or source\n"
    "                         tree's (dlbench info)\n"
    "  --no-ceilings          do not measure peak bandwidth and FLOP/s (no % of ceiling, no roofline)\n"
    "  --quiet                print errors and warnings only\n"
    "under mpirun or srun (built with MPI): every rank measures on its share of the node and its own GPU,\n"
    "  the collectives and data-parallel steps run on the ranks together; rank 0 writes the one run folder\n"
    "environment: DLBENCH_TURNS=R,W (set by `dlbench ab`): take turns with another run, row by row,\n"
    "  through file descriptors R and W; DLBENCH_ETA_TRACE=FILE: each row's estimated and actual time\n"
    "exit: 0 all verified, 1 a case failed, 2 bad input, 130 interrupted\n";

static const char *usage_list = "usage: dlbench list   (workloads, cases, backends and why one is unavailable)\n";
static const char *usage_info = "usage: dlbench info [--no-ceilings]   (the machine, and its ceilings: peak bandwidth and FLOP/s,\n"
                                "  measured now, seconds to a minute per backend; --no-ceilings skips them)\n";
static const char *usage_report = "usage: dlbench report RUN_DIR   (rebuilds RUN_DIR/report.md, plots and JSON from its CSV files;\n"
                                  "  RUN_DIR/results.csv works too; says how the run ended and the command that reproduces it)\n";

/* timing_interrupted keeps the signal's number: the run records which one stopped it. */
static void on_signal(int sig)
{
    if (timing_interrupted) _exit(130); /* second Ctrl-C: leave now */
    timing_interrupted = sig;
}

#define HELP_VERSION {"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, 'V'}

enum run_opt { O_SUITE = 256, O_BACKEND, O_WORKLOAD, O_FILTER, O_DTYPE, O_THREADS, O_SIZE, O_MIN_TIME, O_MAX_TIME,
               O_CASE_TIMEOUT, O_OUT, O_SEED, O_DATA, O_PRICE_CPU, O_PRICE_GPU, O_PRICES, O_QUIET, O_NO_CEILINGS };
static const struct option run_options[] = {
    {"suite", required_argument, NULL, O_SUITE},       {"backend", required_argument, NULL, O_BACKEND},
    {"workload", required_argument, NULL, O_WORKLOAD}, {"filter", required_argument, NULL, O_FILTER},
    {"dtype", required_argument, NULL, O_DTYPE},       {"threads", required_argument, NULL, O_THREADS},
    {"size", required_argument, NULL, O_SIZE},         {"min-time", required_argument, NULL, O_MIN_TIME},
    {"max-time", required_argument, NULL, O_MAX_TIME}, {"case-timeout", required_argument, NULL, O_CASE_TIMEOUT},
    {"out", required_argument, NULL, O_OUT},           {"seed", required_argument, NULL, O_SEED},
    {"data", required_argument, NULL, O_DATA},         {"price-cpu", required_argument, NULL, O_PRICE_CPU},
    {"price-gpu", required_argument, NULL, O_PRICE_GPU}, {"prices", required_argument, NULL, O_PRICES},
    {"quiet", no_argument, NULL, O_QUIET},             {"no-ceilings", no_argument, NULL, O_NO_CEILINGS},
    HELP_VERSION, {NULL, 0, NULL, 0}};

static int nonempty(const char *opt, const char *v) { return *v ? 0 : cli_err(opt, "needs a value"); }

/* Timing options given on the command line (NAN: not given); the suite decides the rest. */
struct timing_given { double min_time, max_time, case_timeout; };

/* One `run` option into o; 0, or -1 after its one-line error. */
static int run_option(struct run_opts *o, struct timing_given *tg, int code, const char *v)
{
    long l;
    const char *names[32];
    switch (code) {
    case O_SUITE:
        if (strcmp(v, "quick") && strcmp(v, "full")) return cli_err("--suite", "'%s' is not quick or full", v);
        o->quick = !strcmp(v, "quick");
        o->suite_given = 1;
        return 0;
    case O_BACKEND:
        for (int b = 0; b < backend_count && b < 32; b++) names[b] = backends[b]->name;
        o->backends = v;
        return cli_names("--backend", v, names, backend_count < 32 ? backend_count : 32);
    case O_WORKLOAD:
        for (int w = 0; w < workload_count && w < 32; w++) names[w] = workloads[w]->name;
        o->workloads = v;
        return cli_names("--workload", v, names, workload_count < 32 ? workload_count : 32);
    case O_FILTER: o->filter = v; return nonempty("--filter", v);
    case O_DTYPE: return cli_dtypes("--dtype", v, &o->dtypes);
    case O_THREADS: return cli_list_long("--threads", v, 4096, o->threads, MAX_THREAD_COUNTS, &o->nthreads);
    case O_SIZE: return cli_size("--size", v, o->dims, &o->ndims);
    case O_MIN_TIME: return cli_double("--min-time", v, 0, 3600, &tg->min_time);
    case O_MAX_TIME: return cli_double("--max-time", v, 0.001, 36000, &tg->max_time);
    case O_CASE_TIMEOUT: return cli_double("--case-timeout", v, 0.001, 604800, &tg->case_timeout);
    case O_OUT: o->out_dir = v; return nonempty("--out", v);
    case O_DATA: dataset_dir = o->data = v; return nonempty("--data", v);
    case O_PRICE_CPU: return cli_double("--price-cpu", v, 1e-9, 1e6, &o->price_cpu);
    case O_PRICE_GPU: return cli_double("--price-gpu", v, 1e-9, 1e6, &o->price_gpu);
    case O_PRICES: o->prices = v; return nonempty("--prices", v);
    case O_SEED:
        if (cli_long("--seed", v, 0, 0x7fffffffffffffffL, &l)) return -1;
        o->seed = (uint64_t)l;
        return 0;
    case O_QUIET: o->quiet = 1; return 0;
    case O_NO_CEILINGS: o->no_ceilings = 1; return 0;
    }
    return cli_err("run", "unhandled option");
}

/* The whole command line as typed (main's argv), for the run's record. */
static int full_argc;
static char **full_argv;

static int cmd_run(int argc, char **argv)
{
    struct run_opts o, suite;
    struct timing_given tg = {NAN, NAN, NAN};
    int c;
    run_opts_default(&o, 0);
    while ((c = cli_next_option(argc, argv, "run", usage_run, run_options)) >= 0)
        if (run_option(&o, &tg, c, optarg)) return 2;
    if (c != CLI_END) return c == CLI_EXIT0 ? 0 : 2;
    if (optind < argc) { cli_err("run", "unexpected argument '%s'", argv[optind]); return 2; }
    run_opts_default(&suite, o.quick); /* the suite sets the timing defaults the options override */
    o.timing = suite.timing;
    if (!isnan(tg.min_time)) o.timing.min_time = tg.min_time;
    if (!isnan(tg.max_time)) o.timing.max_time = tg.max_time;
    if (!isnan(tg.case_timeout)) o.timing.case_timeout = tg.case_timeout;
    /* --min-time above the suite's default limit (quick: 0.4 s) raises the limit with it; only two
     * explicit values can contradict each other */
    if (isnan(tg.max_time) && o.timing.max_time < o.timing.min_time) o.timing.max_time = o.timing.min_time;
    if (o.timing.max_time < o.timing.min_time) { cli_err("--max-time", "is shorter than --min-time"); return 2; }
    o.argc = full_argc;
    o.argv = full_argv;
    return run_main(&o);
}

/* The options of a command without operands (list, info): -1 to go on, with *given set when any
 * option other than help/version was given; else the exit code. */
static int no_operands(int argc, char **argv, const char *cmd, const char *usage, const struct option *lo, int *given)
{
    int c;
    *given = 0;
    while ((c = cli_next_option(argc, argv, cmd, usage, lo)) >= 0) *given = 1;
    if (c != CLI_END) return c == CLI_EXIT0 ? 0 : 2;
    if (optind < argc) { cli_err(cmd, "unexpected argument '%s'", argv[optind]); return 2; }
    return -1;
}

static int cmd_list(int argc, char **argv)
{
    static const struct option lo[] = {HELP_VERSION, {NULL, 0, NULL, 0}};
    char why[256], shape[128];
    int rc, none;
    if ((rc = no_operands(argc, argv, "list", usage_list, lo, &none)) >= 0) return rc;
    puts("backends:");
    for (int b = 0; b < backend_count; b++)
        printf("  %-6s %s\n", backends[b]->name, backends[b]->probe(why, sizeof why) ? "available" : why);
    puts("workloads (case [quick] shape: where from):");
    for (int w = 0; w < workload_count; w++) {
        const struct workload *wl = workloads[w];
        printf("  %s: %s\n    dtypes:", wl->name, wl->what);
        for (int d = 0; d < DT_COUNT; d++) if (wl->dtypes & (1u << d)) printf(" %s", dtype_name((enum dtype)d));
        if (wl->quick_dtypes) {
            printf(" (quick suite:");
            for (int d = 0; d < DT_COUNT; d++) if (wl->quick_dtypes & (1u << d)) printf(" %s", dtype_name((enum dtype)d));
            putchar(')');
        }
        putchar('\n');
        for (const struct wcase *c = wl->cases; c->name; c++) {
            wl->shape(c->params, shape, sizeof shape);
            printf("    %-30s %s %-26s %s\n", c->name, c->quick ? "q" : " ", shape, c->about);
        }
    }
    return 0;
}

/* info also measures the ceilings (a few seconds per backend) unless told not to. */
static int cmd_info(int argc, char **argv)
{
    static const struct option lo[] = {{"no-ceilings", no_argument, NULL, 'n'}, HELP_VERSION, {NULL, 0, NULL, 0}};
    int rc, no_ceilings;
    if ((rc = no_operands(argc, argv, "info", usage_info, lo, &no_ceilings)) >= 0) return rc;
    struct sysinfo si;
    char prices[4096];
    sysinfo_collect(&si);
    sysinfo_put(&si, "dlbench", "prices", prices_find(prices, sizeof prices) ? prices : "none found (costs are n/a)");
    if (!no_ceilings)
        fprintf(stderr, "dlbench: measuring the ceilings (peak bandwidth and FLOP/s; seconds to a minute per backend, "
                        "--no-ceilings skips them)...\n");
    for (int b = 0; !no_ceilings && b < backend_count; b++) {
        struct ceiling c;
        char why[256];
        if (backends[b]->base || !backends[b]->probe(why, sizeof why)) continue;
        int threads = cpu_topology()->cores > 0 ? cpu_topology()->cores : 1;
        ceilings_measure(backends[b], threads, 1, &c);
        ceilings_put(backends[b], &c, &si);
    }
    sysinfo_print(&si, stdout);
    sysinfo_free(&si);
    return 0;
}

static int cmd_report(int argc, char **argv)
{
    static const struct option lo[] = {HELP_VERSION, {NULL, 0, NULL, 0}};
    int c;
    while ((c = cli_next_option(argc, argv, "report", usage_report, lo)) >= 0) {}
    if (c != CLI_END) return c == CLI_EXIT0 ? 0 : 2;
    if (argc - optind != 1) { cli_err("report", "needs exactly one run folder (dlbench report --help)"); return 2; }
    char dir[4096], path[4200], why[512], state[256];
    struct sysinfo si;
    struct row *rows;
    if (run_folder_of(argv[optind], dir, sizeof dir, why, sizeof why) != 0) { fprintf(stderr, "dlbench: report: %s\n", why); return 2; }
    snprintf(path, sizeof path, "%s/system.json", dir);
    if (sysinfo_read_json(&si, path, why, sizeof why) != 0) { fprintf(stderr, "dlbench: report: %s\n", why); return 2; }
    snprintf(path, sizeof path, "%s/results.csv", dir);
    int n = results_load(path, &rows, why, sizeof why);
    if (n < 0) { fprintf(stderr, "dlbench: report: %s\n", why); sysinfo_free(&si); return 2; }
    snprintf(path, sizeof path, "%s/report.md", dir);
    int rc = report_write_file(rows, n, &si, dir) | ci_json_write(rows, n, &si, dir);
    run_record_state(&si, state, sizeof state);
    if (rc != 0) fprintf(stderr, "dlbench: report: cannot write %s\n", path);
    else printf("%s (%d rows)\nrun: %s\nreproduce: %s\n", path, n, state,
                sysinfo_get(&si, "run", "reproduce") ? sysinfo_get(&si, "run", "reproduce") : "not recorded (an older run folder)");
    free(rows);
    sysinfo_free(&si);
    return rc ? 2 : 0;
}

/* `run` under mpirun or srun: MPI starts after the re-exec; complaints come once, from rank 0; every
 * rank returns rank 0's exit code. Without a launcher (or MPI) this is cmd_run. */
static int cmd_run_ranks(int argc, char **argv)
{
    if (dist_init() != 0) return 2;
    cli_quiet = dist_rank() != 0;
    return dist_finish(cmd_run(argc, argv));
}

/* dlbench [-h|-V] <command> [options]: options before the command are the program's own. */
int main(int argc, char **argv)
{
    static const struct option lo[] = {HELP_VERSION, {NULL, 0, NULL, 0}};
    static const struct { const char *name; int (*fn)(int, char **); int pin; } cmds[] = {
        {"run", cmd_run_ranks, 2}, {"info", cmd_info, 1}, {"list", cmd_list, 0}, {"report", cmd_report, 0},
        {"compare", compare_main, 0}, {"ab", ab_main, 0}, {"baseline", baseline_main, 0}, {"merge", merge_main, 0}};
    if (argc < 2) { fputs(usage_main, stderr); return 2; }
    full_argc = argc;
    full_argv = argv;
    if (!strcmp(argv[1], "help")) { fputs(usage_main, stdout); return 0; }
    if (argv[1][0] == '-') { /* stop at the first operand: the command's options are its own */
        int c = cli_next_option(2, argv, NULL, usage_main, lo);
        if (c == CLI_EXIT0) return 0;
        if (c == CLI_END) cli_err(NULL, "unknown option '%s' (dlbench --help)", argv[1]);
        return 2;
    }
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        if (strcmp(argv[1], cmds[i].name)) continue;
        if (cmds[i].pin == 2) dist_bind_early();   /* a rank's share of its node, before libgomp starts */
        /* libgomp and OpenBLAS read OMP_PLACES/OMP_PROC_BIND and OPENBLAS_CORETYPE as they load: thread
         * pinning and OpenBLAS core selection take one re-exec (cpu/openblas_core.c) */
        if (cmds[i].pin) cpu_startup_reexec(argv);
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        return cmds[i].fn(argc - 1, argv + 1);
    }
    fprintf(stderr, "dlbench: unknown command '%s' (dlbench --help)\n", argv[1]);
    return 2;
}
