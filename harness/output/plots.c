/* plots.c: SVG plots for report.md through gnuplot, when it is installed. Every series is labelled:
 * the GEMM square sweep against N, one line per backend and dtype; GEMM layer shapes, elementwise
 * ops, convolutions, training steps and transfers as labelled bars per case, one bar per backend
 * (and op or dtype); STREAM ops against bytes per call, one line per backend and op; GPU/CPU per
 * family; a roofline per backend with one series per workload. Data files and plots.gp (relative
 * paths only: gnuplot runs inside <run>/plots/) stay there so a user can restyle them. */
#include "plots.h"
#include "ceilings.h"
#include "metrics.h"
#include "results.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct plots {
    const struct row *rows;
    int n;
    const char *dir;
    FILE *gp;                     /* plots.gp */
    char *md;                     /* the report's section, appended to */
    size_t mdn, used;
    const char *bk[16];           /* backends in the rows */
    int nb;
};

static int have_gnuplot(void) { return system("command -v gnuplot >/dev/null 2>&1") == 0; }

static void md_add(struct plots *p, const char *line)
{
    if (p->used < p->mdn) p->used += (size_t)snprintf(p->md + p->used, p->mdn - p->used, "%s", line);
}

static void md_link(struct plots *p, const char *svg, const char *what)
{
    char line[400];
    snprintf(line, sizeof line, "![%s](plots/%s)\n\n", what, svg);
    md_add(p, line);
}

static FILE *data_file(const struct plots *p, const char *name)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/plots/%s.dat", p->dir, name);
    return fopen(path, "w");
}

/* "sq2048" -> 2048: a case of the GEMM square sweep; 0 for a layer shape. */
static long square_n(const struct row *r)
{
    char *end;
    if (strcmp(r->family, "gemm") || strncmp(r->case_name, "sq", 2)) return 0;
    long v = strtol(r->case_name + 2, &end, 10);
    return *end ? 0 : v;
}

/* A case's op: its name up to the first '.' ("copy.128K" -> "copy"). */
static void op_of(const struct row *r, char *buf, size_t n)
{
    snprintf(buf, n, "%.*s", (int)strcspn(r->case_name, "."), r->case_name);
}

struct pt { double x, y; };
static int cmp_pt(const void *a, const void *b)
{
    double x = ((const struct pt *)a)->x, y = ((const struct pt *)b)->x;
    return (x > y) - (x < y);
}

/* A line series: x y of the measured rows that match, sorted by x; returns points written. */
static int xy_series(const struct plots *p, const char *name, int (*keep)(const struct row *, const char *, const char *, const char *),
                     const char *backend, const char *dtype, const char *op, double (*x)(const struct row *))
{
    struct pt *v = malloc(sizeof *v * (p->n + 1));
    int k = 0;
    for (int i = 0; i < p->n; i++) {
        const struct row *r = &p->rows[i];
        if (row_measured(r) && !strcmp(r->backend, backend) && keep(r, backend, dtype, op)) v[k++] = (struct pt){x(r), row_metric(r)};
    }
    FILE *f = k ? data_file(p, name) : NULL;
    if (f) {
        qsort(v, k, sizeof *v, cmp_pt);
        fprintf(f, "# %s\n", name);
        for (int i = 0; i < k; i++) fprintf(f, "%g %g\n", v[i].x, v[i].y);
        fclose(f);
    }
    free(v);
    return f ? k : 0;
}

static int keep_square(const struct row *r, const char *b, const char *dt, const char *op)
{
    (void)b; (void)op;
    return square_n(r) > 0 && !strcmp(r->dtype, dt);
}
static double x_square(const struct row *r) { return (double)square_n(r); }

static int keep_stream(const struct row *r, const char *b, const char *dt, const char *op)
{
    char o[64];
    (void)b; (void)dt;
    op_of(r, o, sizeof o);
    return !strcmp(r->workload, "stream") && !strcmp(o, op);
}
static double x_bytes(const struct row *r) { return r->bytes; }

/* Point types (filled circle, square, triangle, diamond, ...) and dash types per backend, so that
 * series stay apart when gnuplot's eight colours repeat. */
static void backend_style(int b, const char *what, char *buf, size_t n)
{
    static const int pt[] = {7, 5, 9, 13, 11, 15};
    snprintf(buf, n, "%s pt %d dt %d", what, pt[b % 6], b % 5 + 1);
}

/* Appends ", 'file.dat' using 1:2 with linespoints title 't'" to a plot command. */
static void plot_add(char *plot, size_t n, const char *file, const char *using, const char *style, const char *title)
{
    size_t len = strlen(plot);
    snprintf(plot + len, n - len, "%s'%s.dat' using %s with %s title '%s'", len ? ", \\\n     " : "", file, using, style, title);
}

/* The GEMM square sweep: GFLOP/s against N (M = N = K), one line per backend and dtype. */
static void gemm_square_plot(struct plots *p)
{
    char plot[4096] = "";
    for (int b = 0; b < p->nb; b++)
        for (int d = 0; d < DT_COUNT; d++) {
            char name[96], title[64];
            const char *dt = dtype_name((enum dtype)d);
            snprintf(name, sizeof name, "gemm-square-%s-%s", p->bk[b], dt);
            snprintf(title, sizeof title, "%s %s", p->bk[b], dt);
            char style[64];
            backend_style(b, "linespoints", style, sizeof style);
            if (xy_series(p, name, keep_square, p->bk[b], dt, NULL, x_square)) plot_add(plot, sizeof plot, name, "1:2", style, title);
        }
    if (!*plot) return;
    fprintf(p->gp, "set output 'gemm-square.svg'\nset title 'GEMM square sweep (M = N = K)'\nset xlabel 'N'\n"
                   "set ylabel 'GFLOP/s'\nset logscale x 2\nset logscale y\nset key top left\nplot %s\nunset logscale xy\n", plot);
    md_link(p, "gemm-square.svg", "GEMM GFLOP/s against N, square sweep");
}

/* STREAM ops: GB/s against bytes moved per call, one line per backend and op. */
static void stream_plot(struct plots *p)
{
    static const char *const ops[] = {"copy", "scale", "add", "triad", "dot"};
    char plot[4096] = "";
    for (int b = 0; b < p->nb; b++)
        for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++) {
            char name[96], title[64];
            snprintf(name, sizeof name, "stream-%s-%s", p->bk[b], ops[o]);
            snprintf(title, sizeof title, "%s %s", p->bk[b], ops[o]);
            char style[64];
            backend_style(b, "linespoints", style, sizeof style);
            if (xy_series(p, name, keep_stream, p->bk[b], "fp32", ops[o], x_bytes)) plot_add(plot, sizeof plot, name, "1:2", style, title);
        }
    if (!*plot) return;
    fprintf(p->gp, "set output 'stream.svg'\nset title 'STREAM bandwidth against bytes moved per call'\n"
                   "set xlabel 'bytes per call'\nset ylabel 'GB/s'\nset logscale x\nunset logscale y\nset key top left\n"
                   "plot %s\nunset logscale xy\n", plot);
    md_link(p, "stream.svg", "STREAM GB/s against bytes per call");
}

/* A bar chart: one cluster per case (label), one bar per series; the rows it takes and how it names
 * their series are the chart's own. */
struct bars {
    const char *name, *title;
    int (*keep)(const struct row *);
    void (*series)(const struct row *, char *, size_t);
};

#define MAX_LABELS 256
#define MAX_SERIES 24

static int index_of(char (*list)[64], int *n, int max, const char *s)
{
    for (int i = 0; i < *n; i++) if (!strcmp(list[i], s)) return i;
    if (*n == max) return -1;
    snprintf(list[*n], 64, "%s", s);
    return (*n)++;
}

static void bar_plot(struct plots *p, const struct bars *c)
{
    static char labels[MAX_LABELS][64], series[MAX_SERIES][64];
    static double v[MAX_LABELS][MAX_SERIES];
    int nl = 0, ns = 0;
    double lo = INFINITY, hi = 0;
    const char *unit = NULL;
    for (int l = 0; l < MAX_LABELS; l++) for (int k = 0; k < MAX_SERIES; k++) v[l][k] = NAN;
    for (int i = 0; i < p->n; i++) {
        const struct row *r = &p->rows[i];
        char s[64];
        if (!row_measured(r) || !c->keep(r)) continue;
        c->series(r, s, sizeof s);
        int li = index_of(labels, &nl, MAX_LABELS, r->case_name), si = index_of(series, &ns, MAX_SERIES, s);
        if (li < 0 || si < 0) continue;
        double m = row_metric(r);
        if (isnan(v[li][si]) || m > v[li][si]) v[li][si] = m;   /* several thread counts: the fastest */
        lo = fmin(lo, m);
        hi = fmax(hi, m);
        unit = row_unit(r);
    }
    FILE *f = nl ? data_file(p, c->name) : NULL;
    if (!f) return;
    fprintf(f, "# case");
    for (int s = 0; s < ns; s++) fprintf(f, " \"%s\"", series[s]);
    fputc('\n', f);
    for (int l = 0; l < nl; l++) {
        fprintf(f, "\"%s\"", labels[l]);
        for (int s = 0; s < ns; s++) { if (isnan(v[l][s])) fputs(" ?", f); else fprintf(f, " %g", v[l][s]); }
        fputc('\n', f);
    }
    fclose(f);
    fprintf(p->gp, "set output '%s.svg'\nset title '%s'\nset xlabel ''\nset ylabel '%s'\nunset logscale x\n%s"
                   "set style data histograms\nset style histogram clustered gap 1\nset style fill solid 0.7 border -1\n"
                   "set boxwidth 0.9\nset xtics rotate by -40 left\nset key top right\nplot ",
            c->name, c->title, unit, hi > 30 * lo ? "set logscale y\n" : "unset logscale y\n");
    for (int s = 0; s < ns; s++)
        fprintf(p->gp, "%s'%s.dat' using %d:xtic(1) title '%s'", s ? ", " : "", c->name, s + 2, series[s]);
    fputs("\nset xtics norotate\nset style data points\nunset logscale y\n", p->gp);
    char svg[96], what[160];
    snprintf(svg, sizeof svg, "%s.svg", c->name);
    snprintf(what, sizeof what, "%s, per case", c->title);
    md_link(p, svg, what);
}

static int keep_gemm_layer(const struct row *r) { return !strcmp(r->family, "gemm") && square_n(r) == 0; }
static int keep_eltwise(const struct row *r) { return !strcmp(r->workload, "eltwise"); }
static int keep_conv(const struct row *r) { return !strcmp(r->family, "conv"); }
static int keep_train(const struct row *r) { return !strcmp(r->family, "train"); }
static int keep_transfer(const struct row *r) { return !strcmp(r->family, "transfer"); }
static void by_backend_dtype(const struct row *r, char *b, size_t n) { snprintf(b, n, "%s %s", r->backend, r->dtype); }
static void by_backend(const struct row *r, char *b, size_t n) { snprintf(b, n, "%s", r->backend); }
/* conv_fwd, conv_bwd_data, conv_bwd_filter: the pass, per backend and dtype */
static void by_backend_pass(const struct row *r, char *b, size_t n)
{
    const char *pass = !strncmp(r->workload, "conv_", 5) ? r->workload + 5 : r->workload;
    snprintf(b, n, "%s %s %s", r->backend, pass, r->dtype);
}

/* GPU/CPU speedup per family: the geometric mean of the pairs (metrics.h), as the headline. */
static void speedup_plot(struct plots *p)
{
    struct family_ratio *sp;
    int nsp = gpu_cpu_speedups(p->rows, p->n, &sp), fams = 0;
    FILE *f = nsp ? data_file(p, "speedup") : NULL;
    for (int i = 0; f && i < nsp; i++) {
        int seen = 0;
        for (int j = 0; j < i; j++) seen |= !strcmp(sp[j].family, sp[i].family);
        if (!seen) { fprintf(f, "%s %g\n", sp[i].family, family_geomean(sp, nsp, sp[i].family, NULL)); fams++; }
    }
    free(sp);
    if (f) fclose(f);
    if (!fams) return;
    fprintf(p->gp, "set output 'speedup.svg'\nset title 'GPU/CPU speedup per family (geometric mean)'\nunset logscale x\n"
                   "set logscale y\nset style fill solid 0.6\nset boxwidth 0.6\nset xlabel ''\nset ylabel 'GPU/CPU'\n"
                   "plot 'speedup.dat' using 0:2:xtic(1) with boxes notitle\nunset logscale y\n");
    md_link(p, "speedup.svg", "GPU/CPU speedup per family");
}

/* Roofline of one backend: its measured rows with FLOPs, one series per workload, under
 * min(peak, I × bandwidth) per dtype. */
static void roofline_plot(struct plots *p, const char *backend, const struct ceiling *c)
{
    char plot[4096] = "", svg[96], what[96];
    for (int i = 0; i < p->n; i++) {
        const struct row *r = &p->rows[i];
        int first = 1;
        for (int j = 0; j < i && first; j++) first = strcmp(p->rows[j].workload, r->workload) || strcmp(p->rows[j].backend, backend);
        if (!first || strcmp(r->backend, backend)) continue;
        char name[96];
        snprintf(name, sizeof name, "roofline-%s-%s", backend, r->workload);
        FILE *f = NULL;
        int k = 0;
        for (int j = i; j < p->n; j++) {
            const struct row *q = &p->rows[j];
            if (strcmp(q->backend, backend) || strcmp(q->workload, r->workload) || !row_measured(q) || !(q->flops > 0)) continue;
            if (!f && !(f = data_file(p, name))) break;
            fprintf(f, "%g %g\n", q->intensity, q->gflops);
            k++;
        }
        if (f) fclose(f);
        if (k) plot_add(plot, sizeof plot, name, "1:2", "points pt 7", r->workload);
    }
    if (!*plot) return;
    fprintf(p->gp, "set output 'roofline-%s.svg'\nset title 'Roofline: %s'\nset logscale xy\nset xlabel 'FLOP/byte'\n"
                   "set ylabel 'GFLOP/s'\nset key top left\nplot [0.01:1000] ", backend, backend);
    for (int d = 0; d < DT_COUNT; d++)
        if (!isnan(c->gflops[d]))
            fprintf(p->gp, "(x*%g < %g ? x*%g : %g) with lines lw 2 title '%s roof', ", c->bw_gbps, c->gflops[d], c->bw_gbps,
                    c->gflops[d], dtype_name((enum dtype)d));
    fprintf(p->gp, "%s\nunset logscale xy\n", plot);
    snprintf(svg, sizeof svg, "roofline-%s.svg", backend);
    snprintf(what, sizeof what, "roofline %s", backend);
    md_link(p, svg, what);
}

/* gnuplot plots.gp inside dir/plots (the script holds relative paths only); 0 when it succeeded. */
static int run_gnuplot(const char *dir)
{
    char plots[4200];
    snprintf(plots, sizeof plots, "%s/plots", dir);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        if (chdir(plots) != 0 || !freopen("gnuplot.log", "w", stderr)) _exit(127);
        execlp("gnuplot", "gnuplot", "plots.gp", (char *)NULL);
        _exit(127);
    }
    int st;
    if (waitpid(pid, &st, 0) < 0) return -1;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

const char *report_plots(const struct row *rows, int n, const struct sysinfo *si, const char *dir, char *md, size_t mdn)
{
    static const struct bars charts[] = {
        {"gemm-layers", "GEMM layer shapes", keep_gemm_layer, by_backend_dtype},
        {"conv", "Convolutions", keep_conv, by_backend_pass},
        {"eltwise", "Elementwise ops", keep_eltwise, by_backend},
        {"train", "Training steps", keep_train, by_backend_dtype},
        {"transfer", "Host-device transfers", keep_transfer, by_backend},
    };
    char path[4300];
    struct plots p = {rows, n, dir, NULL, md, mdn, 0, {0}, 0};
    if (!have_gnuplot()) {
        snprintf(md, mdn, "\n## Plots\n\nInstall gnuplot (`sudo apt-get install gnuplot-nox`) and run `dlbench report %s` "
                          "to add SVG plots here.\n", dir);
        return md;
    }
    snprintf(path, sizeof path, "%s/plots", dir);
    mkdir_p(path);
    snprintf(path, sizeof path, "%s/plots/plots.gp", dir);
    if (!(p.gp = fopen(path, "w"))) return NULL;
    fprintf(p.gp, "# dlbench plots: run `gnuplot plots.gp` in this folder (all paths are relative)\n"
                  "set terminal svg size 960,540 dynamic background rgb 'white'\nset grid\nset datafile missing '?'\n");
    md_add(&p, "\n## Plots\n\n");
    p.nb = row_backends(rows, n, p.bk, 16);
    gemm_square_plot(&p);
    bar_plot(&p, &charts[0]);
    stream_plot(&p);
    for (size_t c = 1; c < sizeof charts / sizeof charts[0]; c++) bar_plot(&p, &charts[c]);
    speedup_plot(&p);
    for (int b = 0; b < p.nb; b++) {
        struct ceiling c;
        if (ceilings_get(si, p.bk[b], &c) == 0 && !isnan(c.bw_gbps)) roofline_plot(&p, p.bk[b], &c);
    }
    fclose(p.gp);
    if (run_gnuplot(dir) != 0) md_add(&p, "(gnuplot failed: see plots/gnuplot.log)\n");
    return md;
}
