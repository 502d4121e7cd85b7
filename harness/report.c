/* report.c: GitHub-flavoured Markdown from rows. Families need no code here: a row with FLOPs is
 * shown in GFLOP/s, one without in GB/s; GPU/CPU pairs share workload, case and dtype. */
#include "report.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int same_case(const struct row *a, const struct row *b)
{
    return strcmp(a->workload, b->workload) == 0 && strcmp(a->case_name, b->case_name) == 0 &&
           strcmp(a->dtype, b->dtype) == 0;
}

/* Bandwidth-bound families are read in GB/s even where their FLOPs are counted. */
static int in_gbps(const struct row *r)
{
    return !(r->flops > 0) || !strcmp(r->family, "bandwidth") || !strcmp(r->family, "transfer");
}
static double metric(const struct row *r) { return in_gbps(r) ? r->gbytes_per_s : r->gflops; }

/* The CPU row with the most threads among those measured (else any), and the GPU row. */
static void find_pair(const struct row *rows, int n, const struct row *key, const struct row **cpu, const struct row **gpu)
{
    *cpu = *gpu = NULL;
    for (int i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        if (!same_case(r, key)) continue;
        if (strcmp(r->backend, "cpu") == 0) {
            if (!*cpu || (row_measured(r) && (!row_measured(*cpu) || r->threads > (*cpu)->threads))) *cpu = r;
        } else if (!*gpu) *gpu = r;
    }
}

static void cell(FILE *f, const struct row *r)
{
    if (!r) fputs(" — |", f);
    else if (row_measured(r)) fprintf(f, " %.1f%s |", metric(r), strcmp(r->status, "noisy") == 0 ? " ~" : "");
    else {
        char word[32];
        snprintf(word, sizeof word, "%.*s", (int)strcspn(r->status, ":"), r->status);
        fprintf(f, " %s |", word);
    }
}

static void workload_table(const struct row *rows, int n, const char *wl, FILE *f)
{
    const struct row *first = NULL;
    int cpu_threads = 0;
    for (int i = 0; i < n; i++)
        if (strcmp(rows[i].workload, wl) == 0) {
            if (!first) first = &rows[i];
            if (strcmp(rows[i].backend, "cpu") == 0 && rows[i].threads > cpu_threads) cpu_threads = rows[i].threads;
        }
    const char *unit = in_gbps(first) ? "GB/s" : "GFLOP/s";
    fprintf(f, "\n### %s\n\n| case | shape | dtype | CPU %s (%d threads) | GPU %s | GPU/CPU |\n|---|---|---|---:|---:|---:|\n",
            wl, unit, cpu_threads, unit);
    for (int i = 0; i < n; i++) {
        const struct row *r = &rows[i], *cpu, *gpu;
        if (strcmp(r->workload, wl) != 0) continue;
        int seen = 0;
        for (int j = 0; j < i && !seen; j++) seen = same_case(&rows[j], r);
        if (seen) continue;
        find_pair(rows, n, r, &cpu, &gpu);
        fprintf(f, "| %s | %s | %s |", r->case_name, r->shape, r->dtype);
        cell(f, cpu);
        cell(f, gpu);
        if (cpu && gpu && row_measured(cpu) && row_measured(gpu)) fprintf(f, " %.2f× |\n", metric(gpu) / metric(cpu));
        else fputs(" — |\n", f);
    }
}

void report_print_summary(const struct row *rows, int n, FILE *f)
{
    for (int i = 0; i < n; i++) {
        int seen = 0;
        for (int j = 0; j < i && !seen; j++) seen = strcmp(rows[j].workload, rows[i].workload) == 0;
        if (!seen) workload_table(rows, n, rows[i].workload, f);
    }
    fputs("\n`~` marks a noisy row (its median's 95% CI is wider than ±1%); GPU/CPU is the ratio of throughputs.\n", f);
}

/* Every row not ok, grouped by backend and reason so one missing GPU is one line. */
static void notes(const struct row *rows, int n, FILE *f)
{
    int any = 0;
    for (int i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        if (strcmp(r->status, "ok") == 0) continue;
        int seen = 0, count = 0;
        for (int j = 0; j < i && !seen; j++)
            seen = strcmp(rows[j].backend, r->backend) == 0 && strcmp(rows[j].status, r->status) == 0;
        if (seen) continue;
        if (!any++) fputs("\n## Notes\n\n", f);
        for (int j = i; j < n; j++) count += strcmp(rows[j].backend, r->backend) == 0 && strcmp(rows[j].status, r->status) == 0;
        if (count == 1) fprintf(f, "- %s %s %s %s: %s\n", r->backend, r->workload, r->case_name, r->dtype, r->status);
        else fprintf(f, "- %s, %d rows (first: %s %s %s): %s\n", r->backend, count, r->workload, r->case_name, r->dtype, r->status);
    }
}

static void machine(const struct sysinfo *si, FILE *f)
{
    const char *g;
    fputs("## Machine\n\n| | |\n|---|---|\n", f);
    for (int i = 0; i < si->n; i++) {
        const struct kv *k = &si->items[i];
        fprintf(f, "| %s.%s | %s |\n", k->section, k->key, k->value);
    }
    if (!(g = sysinfo_get(si, "gpu0", "name")))
        fprintf(f, "\nNo GPU measured: %s.\n", (g = sysinfo_get(si, "cuda", "status")) ? g : "no CUDA backend");
}

void report_write(const struct row *rows, int n, const struct sysinfo *si, FILE *f)
{
    const char *d = sysinfo_get(si, "dlbench", "date_utc"), *cpu = sysinfo_get(si, "cpu", "model");
    fprintf(f, "# dlbench report\n\n%s, %s. Throughput is FLOPs or bytes per median call; every row was "
               "verified against a double-precision reference before it was timed.\n\n",
            cpu ? cpu : "unknown CPU", d ? d : "unknown date");
    machine(si, f);
    fputs("\n## Results\n", f);
    report_print_summary(rows, n, f);
    notes(rows, n, f);
}

int report_write_file(const struct row *rows, int n, const struct sysinfo *si, const char *path)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return -1;
    report_write(rows, n, si, f);
    int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    return bad || rename(tmp, path) != 0 ? -1 : 0;
}
