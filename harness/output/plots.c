/* plots.c: SVG plots for report.md through gnuplot, when it is installed: GEMM GFLOP/s and
 * bandwidth against problem size per backend, GPU/CPU speedup per family, a roofline per backend.
 * Data files and the gnuplot script stay in <run>/plots/ so a user can restyle them. Each plot is
 * one phase over a struct plots; backends and dtypes come from the registries. */
#include "plots.h"
#include "ceilings.h"
#include "metrics.h"
#include "results.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Writes one series (x y per line) of rows matching family/backend/dtype; returns points written. */
static int series(const struct plots *p, const char *name, const char *family, const char *backend, const char *dtype,
                  int by_bytes)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/plots/%s.dat", p->dir, name);
    FILE *f = fopen(path, "w");
    int k = 0;
    if (!f) return 0;
    for (int i = 0; i < p->n; i++) {
        const struct row *r = &p->rows[i];
        if (strcmp(r->family, family) || strcmp(r->backend, backend) || strcmp(r->dtype, dtype) || !row_measured(r)) continue;
        fprintf(f, "%g %g\n", by_bytes ? r->bytes : r->flops, row_metric(r));
        k++;
    }
    fclose(f);
    if (!k) remove(path);
    return k;
}

static void xy_plot(FILE *gp, const char *svg, const char *title, const char *xl, const char *yl)
{
    fprintf(gp, "set output '%s'\nset title '%s'\nset xlabel '%s'\nset ylabel '%s'\nset logscale x\nunset logscale y\n",
            svg, title, xl, yl);
}

/* GEMM throughput against FLOPs per call, one series per backend and dtype. */
static void gemm_plot(struct plots *p)
{
    char plot[2048] = "";
    for (int b = 0; b < p->nb; b++)
        for (int d = 0; d < DT_COUNT; d++) {
            char name[64];
            const char *dt = dtype_name((enum dtype)d);
            snprintf(name, sizeof name, "gemm-%s-%s", p->bk[b], dt);
            if (series(p, name, "gemm", p->bk[b], dt, 0))
                snprintf(plot + strlen(plot), sizeof plot - strlen(plot), "%s'%s.dat' using 1:2 with points pt 7 title '%s %s'",
                         *plot ? ", " : "", name, p->bk[b], dt);
        }
    if (!*plot) return;
    xy_plot(p->gp, "gemm.svg", "GEMM throughput", "FLOPs per call", "GFLOP/s");
    fprintf(p->gp, "plot %s\n", plot);
    md_add(p, "![GEMM GFLOP/s against size](plots/gemm.svg)\n\n");
}

/* Bandwidth-family GB/s against bytes moved per call, one series per backend (fp32). */
static void bandwidth_plot(struct plots *p)
{
    char plot[2048] = "";
    for (int b = 0; b < p->nb; b++) {
        char name[64];
        snprintf(name, sizeof name, "bandwidth-%s", p->bk[b]);
        if (series(p, name, "bandwidth", p->bk[b], "fp32", 1))
            snprintf(plot + strlen(plot), sizeof plot - strlen(plot), "%s'%s.dat' using 1:2 with points pt 7 title '%s'",
                     *plot ? ", " : "", name, p->bk[b]);
    }
    if (!*plot) return;
    xy_plot(p->gp, "bandwidth.svg", "Bandwidth against bytes moved per call", "bytes per call", "GB/s");
    fprintf(p->gp, "plot %s\n", plot);
    md_add(p, "![bandwidth against size](plots/bandwidth.svg)\n\n");
}

/* GPU/CPU speedup per family: the geometric mean of the pairs (metrics.h), as the headline. */
static void speedup_plot(struct plots *p)
{
    char path[4300];
    struct family_ratio *sp;
    int nsp = gpu_cpu_speedups(p->rows, p->n, &sp), fams = 0;
    snprintf(path, sizeof path, "%s/plots/speedup.dat", p->dir);
    FILE *f = fopen(path, "w");
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
    md_add(p, "![GPU/CPU speedup per family](plots/speedup.svg)\n\n");
}

/* Roofline of one backend: its measured rows with FLOPs against min(peak, I × bandwidth). */
static void roofline_plot(struct plots *p, const char *backend, const struct ceiling *c)
{
    char name[64], path[4300], line[256];
    snprintf(name, sizeof name, "roofline-%s", backend);
    snprintf(path, sizeof path, "%s/plots/%s.dat", p->dir, name);
    FILE *f = fopen(path, "w");
    int k = 0;
    for (int i = 0; f && i < p->n; i++)
        if (!strcmp(p->rows[i].backend, backend) && row_measured(&p->rows[i]) && p->rows[i].flops > 0) {
            fprintf(f, "%g %g\n", p->rows[i].intensity, p->rows[i].gflops);
            k++;
        }
    if (f) fclose(f);
    if (!k) return;
    fprintf(p->gp, "set output '%s.svg'\nset title 'Roofline: %s'\nset logscale xy\nset xlabel 'FLOP/byte'\n"
                   "set ylabel 'GFLOP/s'\nplot [0.01:1000] ", name, backend);
    for (int d = 0; d < DT_COUNT; d++)
        if (!isnan(c->gflops[d]))
            fprintf(p->gp, "(x*%g < %g ? x*%g : %g) with lines lw 2 title '%s roof', ", c->bw_gbps, c->gflops[d], c->bw_gbps,
                    c->gflops[d], dtype_name((enum dtype)d));
    fprintf(p->gp, "'%s.dat' using 1:2 with points pt 7 title 'rows'\nunset logscale xy\n", name);
    snprintf(line, sizeof line, "![roofline %s](plots/%s.svg)\n\n", backend, name);
    md_add(p, line);
}

const char *report_plots(const struct row *rows, int n, const struct sysinfo *si, const char *dir, char *md, size_t mdn)
{
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
    fprintf(p.gp, "set terminal svg size 800,480 dynamic background rgb 'white'\nset key top left\nset grid\ncd '%s/plots'\n", dir);
    md_add(&p, "\n## Plots\n\n");
    p.nb = row_backends(rows, n, p.bk, 16);
    gemm_plot(&p);
    bandwidth_plot(&p);
    speedup_plot(&p);
    for (int b = 0; b < p.nb; b++) {
        struct ceiling c;
        if (ceilings_get(si, p.bk[b], &c) == 0 && !isnan(c.bw_gbps)) roofline_plot(&p, p.bk[b], &c);
    }
    fclose(p.gp);
    snprintf(path, sizeof path, "gnuplot '%s/plots/plots.gp' 2>'%s/plots/gnuplot.log'", dir, dir);
    if (system(path) != 0) md_add(&p, "(gnuplot failed: see plots/gnuplot.log)\n");
    return md;
}
