/* run.c: `dlbench run`: the plan (backend × workload × case × dtype × threads from the options),
 * then named phases (prepare, open the folder, describe the machine, measure, finish) over one
 * struct run with one cleanup path. Data flows one way: bench/ case -> backend op -> check
 * against kernels/ -> sampler (harness/measure/) -> row on disk (harness/output/). */
#include "run.h"
#include "report.h"
#include "results.h"
#include "sysinfo.h"
#include "workload.h"
#include "cpu_topology.h"
#include "ceilings.h"
#include "ci_json.h"
#include "dataset.h"
#include "devstate.h"
#include "eta.h"
#include "dist.h"
#include "describe.h"
#include "measure.h"
#include "metrics.h"
#include "prices.h"
#include "run_record.h"
#include "run_settings.h"
#include "tokens.h"
#include "turns.h"
#include <fnmatch.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct item {                         /* one planned row */
    const struct workload *w;
    const struct backend *b;
    const char *case_name, *about;
    const void *params;
    enum dtype dt;
    int threads;
    int ranks;                        /* the group measuring it together (w->group), else the run's ranks */
};

void run_opts_default(struct run_opts *o, int quick)
{
    memset(o, 0, sizeof *o);
    o->quick = quick;
    /* quick: 0.1 s to 0.4 s of samples per row keeps the suite within two minutes on a 2-vCPU
     * machine (~145 measured rows, a third of them noisy rows that sample to the limit; a row still
     * noisy at 0.4 s is flagged, as at any limit). Its warm-up is 20 ms: every row's first call
     * (verified, untimed) has already loaded its kernels and filled its caches, and on the H200
     * the 50 ms of the full suite came to 17 s of a 105-123 s quick suite (346 measured rows). */
    o->timing = (struct timing_opts){.min_time = quick ? 0.1 : 0.5, .max_time = quick ? 0.4 : 5.0, .target_rel = 0.01,
                                     .case_timeout = 600.0, .max_samples = 100000, .warmup = quick ? 0.02 : 0.05};
    o->seed = 42;
    o->price_cpu = o->price_gpu = NAN;
}

/* The price table: --prices (an error if unreadable), else the first one prices_find finds; a
 * binary with none runs without prices (cost "n/a"). */
static int load_prices(const struct run_opts *o, struct price **p, char *why, size_t n)
{
    char path[4096];
    *p = NULL;
    if (o->prices) return prices_load(o->prices, p, why, n);
    return prices_find(path, sizeof path) ? prices_load(path, p, why, n) : 0;
}

/* Price per backend: the override, else the first table entry of its kind matching the device
 * (CPUs: name plus family/model, price_cpu_key). CPU prices are kept per vCPU-hour, GPU prices per
 * GPU-hour; report.c multiplies per row (harness/output/prices.h). */
static void put_price(const struct run_opts *o, const struct backend *b, const struct price *tab, int ntab, struct sysinfo *si)
{
    char sec[48], v[300], key[256];
    int gpu = b->kind == BACKEND_GPU;
    double over = gpu ? o->price_gpu : o->price_cpu;
    const char *dev = b->dev->name();
    snprintf(sec, sizeof sec, "price.%s", b->name);
    sysinfo_put(si, sec, "device", dev);
    if (gpu) snprintf(key, sizeof key, "%s", dev);
    else price_cpu_key(dev, key, sizeof key);
    sysinfo_put(si, sec, "match_key", key);
    if (!isnan(over)) {
        int pus = cpu_topology()->pus > 0 ? cpu_topology()->pus : 1;
        snprintf(v, sizeof v, "%.6g", gpu ? over : over / pus);
        sysinfo_put(si, sec, gpu ? "usd_per_gpu_hour" : "usd_per_vcpu_hour", v);
        if (gpu) snprintf(v, sizeof v, "--price-gpu: $%g per GPU-hour", over);
        else snprintf(v, sizeof v, "--price-cpu: $%g/h for this machine's %d PUs", over, pus);
        sysinfo_put(si, sec, "source", v);
        sysinfo_put(si, sec, "date", "command line");
        return;
    }
    const struct price *p = price_match(tab, ntab, gpu, key);
    if (!p || isnan(p->usd_per_hour)) {
        if (p) snprintf(v, sizeof v, "n/a: no price (%.200s)", p->source);
        else snprintf(v, sizeof v, "n/a: no price for %.200s", key);
        sysinfo_put(si, sec, "status", v);
        return;
    }
    snprintf(v, sizeof v, "%.6g", price_unit_usd(p));
    sysinfo_put(si, sec, gpu ? "usd_per_gpu_hour" : "usd_per_vcpu_hour", v);
    sysinfo_put(si, sec, "instance", p->instance);
    snprintf(v, sizeof v, "%g", p->usd_per_hour);
    sysinfo_put(si, sec, "instance_usd_per_hour", v);
    snprintf(v, sizeof v, "%d", p->vcpus);
    sysinfo_put(si, sec, "instance_vcpus", v);
    snprintf(v, sizeof v, "%d", p->gpus);
    if (gpu) sysinfo_put(si, sec, "instance_gpus", v);
    sysinfo_put(si, sec, "source", p->source);
    sysinfo_put(si, sec, "date", p->date);
}

/* The device's state now, as section "<prefix>.<backend>" (state at the start, state_end after). */
static void put_state(const struct backend *b, const char *prefix, struct sysinfo *si)
{
    char sec[48], v[128];
    struct dev_state s;
    if (!b->dev->state_read || b->base) return;
    b->dev->state_read(&s);
    snprintf(sec, sizeof sec, "%s.%s", prefix, b->name);
    const double num[] = {s.clock_mhz, s.mem_clock_mhz, s.power_w, s.power_limit_w, s.temp_c};
    static const char *const keys[] = {"clock_mhz", "mem_clock_mhz", "power_w", "power_limit_w", "temp_c"};
    for (int i = 0; i < 5; i++)
        if (!isnan(num[i])) { snprintf(v, sizeof v, "%.0f", num[i]); sysinfo_put(si, sec, keys[i], v); }
    devstate_throttle_text(&s, v, sizeof v);
    sysinfo_put(si, sec, "throttle", v);
    if (s.why[0] && s.have_reasons) sysinfo_put(si, sec, "missing", s.why);
}

static void put_energy(const struct backend *b, struct sysinfo *si)
{
    char sec[48], why[200];
    double j;
    snprintf(sec, sizeof sec, "energy.%s", b->name);
    if (!b->dev->energy_read) sysinfo_put(si, sec, "status", "n/a: no energy counter for this backend");
    else if (b->dev->energy_read(&j, why, sizeof why) != 0) {
        char v[220];
        snprintf(v, sizeof v, "n/a: %s", why);
        sysinfo_put(si, sec, "status", v);
    } else sysinfo_put(si, sec, "status", b->kind == BACKEND_CPU ? "RAPL (package energy)" : "NVML total energy");
}

static int in_list(const char *list, const char *name)
{
    if (!list || strcmp(list, "all") == 0) return 1;
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, name, n) == 0) return 1;
        p += len + (p[len] == ',');
    }
    return 0;
}

static int case_selected(const struct run_opts *o, const char *wl, const char *cs)
{
    char id[128];
    if (!o->filter) return 1;
    snprintf(id, sizeof id, "%s/%s", wl, cs);
    if (strpbrk(o->filter, "*?[(")) /* extended globs too (FNM_EXTMATCH): @(copy|triad) */
        return fnmatch(o->filter, id, FNM_EXTMATCH) == 0 || fnmatch(o->filter, cs, FNM_EXTMATCH) == 0;
    return strstr(id, o->filter) != NULL;
}

/* A --size case: its params and name live as long as the plan. */
struct custom_case { const struct workload *w; struct wcase c; char name[64]; };

static void add_items(const struct run_opts *o, const struct workload *w, const struct wcase *c,
                      struct item **items, int *n, int *cap)
{
    for (int dt = 0; dt < DT_COUNT; dt++) {
        if (!(w->dtypes & (1u << dt)) || (o->dtypes && !(o->dtypes & (1u << dt)))) continue;
        if (o->quick && !o->dtypes && w->quick_dtypes && !(w->quick_dtypes & (1u << dt))) continue;
        for (int bi = 0; bi < backend_count; bi++) {
            const struct backend *b = backends[bi];
            if (!in_list(o->backends, b->name) || !backend_runs(b, w->family)) continue;
            int nt = b->kind == BACKEND_CPU ? o->nthreads : 1, ks[32] = {dist_size()};
            int nk = w->group == GROUP_NONE ? 1 : dist_group_sizes(w->group, ks, 32);
            for (int k = 0; k < nk; k++)
                for (int t = 0; t < nt; t++) {
                    if (*n == *cap) *items = realloc(*items, sizeof **items * (*cap = *cap ? *cap * 2 : 64));
                    (*items)[(*n)++] = (struct item){w, b, c->name, c->about, c->params, (enum dtype)dt,
                                                     b->kind == BACKEND_CPU ? (int)o->threads[t] : 0, ks[k]};
                }
        }
    }
}

/* --size: every selected case resized by its workload; cases that come out the same run once, and
 * cases the size does not fit (gemm's MxNxK given to a softmax) are left out. An error only when
 * the size fits no selected case. */
static int resize_cases(const struct run_opts *o, struct custom_case **custom, int *ncustom)
{
    int cap = 0;
    char last_why[256] = "no case selected";
    for (int wi = 0; wi < workload_count; wi++) {
        const struct workload *w = workloads[wi];
        if (!in_list(o->workloads, w->name)) continue;
        for (const struct wcase *c = w->cases; c->name; c++) {
            if ((o->quick && !c->quick) || !case_selected(o, w->name, c->name)) continue;
            char why[160], name[64];
            void *p = calloc(1, w->params_size);
            if (w->custom(o->dims, o->ndims, c->params, p, name, sizeof name, why, sizeof why) != 0) {
                snprintf(last_why, sizeof last_why, "%s/%s: %s", w->name, c->name, why);
                free(p);
                continue;
            }
            int dup = 0;
            for (int k = 0; k < *ncustom && !dup; k++) dup = (*custom)[k].w == w && !strcmp((*custom)[k].name, name);
            if (dup) { free(p); continue; }
            if (*ncustom == cap) *custom = realloc(*custom, sizeof **custom * (cap = cap ? cap * 2 : 16));
            struct custom_case *cc = &(*custom)[(*ncustom)++];
            cc->w = w;
            snprintf(cc->name, sizeof cc->name, "%s", name);
            cc->c = (struct wcase){NULL, "--size", 1, p};
        }
    }
    if (*ncustom == 0) { fprintf(stderr, "dlbench: --size: fits no selected case (%s)\n", last_why); return -1; }
    return 0;
}

static void free_custom(struct custom_case *custom, int n)
{
    for (int k = 0; k < n; k++) free((void *)custom[k].c.params);
    free(custom);
}

/* Expands the options into planned rows. Returns count, or -1 (message printed) on bad input. */
static int plan(const struct run_opts *o, struct item **items, struct custom_case **custom, int *ncustom)
{
    int n = 0, cap = 0;
    *items = NULL;
    *custom = NULL;
    *ncustom = 0;
    if (o->ndims > 0) {
        if (resize_cases(o, custom, ncustom) != 0) return -1;
        for (int k = 0; k < *ncustom; k++) {
            (*custom)[k].c.name = (*custom)[k].name; /* the array no longer moves */
            add_items(o, (*custom)[k].w, &(*custom)[k].c, items, &n, &cap);
        }
        return n;
    }
    for (int wi = 0; wi < workload_count; wi++) {
        const struct workload *w = workloads[wi];
        if (!in_list(o->workloads, w->name)) continue;
        for (const struct wcase *c = w->cases; c->name; c++)
            if ((!o->quick || c->quick) && case_selected(o, w->name, c->name)) add_items(o, w, c, items, &n, &cap);
    }
    return n;
}

static void default_run_dir(char *buf, size_t n)
{
    char host[64], stamp[32];
    time_t now = time(NULL);
    if (gethostname(host, sizeof host) != 0) snprintf(host, sizeof host, "host");
    host[sizeof host - 1] = 0;
    for (char *p = host; *p; p++) if (*p == '/' || *p == ' ') *p = '_';
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", gmtime(&now));
    snprintf(buf, n, "results/%s-%s", stamp, host);
    for (int k = 2; access(buf, F_OK) == 0 && k < 100; k++) /* two runs in one second */
        snprintf(buf, n, "results/%s-%s-%d", stamp, host, k);
}

/* A skipped row whose backend and reason were already shown: not shown again (a run without a GPU
 * would otherwise print a "skipped" line for most rows); the answer lists every reason once. */
static int skip_seen(const struct row *r)
{
    static char seen[32][160];
    static int nseen;
    char key[160];
    if (strncmp(r->status, "skipped", 7)) return 0;
    snprintf(key, sizeof key, "%s|%.140s", r->backend, r->status);
    for (int k = 0; k < nseen; k++) if (!strcmp(seen[k], key)) return 1;
    if (nseen < 32) snprintf(seen[nseen++], sizeof seen[0], "%s", key);
    return 0;
}

/* eta: the calibrated estimate of the rows left (harness/measure/eta.h) */
static void progress(const struct row *r, int i, int n, double eta, int cores)
{
    if (skip_seen(r)) return;
    char perf[64] = "";
    if (row_measured(r) && r->flops > 0)
        snprintf(perf, sizeof perf, "%.1f GFLOP/s %.1f GB/s ", r->gflops, r->gbytes_per_s);
    else if (row_measured(r))
        snprintf(perf, sizeof perf, "%.3g GB/s ", r->gbytes_per_s);
    char thr[16] = "", rk[32] = "";
    if (r->threads) snprintf(thr, sizeof thr, " %dt", r->threads);
    const char *over = cores > 0 && r->threads > cores ? " (oversubscribed)" : "";
    if (r->rank < 0) snprintf(rk, sizeof rk, " x%d ranks", r->ranks);
    else if (r->ranks > 1) snprintf(rk, sizeof rk, " rank %d", r->rank);
    fprintf(stderr, "[%d/%d] %s %s %s %s%s%s%s: %s%s (left ~%.0f s)%s\n", i, n, r->backend, r->workload,
            r->case_name, r->dtype, thr, rk, over, perf, r->status, eta,
            strncmp(r->status, "skipped", 7) ? "" : "; further rows skipped for this reason are not listed");
}

/* One run's state, set up by the phases below and torn down in one place (run_free). */
struct run {
    struct run_opts *o;
    struct item *items;
    int n;                            /* planned rows */
    struct custom_case *custom;
    int ncustom;
    struct price *prices;
    int nprices;
    const struct dataset *ds;         /* the training data, when a train case is planned */
    char dir[4096];
    struct results_out out;
    struct sysinfo si;
    struct ceiling *ceil;             /* per backend, as backends[] */
    struct row_estimate *est;         /* per planned row: the time model (harness/measure/eta.h) */
    struct eta eta;
    struct row *rows;
    int *row_item;                    /* per row: the planned row (item) it measured */
    FILE *eta_trace;                  /* $DLBENCH_ETA_TRACE: each row's estimate beside its time (CSV) */
    int done, cap, failed, interrupted;
    double t_start, t_begin;          /* first row; the run itself (ceilings included) */
    int root;                         /* rank 0 (or the only process): it writes the run folder */
    int lost;                         /* a rank stopped answering: the run ends after this row */
};

/* More threads than physical cores share cores (and with OpenMP's spin-waiting, slow down): said
 * once here, and the report marks those rows "oversubscribed" (metrics.h). */
static void warn_oversubscribed(const struct run_opts *o)
{
    int cores = cpu_topology()->cores;
    char over[128] = "";
    for (int t = 0; t < o->nthreads; t++)
        if (cores > 0 && o->threads[t] > cores) snprintf(over + strlen(over), sizeof over - strlen(over), "%s%ld", *over ? "," : "", o->threads[t]);
    if (*over)
        fprintf(stderr, "dlbench: warning: --threads %s: more threads than the %d physical cores; those rows run "
                        "oversubscribed and are marked so in the report\n", over, cores);
}

/* Whether item i's check reference is one an earlier measured item computed already (shared:
 * workload.check_key); seen holds the keys so far (room for n). */
static int check_shared(const struct item *it, uint64_t *seen, int *nseen)
{
    uint64_t k = it->w->check_key ? it->w->check_key(it->params) : 0;
    if (!k) return 0;
    for (int j = 0; j < *nseen; j++) if (seen[j] == k) return 1;
    seen[(*nseen)++] = k;
    return 0;
}

/* The plan's rough length (ceilings included), from the per-row model (harness/measure/eta.h),
 * with the CPU's rate from ~20 ms of its compute loop per dtype (once per process): the nominal 30
 * GFLOP/s per thread had the dev VM's quick suite at "3 min" for 100 s. */
static double plan_estimate(const struct run_opts *o, const struct item *items, int n)
{
    int avail[64] = {0};
    char why[256];
    double s = 0;
    static int probed;
    for (int b = 0; b < backend_count && b < 64; b++)
        avail[b] = in_list(o->backends, backends[b]->name) && backends[b]->probe(why, sizeof why);
    for (int b = 0; b < backend_count && b < 64 && !probed; b++)
        if (avail[b] && backends[b]->kind != BACKEND_GPU && backends[b]->peak) {
            double per[DT_COUNT];
            ceilings_probe_loops(backends[b], (int)o->threads[o->nthreads - 1], per);
            eta_set_cpu_loop_rates(per);
            probed = 1;
        }
    uint64_t *seen = malloc(sizeof(uint64_t) * (n > 0 ? (size_t)n : 1));
    int nseen = 0;
    for (int i = 0; i < n; i++)
        for (int b = 0; b < backend_count && b < 64; b++)
            if (backends[b] == items[i].b && !(items[i].w->group != GROUP_NONE && dist_size() < 2)) {   /* one process: skipped */
                double t = eta_row_seconds(items[i].b, avail[b], items[i].w, items[i].params, items[i].dt, items[i].threads, &o->timing);
                if (t > 0.001 && check_shared(&items[i], seen, &nseen)) t -= eta_check_seconds(items[i].w, items[i].params, items[i].dt);
                s += t;
            }
    free(seen);
    for (int b = 0; !o->no_ceilings && b < backend_count && b < 64; b++)
        if (avail[b] && !backends[b]->base) s += eta_ceilings_seconds(backends[b], 1, (int)o->threads[o->nthreads - 1], o->quick);
    for (int i = 0; i < n; i++)
        if (!strcmp(items[i].w->family, "train")) return s + 3; /* the synthetic data set: a few seconds once */
    return s;
}

static void fmt_duration(double s, char *buf, size_t n)
{
    if (s < 1) snprintf(buf, n, "under a second");
    else if (s < 180) snprintf(buf, n, "%.0f s", s);
    else if (s < 5400) snprintf(buf, n, "%.0f min", s / 60);
    else snprintf(buf, n, "%.1f h", s / 3600);
}

/* Before anything runs: the rows planned and a rough length; without --suite (the full suite),
 * how long the quick one would take instead. */
static void announce(const struct run_opts *o, const struct item *items, int n)
{
    char est[32], quick_est[32];
    fmt_duration(plan_estimate(o, items, n), est, sizeof est);
    fprintf(stderr, "dlbench: %d rows planned (%s suite), roughly %s on this machine%s\n", n, o->quick ? "quick" : "full", est,
            o->no_ceilings ? " (rough: from a probe of the CPU's compute loop)" : " (rough: from a probe of the CPU's compute loop; the ceilings refine it)");
    if (o->suite_given || o->quick) return;
    struct run_opts q;
    run_opts_default(&q, 1);
    q.backends = o->backends; q.workloads = o->workloads; q.filter = o->filter; q.dtypes = o->dtypes;
    q.nthreads = o->nthreads;
    memcpy(q.threads, o->threads, sizeof q.threads);
    q.ndims = o->ndims;
    memcpy(q.dims, o->dims, sizeof q.dims);
    q.no_ceilings = o->no_ceilings;
    fputs("dlbench: no --suite given: this is the full suite", stderr);
    if (o->ndims == 0) {
        struct item *qi;
        struct custom_case *qc;
        int nqc, nq = plan(&q, &qi, &qc, &nqc);
        if (nq > 0) {
            fmt_duration(plan_estimate(&q, qi, nq), quick_est, sizeof quick_est);
            fprintf(stderr, "; --suite quick runs %d rows in roughly %s", nq, quick_est);
        }
        free(qi);
        free_custom(qc, nqc);
    }
    fputs(" (Ctrl-C stops and keeps what finished)\n", stderr);
}

/* Phase 1: the plan and every input it needs, checked before the run folder exists (a refused run
 * leaves nothing behind). 0, or the exit code 2 after one line on stderr. */
static int run_prepare(struct run *r)
{
    char why[512];
    struct run_opts *o = r->o;
    if (o->nthreads == 0) { /* default: one thread per physical core (of this rank's share) */
        o->threads[0] = dist_size() > 1 ? dist_default_threads() : cpu_topology()->cores > 0 ? cpu_topology()->cores : 1;
        o->nthreads = 1;
    }
    if (!(r->root = dist_rank() == 0)) o->quiet = 1;
    warn_oversubscribed(o);
    bandwidth_cap_bytes = o->quick ? QUICK_ARRAY_CAP_BYTES : 0; /* before any size is computed */
    r->n = plan(o, &r->items, &r->custom, &r->ncustom);
    if (r->n <= 0) {
        if (r->n == 0 && dist_rank() == 0) fprintf(stderr, "dlbench: run: no case matches the options given\n");
        return 2;
    }
    if ((r->nprices = load_prices(o, &r->prices, why, sizeof why)) < 0) {
        fprintf(stderr, "dlbench: --prices: %s\n", why);
        return 2;
    }
    int images = 0;
    for (int i = 0; i < r->n; i++) {
        images += r->items[i].w->uses_images && r->items[i].w->uses_images(r->items[i].params);
        if (r->items[i].w->check_data && r->items[i].w->check_data(r->items[i].params, why, sizeof why) != 0) {
            fprintf(stderr, "dlbench: --data: %s\n", why);
            return 2;
        }
    }
    /* --data naming a folder (MNIST's IDX files) is read whenever given, so a wrong folder is an
     * error before anything is measured even where no case trains on images (the GPT cases take
     * only a file). */
    if ((images || dataset_dir_is_idx()) && !(r->ds = dataset_get(why, sizeof why))) {
        fprintf(stderr, "dlbench: --data: %s\n", why);
        return 2;
    }
    return 0;
}

/* Phase 2: the run folder with its two CSV files (rank 0's alone; every rank learns whether it
 * opened). 0, or 2 after one line on stderr. */
static int run_open_folder(struct run *r)
{
    char why[512], path[4200];
    int rc = 0;
    if (r->o->out_dir) snprintf(r->dir, sizeof r->dir, "%s", r->o->out_dir);
    else default_run_dir(r->dir, sizeof r->dir);
    snprintf(path, sizeof path, "%s/results.csv", r->dir);
    if (r->root && access(path, F_OK) == 0) {
        fprintf(stderr, "dlbench: --out: %s already holds a run; choose a new folder\n", r->dir);
        rc = 2;
    } else if (r->root && results_open(&r->out, r->dir, why, sizeof why) != 0) {
        fprintf(stderr, "dlbench: --out: %s\n", why);
        rc = 2;
    }
    return dist_share(rc);
}

/* The base backend's ceilings of an item (variants share their base's device), or NULL. */
static struct ceiling *item_ceiling(const struct run *r, const struct item *it)
{
    const struct backend *base = it->b->base ? it->b->base : it->b;
    for (int bi = 0; r->ceil && bi < backend_count; bi++)
        if (backends[bi] == base) return &r->ceil[bi];
    return NULL;
}

static double estimate_rows(struct run *r)
{
    double sum = 0;
    uint64_t *seen = malloc(sizeof(uint64_t) * (r->n > 0 ? (size_t)r->n : 1));
    int nseen = 0;
    for (int i = 0; i < r->n; i++) {
        const struct item *it = &r->items[i];
        r->est[i] = eta_row(it->b, it->w, it->case_name, it->params, it->dt, it->threads, &r->o->timing, item_ceiling(r, it));
        if (it->w->group != GROUP_NONE && dist_size() < 2) r->est[i] = (struct row_estimate){0};   /* skipped: one process */
        else if (r->est[i].work_s > 0.001 && check_shared(it, seen, &nseen))   /* an earlier row computes its reference */
            r->est[i].work_s -= eta_check_seconds(it->w, it->params, it->dt);
        sum += r->est[i].budget_s + r->est[i].work_s;
    }
    free(seen);
    return sum;
}

static void write_system_json(struct run *r)
{
    char path[4200];
    if (!r->root) return;   /* rank 0 writes the run folder */
    snprintf(path, sizeof path, "%s/system.json", r->dir);
    if (sysinfo_write_json(&r->si, path) != 0) fprintf(stderr, "dlbench: warning: cannot write %s\n", path);
}

/* Phase 3: system.json: the run's own record (settings, environment, start; state "running"
 * until phase 5 writes its end), the machine, the data set, price and energy counter per backend
 * in use, and the ceilings of each base backend in use (variants share their base's device). It is
 * written before the ceilings and again after them, so a run killed at any point leaves one. */
static void run_describe(struct run *r)
{
    char why[512];
    const struct run_opts *o = r->o;
    r->t_begin = wall_seconds();
    if (!o->quiet) announce(o, r->items, r->n);   /* every input checked; nothing slow has run but the data set */
    sysinfo_collect(&r->si);
    run_settings_record(o, r->n, &r->si);
    sysinfo_set(&r->si, "run", "out", r->dir);
    run_record_start(&r->si);
    dist_describe(&r->si);
    if (r->ds) {
        char v[32];
        snprintf(v, sizeof v, "%d", r->ds->n);
        sysinfo_put(&r->si, "train", "dataset_size", v);
        sysinfo_put(&r->si, "train", "dataset", r->ds->source);
    }
    if (tokens_source()) sysinfo_put(&r->si, "train", "tokens", tokens_source());
    for (int bi = 0; bi < backend_count; bi++) {
        if (!in_list(o->backends, backends[bi]->name) || !backends[bi]->probe(why, sizeof why)) continue;
        put_price(o, backends[bi], r->prices, r->nprices, &r->si);
        put_energy(backends[bi], &r->si);
        put_state(backends[bi], "state", &r->si);
    }
    write_system_json(r);
    r->ceil = calloc(backend_count > 0 ? (size_t)backend_count : 1, sizeof *r->ceil);
    for (int bi = 0; bi < backend_count; bi++) ceiling_clear(&r->ceil[bi]);
    r->est = calloc(r->n > 0 ? (size_t)r->n : 1, sizeof *r->est);
    eta_init(&r->eta);
    if (o->no_ceilings) { estimate_rows(r); return; }
    if (!o->quiet) fprintf(stderr, "dlbench: measuring ceilings (peak bandwidth and FLOP/s) of the backends in use\n");
    for (int bi = 0; bi < backend_count; bi++) {
        /* A vendor variant shares its base's device, so its rows are held to the base's ceilings. */
        int used = in_list(o->backends, backends[bi]->name);
        for (int vi = 0; vi < backend_count; vi++)
            used |= backends[vi]->base == backends[bi] && in_list(o->backends, backends[vi]->name);
        int rated = 0; /* rows that get a % of ceiling: those a rank measures alone */
        for (int i = 0; i < r->n; i++)
            rated |= r->items[i].w->group == GROUP_NONE && (r->items[i].b == backends[bi] || r->items[i].b->base == backends[bi]);
        if (!used || !rated || backends[bi]->base) continue;
        ceilings_measure(backends[bi], (int)o->threads[o->nthreads - 1], o->quick, &r->ceil[bi]);
        ceilings_put(backends[bi], &r->ceil[bi], &r->si);
    }
    for (int bi = 0; bi < backend_count; bi++)
        for (int base = 0; base < backend_count; base++)
            if (backends[bi]->base == backends[base] && in_list(o->backends, backends[bi]->name) &&
                backends[bi]->probe(why, sizeof why)) {
                r->ceil[bi] = r->ceil[base];
                ceilings_put(backends[bi], &r->ceil[bi], &r->si);
            }
    write_system_json(r);
    double left = estimate_rows(r); /* with the ceilings measured */
    if (!o->quiet) {
        char est[32];
        fmt_duration(left, est, sizeof est);
        fprintf(stderr, "dlbench: the rows: roughly %s on this machine (from its ceilings)\n", est);
    }
}

/* One planned row on this rank: alone (measure_row), or with its group (dist_measure). 0 with
 * *have telling whether this rank holds a row, or 1 when interrupted. */
static int measure_item(struct run *r, const struct item *it, struct row *mine, struct timing_result *tr, int *have)
{
    const struct run_opts *o = r->o;
    *have = 1;
    if (it->w->group != GROUP_NONE) {
        int rc = dist_measure(it->b, it->w, it->case_name, it->params, it->dt, it->threads, it->ranks, &o->timing, o->seed, mine, tr);
        *have = rc == 0;
        return rc == 1;
    }
    if (measure_row(it->b, it->w, it->case_name, it->params, it->dt, it->threads, &o->timing, o->seed, mine, tr)) return 1;
    if (row_oversubscribed(mine, cpu_topology()->cores)) {   /* said in the row's flags too */
        size_t len = strlen(mine->flags);
        snprintf(mine->flags + len, sizeof mine->flags - len, "%soversubscribed", len ? ";" : "");
    }
    mine->rank = dist_rank();
    mine->ranks = dist_size();
    snprintf(mine->host, sizeof mine->host, "%s", dist_self()->host);
    struct ceiling *c = it->b->base ? NULL : item_ceiling(r, it); /* variants: no % */
    if (c) { /* a row faster than its ceiling raises it (the ceiling is the best the machine did) */
        ceiling_raise(c, mine);
        ceiling_apply(c, mine);
    }
    return 0;
}

/* Phase 4: every planned row measured, every rank's row of it sent to rank 0, which appends them as
 * they come; stops at Ctrl-C, and after a row when a rank was lost. */
static void run_measure(struct run *r)
{
    const struct run_opts *o = r->o;
    if (!o->quiet) fprintf(stderr, "dlbench: writing %s/\n", r->dir);
    r->t_start = wall_seconds();
    const char *trace = getenv("DLBENCH_ETA_TRACE");
    if (trace && *trace && r->root && (r->eta_trace = fopen(trace, "w")))
        fputs("row,backend,workload,case,dtype,budget,est_budget_s,est_work_s,sampled_s,wall_s\n", r->eta_trace);
    for (int i = 0; i < r->n && !r->interrupted && !r->lost; i++) {
        const struct item *it = &r->items[i];
        struct row mine;
        struct timing_result tr;
        int have, fault = dist_fault_before(it->case_name);
        turn_take();
        int stop = measure_item(r, it, &mine, &tr, &have);
        turn_give();
        if (stop) {
            r->interrupted = timing_interrupted ? timing_interrupted : SIGINT;
            free(tr.samples);
            break;
        }
        if (fault) snprintf(mine.status, sizeof mine.status, "failed: a fault injected on purpose (DLBENCH_TEST_FAULT)");
        double timed_s = tr.n > 0 ? tr.s.mean * tr.n * tr.reps : 0, wall_s = mine.wall_s;
        struct dist_row *got;
        int ngot;
        r->lost = dist_collect(i, &mine, have, tr.samples, row_measured(&mine) ? tr.n : 0, o->timing.case_timeout + DIST_GRACE_S,
                               &got, &ngot);
        free(tr.samples);
        eta_done(&r->eta, &r->est[i], timed_s, wall_s);
        if (r->eta_trace) /* the time model against what the row took: what calibrating it reads */
            fprintf(r->eta_trace, "%d,%s,%s,%s,%s,%d,%.4f,%.4f,%.4f,%.4f\n", i + 1, it->b->name, it->w->name, it->case_name,
                    dtype_name(it->dt), r->est[i].budget, r->est[i].budget_s, r->est[i].work_s, timed_s, wall_s);
        for (int g = 0; g < ngot; g++) {
            struct row *row = &got[g].r;
            r->failed += strncmp(row->status, "failed", 6) == 0 || strcmp(row->status, "timeout") == 0;
            if (results_append(&r->out, row, got[g].samples, row_measured(row) ? got[g].n : 0) != 0)
                fprintf(stderr, "dlbench: warning: writing %s/results.csv failed\n", r->dir);
            if (r->done == r->cap) {
                r->cap = r->cap ? r->cap * 2 : 64;
                r->rows = realloc(r->rows, sizeof *r->rows * r->cap);
                r->row_item = realloc(r->row_item, sizeof *r->row_item * r->cap);
            }
            r->row_item[r->done] = i;
            r->rows[r->done++] = *row;
            if (!o->quiet) progress(row, i + 1, r->n, eta_left(&r->eta, r->est, i + 1, r->n), cpu_topology()->cores);
        }
        dist_rows_free(got, ngot);
        r->interrupted = timing_interrupted;
    }
    if (r->lost && !r->root) dist_await_abort();   /* rank 0 writes what it has, then ends the run */
    if (r->root) results_close(&r->out);
}

static const char *end_state(int sig)
{
    return sig == SIGTERM ? "interrupted (SIGTERM)" : "interrupted (SIGINT, Ctrl-C)";
}

/* Phase 5: the run's end in system.json, then report.md, plots and the CI JSON from the rows
 * completed; the summary on stdout. */
static void run_finish(struct run *r, int rc)
{
    char path[4200], why[256];
    if (!r->root) return;
    for (int bi = 0; bi < backend_count; bi++) {
        if (in_list(r->o->backends, backends[bi]->name) && backends[bi]->probe(why, sizeof why))
            put_state(backends[bi], "state_end", &r->si);
        if (!backends[bi]->base && in_list(r->o->backends, backends[bi]->name) && !r->o->no_ceilings)
            ceilings_put(backends[bi], &r->ceil[bi], &r->si);
    }
    /* The ceilings are final (rows faster than a ceiling raised it): every row's % against them. */
    for (int i = 0; i < r->done && !r->o->no_ceilings; i++) {
        const struct item *it = &r->items[r->row_item[i]];
        if (r->rows[i].rank != dist_rank()) continue;   /* another rank's (or a group's) row: its own ceilings */
        const struct ceiling *c = it->b->base ? NULL : item_ceiling(r, it);
        r->rows[i].ceiling_pct = NAN;
        if (c) ceiling_apply(c, &r->rows[i]);
    }
    if (r->done && results_rewrite(r->dir, r->rows, r->done) != 0) fprintf(stderr, "dlbench: warning: cannot rewrite %s/results.csv\n", r->dir);
    run_record_end(&r->si, r->interrupted ? end_state(r->interrupted) : "completed", r->done, wall_seconds() - r->t_begin, rc);
    write_system_json(r);
    snprintf(path, sizeof path, "%s/report.md", r->dir);
    if (report_write_file(r->rows, r->done, &r->si, r->dir) != 0) fprintf(stderr, "dlbench: warning: cannot write %s\n", path);
    if (ci_json_write(r->rows, r->done, &r->si, r->dir) != 0)
        fprintf(stderr, "dlbench: warning: cannot write the JSON files in %s\n", r->dir);
    if (r->o->quiet) return;
    report_print_summary(r->rows, r->done, &r->si, stdout);
    fprintf(stderr, "dlbench: %d rows in %.1f s; results in %s/%s\n", r->done, wall_seconds() - r->t_start, r->dir,
            r->lost ? " (a rank was lost: the run ends here)" : r->interrupted ? " (interrupted: the report covers the rows completed)" : "");
}

static void run_free(struct run *r)
{
    sysinfo_free(&r->si);
    free(r->ceil);
    free(r->est);
    free(r->rows);
    free(r->row_item);
    if (r->eta_trace) fclose(r->eta_trace);
    free(r->prices);
    free(r->items);
    free_custom(r->custom, r->ncustom);
}

int run_main(struct run_opts *o)
{
    struct run r = {.o = o};
    turn_take();   /* ab's paired rounds: one run at a time works (turns.h) */
    int rc = run_prepare(&r);
    if (rc == 0) rc = run_open_folder(&r);
    if (rc == 0) {
        run_describe(&r);
        turn_give();
        run_measure(&r);
        rc = r.interrupted ? 130 : r.failed ? 1 : 0;
        turn_take();   /* held until exit: the other run waits for the report */
        run_finish(&r, rc);
        if (r.lost) dist_abort(1);    /* the lost rank may still hold the others: end every rank */
    }
    run_free(&r);
    return rc;
}
