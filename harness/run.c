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
#include "dist.h"
#include "describe.h"
#include "measure.h"
#include "prices.h"
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

/* The price table: --prices (an error if unreadable), else the first one prices_find finds; a
 * binary with none runs without prices (cost "n/a"). */
static int load_prices(const struct run_opts *o, struct price **p, char *why, size_t n)
{
    char path[4096];
    *p = NULL;
    if (o->prices) return prices_load(o->prices, p, why, n);
    return prices_find(path, sizeof path) ? prices_load(path, p, why, n) : 0;
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
    char thr[16] = "", rk[32] = "";
    if (r->threads) snprintf(thr, sizeof thr, " %dt", r->threads);
    if (r->rank < 0) snprintf(rk, sizeof rk, " x%d ranks", r->ranks);
    else if (r->ranks > 1) snprintf(rk, sizeof rk, " rank %d", r->rank);
    fprintf(stderr, "[%d/%d] %s %s %s %s%s%s: %s%s (left ~%.0f s)\n", i, n, r->backend, r->workload,
            r->case_name, r->dtype, thr, rk, perf, r->status, eta);
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
    struct row *rows;
    int done, cap, failed, interrupted;
    double t_start;
    int root;                         /* rank 0 (or the only process): it writes the run folder */
    int lost;                         /* a rank stopped answering: the run ends after this row */
};

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
    r->n = plan(o, &r->items, &r->custom, &r->ncustom);
    if (r->n <= 0) {
        if (r->n == 0 && dist_rank() == 0) fprintf(stderr, "dlbench: run: no case matches the options given\n");
        return 2;
    }
    if ((r->nprices = load_prices(o, &r->prices, why, sizeof why)) < 0) {
        fprintf(stderr, "dlbench: --prices: %s\n", why);
        return 2;
    }
    int trains = 0;
    for (int i = 0; i < r->n; i++) trains += strstr(r->items[i].w->family, "train") != NULL;
    if (trains && !(r->ds = dataset_get(why, sizeof why))) {
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

/* Phase 3: system.json: the machine, the data set, price and energy counter per backend in use,
 * and the ceilings of each base backend in use (variants share their base's device). */
static void run_describe(struct run *r)
{
    char why[512], path[4200];
    const struct run_opts *o = r->o;
    sysinfo_collect(&r->si);
    dist_describe(&r->si);
    if (r->ds) {
        char v[32];
        snprintf(v, sizeof v, "%d", r->ds->n);
        sysinfo_put(&r->si, "train", "dataset_size", v);
        sysinfo_put(&r->si, "train", "dataset", r->ds->source);
    }
    for (int bi = 0; bi < backend_count; bi++) {
        if (!in_list(o->backends, backends[bi]->name) || !backends[bi]->probe(why, sizeof why)) continue;
        put_price(o, backends[bi], r->prices, r->nprices, &r->si);
        put_energy(backends[bi], &r->si);
    }
    if (r->root && !o->no_ceilings) fprintf(stderr, "dlbench: measuring ceilings (peak bandwidth and FLOP/s) of the backends in use\n");
    r->ceil = calloc(backend_count > 0 ? (size_t)backend_count : 1, sizeof *r->ceil);
    for (int bi = 0; bi < backend_count; bi++) {
        int rated = 0; /* rows that get a % of ceiling: those a rank measures alone */
        for (int i = 0; i < r->n; i++)
            rated |= r->items[i].w->group == GROUP_NONE && (r->items[i].b == backends[bi] || r->items[i].b->base == backends[bi]);
        ceiling_clear(&r->ceil[bi]);
        if (o->no_ceilings || !rated || !in_list(o->backends, backends[bi]->name) || backends[bi]->base) continue;
        ceilings_measure(backends[bi], (int)o->threads[o->nthreads - 1], o->quick, &r->ceil[bi]);
        ceilings_put(backends[bi], &r->ceil[bi], &r->si);
    }
    snprintf(path, sizeof path, "%s/system.json", r->dir);
    if (r->root && sysinfo_write_json(&r->si, path) != 0) fprintf(stderr, "dlbench: warning: cannot write %s\n", path);
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
    mine->rank = dist_rank();
    mine->ranks = dist_size();
    snprintf(mine->host, sizeof mine->host, "%s", dist_self()->host);
    for (int bi = 0; bi < backend_count; bi++)
        if (backends[bi] == it->b) ceiling_apply(&r->ceil[bi], mine);
    return 0;
}

/* Phase 4: every planned row measured, every rank's row of it sent to rank 0, which appends them as
 * they come; stops at Ctrl-C, and after a row when a rank was lost. */
static void run_measure(struct run *r)
{
    const struct run_opts *o = r->o;
    if (r->root) fprintf(stderr, "dlbench: %d rows planned%s, writing %s/\n", r->n, dist_size() > 1 ? " per rank" : "", r->dir);
    r->t_start = wall_seconds();
    for (int i = 0; i < r->n && !r->interrupted && !r->lost; i++) {
        const struct item *it = &r->items[i];
        struct row mine;
        struct timing_result tr;
        int have, fault = dist_fault_before(it->case_name);
        if (measure_item(r, it, &mine, &tr, &have)) {
            r->interrupted = 1;
            free(tr.samples);
            break;
        }
        if (fault) snprintf(mine.status, sizeof mine.status, "failed: a fault injected on purpose (DLBENCH_TEST_FAULT)");
        struct dist_row *got;
        int ngot;
        r->lost = dist_collect(i, &mine, have, tr.samples, row_measured(&mine) ? tr.n : 0, o->timing.case_timeout + DIST_GRACE_S,
                               &got, &ngot);
        free(tr.samples);
        for (int g = 0; g < ngot; g++) {
            struct row *row = &got[g].r;
            r->failed += strncmp(row->status, "failed", 6) == 0 || strcmp(row->status, "timeout") == 0;
            if (results_append(&r->out, row, got[g].samples, row_measured(row) ? got[g].n : 0) != 0)
                fprintf(stderr, "dlbench: warning: writing %s/results.csv failed\n", r->dir);
            if (r->done == r->cap) r->rows = realloc(r->rows, sizeof *r->rows * (r->cap = r->cap ? r->cap * 2 : 64));
            r->rows[r->done++] = *row;
            if (!o->quiet) progress(row, i + 1, r->n, r->t_start);
        }
        dist_rows_free(got, ngot);
        r->interrupted = timing_interrupted;
    }
    if (r->lost && !r->root) dist_await_abort();   /* rank 0 writes what it has, then ends the run */
    if (r->root) results_close(&r->out);
}

/* Phase 5: report.md, plots and the CI JSON from the rows completed; the summary on stdout. */
static void run_finish(struct run *r)
{
    char path[4200];
    if (!r->root) return;
    snprintf(path, sizeof path, "%s/report.md", r->dir);
    if (report_write_file(r->rows, r->done, &r->si, r->dir) != 0) fprintf(stderr, "dlbench: warning: cannot write %s\n", path);
    if (ci_json_write(r->rows, r->done, &r->si, r->dir) != 0)
        fprintf(stderr, "dlbench: warning: cannot write the JSON files in %s\n", r->dir);
    report_print_summary(r->rows, r->done, stdout);
    fprintf(stderr, "dlbench: %d rows in %.1f s; results in %s/%s\n", r->done, wall_seconds() - r->t_start, r->dir,
            r->lost ? " (a rank was lost: the run ends here)" : r->interrupted ? " (interrupted: the report covers the rows completed)" : "");
}

static void run_free(struct run *r)
{
    sysinfo_free(&r->si);
    free(r->ceil);
    free(r->rows);
    free(r->prices);
    free(r->items);
    free_custom(r->custom, r->ncustom);
}

int run_main(struct run_opts *o)
{
    struct run r = {.o = o};
    int rc = run_prepare(&r);
    if (rc == 0) rc = run_open_folder(&r);
    if (rc == 0) {
        run_describe(&r);
        run_measure(&r);
        run_finish(&r);
        rc = r.interrupted ? 130 : r.failed ? 1 : 0;
        if (r.lost) dist_abort(1);    /* the lost rank may still hold the others: end every rank */
    }
    run_free(&r);
    return rc;
}
