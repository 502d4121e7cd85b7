/* compare.c: run-to-run comparison for CI: load the run folders of both sides, refuse different
 * hardware, pair rows across folders, judge each paired row on its per-run medians (verdict.c), name
 * rows and backends that vanished, print a Markdown (or CSV) table and geometric means per family. */
#include "compare.h"
#include "cli.h"
#include "metrics.h"
#include "results.h"
#include "runs.h"
#include "stats.h"
#include "verdict.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

void compare_opts_default(struct compare_opts *o)
{
    memset(o, 0, sizeof *o);
    o->threshold = 5;
    o->alpha = 0.01;
    o->run_noise = 55;   /* unchanged runs on a shared VM differ by up to x4.3 (AMX rows): README */
}

/* One side: its folders. */
struct side { struct run_folder *f; int n; };

static int same_id(const struct row *a, const struct row *b)
{
    return !strcmp(a->backend, b->backend) && !strcmp(a->workload, b->workload) && !strcmp(a->case_name, b->case_name) &&
           !strcmp(a->dtype, b->dtype) && a->rank == b->rank && a->ranks == b->ranks;
}

static const struct row *find_row(const struct run_folder *f, const struct row *id, int threads)
{
    for (int i = 0; i < f->nrows; i++)
        if (same_id(&f->rows[i], id) && f->rows[i].threads == threads) return &f->rows[i];
    return NULL;
}

static const struct noise_row *find_noise(const struct run_folder *f, const struct row *id, int threads)
{
    for (int i = 0; i < f->nnoise; i++) {
        const struct noise_row *x = &f->noise[i];
        if (!strcmp(x->backend, id->backend) && !strcmp(x->workload, id->workload) && !strcmp(x->case_name, id->case_name) &&
            !strcmp(x->dtype, id->dtype) && x->threads == threads)
            return x;
    }
    return NULL;
}

/* The one thread count a side measured a case at (any row of it), or -1 when none or several. */
static int only_threads(const struct side *s, const struct row *id)
{
    int t = -1;
    for (int k = 0; k < s->n; k++)
        for (int i = 0; i < s->f[k].nrows; i++) {
            const struct row *r = &s->f[k].rows[i];
            if (!same_id(r, id)) continue;
            if (t >= 0 && r->threads != t) return -1;
            t = r->threads;
        }
    return t;
}

static int side_has(const struct side *s, const struct row *id, int threads)
{
    for (int k = 0; k < s->n; k++) if (find_row(&s->f[k], id, threads)) return 1;
    return 0;
}

static int side_measured(const struct side *s, const struct row *id, int threads)
{
    for (int k = 0; k < s->n; k++) {
        const struct row *r = find_row(&s->f[k], id, threads);
        if (r && row_measured(r)) return 1;
    }
    return 0;
}

/* The thread count of base row b's partner on the new side: the same count, or else, when each side
 * measured that case at a single thread count, the other one (a run with --threads 1 against a
 * 2-thread baseline is a configuration change worth flagging). -1: none. */
static int partner_threads(const struct side *base, const struct side *neu, const struct row *b)
{
    if (side_has(neu, b, b->threads)) return b->threads;
    int tb = only_threads(base, b), tn = only_threads(neu, b);
    return tb >= 0 && tn >= 0 ? tn : -1;
}

/* A row's values on one side: run medians, the widest within-run CI, noisy runs, and the status of
 * a run that did not measure it (failed beats skipped beats absent). */
struct gathered {
    double *v;
    double *by_run;          /* per folder: its median, NAN where it has none (paired rounds) */
    int n, noisy, failed;
    double within;
    char status[384];
};

static void gather(const struct side *s, const struct row *id, int threads, struct gathered *g)
{
    memset(g, 0, sizeof *g);
    g->v = malloc(sizeof(double) * 8);
    g->by_run = malloc(sizeof(double) * (s->n ? s->n : 1));
    int cap = 8;
    for (int k = 0; k < s->n; k++) {
        const struct noise_row *nr = find_noise(&s->f[k], id, threads);
        const struct row *r = find_row(&s->f[k], id, threads);
        g->by_run[k] = !nr && r && row_measured(r) && r->median_s > 0 ? r->median_s : NAN;
        int add = nr ? nr->n : r && row_measured(r) ? 1 : 0;
        if (g->n + add > cap) g->v = realloc(g->v, sizeof(double) * (cap = 2 * (g->n + add)));
        if (nr) { /* a baseline's noise model holds the medians of all its runs */
            memcpy(g->v + g->n, nr->median_s, sizeof(double) * nr->n);
            g->n += nr->n;
        } else if (r && row_measured(r) && r->median_s > 0) {
            g->v[g->n++] = r->median_s;
            double w = fmax(r->median_s - r->ci_lo_s, r->ci_hi_s - r->median_s) / r->median_s;
            if (isfinite(w) && w > g->within) g->within = w;
            g->noisy += !strcmp(r->status, "noisy");
        } else if (r && !row_measured(r) && strncmp(r->status, "skipped", 7) != 0) {
            if (!g->failed++) snprintf(g->status, sizeof g->status, "%.200s (%.150s)", r->status, s->f[k].dir);
        } else if (!g->status[0]) {
            snprintf(g->status, sizeof g->status, "%s", r ? r->status : "no row");
        }
    }
}

/* Markdown: a '|' inside a cell would end it. */
static void md_cell(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '|') fputc('\\', out);
        fputc(*s == '\n' ? ' ' : *s, out);
    }
}

static void fmt_time(char *buf, size_t n, double s)
{
    if (!(s > 0)) snprintf(buf, n, "—");
    else if (s < 1e-6) snprintf(buf, n, "%.4g ns", s * 1e9);
    else if (s < 1e-3) snprintf(buf, n, "%.4g µs", s * 1e6);
    else if (s < 1) snprintf(buf, n, "%.4g ms", s * 1e3);
    else snprintf(buf, n, "%.4g s", s);
}

struct tally { int counts[4], gone, only_new, npairs; struct family_ratio *ratios; };

/* Run settings (system.json "run", where the folders record them) that differ from the first base
 * folder's, and runs that did not complete: said under the title, since they can explain a table. */
static void print_settings(const struct side *base, const struct side *neu, FILE *out)
{
    static const char *const keys[] = {"suite", "backends", "workloads", "filter", "dtypes", "threads", "seed",
                                       "min_time_s", "max_time_s", "size"};
    const struct side *sides[2] = {base, neu};
    const struct sysinfo *ref = &base->f[0].si;
    int any = 0;
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        for (int s = 0; s < 2; s++)
            for (int i = 0; i < sides[s]->n; i++) {
                const char *a = sysinfo_get(ref, "run", keys[k]), *b = sysinfo_get(&sides[s]->f[i].si, "run", keys[k]);
                if (!a || !b || !strcmp(a, b)) continue;
                fprintf(out, "%s%s `", any++ ? "; " : "**Run settings differ** (rows may not be comparable): ", keys[k]);
                md_cell(out, a);
                fputs("` in ", out);
                md_cell(out, base->f[0].dir);
                fputs(", `", out);
                md_cell(out, b);
                fputs("` in ", out);
                md_cell(out, sides[s]->f[i].dir);
                s = 2;   /* one difference per setting is enough */
                break;
            }
    if (any) fputs("\n\n", out);
    for (int s = 0; s < 2; s++)
        for (int i = 0; i < sides[s]->n; i++) {
            const char *state = sysinfo_get(&sides[s]->f[i].si, "run", "state");
            if (!state || !strcmp(state, "completed")) continue;
            fputs("**Run not completed**: `", out);
            md_cell(out, sides[s]->f[i].dir);
            fputs("` (", out);
            md_cell(out, state);
            fputs("): its missing rows count as gone\n\n", out);
        }
}

static void print_header(const struct compare_opts *o, const struct side *base, const struct side *neu, FILE *out)
{
    if (o->csv) {
        fputs("backend,workload,case,dtype,threads,new_threads,family,base_median_s,new_median_s,shift_pct,lo_pct,hi_pct,"
              "spread_pct,spread_seen,base_runs,new_runs,verdict,note\n", out);
        return;
    }
    const struct side *sides[2] = {base, neu};
    fprintf(out, "## %s\n\n", o->title ? o->title : "dlbench compare");
    if (o->preamble) fprintf(out, "%s\n", o->preamble);
    for (int s = 0; s < 2; s++) {
        int runs = 0;
        for (int k = 0; k < sides[s]->n; k++) runs += sides[s]->f[k].nnoise ? 0 : 1;
        fprintf(out, "%s: ", s ? "new" : "base");
        for (int k = 0; k < sides[s]->n; k++) {
            fprintf(out, "%s`", k ? ", " : "");
            md_cell(out, sides[s]->f[k].dir);
            fputc('`', out);
            if (sides[s]->f[k].nnoise) fputs(" (baseline with a noise model)", out);
        }
        fprintf(out, "%s\n", sides[s]->n > 1 || runs != sides[s]->n ? "" : " (one run)");
    }
    fputc('\n', out);
    print_settings(base, neu, out);
    int seen = 0;
    for (int s = 0; s < 2; s++) seen |= sides[s]->n > 1 || sides[s]->f[0].nnoise > 0;
    if (!seen)
        fprintf(out, "**One run per side: the spread between runs cannot be seen**, so %.3g%% is assumed (--run-noise). "
                     "For a real test give several runs per side (`compare BASE... -- NEW...`), a baseline with a noise "
                     "model (`dlbench baseline`), or use `dlbench ab`. The spread column (in parentheses) is that "
                     "assumption combined with each run's own 95%% CI.\n\n", o->run_noise);
    if (o->paired && base->n == neu->n)
        fprintf(out, "rule (paired rounds: base run i and new run i were measured side by side, row by row): a row is "
                     "**slower** (a regression) when the geometric mean of its rounds' new/base ratios exceeds %.3g%%, its "
                     "%.3g%% t interval excludes no change and every round points the same way (sign test, while 2^-rounds "
                     "exceeds %.3g); faster likewise. The interval's spread is the row's own spread of ratios moderated "
                     "towards its group's (same backend, family, threads; worth %d degrees of freedom; marked pooled where "
                     "the group's is the larger). A row whose shift or spread exceeds the threshold without that evidence "
                     "is too noisy to judge. Rows pair by backend, workload, case, dtype and threads (`2→1`: one thread "
                     "count on each side).\n\n",
                o->threshold, 100 * (1 - o->alpha), o->alpha / 2, VERDICT_PRIOR_DF);
    else
        fprintf(out, "rule: a row is **slower** (a regression) when its shift exceeds %.3g%%, its %.3g%% interval excludes no "
                     "change (the spread between runs) and the runs' medians separate by rank (Mann-Whitney); faster likewise. "
                     "A row whose shift or spread between runs exceeds the threshold without that evidence is too noisy to "
                     "judge. A row's spread is at least the median spread of its group (same backend, family, threads; "
                     "marked pooled). Rows pair by backend, workload, case, dtype and threads (`2→1`: one thread count "
                     "on each side).\n\n",
                o->threshold, 100 * (1 - o->alpha));
    fprintf(out, "| backend | workload | case | dtype | threads | base | new | shift | %.3g%% interval | spread | runs | verdict |\n"
                 "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n", 100 * (1 - o->alpha));
}

static void print_id(FILE *out, const struct row *b, int nt)
{
    const char *f[] = {b->backend, b->workload, b->case_name, b->dtype};
    fputc('|', out);
    for (int i = 0; i < 4; i++) { fputc(' ', out); md_cell(out, f[i]); fputs(" |", out); }
    if (nt >= 0 && nt != b->threads) fprintf(out, " %d→%d |", b->threads, nt);
    else fprintf(out, " %d |", b->threads);
}

static void csv_id(FILE *out, const struct row *b, int nt)
{
    const char *f[] = {b->backend, b->workload, b->case_name, b->dtype};
    for (int i = 0; i < 4; i++) { csv_write_field(out, f[i]); fputc(',', out); }
    fprintf(out, "%d,", b->threads);
    if (nt >= 0) fprintf(out, "%d", nt);
    fputc(',', out);
    csv_write_field(out, b->family);
}

static void print_gone(const struct compare_opts *o, FILE *out, const struct row *b, int nt, const struct gathered *gb,
                       const struct gathered *gn)
{
    char t[32];
    const char *why = gn->status[0] ? gn->status : "no row";
    if (o->csv) {
        csv_id(out, b, nt);
        fprintf(out, ",%.6e,,,,,,,%d,%d,gone,", median_of(gb->v, gb->n), gb->n, gn->n);
        csv_write_field(out, why);
        fputc('\n', out);
        return;
    }
    fmt_time(t, sizeof t, median_of(gb->v, gb->n));
    print_id(out, b, nt);
    fprintf(out, " %s | — | — | — | — | %d/%d | **gone in new**: ", t, gb->n, gn->n);
    md_cell(out, why);
    fputs(" |\n", out);
}

static void print_judged(const struct compare_opts *o, FILE *out, const struct row *b, int nt, const struct gathered *gb,
                         const struct gathered *gn, const struct verdict_result *v)
{
    double mb = median_of(gb->v, gb->n), mn = median_of(gn->v, gn->n);
    int noisy = gb->noisy + gn->noisy;
    if (o->csv) {
        csv_id(out, b, nt);
        fprintf(out, ",%.6e,%.6e,%.2f,%.2f,%.2f,%.2f,%d,%d,%d,", mb, mn, 100 * v->shift, 100 * v->lo, 100 * v->hi,
                100 * v->spread, v->spread_seen, gb->n, gn->n);
        csv_write_field(out, verdict_names[v->v]);
        fputc(',', out);
        if (v->why) csv_write_field(out, v->why);
        fputc('\n', out);
        return;
    }
    char tb[32], tn[32];
    fmt_time(tb, sizeof tb, mb);
    fmt_time(tn, sizeof tn, mn);
    print_id(out, b, nt);
    fprintf(out, " %s | %s | %+.1f%% | %+.1f%% … %+.1f%% | %s%.1f%%%s | %d/%d | %s", tb, tn, 100 * v->shift, 100 * v->lo,
            100 * v->hi, v->spread_seen ? "" : "(", 100 * v->spread, v->spread_seen ? (v->pooled ? " pooled" : "") : ")",
            gb->n, gn->n, verdict_names[v->v]);
    if (v->v == V_SLOWER) fputs(" **REGRESSION**", out);
    if (v->v == V_NOISY) fprintf(out, " (spread %.1f%%%s%s)", 100 * v->spread, v->why ? "; " : "", v->why ? v->why : "");
    if (noisy && v->spread_seen) fprintf(out, " ~ %d noisy run%s", noisy, noisy > 1 ? "s" : "");
    fputs(" |\n", out);
}

/* Backends with measured base rows and no measured row in any new run: named before the table,
 * their rows counted as gone but not listed one by one. gone_backend[i] is set for those. */
static int backends_gone(const struct compare_opts *o, const struct side *base, const struct side *neu,
                         const char **names, int *gone, FILE *out)
{
    int nb = 0, any = 0;
    for (int k = 0; k < base->n; k++)
        for (int i = 0; i < base->f[k].nrows; i++) {
            const struct row *r = &base->f[k].rows[i];
            int known = 0;
            for (int j = 0; j < nb; j++) known |= !strcmp(names[j], r->backend);
            if (!known && row_measured(r) && nb < 32) names[nb++] = r->backend;
        }
    for (int j = 0; j < nb; j++) {
        int base_rows = 0, new_measured = 0;
        const char *why = NULL;
        for (int k = 0; k < base->n; k++)
            for (int i = 0; i < base->f[k].nrows; i++) {
                const struct row *r = &base->f[k].rows[i];
                int dup = 0;
                for (int m = 0; m < k && !dup; m++) dup = find_row(&base->f[m], r, r->threads) != NULL;
                base_rows += !dup && !strcmp(r->backend, names[j]) && row_measured(r);
            }
        for (int k = 0; k < neu->n; k++)
            for (int i = 0; i < neu->f[k].nrows; i++) {
                const struct row *r = &neu->f[k].rows[i];
                if (strcmp(r->backend, names[j])) continue;
                if (row_measured(r)) new_measured++;
                else if (!why) why = r->status;
            }
        gone[j] = new_measured == 0;
        if (!gone[j]) continue;
        any = 1;
        if (o->csv) continue;
        fprintf(out, "**Backend %s is gone in new**: %d row%s measured in the baseline, none in the new run%s (", names[j],
                base_rows, base_rows == 1 ? "" : "s", neu->n > 1 ? "s" : "");
        md_cell(out, why ? why : "no rows");
        fputs(")\n", out);
    }
    if (any && !o->csv) fputc('\n', out);
    return nb;
}

/* One base identity (the first base folder that has it, in row order) and its partner's values. */
struct entry {
    const struct row *b;
    int nt, gone, backend_gone;
    struct gathered gb, gn;
    double spread;          /* its own spread between runs (NAN: one run per side) */
};

/* Paired rounds: log(new/base) of the rounds in which both sides measured the row, into lr (room
 * for the rounds). Returns their count. */
static int paired_ratios(const struct entry *e, int rounds, double *lr)
{
    int k = 0;
    for (int i = 0; i < rounds; i++)
        if (isfinite(e->gb.by_run[i]) && isfinite(e->gn.by_run[i])) lr[k++] = log(e->gn.by_run[i] / e->gb.by_run[i]);
    return k;
}

static struct paired_runs paired_of(const struct entry *e, int rounds, double *lr)
{
    return (struct paired_runs){lr, paired_ratios(e, rounds, lr), fmax(e->gb.within, e->gn.within), e->gb.noisy + e->gn.noisy};
}

static int same_group(const struct row *a, const struct row *b)
{
    return !strcmp(a->backend, b->backend) && !strcmp(a->family, b->family) && a->threads == b->threads;
}

/* The rows to judge: every identity measured in the baseline, with its partner's values. */
static int collect(const struct side *base, const struct side *neu, const char **bnames, const int *bgone, int nbk,
                   int paired, struct entry **out)
{
    double *lr = malloc(sizeof(double) * (size_t)(base->n > 0 ? base->n : 1));
    int n = 0, cap = 0;
    *out = NULL;
    for (int k = 0; k < base->n; k++)
        for (int i = 0; i < base->f[k].nrows; i++) {
            const struct row *b = &base->f[k].rows[i];
            int seen = 0;
            for (int j = 0; j < k && !seen; j++) seen = find_row(&base->f[j], b, b->threads) != NULL;
            if (seen) continue;
            struct entry e = {.b = b, .nt = partner_threads(base, neu, b), .spread = NAN};
            gather(base, b, b->threads, &e.gb);
            if (e.gb.n == 0) { free(e.gb.v); free(e.gb.by_run); continue; }    /* never measured in the baseline: nothing to lose */
            gather(neu, b, e.nt, &e.gn);
            for (int j = 0; j < nbk; j++) e.backend_gone |= bgone[j] && !strcmp(bnames[j], b->backend);
            e.gone = e.nt < 0 || e.gn.n == 0 || e.gn.failed;
            if (!e.gone && paired) {
                struct paired_runs p = paired_of(&e, base->n, lr);
                e.gone = p.n == 0;   /* never measured in the same round as its partner */
                if (!e.gone) e.spread = verdict_paired_spread(&p);
            } else if (!e.gone) {
                struct side_runs sb = {e.gb.v, e.gb.n, e.gb.within, e.gb.noisy}, sn = {e.gn.v, e.gn.n, e.gn.within, e.gn.noisy};
                e.spread = verdict_spread(&sb, &sn);
            }
            if (n == cap) *out = realloc(*out, sizeof **out * (cap = cap ? 2 * cap : 64));
            (*out)[n++] = e;
        }
    free(lr);
    return n;
}

/* Every base identity against its partner: gone, or judged with its group's spread as a floor. */
static void compare_rows(const struct compare_opts *o, const struct side *base, const struct side *neu, struct tally *t, FILE *out)
{
    const char *bnames[32];
    int bgone[32] = {0};
    int nbk = backends_gone(o, base, neu, bnames, bgone, out);
    struct entry *e;
    int paired = o->paired && base->n == neu->n;
    int n = collect(base, neu, bnames, bgone, nbk, paired, &e);
    double *group = malloc(sizeof(double) * (n ? n : 1)), *lr = malloc(sizeof(double) * (base->n ? base->n : 1));
    print_header(o, base, neu, out);
    for (int i = 0; i < n; i++) {
        if (e[i].gone) {
            t->gone++;
            if (!e[i].backend_gone || o->csv) print_gone(o, out, e[i].b, e[i].nt, &e[i].gb, &e[i].gn);
            continue;
        }
        int ng = 0;
        for (int j = 0; j < n; j++) if (same_group(e[i].b, e[j].b)) group[ng++] = e[j].spread;
        struct verdict_result v;
        if (paired) {
            struct rule rule = {o->threshold / 100, o->alpha, o->run_noise / 100, verdict_pool_paired(group, ng, base->n),
                                VERDICT_PRIOR_DF};
            struct paired_runs p = paired_of(&e[i], base->n, lr);
            verdict_decide_paired(&p, &rule, &v);
        } else {
            struct rule rule = {o->threshold / 100, o->alpha, o->run_noise / 100, verdict_pool(group, ng), 0};
            struct side_runs sb = {e[i].gb.v, e[i].gb.n, e[i].gb.within, e[i].gb.noisy};
            struct side_runs sn = {e[i].gn.v, e[i].gn.n, e[i].gn.within, e[i].gn.noisy};
            verdict_decide(&sb, &sn, &rule, &v);
        }
        t->counts[v.v]++;
        t->ratios[t->npairs++] = (struct family_ratio){e[i].b->family, 1 + v.shift, e[i].b->backend, e[i].b->backend};
        print_judged(o, out, e[i].b, e[i].nt, &e[i].gb, &e[i].gn, &v);
    }
    for (int i = 0; i < n; i++) { free(e[i].gb.v); free(e[i].gn.v); free(e[i].gb.by_run); free(e[i].gn.by_run); }
    free(e);
    free(group);
    free(lr);
}

/* New rows the baseline never had (informative only). */
static void count_only_new(const struct side *base, const struct side *neu, struct tally *t)
{
    for (int k = 0; k < neu->n; k++)
        for (int i = 0; i < neu->f[k].nrows; i++) {
            const struct row *r = &neu->f[k].rows[i];
            int dup = 0;
            for (int j = 0; j < k && !dup; j++) dup = find_row(&neu->f[j], r, r->threads) != NULL;
            if (dup || !row_measured(r)) continue;
            int bt = partner_threads(neu, base, r);
            if (bt < 0 || !side_measured(base, r, bt)) t->only_new++;
        }
}

/* Geometric means of the new/base time ratios per family and backend (so each figure names the
 * backend it came from: cpu and onednn move independently), overall, and the counts. */
static void summary(const struct compare_opts *o, const struct tally *t, FILE *out)
{
    struct family_ratio *one = malloc(sizeof *one * (t->npairs + 1));
    fprintf(out, "\n| family | backend | pairs | geomean time ratio new/base |\n|---|---|---:|---:|\n");
    for (int i = 0; i < t->npairs; i++) {
        int seen = 0, k = 0;
        for (int j = 0; j < i; j++)
            seen |= !strcmp(t->ratios[j].family, t->ratios[i].family) && !strcmp(t->ratios[j].num, t->ratios[i].num);
        if (seen) continue;
        for (int j = 0; j < t->npairs; j++)
            if (!strcmp(t->ratios[j].num, t->ratios[i].num)) one[k++] = t->ratios[j];
        double g = family_geomean(one, k, t->ratios[i].family, &k);
        fprintf(out, "| %s | %s | %d | %.3f |\n", t->ratios[i].family, t->ratios[i].num, k, g);
    }
    free(one);
    if (t->npairs) fprintf(out, "| **all** | all | %d | %.3f |\n", t->npairs, family_geomean(t->ratios, t->npairs, NULL, NULL));
    else fprintf(out, "| **all** | all | 0 | — |\n");
    fprintf(out, "\n%d slower (regressions), %d faster, %d no change, %d too noisy to judge, %d gone in new%s, %d only in new\n",
            t->counts[V_SLOWER], t->counts[V_FASTER], t->counts[V_SAME], t->counts[V_NOISY], t->gone,
            t->gone && o->allow_missing ? " (allowed: --allow-missing)" : "", t->only_new);
}

static int load_side(const char *const *paths, int n, struct side *s)
{
    char why[1024];
    s->f = calloc(n, sizeof *s->f);
    s->n = n;
    for (int i = 0; i < n; i++)
        if (run_folder_load(&s->f[i], paths[i], why, sizeof why) != 0) { fprintf(stderr, "dlbench: compare: %s\n", why); return -1; }
    return 0;
}

int compare_folders(const struct compare_opts *o, FILE *out)
{
    struct side base = {0}, neu = {0};
    char why[2048];
    int rc = 2;
    if (o->paired && o->nbase != o->nnew) {
        fprintf(stderr, "dlbench: compare: --paired needs as many NEW folders as BASE folders (%d and %d)\n", o->nbase, o->nnew);
        return 2;
    }
    if (load_side(o->base, o->nbase, &base) == 0 && load_side(o->neu, o->nnew, &neu) == 0) {
        struct run_folder *all = malloc(sizeof *all * (base.n + neu.n));
        memcpy(all, base.f, sizeof *all * base.n);
        memcpy(all + base.n, neu.f, sizeof *all * neu.n);
        if (!o->allow_hardware && run_fingerprints_match(all, base.n + neu.n, why, sizeof why) != 0) {
            fprintf(stderr, "dlbench: compare: %s; add --allow-different-hardware to compare anyway\n", why);
        } else {
            int cap = 1;
            for (int k = 0; k < base.n; k++) cap += base.f[k].nrows;
            struct tally t = {{0}, 0, 0, 0, malloc(sizeof(struct family_ratio) * cap)};
            compare_rows(o, &base, &neu, &t, out);
            count_only_new(&base, &neu, &t);
            if (!o->csv) summary(o, &t, out);
            free(t.ratios);
            rc = t.counts[V_SLOWER] || (t.gone && !o->allow_missing) ? 1 : 0;
        }
        free(all);
    }
    for (int i = 0; i < base.n; i++) run_folder_free(&base.f[i]);
    for (int i = 0; i < neu.n; i++) run_folder_free(&neu.f[i]);
    free(base.f);
    free(neu.f);
    return rc;
}

static const char *usage =
    "usage: dlbench compare BASE NEW [options]\n"
    "       dlbench compare BASE... -- NEW... [options]\n"
    "  BASE, NEW: run folders (or their results.csv); several per side are repeated runs, judged\n"
    "  against the spread between them. A BASE folder with a noise model (dlbench baseline) counts\n"
    "  as the runs it was made from.\n"
    "  --threshold PCT         shift that counts as a change (5)\n"
    "  --alpha A               1 - confidence of the interval; the rank test's level (0.01)\n"
    "  --run-noise PCT         spread between runs assumed with one run per side (55: on a shared\n"
    "                          virtual machine a row of one run can be 4x slower than in the next for\n"
    "                          no reason; lower it on a dedicated machine)\n"
    "  --allow-missing         rows or backends measured in BASE and gone in NEW do not fail\n"
    "  --allow-different-hardware   compare runs of different machines\n"
    "  --csv                   one CSV line per row instead of Markdown\n"
    "  --paired                BASE i and NEW i were measured side by side (an ab's base-i, new-i):\n"
    "                          judge per-round ratios (ab's rule); as many folders on each side\n"
    "exit: 0 no regression, 1 regression(s) or rows gone in NEW, 2 bad input or different hardware\n";

enum { O_THRESHOLD = COMPARE_OPT_FIRST, O_ALPHA, O_RUN_NOISE, O_CSV, O_ALLOW_HW, O_ALLOW_MISSING, O_PAIRED };
#define COMPARE_OPTIONS                                                                                         \
    {"threshold", required_argument, NULL, O_THRESHOLD}, {"alpha", required_argument, NULL, O_ALPHA},         \
    {"run-noise", required_argument, NULL, O_RUN_NOISE}, {"csv", no_argument, NULL, O_CSV},                    \
    {"allow-different-hardware", no_argument, NULL, O_ALLOW_HW}, {"allow-missing", no_argument, NULL, O_ALLOW_MISSING},  \
    {"paired", no_argument, NULL, O_PAIRED}
const struct option compare_long_options[] = {COMPARE_OPTIONS, {NULL, 0, NULL, 0}};
static const struct option compare_lo[] = {COMPARE_OPTIONS, {"help", no_argument, NULL, 'h'},
                                           {"version", no_argument, NULL, 'V'}, {NULL, 0, NULL, 0}};

/* One compare option into o: 0, or -1 after its one-line error. */
int compare_option(struct compare_opts *o, int code, const char *v)
{
    switch (code) {
    case O_CSV: o->csv = 1; return 0;
    case O_PAIRED: o->paired = 1; return 0;
    case O_ALLOW_HW: o->allow_hardware = 1; return 0;
    case O_ALLOW_MISSING: o->allow_missing = 1; return 0;
    case O_THRESHOLD: return cli_double("--threshold", v, 0, 1000, &o->threshold);
    case O_ALPHA: return cli_double("--alpha", v, 1e-12, 0.5, &o->alpha);
    case O_RUN_NOISE: return cli_double("--run-noise", v, 0, 1000, &o->run_noise);
    }
    return cli_err("compare", "unhandled option");
}

/* Options and operands of argv[0..argc) (argv[0] the command); operands appended to ops. -1 to go
 * on, else the exit code. */
static int parse_part(int argc, char **argv, struct compare_opts *o, const char **ops, int *nops)
{
    int c;
    while ((c = cli_next_option(argc, argv, "compare", usage, compare_lo)) >= 0)
        if (compare_option(o, c, optarg)) return 2;
    if (c != CLI_END) return c == CLI_EXIT0 ? 0 : 2;
    while (optind < argc) ops[(*nops)++] = argv[optind++];
    return -1;
}

int compare_main(int argc, char **argv)
{
    struct compare_opts o;
    int split = 0, nb = 0, nn = 0, rc;
    compare_opts_default(&o);
    for (int i = 1; i < argc && !split; i++) if (!strcmp(argv[i], "--")) split = i;
    const char **ops_b = calloc(argc, sizeof *ops_b), **ops_n = calloc(argc, sizeof *ops_n);
    char **right = calloc(argc + 1, sizeof *right);
    if ((rc = parse_part(split ? split : argc, argv, &o, ops_b, &nb)) >= 0) goto out;
    if (split) {
        right[0] = argv[0];
        for (int i = split + 1; i < argc; i++) right[i - split] = argv[i];
        if ((rc = parse_part(argc - split, right, &o, ops_n, &nn)) >= 0) goto out;
    } else if (nb == 2) {
        ops_n[nn++] = ops_b[--nb];
    } else if (nb > 2) {
        rc = 2;
        cli_err("compare", "several runs per side need '--' between the sides: compare BASE... -- NEW...");
        goto out;
    }
    rc = 2;
    if (nb == 0 || nn == 0) { cli_err("compare", "needs run folders on both sides: BASE NEW, or BASE... -- NEW..."); goto out; }
    o.base = ops_b;
    o.neu = ops_n;
    o.nbase = nb;
    o.nnew = nn;
    rc = compare_folders(&o, stdout);
out:
    free(ops_b);
    free(ops_n);
    free(right);
    return rc;
}
