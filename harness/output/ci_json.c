/* ci_json.c: Google Benchmark JSON (context + benchmarks with real_time, time_unit and throughput
 * counters; failed and skipped rows carry error_occurred), the customBiggerIsBetter form of
 * github-action-benchmark, and Bencher Metric Format with the CI of the median as bounds. */
#include "ci_json.h"
#include "report.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void row_bench_name(const struct row *r, char *buf, size_t n)
{
    char rk[32] = "";   /* multi-process runs: a rank's row, or a row of several ranks together */
    if (r->rank < 0) snprintf(rk, sizeof rk, "/ranks:%d", r->ranks);
    else if (r->ranks > 1) snprintf(rk, sizeof rk, "/rank:%d", r->rank);
    if (r->threads) snprintf(buf, n, "%s/%s/%s/%s/threads:%d%s", r->backend, r->workload, r->case_name, r->dtype, r->threads, rk);
    else snprintf(buf, n, "%s/%s/%s/%s%s", r->backend, r->workload, r->case_name, r->dtype, rk);
}

static FILE *open_tmp(const char *dir, const char *name, char *tmp, char *final)
{
    snprintf(final, 4300, "%s/%s", dir, name);
    snprintf(tmp, 4400, "%s.tmp", final);
    return fopen(tmp, "w");
}

static int close_rename(FILE *f, const char *tmp, const char *final)
{
    int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    return bad || rename(tmp, final) != 0 ? -1 : 0;
}

static void kv(FILE *f, const char *key, const char *val, int comma)
{
    fputs("    ", f);
    json_write_string(f, key);
    fputs(": ", f);
    json_write_string(f, val ? val : "");
    fputs(comma ? ",\n" : "\n", f);
}

static int write_gbench(const struct row *rows, int n, const struct sysinfo *si, const char *dir)
{
    char tmp[4400], final[4300], name[256];
    FILE *f = open_tmp(dir, "results.json", tmp, final);
    if (!f) return -1;
    const char *cores = sysinfo_get(si, "cpu", "cores"), *l3 = sysinfo_get(si, "cpu", "l3_bytes");
    fputs("{\n  \"context\": {\n", f);
    kv(f, "date", sysinfo_get(si, "dlbench", "date_utc"), 1);
    kv(f, "host_name", sysinfo_get(si, "host", "hostname"), 1);
    kv(f, "executable", "dlbench", 1);
    fprintf(f, "    \"num_cpus\": %d,\n    \"mhz_per_cpu\": 0,\n    \"cpu_scaling_enabled\": false,\n", cores ? atoi(cores) : 0);
    fprintf(f, "    \"caches\": [{\"type\": \"Unified\", \"level\": 3, \"size\": %ld, \"num_sharing\": %d}],\n",
            l3 ? atol(l3) : 0L, cores ? atoi(cores) : 0);
    fputs("    \"library_build_type\": \"release\",\n", f);
    kv(f, "cpu_model", sysinfo_get(si, "cpu", "model"), 1);
    kv(f, "gpu", sysinfo_get(si, "gpu0", "name") ? sysinfo_get(si, "gpu0", "name") : "none", 1);
    kv(f, "dlbench_version", sysinfo_get(si, "dlbench", "version"), 1);
    kv(f, "git_revision", sysinfo_get(si, "dlbench", "git_revision"), 0);
    fputs("  },\n  \"benchmarks\": [", f);
    for (int i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        row_bench_name(r, name, sizeof name);
        fputs(i ? ",\n    {" : "\n    {", f);
        fputs("\"name\": ", f);
        json_write_string(f, name);
        fputs(", \"run_name\": ", f);
        json_write_string(f, name);
        fprintf(f, ", \"family_index\": %d, \"per_family_instance_index\": 0, \"run_type\": \"iteration\", "
                   "\"repetitions\": 1, \"repetition_index\": 0, \"threads\": %d", i, r->threads ? r->threads : 1);
        if (row_measured(r)) {
            fprintf(f, ", \"iterations\": %ld, \"real_time\": %.6g, \"cpu_time\": %.6g, \"time_unit\": \"us\"",
                    (long)r->samples * r->reps, r->median_s * 1e6, r->median_s * 1e6);
            if (r->flops > 0) fprintf(f, ", \"FLOP/s\": %.6g", r->flops / r->median_s);
            fprintf(f, ", \"bytes_per_second\": %.6g, \"samples\": %d, \"ci_lo_us\": %.6g, \"ci_hi_us\": %.6g",
                    r->bytes / r->median_s, r->samples, r->ci_lo_s * 1e6, r->ci_hi_s * 1e6);
            if (!strcmp(r->status, "noisy")) fputs(", \"label\": \"noisy\"", f);
        } else {
            fputs(", \"iterations\": 0, \"real_time\": 0, \"cpu_time\": 0, \"time_unit\": \"us\", \"error_occurred\": true, "
                  "\"error_message\": ", f);
            json_write_string(f, r->status);
        }
        fputc('}', f);
    }
    fputs("\n  ]\n}\n", f);
    return close_rename(f, tmp, final);
}

/* Throughput at a time t in the row's headline unit. */
static double tput(const struct row *r, double t)
{
    return (report_in_gbps(r) ? r->bytes : r->flops) / t * 1e-9;
}

static int write_gab(const struct row *rows, int n, const char *dir)
{
    char tmp[4400], final[4300], name[256], extra[256];
    FILE *f = open_tmp(dir, "github-action-benchmark.json", tmp, final);
    int k = 0;
    if (!f) return -1;
    fputs("[", f);
    for (int i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        if (!row_measured(r)) continue;
        row_bench_name(r, name, sizeof name);
        double v = report_metric(r), lo = tput(r, r->ci_hi_s), hi = tput(r, r->ci_lo_s);
        snprintf(extra, sizeof extra, "%s; median of %d samples; device %s; status %s", r->shape, r->samples, r->device, r->status);
        fputs(k++ ? ",\n  {" : "\n  {", f);
        fputs("\"name\": ", f);
        json_write_string(f, name);
        fprintf(f, ", \"unit\": \"%s\", \"value\": %.6g, \"range\": \"± %.3g\", \"extra\": ", report_in_gbps(r) ? "GB/s" : "GFLOP/s",
                v, fmax(hi - v, v - lo));
        json_write_string(f, extra);
        fputc('}', f);
    }
    fputs(k ? "\n]\n" : "]\n", f);
    return close_rename(f, tmp, final);
}

static int write_bmf(const struct row *rows, int n, const char *dir)
{
    char tmp[4400], final[4300], name[256];
    FILE *f = open_tmp(dir, "bmf.json", tmp, final);
    int k = 0;
    if (!f) return -1;
    fputs("{", f);
    for (int i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        if (!row_measured(r)) continue;
        row_bench_name(r, name, sizeof name);
        fputs(k++ ? ",\n  " : "\n  ", f);
        json_write_string(f, name);
        fprintf(f, ": {\"throughput\": {\"value\": %.6g, \"lower_value\": %.6g, \"upper_value\": %.6g}}", report_metric(r),
                tput(r, r->ci_hi_s), tput(r, r->ci_lo_s));
    }
    fputs(k ? "\n}\n" : "}\n", f);
    return close_rename(f, tmp, final);
}

int ci_json_write(const struct row *rows, int n, const struct sysinfo *si, const char *dir)
{
    int bad = write_gbench(rows, n, si, dir);
    bad |= write_gab(rows, n, dir);
    bad |= write_bmf(rows, n, dir);
    return bad ? -1 : 0;
}
