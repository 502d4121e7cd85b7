/* run.c: the run loop. Data flows one way: bench/ case -> backend op -> check against kernels/
 * -> sampler -> row on disk. A backend's failure becomes that row's status, never an exit. */
#include "run.h"
#include "report.h"
#include "results.h"
#include "sysinfo.h"
#include "workload.h"
#include "cpu_topology.h"
#include "ceilings.h"
#include "ci_json.h"
#include "dataset.h"
#include "prices.h"
#include "dist.h"
#include <fnmatch.h>
#include <math.h>
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
    o->timing = (struct timing_opts){quick ? 0.1 : 0.5, quick ? 1.0 : 5.0, 0.01, 600.0, 100000};
    o->seed = 42;
    o->price_cpu = o->price_gpu = NAN;
}

#ifndef DLBENCH_PRICES
#define DLBENCH_PRICES "bench/prices.csv"
#endif

/* The price table: --prices (an error if unreadable), else $DLBENCH_PRICES, the source tree's
 * bench/prices.csv, or ./bench/prices.csv; a binary moved elsewhere runs without one (no prices). */
static int load_prices(const struct run_opts *o, struct price **p, char *why, size_t n)
{
    const char *candidates[] = {getenv("DLBENCH_PRICES"), DLBENCH_PRICES, "bench/prices.csv"};
    *p = NULL;
    if (o->prices) return prices_load(o->prices, p, why, n);
    for (int i = 0; i < 3; i++)
        if (candidates[i] && access(candidates[i], R_OK) == 0) return prices_load(candidates[i], p, why, n);
    return 0;
}

/* Price per backend: the override, else the first table entry matching the device's name. */
static void put_price(const struct run_opts *o, const struct backend *b, const struct price *tab, int ntab, struct sysinfo *si)
{
    char sec[48], v[64];
    int gpu = b->kind == BACKEND_GPU;
    double over = gpu ? o->price_gpu : o->price_cpu;
    const char *dev = b->dev->name();
    snprintf(sec, sizeof sec, "price.%s", b->name);
    sysinfo_put(si, sec, "device", dev);
    if (!isnan(over)) {
        snprintf(v, sizeof v, "%g", over);
        sysinfo_put(si, sec, "usd_per_hour", v);
        sysinfo_put(si, sec, "covers", gpu ? "per GPU (--price-gpu)" : "whole machine (--price-cpu)");
        sysinfo_put(si, sec, "source", "command line");
        return;
    }
    const struct price *p = price_match(tab, ntab, dev);
    if (!p) {
        snprintf(v, sizeof v, "n/a: no price for %.40s", dev);
        sysinfo_put(si, sec, "status", v);
        return;
    }
    snprintf(v, sizeof v, "%g", p->usd_per_hour);
    sysinfo_put(si, sec, "usd_per_hour", v);
    sysinfo_put(si, sec, "covers", p->covers);
    sysinfo_put(si, sec, "source", p->source);
    sysinfo_put(si, sec, "date", p->date);
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
    if (strpbrk(o->filter, "*?[")) return fnmatch(o->filter, id, 0) == 0 || fnmatch(o->filter, cs, 0) == 0;
    return strstr(id, o->filter) != NULL;
}

/* A --size case: its params and name live as long as the plan. */
struct custom_case { const struct workload *w; struct wcase c; char name[64]; };

static void add_items(const struct run_opts *o, const struct workload *w, const struct wcase *c,
                      struct item **items, int *n, int *cap)
{
    for (int dt = 0; dt < DT_COUNT; dt++) {
        if (!(w->dtypes & (1u << dt)) || (o->dtypes && !(o->dtypes & (1u << dt)))) continue;
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

static void fmt_gib(char *buf, size_t n, double bytes) { snprintf(buf, n, "%.2f GiB", bytes / 1073741824.0); }

/* Runs one case to completion: identity and counts into r, then probe, memory check, setup,
 * one verified call, sampling. Returns 0, or 1 if interrupted (r is then not a result). */
int measure_row(const struct backend *b, const struct workload *w, const char *case_name, const void *params,
                enum dtype dt, int threads, const struct timing_opts *t, uint64_t seed, struct row *r,
                struct timing_result *tr)
{
    char why[256];
    row_init(r);
    snprintf(r->backend, sizeof r->backend, "%s", b->name);
    snprintf(r->workload, sizeof r->workload, "%s", w->name);
    snprintf(r->family, sizeof r->family, "%s", w->family);
    snprintf(r->case_name, sizeof r->case_name, "%s", case_name);
    snprintf(r->dtype, sizeof r->dtype, "%s", dtype_name(dt));
    w->shape(params, r->shape, sizeof r->shape);
    r->threads = threads;
    r->flops = w->flops(params, dt);
    r->bytes = w->bytes(params, dt);
    r->intensity = r->flops > 0 ? r->flops / r->bytes : NAN;
    r->items_per_call = w->items ? w->items(params) : NAN;
    tr->samples = NULL;
    tr->n = 0;
    if (!b->probe(why, sizeof why)) { snprintf(r->status, sizeof r->status, "skipped: %s", why); return 0; }
    snprintf(r->device, sizeof r->device, "%s", b->dev->name());
    const char *unsup = b->unsupported(w->family, dt);
    if (unsup) { snprintf(r->status, sizeof r->status, "skipped: %s", unsup); return 0; }
    double need = (double)w->device_bytes(params, dt), have = (double)b->dev->mem_free();
    if (need > 0.9 * have) {
        char a[32], c[32];
        fmt_gib(a, sizeof a, need); fmt_gib(c, sizeof c, have);
        snprintf(r->status, sizeof r->status, "skipped: needs %s, %s free", a, c);
        return 0;
    }
    if (b->dev->set_threads) b->dev->set_threads(threads);
    void *st = w->setup(b, params, dt, seed ^ case_stream(w->name, case_name, dt), why, sizeof why);
    if (!st) { /* "unsupported: …" and "out of … memory" are skips; anything else is a failure */
        if (!strncmp(why, "unsupported: ", 13)) snprintf(r->status, sizeof r->status, "skipped: %s", why + 13);
        else snprintf(r->status, sizeof r->status, "%s: %s", strncmp(why, "out of", 6) ? "failed" : "skipped", why);
        return 0;
    }
    r->tolerance = w->tolerance(params, dt);
    if (w->call(st) != 0) {
        snprintf(r->status, sizeof r->status, "failed: %s", b->dev->error());
        w->teardown(st);
        return 0;
    }
    r->verify_err = w->check(st, why, sizeof why);
    if (r->verify_err < 0) {
        snprintf(r->status, sizeof r->status, "failed: cannot verify: %s", why);
        r->verify_err = NAN;
    } else if (!(r->verify_err <= r->tolerance)) {
        snprintf(r->status, sizeof r->status, "failed: error %.3g > tolerance %.3g", r->verify_err, r->tolerance);
    } else if (time_op(b, w->call, st, t, tr) != 0) {
        snprintf(r->status, sizeof r->status, "failed: %s", b->dev->error());
    } else if (tr->outcome == TIMING_INTERRUPTED) {
        w->teardown(st);
        return 1;
    } else if (tr->outcome == TIMING_TIMEOUT) {
        snprintf(r->status, sizeof r->status, "timeout");
    } else {
        snprintf(r->status, sizeof r->status, "%s", tr->outcome == TIMING_NOISY ? "noisy" : "ok");
        r->samples = tr->n; r->reps = tr->reps;
        r->median_s = tr->s.median; r->min_s = tr->s.min; r->mean_s = tr->s.mean;
        r->stddev_s = tr->s.stddev; r->ci_lo_s = tr->s.ci_lo; r->ci_hi_s = tr->s.ci_hi;
        r->gflops = r->flops > 0 ? r->flops / r->median_s * 1e-9 : NAN;
        r->gbytes_per_s = r->bytes / r->median_s * 1e-9;
        r->joules_per_call = tr->joules_per_call;
    }
    w->teardown(st);
    return 0;
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

static void progress(const struct row *r, int i, int n, double t_start)
{
    double el = wall_seconds() - t_start, eta = i > 0 ? el / i * (n - i) : 0;
    char perf[64] = "";
    if (row_measured(r) && r->flops > 0)
        snprintf(perf, sizeof perf, "%.1f GFLOP/s %.1f GB/s ", r->gflops, r->gbytes_per_s);
    else if (row_measured(r))
        snprintf(perf, sizeof perf, "%.3g GB/s ", r->gbytes_per_s);
    char thr[16] = "";
    if (r->threads) snprintf(thr, sizeof thr, " %dt", r->threads);
    char rk[32] = "";
    if (r->rank < 0) snprintf(rk, sizeof rk, " x%d ranks", r->ranks);
    else if (r->ranks > 1) snprintf(rk, sizeof rk, " rank %d", r->rank);
    fprintf(stderr, "[%d/%d] %s %s %s %s%s%s: %s%s (left ~%.0f s)\n", i, n, r->backend, r->workload,
            r->case_name, r->dtype, thr, rk, perf, r->status, eta);
}

int run_main(struct run_opts *o)
{
    struct item *items;
    struct custom_case *custom = NULL;
    int ncustom = 0;
    if (o->nthreads == 0) { /* default: one thread per physical core (of this rank's share) */
        o->threads[0] = dist_size() > 1 ? dist_default_threads() : cpu_topology()->cores > 0 ? cpu_topology()->cores : 1;
        o->nthreads = 1;
    }
    int root = dist_rank() == 0;      /* under MPI only rank 0 writes the run folder */
    if (!root) o->quiet = 1;
    int n = plan(o, &items, &custom, &ncustom);
    if (n <= 0) {
        if (n == 0) fprintf(stderr, "dlbench: run: no case matches the options given\n");
        free(items);
        free_custom(custom, ncustom);
        return 2;
    }
    char dir[4096], why[512], path[4200];
    struct sysinfo si;
    struct ceiling ceil[8];
    struct price *prices = NULL;
    int nprices = load_prices(o, &prices, why, sizeof why), trains = 0;
    if (nprices < 0) {
        fprintf(stderr, "dlbench: --prices: %s\n", why);
        free(items); free_custom(custom, ncustom);
        return 2;
    }
    for (int i = 0; i < n; i++) trains += strstr(items[i].w->family, "train") != NULL;
    const struct dataset *ds = NULL;
    if (trains && !(ds = dataset_get(why, sizeof why))) {
        fprintf(stderr, "dlbench: --data: %s\n", why);
        free(items); free_custom(custom, ncustom); free(prices);
        return 2;
    }
    /* Every input is checked before the run folder exists: a refused run leaves nothing behind. */
    if (o->out_dir) snprintf(dir, sizeof dir, "%s", o->out_dir); else default_run_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/results.csv", dir);
    struct results_out out = {0};
    int refused = 0;
    if (root && access(path, F_OK) == 0) {
        fprintf(stderr, "dlbench: --out: %s already holds a run; choose a new folder\n", dir);
        refused = 1;
    } else if (root && results_open(&out, dir, why, sizeof why) != 0) {
        fprintf(stderr, "dlbench: --out: %s\n", why);
        refused = 1;
    }
    if (dist_share(refused)) {
        free(items); free_custom(custom, ncustom); free(prices);
        return 2;
    }
    sysinfo_collect(&si);
    dist_describe(&si);
    if (ds) {
        char v[32];
        snprintf(v, sizeof v, "%d", ds->n);
        sysinfo_put(&si, "train", "dataset_size", v);
        sysinfo_put(&si, "train", "dataset", ds->source);
    }
    for (int bi = 0; bi < backend_count; bi++) {
        if (!in_list(o->backends, backends[bi]->name) || !backends[bi]->probe(why, sizeof why)) continue;
        put_price(o, backends[bi], prices, nprices, &si);
        put_energy(backends[bi], &si);
    }
    free(prices);
    if (root && !o->no_ceilings) fprintf(stderr, "dlbench: measuring ceilings (peak bandwidth and FLOP/s) of the backends in use\n");
    for (int bi = 0; bi < backend_count && bi < 8; bi++) {
        int rated = 0; /* rows that get a % of ceiling: those one rank measures alone */
        for (int i = 0; i < n; i++) rated |= items[i].w->group == GROUP_NONE && (items[i].b == backends[bi] || items[i].b->base == backends[bi]);
        ceiling_clear(&ceil[bi]);
        if (o->no_ceilings || !rated || !in_list(o->backends, backends[bi]->name) || backends[bi]->base) continue; /* variants share their base's device */
        ceilings_measure(backends[bi], (int)o->threads[o->nthreads - 1], o->quick, &ceil[bi]);
        ceilings_put(backends[bi], &ceil[bi], &si);
    }
    snprintf(path, sizeof path, "%s/system.json", dir);
    if (root && sysinfo_write_json(&si, path) != 0) fprintf(stderr, "dlbench: warning: cannot write %s\n", path);
    if (root) fprintf(stderr, "dlbench: %d rows planned%s, writing %s/\n", n, dist_size() > 1 ? " per rank" : "", dir);

    struct row *rows = NULL;
    int done = 0, cap = 0, failed = 0, interrupted = 0, lost = 0;
    double t_start = wall_seconds();
    for (int i = 0; i < n && !interrupted && !lost; i++) {
        const struct item *it = &items[i];
        struct row mine;
        struct timing_result tr;
        int have = 1, fault = dist_fault_before(it->case_name);
        if (it->w->group != GROUP_NONE) {
            int rc = dist_measure(it->b, it->w, it->case_name, it->params, it->dt, it->threads, it->ranks, &o->timing, o->seed, &mine, &tr);
            interrupted = rc == 1;
            have = rc == 0;
        } else {
            interrupted = measure_row(it->b, it->w, it->case_name, it->params, it->dt, it->threads, &o->timing, o->seed, &mine, &tr);
            mine.rank = dist_rank();
            mine.ranks = dist_size();
            snprintf(mine.host, sizeof mine.host, "%s", dist_self()->host);
            for (int bi = 0; bi < backend_count && bi < 8; bi++)
                if (backends[bi] == it->b) ceiling_apply(&ceil[bi], &mine);
        }
        if (interrupted) { free(tr.samples); break; }
        if (fault) snprintf(mine.status, sizeof mine.status, "failed: a fault injected on purpose (DLBENCH_TEST_FAULT)");
        /* Every rank's row of this item to rank 0, which writes them in rank order. */
        struct dist_row *got;
        int ngot;
        lost = dist_collect(i, &mine, have, tr.samples, row_measured(&mine) ? tr.n : 0, o->timing.case_timeout + DIST_GRACE_S, &got, &ngot);
        free(tr.samples);
        for (int g = 0; g < ngot; g++) {
            struct row *r = &got[g].r;
            failed += strncmp(r->status, "failed", 6) == 0 || strcmp(r->status, "timeout") == 0;
            if (results_append(&out, r, got[g].samples, row_measured(r) ? got[g].n : 0) != 0)
                fprintf(stderr, "dlbench: warning: writing %s/results.csv failed\n", dir);
            if (done == cap) rows = realloc(rows, sizeof *rows * (cap = cap ? cap * 2 : 64));
            rows[done++] = *r;
            if (!o->quiet) progress(r, i + 1, n, t_start);
        }
        dist_rows_free(got, ngot);
        interrupted = timing_interrupted;
    }
    if (lost && !root) dist_await_abort();  /* rank 0 writes what it has, then ends the run */
    if (root) results_close(&out);
    snprintf(path, sizeof path, "%s/report.md", dir);
    if (root && report_write_file(rows, done, &si, dir) != 0) fprintf(stderr, "dlbench: warning: cannot write %s\n", path);
    if (root && ci_json_write(rows, done, &si, dir) != 0) fprintf(stderr, "dlbench: warning: cannot write the JSON files in %s\n", dir);
    if (root) report_print_summary(rows, done, stdout);
    if (root) fprintf(stderr, "dlbench: %d rows in %.1f s; results in %s/%s\n", done, wall_seconds() - t_start, dir,
                      lost ? " (a rank was lost: the run ends here)" : interrupted ? " (interrupted: the report covers the rows completed)" : "");
    if (lost) dist_abort(1);
    sysinfo_free(&si);
    free(rows);
    free(items);
    free_custom(custom, ncustom);
    return interrupted ? 130 : failed ? 1 : 0;
}
