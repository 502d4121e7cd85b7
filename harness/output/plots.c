/* plots.c: SVG plots for report.md through gnuplot, when it is installed: GEMM GFLOP/s and
 * bandwidth against problem size per backend, GPU/CPU speedup per family, a roofline per backend.
 * Data files and the gnuplot script stay in <run>/plots/ so a user can restyle them. */
#include "ceilings.h"
#include "report.h"
#include "stats.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int have_gnuplot(void) { return system("command -v gnuplot >/dev/null 2>&1") == 0; }

/* Writes one series (x y per line) of rows matching family/backend/dtype; returns points written. */
static int series(const struct row *rows, int n, const char *dir, const char *name, const char *family,
                  const char *backend, const char *dtype, int by_bytes)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/plots/%s.dat", dir, name);
    FILE *f = fopen(path, "w");
    int k = 0;
    if (!f) return 0;
    for (int i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        if (strcmp(r->family, family) || strcmp(r->backend, backend) || strcmp(r->dtype, dtype) || !row_measured(r)) continue;
        fprintf(f, "%g %g\n", by_bytes ? r->bytes : r->flops, report_metric(r));
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

const char *report_plots(const struct row *rows, int n, const struct sysinfo *si, const char *dir, char *md, size_t mdn)
{
    char path[4300];
    if (!have_gnuplot()) {
        snprintf(md, mdn, "\n## Plots\n\nInstall gnuplot (`sudo apt-get install gnuplot-nox`) and run `dlbench report %s` "
                          "to add SVG plots here.\n", dir);
        return md;
    }
    snprintf(path, sizeof path, "%s/plots", dir);
    mkdir_p(path);
    snprintf(path, sizeof path, "%s/plots/plots.gp", dir);
    FILE *gp = fopen(path, "w");
    if (!gp) return NULL;
    fprintf(gp, "set terminal svg size 800,480 dynamic background rgb 'white'\nset key top left\nset grid\ncd '%s/plots'\n", dir);
    size_t used = (size_t)snprintf(md, mdn, "\n## Plots\n\n");
    static const char *bk[] = {"cpu", "cuda"}, *dts[] = {"fp32", "tf32", "fp16", "bf16"};
    /* GEMM throughput against FLOPs per call */
    char plot[2048] = "";
    for (int b = 0; b < 2; b++)
        for (int d = 0; d < 4; d++) {
            char name[64];
            snprintf(name, sizeof name, "gemm-%s-%s", bk[b], dts[d]);
            if (series(rows, n, dir, name, "gemm", bk[b], dts[d], 0))
                snprintf(plot + strlen(plot), sizeof plot - strlen(plot), "%s'%s.dat' using 1:2 with points pt 7 title '%s %s'",
                         *plot ? ", " : "", name, bk[b], dts[d]);
        }
    if (*plot) {
        xy_plot(gp, "gemm.svg", "GEMM throughput", "FLOPs per call", "GFLOP/s");
        fprintf(gp, "plot %s\n", plot);
        used += (size_t)snprintf(md + used, mdn - used, "![GEMM GFLOP/s against size](plots/gemm.svg)\n\n");
    }
    *plot = 0;
    for (int b = 0; b < 2; b++) {
        char name[64];
        snprintf(name, sizeof name, "bandwidth-%s", bk[b]);
        if (series(rows, n, dir, name, "bandwidth", bk[b], "fp32", 1))
            snprintf(plot + strlen(plot), sizeof plot - strlen(plot), "%s'%s.dat' using 1:2 with points pt 7 title '%s'",
                     *plot ? ", " : "", name, bk[b]);
    }
    if (*plot) {
        xy_plot(gp, "bandwidth.svg", "Bandwidth against bytes moved per call", "bytes per call", "GB/s");
        fprintf(gp, "plot %s\n", plot);
        used += (size_t)snprintf(md + used, mdn - used, "![bandwidth against size](plots/bandwidth.svg)\n\n");
    }
    /* GPU/CPU speedup per family (geometric mean of the pairs) */
    snprintf(path, sizeof path, "%s/plots/speedup.dat", dir);
    FILE *sp = fopen(path, "w");
    int fams = 0;
    double *ratio = malloc(sizeof(double) * (n + 1));
    for (int i = 0; sp && i < n; i++) {
        int seen = 0, k = 0;
        for (int j = 0; j < i; j++) seen |= !strcmp(rows[j].family, rows[i].family);
        if (seen) continue;
        for (int j = 0; j < n; j++) {
            const struct row *cpu, *gpu;
            if (strcmp(rows[j].family, rows[i].family) || strcmp(rows[j].backend, "cpu")) continue;
            report_pair(rows, n, &rows[j], &cpu, &gpu);
            if (cpu == &rows[j] && gpu && row_measured(cpu) && row_measured(gpu)) ratio[k++] = report_metric(gpu) / report_metric(cpu);
        }
        if (k) { fprintf(sp, "%s %g\n", rows[i].family, geomean(ratio, k)); fams++; }
    }
    free(ratio);
    if (sp) fclose(sp);
    if (fams) {
        fprintf(gp, "set output 'speedup.svg'\nset title 'GPU/CPU speedup per family (geometric mean)'\nunset logscale x\n"
                    "set logscale y\nset style fill solid 0.6\nset boxwidth 0.6\nset xlabel ''\nset ylabel 'GPU/CPU'\n"
                    "plot 'speedup.dat' using 0:2:xtic(1) with boxes notitle\nunset logscale y\n");
        used += (size_t)snprintf(md + used, mdn - used, "![GPU/CPU speedup per family](plots/speedup.svg)\n\n");
    }
    /* Roofline per backend: measured rows with FLOPs against min(peak, I × bandwidth) */
    for (int b = 0; b < 2; b++) {
        struct ceiling c;
        if (ceilings_get(si, bk[b], &c) != 0 || isnan(c.bw_gbps)) continue;
        char name[64];
        snprintf(name, sizeof name, "roofline-%s", bk[b]);
        snprintf(path, sizeof path, "%s/plots/%s.dat", dir, name);
        FILE *rf = fopen(path, "w");
        int k = 0;
        for (int i = 0; rf && i < n; i++)
            if (!strcmp(rows[i].backend, bk[b]) && row_measured(&rows[i]) && rows[i].flops > 0) {
                fprintf(rf, "%g %g\n", rows[i].intensity, rows[i].gflops);
                k++;
            }
        if (rf) fclose(rf);
        if (!k) continue;
        fprintf(gp, "set output '%s.svg'\nset title 'Roofline: %s'\nset logscale xy\nset xlabel 'FLOP/byte'\n"
                    "set ylabel 'GFLOP/s'\nplot [0.01:1000] ", name, bk[b]);
        for (int d = 0; d < DT_COUNT; d++)
            if (!isnan(c.gflops[d]))
                fprintf(gp, "(x*%g < %g ? x*%g : %g) with lines lw 2 title '%s roof', ", c.bw_gbps, c.gflops[d], c.bw_gbps,
                        c.gflops[d], dts[d]);
        fprintf(gp, "'%s.dat' using 1:2 with points pt 7 title 'rows'\nunset logscale xy\n", name);
        used += (size_t)snprintf(md + used, mdn - used, "![roofline %s](plots/%s.svg)\n\n", bk[b], name);
    }
    fclose(gp);
    snprintf(path, sizeof path, "gnuplot '%s/plots/plots.gp' 2>'%s/plots/gnuplot.log'", dir, dir);
    if (system(path) != 0) snprintf(md + used, mdn - used, "(gnuplot failed: see plots/gnuplot.log)\n");
    return md;
}
