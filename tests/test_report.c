/* test_report.c: report.md on a small fixed result set (tables well-formed, GPU/CPU ratios and the
 * crossover computed right) and the CI JSON files (they parse and carry their fields). */
#include "ci_json.h"
#include "report.h"
#include "testutil.h"
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
