/* compare.c: run-to-run comparison for CI: load two run folders (rows, samples, machine), refuse
 * different hardware, classify each paired row, print a Markdown (or CSV) table and geometric means
 * per family and overall. */
#include "compare.h"
#include "cli.h"
#include "metrics.h"
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

struct compare_opts { const char *paths[2]; double threshold, alpha; int csv, allow; };

/* What the comparison found: verdict counts, rows on one side only, new/base time ratios. */
struct tally { int counts[4], missing, npairs; struct family_ratio *ratios; };

/* 0 with o filled, else the exit code (0 after --help/--version, 2 after one line on stderr). */
static int compare_options(int argc, char **argv, struct compare_opts *o)
{
    enum { O_THRESHOLD = 256, O_ALPHA, O_CSV, O_ALLOW };
    static const struct option lo[] = {
        {"threshold", required_argument, NULL, O_THRESHOLD}, {"alpha", required_argument, NULL, O_ALPHA},
        {"csv", no_argument, NULL, O_CSV}, {"allow-different-hardware", no_argument, NULL, O_ALLOW},
        {"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, 'V'}, {NULL, 0, NULL, 0}};
    int c;
    *o = (struct compare_opts){{NULL, NULL}, 5, 0.01, 0, 0};
    while ((c = cli_next_option(argc, argv, "compare", usage, lo)) >= 0) {
        if (c == O_CSV) o->csv = 1;
        else if (c == O_ALLOW) o->allow = 1;
        else if (c == O_THRESHOLD && cli_double("--threshold", optarg, 0, 1000, &o->threshold)) return 2;
        else if (c == O_ALPHA && cli_double("--alpha", optarg, 1e-12, 0.5, &o->alpha)) return 2;
    }
    if (c != CLI_END) return c == CLI_EXIT0 ? 0 : 2;
    if (argc - optind > 2) { cli_err("compare", "unexpected argument '%s' (two run folders expected)", argv[optind + 2]); return 2; }
    if (argc - optind != 2) { cli_err("compare", "needs two run folders: BASE NEW"); return 2; }
    o->paths[0] = argv[optind];
    o->paths[1] = argv[optind + 1];
    return -1;
}

static void print_header(const struct compare_opts *o, const struct run *base, const struct run *neu)
{
    if (o->csv) { puts("key,family,base_median_s,new_median_s,change_pct,p_value,verdict"); return; }
    printf("## dlbench compare\n\nbase: %s\nnew: %s\nrows pair by backend, workload, case, dtype and threads (a case measured at one thread count on each side pairs across counts: `threads→N`)\nrule: regression when slower by more than %.3g%% and the "
           "Mann-Whitney U test gives p < %g\n\n| row | base median | new median | change | p | verdict |\n"
           "|---|---:|---:|---:|---:|---|\n", base->dir, neu->dir, o->threshold, o->alpha);
}

/* Every measured base row against its partner in the new run: one table line each. */
static void compare_rows(const struct compare_opts *o, const struct run *base, const struct run *neu, struct tally *t)
{
    char key[256], nkey[256];
    for (int i = 0; i < base->nrows; i++) {
        const struct row *b = &base->rows[i];
        row_key(b, key, sizeof key);
        const struct row *nr = partner(base, neu, b);
        if (nr) row_key(nr, nkey, sizeof nkey);
        const struct sample_set *sb = find_set(base, key), *sn = nr ? find_set(neu, nkey) : NULL;
        if (nr && nr->threads != b->threads) snprintf(key + strlen(key), sizeof key - strlen(key), "→%d", nr->threads);
        if (!row_measured(b)) continue;
        if (!nr || !row_measured(nr) || !sb || !sn) {
            t->missing++;
            if (!o->csv) printf("| %s | %.4g s | %s | — | — | missing in new |\n", key, b->median_s, nr ? nr->status : "no row");
            continue;
        }
        struct verdict_result v;
        compare_classify(sb->v, sb->n, sn->v, sn->n, o->threshold / 100, o->alpha, &v);
        t->counts[v.v]++;
        t->ratios[t->npairs++] = (struct family_ratio){b->family, 1 + v.change};
        if (o->csv) printf("%s,%s,%.6e,%.6e,%.2f,%.3g,%s\n", key, b->family, b->median_s, nr->median_s, 100 * v.change, v.p, verdict_names[v.v]);
        else printf("| %s | %.4g s | %.4g s | %+.1f%% | %.2g | %s%s |\n", key, b->median_s, nr->median_s, 100 * v.change, v.p,
                    verdict_names[v.v], v.v == V_SLOWER ? " **REGRESSION**" : "");
    }
    for (int i = 0; i < neu->nrows; i++) {
        row_key(&neu->rows[i], key, sizeof key);
        if (row_measured(&neu->rows[i]) && !partner(neu, base, &neu->rows[i])) {
            t->missing++;
            if (!o->csv) printf("| %s | — | %.4g s | — | — | missing in base |\n", key, neu->rows[i].median_s);
        }
    }
}

/* Geometric means of the new/base time ratios per family and overall, and the counts. */
static void summary(const struct tally *t)
{
    printf("\n| family | pairs | geomean time ratio new/base |\n|---|---:|---:|\n");
    for (int i = 0; i < t->npairs; i++) {
        int seen = 0, k;
        for (int j = 0; j < i; j++) seen |= !strcmp(t->ratios[j].family, t->ratios[i].family);
        if (seen) continue;
        double g = family_geomean(t->ratios, t->npairs, t->ratios[i].family, &k);
        printf("| %s | %d | %.3f |\n", t->ratios[i].family, k, g);
    }
    if (t->npairs) printf("| **all** | %d | %.3f |\n", t->npairs, family_geomean(t->ratios, t->npairs, NULL, NULL));
    else printf("| **all** | 0 | — |\n");
    printf("\n%d slower (regressions), %d faster, %d same, %d ambiguous, %d rows on one side only\n", t->counts[V_SLOWER],
           t->counts[V_FASTER], t->counts[V_SAME], t->counts[V_AMBIGUOUS], t->missing);
}

int compare_main(int argc, char **argv)
{
    struct compare_opts o;
    struct run base, neu;
    char fb[512], fn[512];
    int rc = compare_options(argc, argv, &o);
    if (rc >= 0) return rc;
    if (run_load(&base, o.paths[0]) != 0) { run_free(&base); return 2; }
    if (run_load(&neu, o.paths[1]) != 0) { run_free(&base); run_free(&neu); return 2; }
    fingerprint(&base.si, fb, sizeof fb);
    fingerprint(&neu.si, fn, sizeof fn);
    if (strcmp(fb, fn) != 0 && !o.allow) {
        fprintf(stderr, "dlbench: compare: hardware differs (%s vs %s); add --allow-different-hardware to compare anyway\n", fb, fn);
        rc = 2;
    } else {
        struct tally t = {{0}, 0, 0, malloc(sizeof(struct family_ratio) * (base.nrows + 1))};
        print_header(&o, &base, &neu);
        compare_rows(&o, &base, &neu, &t);
        if (!o.csv) summary(&t);
        free(t.ratios);
        rc = t.counts[V_SLOWER] ? 1 : 0;
    }
    run_free(&base);
    run_free(&neu);
    return rc;
}
