/* test_summary.c: the answer on top of report.md: within the first 30 lines, before the machine
 * and the ceilings; its GPU/CPU per family is the best rows' ratio the tables show; its training
 * time and dollars per epoch agree with the training table; the faster and cheaper choices are
 * right; what was skipped is one line per backend and reason; energy "n/a" is explained once. */
#include "report.h"
#include "summary.h"
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct row mk(const char *backend, const char *family, const char *cs, int threads, double median_s)
{
    struct row r;
    row_init(&r);
    snprintf(r.backend, sizeof r.backend, "%s", backend);
    snprintf(r.workload, sizeof r.workload, "%s", family);
    snprintf(r.family, sizeof r.family, "%s", family);
    snprintf(r.case_name, sizeof r.case_name, "%s", cs);
    strcpy(r.dtype, "fp32");
    strcpy(r.shape, "s");
    strcpy(r.status, isnan(median_s) ? "skipped: no CUDA driver" : "ok");
    r.threads = threads;
    r.flops = 1e9; r.bytes = 1e8; r.intensity = 10;
    r.median_s = median_s; r.ci_lo_s = median_s * 0.99; r.ci_hi_s = median_s * 1.01;
    r.gflops = r.flops / median_s * 1e-9; r.gbytes_per_s = r.bytes / median_s * 1e-9;
    r.samples = 10; r.reps = 1;
    if (!strcmp(family, "train")) r.items_per_call = 100;
    return r;
}

/* gemm: a (CPU best 2 thr 10 ms; 4 thr oversubscribed 20 ms; GPU 1 ms, cudnn n/a) and b (CPU 5 ms,
 * GPU 2 ms): GPU/CPU 10 and 2.5, geomean 5. train mlp.sgd: CPU 0.1 s per 100 samples = 1000
 * samples/s, GPU 0.01 s (graph) and 0.02 s (resident). 60000 samples: CPU 60 s, GPU 6 s. Prices
 * CPU $1/h, GPU $36/h: CPU $0.0167, GPU $0.06 per epoch: the GPU is 10x faster, the CPU 3.6x
 * cheaper. Three cuda rows skipped for one reason, one cpu row for another. */
static int fixture(struct row *rows)
{
    int n = 0;
    rows[n++] = mk("cpu", "gemm", "a", 2, 0.010);
    rows[n++] = mk("cpu", "gemm", "a", 4, 0.020);
    rows[n++] = mk("cuda", "gemm", "a", 0, 0.001);
    rows[n++] = mk("cpu", "gemm", "b", 2, 0.005);
    rows[n++] = mk("cuda", "gemm", "b", 0, 0.002);
    rows[n++] = mk("cpu", "train", "mlp.sgd.resident", 2, 0.1);
    rows[n++] = mk("cuda", "train", "mlp.sgd.resident", 0, 0.02);
    rows[n++] = mk("cuda", "train", "mlp.sgd.graph", 0, 0.01);
    rows[n++] = mk("cpu", "bandwidth", "copy", 2, 0.01);
    for (int i = 0; i < 3; i++) {
        rows[n] = mk("cuda", "bandwidth", "copy", 0, NAN);
        snprintf(rows[n].case_name, sizeof rows[n].case_name, "c%d", i);
        n++;
    }
    rows[n] = mk("cpu", "gemm", "a", 2, NAN);
    strcpy(rows[n].dtype, "fp16");
    strcpy(rows[n++].status, "skipped: no native fp16 arithmetic on this CPU");
    return n;
}

static char *render(int stdout_form)
{
    struct row rows[32];
    int n = fixture(rows);
    struct sysinfo si = {0};
    sysinfo_put(&si, "cpu", "model", "Test CPU");
    sysinfo_put(&si, "cpu", "cores", "2");
    sysinfo_put(&si, "cpu", "l3_bytes", "314572800 x 1");
    sysinfo_put(&si, "cuda", "status", "no CUDA driver");
    sysinfo_put(&si, "price.cpu", "usd_per_hour", "1");
    sysinfo_put(&si, "price.cuda", "usd_per_hour", "36");
    sysinfo_put(&si, "energy.cpu", "status", "n/a: RAPL not readable");
    sysinfo_put(&si, "train", "dataset_size", "60000");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (stdout_form) report_print_summary(rows, n, &si, f);
    else report_write(rows, n, &si, NULL, f);
    fclose(f);
    sysinfo_free(&si);
    return buf;
}

static int line_of(const char *text, const char *what)
{
    const char *at = strstr(text, what);
    int line = 1;
    if (!at) return -1;
    for (const char *p = text; p < at; p++) line += *p == '\n';
    return line;
}

Test(summary, on_top_of_the_report)
{
    char *md = render(0);
    int answer = line_of(md, "## The answer"), family = line_of(md, "| gemm | **GPU**, 5× faster |"),
        train = line_of(md, "| mlp.sgd |"), machine = line_of(md, "## Machine");
    cr_expect(answer > 0 && answer < 6, "the answer opens the report (line %d)", answer);
    cr_expect(family > answer && family <= 30, "GPU/CPU per family in the first 30 lines (line %d)", family);
    cr_expect(train > family && train <= 30, "cost per epoch in the first 30 lines (line %d):\n%s", train, md);
    cr_expect(machine > train, "the machine's details come after the answer");
    cr_expect(line_of(md, "L3 300 MiB") > 0, "cache sizes in MiB");
    free(md);
    char *out = render(1);
    cr_expect(line_of(out, "## The answer") >= 1 && line_of(out, "## The answer") < line_of(out, "## Results"),
              "the stdout summary opens with the answer too");
    free(out);
}

Test(summary, consistent_with_the_tables)
{
    char *md = render(0);
    /* per case, the tables' GPU/CPU (10x for a against its fastest CPU row, 2.5x for b) */
    cr_expect(strstr(md, "| a | s | fp32 | 100.0 (2 thr) | — | 1000.0 | — | 10.00× |") != NULL, "table a: %s", md);
    cr_expect(strstr(md, "| b | s | fp32 | 200.0 (2 thr) | — | 500.0 | — | 2.50× |") != NULL, "table b");
    cr_expect(strstr(md, "| gemm | **GPU**, 5× faster | 5× | 2 |") != NULL, "geomean of 10 and 2.5 is 5");
    cr_expect(strstr(md, "oversubscribed") != NULL, "the 4-thread row on 2 cores is marked");
    /* training: the summary's figures are the training table's */
    cr_expect(strstr(md, "| mlp.sgd | 1,000 (cpu resident) | 60 s | $0.017 | 10,000 (cuda graph) | 6 s | $0.060 | GPU, 10× faster | "
                         "CPU, 3.6× cheaper |") != NULL, "training line");
    cr_expect(strstr(md, "| mlp.sgd.resident | cpu | 2 | 100.00 [99.00, 101.00] | 1000 | 60.00 | 1 | $0.0167 |") != NULL, "train table CPU");
    cr_expect(strstr(md, "| mlp.sgd.graph | cuda | — | 10.00 [9.90, 10.10] | 10000 | 6.00 | 36 | $0.06 |") != NULL, "train table GPU");
    free(md);
}

Test(summary, skipped_once_per_backend_and_reason)
{
    char *md = render(0);
    cr_expect(strstr(md, "- cuda: 3 rows skipped: no CUDA driver\n") != NULL, "%s", md);
    cr_expect(strstr(md, "- cpu: 1 row skipped: no native fp16 arithmetic on this CPU\n") != NULL);
    cr_expect(strstr(md, "| bandwidth | only the CPU measured | — | 0 |") != NULL, "a family the GPU skipped");
    /* energy: the reason once under the training table, not in each row */
    const char *train = strstr(md, "## Training step"), *reason = "RAPL not readable", *first = train ? strstr(train, reason) : NULL;
    cr_expect(first && !strstr(first + 1, reason), "the energy reason appears exactly once: %s", train);
    cr_expect(train && strstr(train, "| $0.0167 | n/a |") != NULL, "the row says n/a");
    cr_expect(strstr(md, "Energy n/a on cpu: RAPL not readable") != NULL);
    free(md);
}

Test(summary, human_units)
{
    char b[32];
    fmt_rate(236.3, "GFLOP/s", b, sizeof b);
    cr_expect_str_eq(b, "236 GFLOP/s");
    fmt_rate(51200, "GFLOP/s", b, sizeof b);
    cr_expect_str_eq(b, "51.2 TFLOP/s");
    fmt_rate(1900, "GB/s", b, sizeof b);
    cr_expect_str_eq(b, "1.9 TB/s");
    fmt_seconds_human(300, b, sizeof b);
    cr_expect_str_eq(b, "5.0 min");
    fmt_bytes_human(314572800, b, sizeof b);
    cr_expect_str_eq(b, "300 MiB");
    fmt_bytes_human(25232932864.0, b, sizeof b);
    cr_expect_str_eq(b, "23.5 GiB");
}
