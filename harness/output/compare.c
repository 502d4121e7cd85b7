/* compare.c: run-to-run comparison for CI: load two run folders (rows, samples, machine), refuse
 * different hardware, classify each paired row, print a Markdown (or CSV) table and geometric means
 * per family and overall. */
#include "compare.h"
#include "cli.h"
#include "results.h"
#include "stats.h"
#include "sysinfo.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *const verdict_names[] = {"same", "faster", "slower", "ambiguous"};

void compare_classify(const double *base, int nb, const double *neu, int nn, double threshold, double alpha,
                      struct verdict_result *out)
{
    struct summary sb, sn;
    summarize(base, nb, &sb);
    summarize(neu, nn, &sn);
    out->change = sn.median / sb.median - 1.0;
    out->p = mann_whitney(base, nb, neu, nn, NULL);
    if (fabs(out->change) <= threshold) out->v = V_SAME;
    else if (out->p >= alpha) out->v = V_AMBIGUOUS;
    else out->v = out->change > 0 ? V_SLOWER : V_FASTER;
}

struct run {
    char dir[4096];
    struct row *rows;
    int nrows;
    struct sample_set *sets;
    int nsets;
    struct sysinfo si;
};

static void run_free(struct run *r)
{
    free(r->rows);
    samples_free(r->sets, r->nsets);
    sysinfo_free(&r->si);
}

/* A run folder, or the path of its results.csv. */
static int run_load(struct run *r, const char *path)
{
    char p[4200], why[512];
    struct stat st;
    memset(r, 0, sizeof *r);
    snprintf(r->dir, sizeof r->dir, "%s", path);
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
        char *slash = strrchr(r->dir, '/');
        if (slash) *slash = 0; else snprintf(r->dir, sizeof r->dir, ".");
    }
    snprintf(p, sizeof p, "%s/system.json", r->dir);
    if (sysinfo_read_json(&r->si, p, why, sizeof why) != 0) { fprintf(stderr, "dlbench: compare: %s\n", why); return -1; }
    snprintf(p, sizeof p, "%s/results.csv", r->dir);
    if ((r->nrows = results_load(p, &r->rows, why, sizeof why)) < 0) { fprintf(stderr, "dlbench: compare: %s\n", why); return -1; }
    snprintf(p, sizeof p, "%s/samples.csv", r->dir);
    if ((r->nsets = samples_load(p, &r->sets, why, sizeof why)) < 0) { fprintf(stderr, "dlbench: compare: %s\n", why); return -1; }
    return 0;
}

static void fingerprint(const struct sysinfo *si, char *buf, size_t n)
{
    const char *gpu = sysinfo_get(si, "gpu0", "name"), *drv = sysinfo_get(si, "cuda", "driver");
    snprintf(buf, n, "cpu.model=%s, cpu.cores=%s, gpu=%s, driver major=%.*s", sysinfo_get(si, "cpu", "model") ?: "?",
             sysinfo_get(si, "cpu", "cores") ?: "?", gpu ? gpu : "none", drv ? (int)strcspn(drv, ".") : 4, drv ? drv : "none");
}

static const struct sample_set *find_set(const struct run *r, const char *key)
{
    for (int i = 0; i < r->nsets; i++) if (!strcmp(r->sets[i].key, key)) return &r->sets[i];
    return NULL;
}

static const struct row *find_row(const struct run *r, const char *key)
{
    char k[256];
    for (int i = 0; i < r->nrows; i++) { row_key(&r->rows[i], k, sizeof k); if (!strcmp(k, key)) return &r->rows[i]; }
    return NULL;
}

static int same_but_threads(const struct row *a, const struct row *b)
{
    return !strcmp(a->backend, b->backend) && !strcmp(a->workload, b->workload) && !strcmp(a->case_name, b->case_name) &&
           !strcmp(a->dtype, b->dtype) && a->rank == b->rank && a->ranks == b->ranks;
}

/* The partner of base row b in run r: the row with the same key, or else, when each run measured
 * that case at a single thread count, the one row of the other thread count (a run with
 * --threads 1 compared with a 2-thread baseline is a configuration change worth flagging). */
static const struct row *partner(const struct run *base, const struct run *r, const struct row *b)
{
    char key[256];
    row_key(b, key, sizeof key);
    const struct row *exact = find_row(r, key), *other = NULL;
    if (exact) return exact;
    int nb = 0, nr = 0;
    for (int i = 0; i < base->nrows; i++) nb += same_but_threads(&base->rows[i], b);
    for (int i = 0; i < r->nrows; i++)
        if (same_but_threads(&r->rows[i], b)) { nr++; other = &r->rows[i]; }
    return nb == 1 && nr == 1 ? other : NULL;
}

static const char *usage = "usage: dlbench compare BASE NEW [--threshold PCT] [--alpha A] [--csv] [--allow-different-hardware]\n"
                           "  BASE, NEW: run folders (or their results.csv)\n"
                           "  --threshold PCT   slowdown that counts as a regression (5)\n"
                           "  --alpha A         Mann-Whitney U significance level (0.01)\n"
                           "exit: 0 no regression, 1 regression(s), 2 bad input or different hardware\n";

int compare_main(int argc, char **argv)
{
    const char *paths[2] = {NULL, NULL};
    double threshold = 5, alpha = 0.01;
    int csv = 0, allow = 0, np = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { fputs(usage, stdout); return 0; }
        if (!strcmp(a, "--csv")) csv = 1;
        else if (!strcmp(a, "--allow-different-hardware")) allow = 1;
        else if (!strcmp(a, "--threshold")) { if (cli_double(a, i + 1 < argc ? argv[++i] : NULL, 0, 1000, &threshold)) return 2; }
        else if (!strcmp(a, "--alpha")) { if (cli_double(a, i + 1 < argc ? argv[++i] : NULL, 1e-12, 0.5, &alpha)) return 2; }
        else if (a[0] == '-' && a[1] == '-') { cli_err("compare", "unknown option '%s'", a); return 2; }
        else if (np < 2) paths[np++] = a;
        else { cli_err("compare", "unexpected argument '%s' (two run folders expected)", a); return 2; }
    }
    if (np != 2) { cli_err("compare", "needs two run folders: BASE NEW"); return 2; }
    struct run base, neu;
    if (run_load(&base, paths[0]) != 0) { run_free(&base); return 2; }
    if (run_load(&neu, paths[1]) != 0) { run_free(&base); run_free(&neu); return 2; }
    char fb[512], fn[512];
    fingerprint(&base.si, fb, sizeof fb);
    fingerprint(&neu.si, fn, sizeof fn);
    if (strcmp(fb, fn) != 0 && !allow) {
        fprintf(stderr, "dlbench: compare: hardware differs (%s vs %s); add --allow-different-hardware to compare anyway\n", fb, fn);
        run_free(&base); run_free(&neu);
        return 2;
    }
    int counts[4] = {0}, missing = 0, npairs = 0;
    double *ratios = malloc(sizeof(double) * (base.nrows + 1));
    char (*fam)[16] = malloc(16 * (size_t)(base.nrows + 1)), key[256];
    if (csv) puts("key,family,base_median_s,new_median_s,change_pct,p_value,verdict");
    else printf("## dlbench compare\n\nbase: %s\nnew: %s\nrows pair by backend, workload, case, dtype and threads (a case measured at one thread count on each side pairs across counts: `threads→N`)\nrule: regression when slower by more than %.3g%% and the "
                "Mann-Whitney U test gives p < %g\n\n| row | base median | new median | change | p | verdict |\n"
                "|---|---:|---:|---:|---:|---|\n", base.dir, neu.dir, threshold, alpha);
    for (int i = 0; i < base.nrows; i++) {
        const struct row *b = &base.rows[i];
        char nkey[256];
        row_key(b, key, sizeof key);
        const struct row *nr = partner(&base, &neu, b);
        if (nr) row_key(nr, nkey, sizeof nkey);
        const struct sample_set *sb = find_set(&base, key), *sn = nr ? find_set(&neu, nkey) : NULL;
        if (nr && nr->threads != b->threads) snprintf(key + strlen(key), sizeof key - strlen(key), "→%d", nr->threads);
        if (!row_measured(b)) continue;
        if (!nr || !row_measured(nr) || !sb || !sn) {
            missing++;
            if (!csv) printf("| %s | %.4g s | %s | — | — | missing in new |\n", key, b->median_s, nr ? nr->status : "no row");
            continue;
        }
        struct verdict_result v;
        compare_classify(sb->v, sb->n, sn->v, sn->n, threshold / 100, alpha, &v);
        counts[v.v]++;
        ratios[npairs] = 1 + v.change;
        snprintf(fam[npairs++], 16, "%s", b->family);
        if (csv) printf("%s,%s,%.6e,%.6e,%.2f,%.3g,%s\n", key, b->family, b->median_s, nr->median_s, 100 * v.change, v.p, verdict_names[v.v]);
        else printf("| %s | %.4g s | %.4g s | %+.1f%% | %.2g | %s%s |\n", key, b->median_s, nr->median_s, 100 * v.change, v.p,
                    verdict_names[v.v], v.v == V_SLOWER ? " **REGRESSION**" : "");
    }
    for (int i = 0; i < neu.nrows; i++) {
        row_key(&neu.rows[i], key, sizeof key);
        if (row_measured(&neu.rows[i]) && !partner(&neu, &base, &neu.rows[i])) {
            missing++;
            if (!csv) printf("| %s | — | %.4g s | — | — | missing in base |\n", key, neu.rows[i].median_s);
        }
    }
    if (!csv) {
        printf("\n| family | pairs | geomean time ratio new/base |\n|---|---:|---:|\n");
        double *sub = malloc(sizeof(double) * (npairs + 1));
        for (int i = 0; i < npairs; i++) {
            int seen = 0, k = 0;
            for (int j = 0; j < i; j++) seen |= !strcmp(fam[j], fam[i]);
            if (seen) continue;
            for (int j = 0; j < npairs; j++) if (!strcmp(fam[j], fam[i])) sub[k++] = ratios[j];
            printf("| %s | %d | %.3f |\n", fam[i], k, geomean(sub, k));
        }
        if (npairs) printf("| **all** | %d | %.3f |\n", npairs, geomean(ratios, npairs));
        else printf("| **all** | 0 | — |\n");
        free(sub);
        printf("\n%d slower (regressions), %d faster, %d same, %d ambiguous, %d rows on one side only\n", counts[V_SLOWER],
               counts[V_FASTER], counts[V_SAME], counts[V_AMBIGUOUS], missing);
    }
    free(ratios);
    free(fam);
    run_free(&base);
    run_free(&neu);
    return counts[V_SLOWER] ? 1 : 0;
}
