/* ci_json.c: Google Benchmark JSON (context + benchmarks with real_time, time_unit and throughput
 * counters; failed and skipped rows carry error_occurred), the customBiggerIsBetter form of
 * github-action-benchmark, and Bencher Metric Format with the CI of the median as bounds; all
 * built as cJSON documents and written atomically. Numbers carry 6 significant digits. */
#include "ci_json.h"
#include "files.h"
#include "metrics.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void row_bench_name(const struct row *r, char *buf, size_t n)
{
    char rk[32] = "";   /* multi-process runs: a rank's row, or a row of several ranks together */
    if (r->rank < 0) snprintf(rk, sizeof rk, "/ranks:%d", r->ranks);
    else if (r->ranks > 1) snprintf(rk, sizeof rk, "/rank:%d", r->rank);
    if (r->threads) snprintf(buf, n, "%s/%s/%s/%s/threads:%d%s", r->backend, r->workload, r->case_name, r->dtype, r->threads, rk);
    else snprintf(buf, n, "%s/%s/%s/%s%s", r->backend, r->workload, r->case_name, r->dtype, rk);
}

static void add_str(cJSON *o, const char *key, const char *val) { cJSON_AddStringToObject(o, key, val ? val : ""); }
static void add_num(cJSON *o, const char *key, double v) { cJSON_AddNumberToObject(o, key, round6(v)); }

static int write_doc(cJSON *doc, const char *dir, const char *name)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int rc = json_write_file(doc, path);
    cJSON_Delete(doc);
    return rc;
}

static cJSON *gbench_context(const struct sysinfo *si)
{
    const char *cores = sysinfo_get(si, "cpu", "cores"), *l3 = sysinfo_get(si, "cpu", "l3_bytes");
    cJSON *c = cJSON_CreateObject(), *caches = cJSON_CreateArray(), *l3c = cJSON_CreateObject();
    add_str(c, "date", sysinfo_get(si, "dlbench", "date_utc"));
    add_str(c, "host_name", sysinfo_get(si, "host", "hostname"));
    add_str(c, "executable", "dlbench");
    cJSON_AddNumberToObject(c, "num_cpus", cores ? atoi(cores) : 0);
    cJSON_AddNumberToObject(c, "mhz_per_cpu", 0);
    cJSON_AddFalseToObject(c, "cpu_scaling_enabled");
    add_str(l3c, "type", "Unified");
    cJSON_AddNumberToObject(l3c, "level", 3);
    cJSON_AddNumberToObject(l3c, "size", l3 ? (double)atol(l3) : 0);
    cJSON_AddNumberToObject(l3c, "num_sharing", cores ? atoi(cores) : 0);
    cJSON_AddItemToArray(caches, l3c);
    cJSON_AddItemToObject(c, "caches", caches);
    add_str(c, "library_build_type", "release");
    add_str(c, "cpu_model", sysinfo_get(si, "cpu", "model"));
    add_str(c, "gpu", sysinfo_get(si, "gpu0", "name") ? sysinfo_get(si, "gpu0", "name") : "none");
    add_str(c, "dlbench_version", sysinfo_get(si, "dlbench", "version"));
    add_str(c, "git_revision", sysinfo_get(si, "dlbench", "git_revision"));
    return c;
}

static cJSON *gbench_row(const struct row *r, int index)
{
    char name[256];
    cJSON *b = cJSON_CreateObject();
    row_bench_name(r, name, sizeof name);
    add_str(b, "name", name);
    add_str(b, "run_name", name);
    cJSON_AddNumberToObject(b, "family_index", index);
    cJSON_AddNumberToObject(b, "per_family_instance_index", 0);
    add_str(b, "run_type", "iteration");
    cJSON_AddNumberToObject(b, "repetitions", 1);
    cJSON_AddNumberToObject(b, "repetition_index", 0);
    cJSON_AddNumberToObject(b, "threads", r->threads ? r->threads : 1);
    int ok = row_measured(r);
    cJSON_AddNumberToObject(b, "iterations", ok ? (double)r->samples * r->reps : 0);
    add_num(b, "real_time", ok ? r->median_s * 1e6 : 0);
    add_num(b, "cpu_time", ok ? r->median_s * 1e6 : 0);
    add_str(b, "time_unit", "us");
    if (!ok) {
        cJSON_AddTrueToObject(b, "error_occurred");
        add_str(b, "error_message", r->status);
        return b;
    }
    if (r->flops > 0) add_num(b, "FLOP/s", r->flops / r->median_s);
    add_num(b, "bytes_per_second", r->bytes / r->median_s);
    cJSON_AddNumberToObject(b, "samples", r->samples);
    add_num(b, "ci_lo_us", r->ci_lo_s * 1e6);
    add_num(b, "ci_hi_us", r->ci_hi_s * 1e6);
    if (!strcmp(r->status, "noisy")) add_str(b, "label", "noisy");
    return b;
}

/* Per family: GPU/CPU geomean of the best row of each side and of dlbench's own lowering, each
 * with the backend pairs its ratios came from (extra keys; Google Benchmark's tools ignore them). */
static cJSON *gpu_cpu_json(const struct row *rows, int n)
{
    cJSON *list = cJSON_CreateArray();
    struct family_ratio *v[2];
    int nv[2] = {gpu_cpu_speedups_by(rows, n, PAIR_BEST, &v[0]), gpu_cpu_speedups_by(rows, n, PAIR_OWN, &v[1])};
    static const char *const mode[2] = {"best", "own"};
    for (int i = 0; i < nv[0] + nv[1]; i++) {
        const char *fam = i < nv[0] ? v[0][i].family : v[1][i - nv[0]].family;
        int seen = 0;
        for (int j = 0; j < i && !seen; j++) seen = !strcmp(fam, j < nv[0] ? v[0][j].family : v[1][j - nv[0]].family);
        if (seen) continue;
        cJSON *e = cJSON_CreateObject();
        add_str(e, "family", fam);
        for (int m = 0; m < 2; m++) {
            char key[32], from[256];
            int k;
            double g = family_geomean(v[m], nv[m], fam, &k);
            if (!k) continue;
            ratio_sources(v[m], nv[m], fam, from, sizeof from);
            snprintf(key, sizeof key, "%s_geomean", mode[m]); add_num(e, key, g);
            snprintf(key, sizeof key, "%s_pairs", mode[m]); cJSON_AddNumberToObject(e, key, k);
            snprintf(key, sizeof key, "%s_from", mode[m]); add_str(e, key, from);
        }
        cJSON_AddItemToArray(list, e);
    }
    free(v[0]); free(v[1]);
    return list;
}

static int write_gbench(const struct row *rows, int n, const struct sysinfo *si, const char *dir)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddItemToObject(doc, "context", gbench_context(si));
    cJSON_AddItemToObject(doc, "dlbench_gpu_cpu", gpu_cpu_json(rows, n));
    cJSON *list = cJSON_AddArrayToObject(doc, "benchmarks");
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(list, gbench_row(&rows[i], i));
    return write_doc(doc, dir, "results.json");
}

static int write_gab(const struct row *rows, int n, const char *dir)
{
    char name[256], extra[256], range[32];
    cJSON *doc = cJSON_CreateArray();
    for (int i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        if (!row_measured(r)) continue;
        double v = row_metric(r), lo = row_metric_at(r, r->ci_hi_s), hi = row_metric_at(r, r->ci_lo_s);
        cJSON *e = cJSON_CreateObject();
        row_bench_name(r, name, sizeof name);
        snprintf(extra, sizeof extra, "%s; median of %d samples; device %s; status %s", r->shape, r->samples, r->device, r->status);
        snprintf(range, sizeof range, "± %.3g", fmax(hi - v, v - lo));
        add_str(e, "name", name);
        add_str(e, "unit", row_unit(r));
        add_num(e, "value", v);
        add_str(e, "range", range);
        add_str(e, "extra", extra);
        cJSON_AddItemToArray(doc, e);
    }
    return write_doc(doc, dir, "github-action-benchmark.json");
}

static int write_bmf(const struct row *rows, int n, const char *dir)
{
    char name[256];
    cJSON *doc = cJSON_CreateObject();
    for (int i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        if (!row_measured(r)) continue;
        cJSON *m = cJSON_CreateObject(), *t = cJSON_AddObjectToObject(m, "throughput");
        row_bench_name(r, name, sizeof name);
        add_num(t, "value", row_metric(r));
        add_num(t, "lower_value", row_metric_at(r, r->ci_hi_s));
        add_num(t, "upper_value", row_metric_at(r, r->ci_lo_s));
        cJSON_AddItemToObject(doc, name, m);
    }
    return write_doc(doc, dir, "bmf.json");
}

int ci_json_write(const struct row *rows, int n, const struct sysinfo *si, const char *dir)
{
    int bad = write_gbench(rows, n, si, dir);
    bad |= write_gab(rows, n, dir);
    bad |= write_bmf(rows, n, dir);
    return bad ? -1 : 0;
}
