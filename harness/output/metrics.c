/* metrics.c: row units and throughput, GPU/CPU pairing and speedups, family geometric means. */
#include "metrics.h"
#include "backend.h"
#include "stats.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

int row_in_gbps(const struct row *r)
{
    return !(r->flops > 0) || !strcmp(r->family, "bandwidth") || !strcmp(r->family, "transfer");
}
const char *row_unit(const struct row *r) { return row_in_gbps(r) ? "GB/s" : "GFLOP/s"; }
double row_metric(const struct row *r) { return row_in_gbps(r) ? r->gbytes_per_s : r->gflops; }
double row_metric_at(const struct row *r, double seconds) { return (row_in_gbps(r) ? r->bytes : r->flops) / seconds * 1e-9; }

int row_is_gpu(const struct row *r)
{
    const struct backend *b = backend_find(r->backend);
    return b ? b->kind == BACKEND_GPU : strcmp(r->backend, "cpu") != 0;
}

int row_is_variant(const struct row *r)
{
    const struct backend *b = backend_find(r->backend);
    return b && b->base;
}

int row_is_cpu(const struct row *r) { return !row_is_gpu(r) && !row_is_variant(r); }

int same_case(const struct row *a, const struct row *b)
{
    return !strcmp(a->workload, b->workload) && !strcmp(a->case_name, b->case_name) && !strcmp(a->dtype, b->dtype);
}

void row_pair(const struct row *rows, int n, const struct row *key, const struct row **cpu, const struct row **gpu)
{
    const struct row *any_gpu = NULL;
    *cpu = *gpu = NULL;
    for (int i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        if (!same_case(r, key)) continue;
        if (row_is_cpu(r)) {
            if (!*cpu || (row_measured(r) && (!row_measured(*cpu) || r->threads > (*cpu)->threads))) *cpu = r;
        } else if (row_is_gpu(r)) {
            if (!any_gpu) any_gpu = r;
            if (!*gpu && !row_is_variant(r)) *gpu = r;
        }
    }
    if (!*gpu) *gpu = any_gpu;
}

double row_speedup(const struct row *a, const struct row *b)
{
    if (!a || !b || !row_measured(a) || !row_measured(b)) return NAN;
    return row_metric(a) / row_metric(b);
}

int gpu_cpu_speedups(const struct row *rows, int n, struct family_ratio **out)
{
    int k = 0;
    *out = malloc(sizeof **out * (n + 1));
    for (int i = 0; i < n; i++) {
        const struct row *cpu, *gpu;
        if (!row_is_cpu(&rows[i])) continue;
        row_pair(rows, n, &rows[i], &cpu, &gpu);
        double s = cpu == &rows[i] ? row_speedup(gpu, cpu) : NAN; /* once per case: at its CPU row */
        if (!isnan(s)) (*out)[k++] = (struct family_ratio){rows[i].family, s};
    }
    return k;
}

double family_geomean(const struct family_ratio *v, int n, const char *family, int *k)
{
    double *x = malloc(sizeof *x * (n + 1));
    int m = 0;
    for (int i = 0; i < n; i++)
        if (!family || !strcmp(v[i].family, family)) x[m++] = v[i].ratio;
    double g = m ? geomean(x, m) : NAN;
    free(x);
    if (k) *k = m;
    return g;
}

int row_backends(const struct row *rows, int n, const char **names, int max)
{
    int k = 0;
    for (int b = 0; b < backend_count && k < max; b++)
        for (int i = 0; i < n; i++)
            if (!strcmp(rows[i].backend, backends[b]->name)) { names[k++] = backends[b]->name; break; }
    for (int i = 0; i < n && k < max; i++) {
        int seen = 0;
        for (int j = 0; j < k && !seen; j++) seen = !strcmp(names[j], rows[i].backend);
        if (!seen) names[k++] = rows[i].backend;
    }
    return k;
}
