/* report_dist.c: the report sections of a multi-process run: every rank's figures beside rank 0's,
 * the collectives (time, algbw, busbw as nccl-tests defines them), and data-parallel training
 * (samples/s, scaling efficiency against one rank, cost per epoch of the whole allocation). The
 * other sections show rank 0's rows only: a row of several ranks never sits beside one device's. */
#include "report.h"
#include "metrics.h"
#include "prices.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

int report_rank_view(const struct row *rows, int n, struct row **view)
{
    int multi = 0, k = 0;
    *view = NULL;
    for (int i = 0; i < n; i++) multi |= rows[i].ranks > 1;
    if (!multi) return n;
    *view = malloc(sizeof **view * (n + 1));
    for (int i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        if (r->rank == 0 || (r->rank < 0 && (r->ranks == 1 || !row_measured(r)))) (*view)[k++] = *r;
    }
    return k;
}

static int same_item(const struct row *a, const struct row *b)
{
    return !strcmp(a->backend, b->backend) && !strcmp(a->workload, b->workload) && !strcmp(a->case_name, b->case_name) &&
           !strcmp(a->dtype, b->dtype) && a->threads == b->threads;
}

/* Rows every rank measured alone at the same time: rank 0, the slowest and fastest rank, and the sum. */
static void per_rank(const struct row *rows, int n, const struct sysinfo *si, FILE *f)
{
    int any = 0;
    for (int i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        if (r->rank != 0 || r->ranks < 2 || !row_measured(r)) continue;
        double lo = INFINITY, hi = 0, sum = 0;
        int k = 0, lo_rank = 0, hi_rank = 0;
        for (int j = 0; j < n; j++) {
            const struct row *q = &rows[j];
            if (q->rank < 0 || !same_item(q, r) || !row_measured(q)) continue;
            double m = row_metric(q);
            if (m < lo) { lo = m; lo_rank = q->rank; }
            if (m > hi) { hi = m; hi_rank = q->rank; }
            sum += m;
            k++;
        }
        if (!any++)
            fprintf(f, "\n## Every rank at once\n\n%s ranks on %s host(s) (%s; %s) measured each row below at the same time, each on "
                       "its own share of its node; the tables above show rank 0's. Sum: what the ranks did together.\n\n"
                       "| workload | case | dtype | backend | unit | rank 0 | slowest (rank) | fastest (rank) | ranks measured | sum |\n"
                       "|---|---|---|---|---|---:|---:|---:|---:|---:|\n",
                    sysinfo_get(si, "dist", "ranks") ?: "?", sysinfo_get(si, "dist", "hosts") ?: "?",
                    sysinfo_get(si, "dist", "launcher") ?: "?", sysinfo_get(si, "dist", "transport") ?: "?");
        fprintf(f, "| %s | %s | %s | %s | %s | %.1f | %.1f (%d) | %.1f (%d) | %d of %d | %.1f |\n", r->workload, r->case_name,
                r->dtype, r->backend, row_unit(r), row_metric(r), lo, lo_rank, hi, hi_rank, k,
                r->ranks, sum);
    }
}

static void collectives(const struct row *rows, int n, FILE *f)
{
    int any = 0;
    for (int i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        if (strcmp(r->family, "collective") || !row_measured(r)) continue;
        if (!any++)
            fputs("\n## Collectives\n\nAs nccl-tests defines them: S is the whole array in bytes, time the median over operations "
                  "of the slowest rank's time, algbw = S / time, busbw = algbw × 2(n-1)/n for all-reduce, × (n-1)/n for "
                  "all-gather and reduce-scatter, × 1 for broadcast. Every result was checked element by element.\n\n"
                  "| operation | S | dtype | backend | ranks | time µs [95% CI] | algbw GB/s | busbw GB/s |\n"
                  "|---|---|---|---|---:|---:|---:|---:|\n", f);
        fprintf(f, "| %s | %s | %s | %s | %d | %.2f [%.2f, %.2f]%s | %.3f | %.3f |\n", r->workload, r->case_name, r->dtype, r->backend,
                r->ranks, r->median_s * 1e6, r->ci_lo_s * 1e6, r->ci_hi_s * 1e6, strcmp(r->status, "noisy") ? "" : " ~",
                r->gbytes_per_s, r->busbw_gbps);
    }
}

/* Distinct hosts among ranks 0..k-1, from system.json's dist.rank.K ("host, …"); 1 when unknown. */
static int hosts_of(const struct sysinfo *si, int k)
{
    char seen[64][64];
    int ns = 0;
    for (int r = 0; r < k; r++) {
        char key[48], host[64];
        snprintf(key, sizeof key, "rank.%d", r);
        const char *v = sysinfo_get(si, "dist", key);
        if (!v) return ns ? ns : 1;
        snprintf(host, sizeof host, "%.*s", (int)strcspn(v, ","), v);
        int dup = 0;
        for (int j = 0; j < ns; j++) dup |= !strcmp(seen[j], host);
        if (!dup && ns < 64) snprintf(seen[ns++], sizeof seen[0], "%s", host);
    }
    return ns ? ns : 1;
}

/* The price of the whole allocation of a k-rank row: per GPU × k, or per machine × its hosts. */
double report_allocation_usd_per_hour(const struct sysinfo *si, const struct row *r, const char **covers)
{
    char sec[48];
    snprintf(sec, sizeof sec, "price.%s", r->backend);
    const char *usd = sysinfo_get(si, sec, "usd_per_hour"), *cov = sysinfo_get(si, sec, "covers");
    *covers = cov ? cov : "";
    if (!usd) return NAN;
    int k = r->ranks > 0 ? r->ranks : 1;
    int per_device = cov && (strstr(cov, "GPU") || strstr(cov, "gpu")) && !strstr(cov, "whole");
    return atof(usd) * (per_device ? k : hosts_of(si, k));
}

static const struct row *one_rank(const struct row *rows, int n, const struct row *r)
{
    for (int i = 0; i < n; i++)
        if (rows[i].rank < 0 && rows[i].ranks == 1 && same_item(&rows[i], r) && row_measured(&rows[i])) return &rows[i];
    return NULL;
}

static void data_parallel(const struct row *rows, int n, const struct sysinfo *si, FILE *f)
{
    const char *dsz = sysinfo_get(si, "train", "dataset_size");
    int dataset = dsz ? atoi(dsz) : 60000, any = 0;
    for (int i = 0; i < n; i++) {
        const struct row *r = &rows[i], *base = one_rank(rows, n, r);
        if (strcmp(r->family, "dp-train") || !row_measured(r)) continue;
        if (!any++)
            fprintf(f, "\n## Data-parallel training\n\nOne step on k ranks: each takes its slice of the global batch, the "
                       "gradients are summed over the ranks (layer by layer, overlapped with the rest of backward) and "
                       "averaged. Scaling efficiency = samples/s at k ranks ÷ (k × samples/s at one rank): weak scaling keeps "
                       "the batch per rank, strong scaling splits one global batch. An epoch is %d samples; its cost is for "
                       "the whole allocation (k GPUs, or every machine the k ranks ran on). Verified: after one step every "
                       "rank holds the weights one rank gets from the whole global batch (error = largest difference ÷ "
                       "largest update, per layer).\n\n"
                       "| case | backend | ranks | global batch | ms/step [95%% CI] | samples/s | efficiency | s/epoch | $/epoch | "
                       "equivalence error |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n", dataset);
        double sps = r->items_per_call / r->median_s;
        fprintf(f, "| %s | %s | %d | %.0f | %.2f [%.2f, %.2f]%s | %.0f |", r->case_name, r->backend, r->ranks, r->items_per_call,
                r->median_s * 1e3, r->ci_lo_s * 1e3, r->ci_hi_s * 1e3, strcmp(r->status, "noisy") ? "" : " ~", sps);
        if (base) fprintf(f, " %.0f%% |", 100 * sps / (r->ranks * base->items_per_call / base->median_s));
        else fputs(" — |", f);
        const char *covers;
        double usd = report_allocation_usd_per_hour(si, r, &covers), epoch_s = dataset / r->items_per_call * r->median_s;
        fprintf(f, " %.2f |", epoch_s);
        if (isnan(usd)) fputs(" n/a: no price |", f); else fprintf(f, " $%.3g |", epoch_s / 3600 * usd);
        fprintf(f, " %.2g |\n", r->verify_err);
    }
}

void report_dist(const struct row *rows, int n, const struct sysinfo *si, FILE *f)
{
    per_rank(rows, n, si, f);
    collectives(rows, n, f);
    data_parallel(rows, n, si, f);
}
