/* main.c: the dlbench command line: list, info, run, report; --help for each, --version.
 * Bad arguments get one line on stderr and exit code 2. */
#include "backend.h"
#include "ceilings.h"
#include "ci_json.h"
#include "cpu_topology.h"
#include "cli.h"
#include "compare.h"
#include "dataset.h"
#include "dist.h"
#include "merge.h"
#include "report.h"
#include "results.h"
#include "run.h"
#include "sysinfo.h"
#include "workload.h"
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
    "  compare   compare two runs; exit 1 on a performance regression (for CI)\n"
    "  merge     one fleet report from run folders of several machines\n"
    "  dlbench <command> --help for its options; dlbench --version\n";

static const char *usage_run =
    "usage: dlbench run [options]\n"
    "  --suite quick|full     quick: small cases, 0.1 s minimum per case (default full)\n"
    "  --backend LIST         cpu,cuda (default all)\n"
    "  --workload LIST        workload names (dlbench list)\n"
    "  --filter PATTERN       substring or glob on workload/case, e.g. 'gemm/bert*'\n"
    "  --dtype LIST           fp32,tf32,fp16,bf16 (default: all each workload offers)\n"
    "  --threads LIST         CPU thread counts, e.g. 1,2 (default: one per physical core)\n"
    "  --size N|MxNxK         one custom case instead of the case lists\n"
    "  --min-time S           sampling time before the noise rule may stop (0.5; quick 0.1)\n"
    "  --max-time S           sampling time after which a row is flagged noisy (5; quick 1)\n"
    "  --case-timeout S       wall time after which a case is abandoned as timeout (600)\n"
    "  --out DIR              the run folder (default results/<UTC time>-<host>)\n"
    "  --seed N               input seed (42)\n"
    "  --data DIR             MNIST IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte) for\n"
    "                         the training step; default: a synthetic MNIST-shaped set\n"
    "  --price-cpu USD/H      price of this CPU machine per hour (default: bench/prices.csv)\n"
    "  --price-gpu USD/H      price of this GPU per hour (default: bench/prices.csv)\n"
    "  --prices FILE          another price table (pattern,usd_per_hour,covers,source,date)\n"
    "  --quiet                no progress lines\n"
    "  --no-ceilings          do not measure the ceilings (rows get no % of ceiling)\n"
    "under mpirun or srun (built with MPI): every rank measures on its share of the node and its own GPU,\n"
    "  the collectives and data-parallel steps run on the ranks together; rank 0 writes the one run folder\n"
    "exit: 0 all verified, 1 a case failed, 2 bad input, 130 interrupted\n";

static void on_signal(int sig)
{
    (void)sig;
    if (timing_interrupted) _exit(130); /* second Ctrl-C: leave now */
    timing_interrupted = 1;
}

static int need_value(const char *opt, int i, int argc)
{
    if (i + 1 >= argc) { cli_err(opt, "needs a value"); return -1; }
    return 0;
}

static int cmd_run(int argc, char **argv)
{
    struct run_opts o;
    int quick = 0;
    for (int i = 1; i < argc; i++) /* the suite sets defaults the other options override */
        if (strcmp(argv[i], "--suite") == 0 && i + 1 < argc) quick = strcmp(argv[i + 1], "quick") == 0;
    run_opts_default(&o, quick);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) { fputs(usage_run, stdout); return 0; }
        if (strcmp(a, "--quiet") == 0) { o.quiet = 1; continue; }
        if (strcmp(a, "--no-ceilings") == 0) { o.no_ceilings = 1; continue; }
        if (strncmp(a, "--", 2) != 0) { cli_err("run", "unexpected argument '%s'", a); return 2; }
        if (need_value(a, i, argc)) return 2;
        const char *v = argv[++i];
        long l;
        int bad = 0;
        if (strcmp(a, "--suite") == 0) {
            if (strcmp(v, "quick") && strcmp(v, "full")) bad = cli_err(a, "'%s' is not quick or full", v);
        } else if (strcmp(a, "--backend") == 0) {
            const char *names[8];
            for (int b = 0; b < backend_count; b++) names[b] = backends[b]->name;
            bad = cli_names(a, v, names, backend_count);
            o.backends = v;
        } else if (strcmp(a, "--workload") == 0) {
            const char *names[32];
            for (int w = 0; w < workload_count; w++) names[w] = workloads[w]->name;
            bad = cli_names(a, v, names, workload_count);
            o.workloads = v;
        } else if (strcmp(a, "--filter") == 0) {
            if (!*v) bad = cli_err(a, "needs a value");
            o.filter = v;
        } else if (strcmp(a, "--dtype") == 0) {
            bad = cli_dtypes(a, v, &o.dtypes);
        } else if (strcmp(a, "--threads") == 0) {
            bad = cli_list_long(a, v, 4096, o.threads, MAX_THREAD_COUNTS, &o.nthreads);
        } else if (strcmp(a, "--size") == 0) {
            bad = cli_size(a, v, o.dims, &o.ndims);
        } else if (strcmp(a, "--min-time") == 0) {
            bad = cli_double(a, v, 0, 3600, &o.timing.min_time);
        } else if (strcmp(a, "--max-time") == 0) {
            bad = cli_double(a, v, 0.001, 36000, &o.timing.max_time);
        } else if (strcmp(a, "--case-timeout") == 0) {
            bad = cli_double(a, v, 0.001, 604800, &o.timing.case_timeout);
        } else if (strcmp(a, "--out") == 0) {
            if (!*v) bad = cli_err(a, "needs a value");
            o.out_dir = v;
        } else if (strcmp(a, "--data") == 0) {
            if (!*v) bad = cli_err(a, "needs a value");
            dataset_dir = v;
        } else if (strcmp(a, "--price-cpu") == 0) {
            bad = cli_double(a, v, 1e-9, 1e6, &o.price_cpu);
        } else if (strcmp(a, "--price-gpu") == 0) {
            bad = cli_double(a, v, 1e-9, 1e6, &o.price_gpu);
        } else if (strcmp(a, "--prices") == 0) {
            if (!*v) bad = cli_err(a, "needs a value");
            o.prices = v;
        } else if (strcmp(a, "--seed") == 0) {
            bad = cli_long(a, v, 0, 0x7fffffffffffffffL, &l);
            o.seed = (uint64_t)l;
        } else {
            bad = cli_err("run", "unknown option '%s' (dlbench run --help)", a);
        }
        if (bad) return 2;
    }
    if (o.timing.max_time < o.timing.min_time) { cli_err("--max-time", "is shorter than --min-time"); return 2; }
    return run_main(&o);
}

static int cmd_list(void)
{
    char why[256], shape[128];
    puts("backends:");
    for (int b = 0; b < backend_count; b++)
        printf("  %-6s %s\n", backends[b]->name, backends[b]->probe(why, sizeof why) ? "available" : why);
    puts("workloads (case [quick] shape: where from):");
    for (int w = 0; w < workload_count; w++) {
        const struct workload *wl = workloads[w];
        printf("  %s: %s\n    dtypes:", wl->name, wl->what);
        for (int d = 0; d < DT_COUNT; d++) if (wl->dtypes & (1u << d)) printf(" %s", dtype_name((enum dtype)d));
        putchar('\n');
        for (const struct wcase *c = wl->cases; c->name; c++) {
            wl->shape(c->params, shape, sizeof shape);
            printf("    %-30s %s %-26s %s\n", c->name, c->quick ? "q" : " ", shape, c->about);
        }
    }
    return 0;
}

/* info also measures the ceilings (a few seconds per backend) unless told not to. */
static int cmd_info(int ceilings)
{
    struct sysinfo si;
    sysinfo_collect(&si);
    for (int b = 0; ceilings && b < backend_count; b++) {
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
    if (argc == 2 && strcmp(argv[1], "--help") == 0) {
        puts("usage: dlbench report RUN_DIR   (rebuilds RUN_DIR/report.md from its CSV files)");
        return 0;
    }
    if (argc != 2) { cli_err("report", "needs exactly one run folder (dlbench report --help)"); return 2; }
    char path[4200], why[512];
    struct sysinfo si;
    struct row *rows;
    snprintf(path, sizeof path, "%s/system.json", argv[1]);
    if (sysinfo_read_json(&si, path, why, sizeof why) != 0) { fprintf(stderr, "dlbench: report: %s\n", why); return 2; }
    snprintf(path, sizeof path, "%s/results.csv", argv[1]);
    int n = results_load(path, &rows, why, sizeof why);
    if (n < 0) { fprintf(stderr, "dlbench: report: %s\n", why); sysinfo_free(&si); return 2; }
    snprintf(path, sizeof path, "%s/report.md", argv[1]);
    int rc = report_write_file(rows, n, &si, argv[1]) | ci_json_write(rows, n, &si, argv[1]);
    if (rc != 0) fprintf(stderr, "dlbench: report: cannot write %s\n", path);
    else printf("%s (%d rows)\n", path, n);
    free(rows);
    sysinfo_free(&si);
    return rc ? 2 : 0;
}

/* libgomp reads OMP_PLACES/OMP_PROC_BIND before main: to pin threads to cores by default we set
 * them and re-execute once, unless the user chose their own. */
static void pin_threads_by_default(char **argv)
{
    if (getenv("OMP_PLACES") || getenv("OMP_PROC_BIND") || getenv("DLBENCH_REEXEC")) return;
    setenv("OMP_PLACES", "cores", 1);
    setenv("OMP_PROC_BIND", "close", 1);
    setenv("DLBENCH_REEXEC", "1", 1);
    execv("/proc/self/exe", argv);
    /* exec failed: carry on unpinned; info shows the binding actually in force */
}

int main(int argc, char **argv)
{
    if (argc < 2) { fputs(usage_main, stderr); return 2; }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) { fputs(usage_main, stdout); return 0; }
    if (strcmp(cmd, "--version") == 0) { printf("dlbench %s (%s)\n", DLBENCH_VERSION, DLBENCH_GIT_REV); return 0; }
    if (strcmp(cmd, "run") == 0) dist_bind_early();   /* before the re-exec: libgomp starts inside the binding */
    if (strcmp(cmd, "run") == 0 || strcmp(cmd, "info") == 0) pin_threads_by_default(argv);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    int sub_help = argc == 3 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0);
    if (strcmp(cmd, "run") == 0) {
        if (dist_init() != 0) return 2;
        cli_quiet = dist_rank() != 0;            /* one copy of each complaint, from rank 0 */
        return dist_finish(cmd_run(argc - 1, argv + 1));
    }
    if (strcmp(cmd, "merge") == 0) return merge_main(argc - 1, argv + 1);
    if (strcmp(cmd, "report") == 0) return cmd_report(argc - 1, argv + 1);
    if (strcmp(cmd, "compare") == 0) return compare_main(argc - 1, argv + 1);
    if (strcmp(cmd, "list") == 0 || strcmp(cmd, "info") == 0) {
        int info = strcmp(cmd, "info") == 0, quick = argc == 3 && info && !strcmp(argv[2], "--no-ceilings");
        if (sub_help) { printf("usage: dlbench %s\n", info ? "info [--no-ceilings]" : "list"); return 0; }
        if (argc > 2 && !quick) { cli_err(cmd, "unexpected argument '%s'", argv[2]); return 2; }
        return info ? cmd_info(!quick) : cmd_list();
    }
    fprintf(stderr, "dlbench: unknown command '%s' (dlbench --help)\n", cmd);
    return 2;
}
