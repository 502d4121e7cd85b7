/* test_report.c: report.md on a small fixed result set (tables well-formed, GPU/CPU ratios and the
 * crossover computed right) and the CI JSON files (they parse and carry their fields). */
#include "ci_json.h"
#include "plots.h"
#include "report.h"
#include "testutil.h"
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* gemm at 1e6..1e10 FLOPs: the CPU runs 100 GFLOP/s; the GPU pays 1 ms per call plus 1 TFLOP/s,
 * so it loses up to 1e8 FLOPs (1.1 ms against 1 ms) and wins from 1e9 on. */
static int fixed_rows(struct row *rows)
{
    int n = 0;
    const double sizes[] = {1e6, 1e7, 1e8, 1e9, 1e10};
    for (int i = 0; i < 5; i++)
        for (int b = 0; b < 2; b++) {
            struct row *r = &rows[n++];
            row_init(r);
            strcpy(r->backend, b ? "cuda" : "cpu");
            strcpy(r->workload, "gemm"); strcpy(r->family, "gemm"); strcpy(r->dtype, "fp32");
            snprintf(r->case_name, sizeof r->case_name, "c%d", i);
            strcpy(r->shape, "M=1 N=1 K=1 NN");
            strcpy(r->status, "ok");
            r->threads = b ? 0 : 2;
            r->flops = sizes[i];
            r->bytes = sizes[i] / 10;
            r->median_s = b ? 1e-3 + sizes[i] / 1e12 : sizes[i] / 1e11;
            r->ci_lo_s = r->median_s * 0.99; r->ci_hi_s = r->median_s * 1.01;
            r->samples = 10; r->reps = 1;
            r->gflops = r->flops / r->median_s * 1e-9;
            r->gbytes_per_s = r->bytes / r->median_s * 1e-9;
            r->intensity = 10;
        }
    struct row *s = &rows[n++];
    *s = rows[0];
    strcpy(s->dtype, "fp16");
    strcpy(s->status, "skipped: no native fp16 arithmetic on this CPU");
    return n;
}

static char *render(struct row *rows, int n)
{
    struct sysinfo si = {0};
    sysinfo_put(&si, "cpu", "model", "Test CPU");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    report_write(rows, n, &si, NULL, f);
    fclose(f);
    sysinfo_free(&si);
    return buf;
}

Test(report, tables_are_well_formed)
{
    struct row rows[16];
    char *md = render(rows, fixed_rows(rows));
    int cols = -1, line_no = 0;
    for (char *line = strtok(md, "\n"); line; line = strtok(NULL, "\n"), line_no++) {
        if (line[0] != '|') { cols = -1; continue; }
        int c = 0;
        for (char *p = line; *p; p++) c += *p == '|';
        if (cols < 0) cols = c;
        cr_expect_eq(c, cols, "line %d has %d cells, its table %d: %s", line_no, c, cols, line);
    }
    free(md);
}

Test(report, speedups_and_crossover)
{
    struct row rows[16];
    char *md = render(rows, fixed_rows(rows));
    /* c4: CPU 1e10/1e11 = 0.1 s, GPU 1e-3 + 1e-2 = 0.011 s: 9.09x */
    cr_expect(strstr(md, "| c4 | M=1 N=1 K=1 NN | fp32 | 100.0 |") != NULL, "%s", md);
    cr_expect(strstr(md, "9.09×") != NULL);
    cr_expect(strstr(md, "| gemm | 1e+09 FLOPs | n/a: no host→device transfer measured |") != NULL, "crossover: %s", md);
    cr_expect(strstr(md, "skipped: no native fp16 arithmetic on this CPU") != NULL, "precision matrix and notes");
    free(md);
}

Test(report, crossover_counts_transfers)
{
    struct row rows[20];
    int n = fixed_rows(rows);
    struct row *x = &rows[n++];
    row_init(x);
    strcpy(x->backend, "cuda"); strcpy(x->workload, "transfer"); strcpy(x->family, "transfer");
    strcpy(x->case_name, "h2d-pinned.256M"); strcpy(x->dtype, "fp32"); strcpy(x->status, "ok");
    x->bytes = 12e9; x->median_s = 1.0; x->gbytes_per_s = 12.0; x->samples = 10;
    /* At 12 GB/s a call's bytes (FLOPs/10) add FLOPs/1.2e11 s: at 1e9 the GPU needs 2 ms + 8.3 ms
     * against the CPU's 10 ms, at 1e10 11 ms + 83 ms against 100 ms. */
    char *md = render(rows, n);
    cr_expect(strstr(md, "| gemm | 1e+09 FLOPs | 1e+10 FLOPs |") != NULL, "%s", strstr(md, "## Crossover"));
    free(md);
}

Test(report, ci_json_files_parse_and_carry_fields)
{
    struct row rows[16];
    int n = fixed_rows(rows);
    struct sysinfo si = {0};
    char *dir = temp_dir(), cmd[1024], path[600];
    sysinfo_put(&si, "cpu", "model", "Test CPU");
    sysinfo_put(&si, "cpu", "cores", "2");
    cr_assert_eq(ci_json_write(rows, n, &si, dir), 0);
    if (system("command -v python3 >/dev/null 2>&1") != 0) cr_skip_test("python3 not installed: JSON not parsed");
    snprintf(cmd, sizeof cmd,
             "python3 -c \"import json,sys; d='%s'; g=json.load(open(d+'/results.json')); "
             "assert 'context' in g and len(g['benchmarks'])==11; b=g['benchmarks'][0]; "
             "assert all(k in b for k in ('name','real_time','time_unit','iterations','run_type')); "
             "assert g['benchmarks'][-1]['error_occurred']; "
             "a=json.load(open(d+'/github-action-benchmark.json')); assert len(a)==10 and all(set(x)=={'name','unit','value','range','extra'} for x in a); "
             "m=json.load(open(d+'/bmf.json')); t=m['cpu/gemm/c0/fp32/threads:2']['throughput']; "
             "assert t['lower_value'] <= t['value'] <= t['upper_value']\"", dir);
    cr_expect_eq(system(cmd), 0, "JSON files malformed or missing fields (in %s)", dir);
    snprintf(path, sizeof path, "%s/results.json.tmp", dir);
    cr_expect_null(fopen(path, "r"), "no temporary file left behind");
    sysinfo_free(&si);
    free(dir);
}

/* Plots a reader can use: square sweep and layer shapes in separate plots, every series titled,
 * one roofline series per workload, and plots.gp with relative paths only (the folder can move). */
Test(report, plots_are_labelled_and_relocatable)
{
    if (system("command -v gnuplot >/dev/null 2>&1") != 0) cr_skip_test("gnuplot not installed: no plots to check");
    struct row rows[24];
    int n = fixed_rows(rows);
    for (int i = 0; i < 4; i++) { /* two square-sweep cases and a stream op, per backend */
        struct row *r = &rows[n++];
        *r = rows[i];
        snprintf(r->case_name, sizeof r->case_name, "sq%d", i % 2 ? 256 : 128);
    }
    struct row *s = &rows[n++];
    *s = rows[0];
    strcpy(s->workload, "stream"); strcpy(s->family, "bandwidth"); strcpy(s->case_name, "copy.1M");
    s->flops = 0; s->intensity = NAN;
    struct sysinfo si = {0};
    sysinfo_put(&si, "ceiling.cpu", "bandwidth_gbps", "50");
    sysinfo_put(&si, "ceiling.cpu", "fp32_gflops", "200");
    char *dir = temp_dir(), md[4096], path[700];
    cr_assert_not_null(report_plots(rows, n, &si, dir, md, sizeof md));
    snprintf(path, sizeof path, "%s/plots/plots.gp", dir);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    static char gp[65536];
    gp[fread(gp, 1, sizeof gp - 1, f)] = 0;
    fclose(f);
    cr_expect_null(strstr(gp, dir), "no absolute path in plots.gp");
    cr_expect_null(strstr(gp, "\ncd "), "no cd in plots.gp");
    cr_expect(strstr(gp, "set output 'gemm-square.svg'") && strstr(gp, "set output 'gemm-layers.svg'"), "square sweep and layers apart");
    cr_expect(strstr(gp, "'gemm-square-cpu-fp32.dat' using 1:2 with linespoints pt 7 dt 1 title 'cpu fp32'") != NULL, "%s", gp);
    cr_expect(strstr(gp, "'gemm-layers.dat' using 2:xtic(1) title 'cpu fp32'") != NULL, "layers: one titled bar series each");
    cr_expect(strstr(gp, "title 'cpu copy'") != NULL, "stream ops titled per op");
    cr_expect(strstr(gp, "'roofline-cpu-gemm.dat' using 1:2 with points pt 7 title 'gemm'") != NULL, "roofline series per workload");
    for (char *p = gp; (p = strstr(p, " title '")); p++) cr_expect(p[8] != '\'', "no empty title");
    snprintf(path, sizeof path, "%s/plots/gemm-layers.dat", dir);
    f = fopen(path, "r");
    cr_assert_not_null(f);
    char dat[4096];
    dat[fread(dat, 1, sizeof dat - 1, f)] = 0;
    fclose(f);
    cr_expect(strstr(dat, "\"c0\"") && !strstr(dat, "\"sq128\""), "layer shapes only: %s", dat);
    snprintf(path, sizeof path, "%s/plots/gemm-square.svg", dir);
    cr_expect_eq(access(path, F_OK), 0, "gnuplot drew the square sweep (see %s/plots/gnuplot.log)", dir);
    sysinfo_free(&si);
    free(dir);
}
