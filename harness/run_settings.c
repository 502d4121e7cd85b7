/* run_settings.c: the effective settings of a `dlbench run` (after defaults) into the run's record
 * (system.json section "run", harness/output/run_record.h), and the command line that reproduces
 * them: every setting explicit, so the same run follows on the same machine whatever the defaults. */
#include "run_settings.h"
#include "dtype.h"
#include "run_record.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

/* The reproducing command's words: at most 48, each kept here. */
struct words { const char *v[48]; char store[48][512]; int n; };

static void word(struct words *w, const char *s)
{
    if (w->n == 48) return;
    snprintf(w->store[w->n], sizeof w->store[0], "%s", s);
    w->v[w->n] = w->store[w->n];
    w->n++;
}

/* key = value in the record, and "--opt value" in the reproducing command. */
static void setting(struct sysinfo *si, struct words *w, const char *key, const char *opt, const char *value)
{
    sysinfo_set(si, "run", key, value);
    if (opt) { word(w, opt); word(w, value); }
}

static void list_long(const long *v, int n, char *buf, size_t len)
{
    buf[0] = 0;
    for (int i = 0; i < n; i++) snprintf(buf + strlen(buf), len - strlen(buf), "%s%ld", i ? "," : "", v[i]);
}

static void fmt_seconds(double s, char *buf, size_t len) { snprintf(buf, len, "%g", s); }

void run_settings_record(const struct run_opts *o, int rows_planned, struct sysinfo *si)
{
    struct words w = {.n = 0};
    char v[512];
    run_record_command(si, o->argc, o->argv);
    run_record_env(si);
    word(&w, "run");
    setting(si, &w, "suite", "--suite", o->quick ? "quick" : "full");
    if (o->backends) setting(si, &w, "backends", "--backend", o->backends);
    if (o->workloads) setting(si, &w, "workloads", "--workload", o->workloads);
    if (o->filter) setting(si, &w, "filter", "--filter", o->filter);
    if (o->dtypes) {
        v[0] = 0;
        for (int d = 0; d < DT_COUNT; d++)
            if (o->dtypes & (1u << d)) snprintf(v + strlen(v), sizeof v - strlen(v), "%s%s", *v ? "," : "", dtype_name((enum dtype)d));
        setting(si, &w, "dtypes", "--dtype", v);
    }
    list_long(o->threads, o->nthreads, v, sizeof v);
    setting(si, &w, "threads", "--threads", v);
    if (o->ndims > 0) {
        v[0] = 0;
        for (int i = 0; i < o->ndims; i++) snprintf(v + strlen(v), sizeof v - strlen(v), "%s%ld", i ? "x" : "", o->dims[i]);
        setting(si, &w, "size", "--size", v);
    }
    fmt_seconds(o->timing.min_time, v, sizeof v);
    setting(si, &w, "min_time_s", "--min-time", v);
    fmt_seconds(o->timing.max_time, v, sizeof v);
    setting(si, &w, "max_time_s", "--max-time", v);
    fmt_seconds(o->timing.case_timeout, v, sizeof v);
    setting(si, &w, "case_timeout_s", "--case-timeout", v);
    snprintf(v, sizeof v, "%llu", (unsigned long long)o->seed);
    setting(si, &w, "seed", "--seed", v);
    if (o->data) setting(si, &w, "data", "--data", o->data);
    if (o->prices) setting(si, &w, "prices", "--prices", o->prices);
    if (!isnan(o->price_cpu)) { snprintf(v, sizeof v, "%g", o->price_cpu); setting(si, &w, "price_cpu", "--price-cpu", v); }
    if (!isnan(o->price_gpu)) { snprintf(v, sizeof v, "%g", o->price_gpu); setting(si, &w, "price_gpu", "--price-gpu", v); }
    sysinfo_set(si, "run", "ceilings", o->no_ceilings ? "not measured (--no-ceilings)" : "measured");
    if (o->no_ceilings) word(&w, "--no-ceilings");
    snprintf(v, sizeof v, "%d", rows_planned);
    sysinfo_set(si, "run", "rows_planned", v);
    run_record_reproduce(si, o->argc > 0 && o->argv ? o->argv[0] : "dlbench", w.v, w.n);
}
