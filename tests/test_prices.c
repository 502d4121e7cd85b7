/* test_prices.c: the price table (format, matching, refusals with file:line before any run), the
 * cost of a row scaling with the PUs its threads occupied, the per-GPU share, and the formula
 * line the report prints. */
#include "prices.h"
#include "report.h"
#include "testutil.h"
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int prices_text(const char *text, struct price **p, char *why, size_t n)
{
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    int r = prices_read(f, "prices.csv", p, why, n);
    fclose(f);
    return r;
}

Test(prices, table_parsing_and_matching)
{
    struct price *p;
    char why[512], text[2048];
    snprintf(text, sizeof text, "%s\n*H100*,gpu,AWS p5.48xlarge,55.04,192,8,\"AWS, p5\",2025-06\n"
                                "*H200*,gpu,,n/a,,,no list price,2026-11\n"
                                "*Xeon*family 6 model 207],cpu,AWS c7i.large,0.08925,2,0,AWS c7i,2023-08\n", PRICES_HEADER);
    cr_assert_eq(prices_text(text, &p, why, sizeof why), 3, "%s", why);
    cr_expect_str_eq(p[0].source, "AWS, p5");
    cr_expect_eq(price_match(p, 3, 1, "NVIDIA H100 80GB HBM3"), &p[0]);
    cr_expect_float_eq(price_unit_usd(&p[0]), 55.04 / 8, 1e-12, "per GPU");
    cr_expect(isnan(p[1].usd_per_hour) && isnan(price_unit_usd(&p[1])), "n/a: a known device without a price");
    cr_expect_eq(price_match(p, 3, 0, "intel(r) xeon(r) processor [family 6 model 207]"), &p[2], "case-insensitive");
    cr_expect_float_eq(price_unit_usd(&p[2]), 0.08925 / 2, 1e-12, "per vCPU");
    cr_expect_null(price_match(p, 3, 1, "Intel(R) Xeon(R) Processor [family 6 model 207]"), "a CPU key never prices a GPU");
    cr_expect_null(price_match(p, 3, 0, "Intel(R) Xeon(R) Processor [family 6 model 2070]"));
    free(p);
    const char *shipped = access(DLBENCH_PRICES_FILE, R_OK) == 0 ? DLBENCH_PRICES_FILE : "bench/prices.csv";
    int n = prices_load(shipped, &p, why, sizeof why);
    cr_expect(n > 0, "the shipped table parses: %s", why);
    static const char *const gpus[] = {"NVIDIA H100 80GB HBM3", "NVIDIA H200", "NVIDIA B200", "AMD Instinct MI300X", "NVIDIA L4",
                                       "NVIDIA L40S", "NVIDIA A100-SXM4-80GB"};
    for (int i = 0; i < 7; i++) cr_expect_not_null(price_match(p, n, 1, gpus[i]), "the shipped table covers %s", gpus[i]);
    cr_expect_float_eq(price_match(p, n, 1, "NVIDIA L4")->usd_per_hour, 0.8048, 1e-9, "L4 is not L40S");
    static const char *const cpus[] = {"Intel(R) Xeon(R) Platinum 8488C [family 6 model 143]", "Intel(R) Xeon(R) Processor [family 6 model 207]",
                                       "Intel(R) Xeon(R) 6975P-C [family 6 model 173]", "AMD EPYC 9R14 [family 25 model 17]",
                                       "AMD EPYC 9R45 [family 26 model 2]", "Neoverse-V2 [implementer 0x41 part 0xd4f]"};
    for (int i = 0; i < 6; i++) cr_expect_not_null(price_match(p, n, 0, cpus[i]), "the shipped table covers %s", cpus[i]);
    free(p);
}

/* Every refusal names the file and line: the run then exits 2 before measuring anything. */
Test(prices, malformed_entries_refused_with_file_and_line)
{
    struct price *p;
    char why[512], text[1024];
    static const char *const bad[][2] = {
        {"*H100*,gpu,AWS p5,cheap,192,8,src,2025\n", "not a positive number"},
        {"*H100*,gpu,AWS p5,-3,192,8,src,2025\n", "not a positive number"},
        {"*H100*,gpu,AWS p5,55,,8,src,2025\n", "vCPU count"},
        {"*H100*,gpu,AWS p5,55,many,8,src,2025\n", "vCPU count"},
        {"*H100*,gpu,AWS p5,55,192,0,src,2025\n", "GPU count"},
        {"*Xeon*,cpu,AWS c7i,0.1,2,1,src,2025\n", "GPU count"},
        {"*H100*,tpu,AWS p5,55,192,8,src,2025\n", "kind"},
        {"*H100*,gpu,AWS p5,55,192,8,,2025\n", "source"},
        {"*H100*,gpu,AWS p5,55,192,8,src\n", "fields"},
    };
    for (int i = 0; i < 9; i++) {
        snprintf(text, sizeof text, "%s\nok*,cpu,AWS c7a.large,0.1,2,0,src,2023\n%s", PRICES_HEADER, bad[i][0]);
        cr_expect_eq(prices_text(text, &p, why, sizeof why), -1, "bad line %d accepted", i);
        cr_expect(strstr(why, "prices.csv:3:") && strstr(why, bad[i][1]), "line %d: %s", i, why);
    }
    cr_expect_eq(prices_text("pattern,usd_per_hour,covers,source,date\n", &p, why, sizeof why), -1, "the old header");
    cr_expect(strstr(why, "prices.csv:1:") != NULL, "%s", why);

    char *dir = temp_dir(), path[512], out[512], err[1024];
    snprintf(path, sizeof path, "%s/prices.csv", dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "%s\n*,cpu,AWS c7i.large,0.08925,,0,src,2023-08\n", PRICES_HEADER);
    fclose(f);
    snprintf(out, sizeof out, "%s/run", dir);
    int rc = run_dlbench((char *[]){"run", "--prices", path, "--out", out, "--workload", "gemm", "--filter", "sq128", NULL}, err,
                         sizeof err, NULL, 0);
    cr_expect_eq(rc, 2, "exit 2 on a bad price table: %s", err);
    cr_expect(strstr(err, "prices.csv:2:") && strstr(err, "vCPU count"), "%s", err);
    cr_expect_neq(access(out, F_OK), 0, "nothing measured, no run folder");
    free(dir);
}

static void machine(struct sysinfo *si, const char *pus, const char *cores)
{
    sysinfo_put(si, "cpu", "model", "Test CPU");
    sysinfo_put(si, "cpu", "pus", pus);
    sysinfo_put(si, "cpu", "cores", cores);
    sysinfo_put(si, "price.cpu", "usd_per_vcpu_hour", "0.044625");
    sysinfo_put(si, "price.cpu", "instance", "AWS c7i.large");
    sysinfo_put(si, "price.cpu", "instance_usd_per_hour", "0.08925");
    sysinfo_put(si, "price.cpu", "instance_vcpus", "2");
    sysinfo_put(si, "price.cpu", "source", "AWS list");
    sysinfo_put(si, "price.cpu", "date", "2023-08");
    sysinfo_put(si, "price.cuda", "usd_per_gpu_hour", "6.88");
    sysinfo_put(si, "price.cuda", "instance", "AWS p5.48xlarge");
    sysinfo_put(si, "price.cuda", "instance_usd_per_hour", "55.04");
    sysinfo_put(si, "price.cuda", "instance_gpus", "8");
    sysinfo_put(si, "price.cuda", "source", "AWS list");
    sysinfo_put(si, "price.cuda", "date", "2025-06");
    sysinfo_put(si, "train", "dataset_size", "60000");
}

static void train_row(struct row *r, const char *backend, int threads, double step_s)
{
    row_init(r);
    snprintf(r->backend, sizeof r->backend, "%s", backend);
    strcpy(r->workload, "train"); strcpy(r->family, "train"); strcpy(r->case_name, "mlp.b128.sgd.resident");
    strcpy(r->dtype, "fp32"); strcpy(r->status, "ok"); strcpy(r->shape, "mlp batch 128 SGD");
    r->threads = threads;
    r->median_s = r->ci_lo_s = r->ci_hi_s = step_s;
    r->items_per_call = 128;
    r->flops = 1e9; r->bytes = 1e7; r->gflops = 1; r->gbytes_per_s = 1; r->samples = 10; r->reps = 1;
}

/* 16 cores with 2 PUs each: a thread occupies 2 vCPUs; 1, 2, 4 ... threads pay 2, 4, 8 ... vCPUs. */
Test(prices, cpu_cost_scales_with_the_pus_its_threads_occupy)
{
    struct sysinfo si = {0};
    struct row r;
    char why[256];
    machine(&si, "32", "16");
    for (int t = 1; t <= 16; t *= 2) {
        train_row(&r, "cpu", t, 0.01);
        cr_expect_float_eq(row_usd_per_hour(&si, &r, why, sizeof why), 0.044625 * 2 * t, 1e-12, "%d threads", t);
    }
    train_row(&r, "cpu", 64, 0.01);
    cr_expect_float_eq(row_pus(&si, &r), 32, 1e-12, "never more than the machine's PUs");
    /* the same step time at twice the threads costs twice as much per epoch */
    train_row(&r, "cpu", 2, 0.01);
    double c2 = epoch_cost_usd(r.median_s, 128, 60000, row_usd_per_hour(&si, &r, why, sizeof why));
    train_row(&r, "cpu", 4, 0.01);
    double c4 = epoch_cost_usd(r.median_s, 128, 60000, row_usd_per_hour(&si, &r, why, sizeof why));
    cr_expect_float_eq(c4 / c2, 2.0, 1e-12);
    train_row(&r, "cuda", 0, 0.01);
    cr_expect_float_eq(row_usd_per_hour(&si, &r, why, sizeof why), 6.88, 1e-12, "a GPU row: its GPU's share");
    train_row(&r, "cudnn", 0, 0.01);
    cr_expect(isnan(row_usd_per_hour(&si, &r, why, sizeof why)) && !strncmp(why, "n/a", 3), "no price recorded: %s", why);
    sysinfo_free(&si);
}

Test(prices, report_prints_the_formula_and_its_numbers)
{
    struct sysinfo si = {0};
    struct row rows[3];
    machine(&si, "32", "16");
    train_row(&rows[0], "cpu", 1, 0.02);
    train_row(&rows[1], "cpu", 4, 0.008);
    train_row(&rows[2], "cuda", 0, 0.001);
    char *md = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&md, &len);
    report_write(rows, 3, &si, NULL, f);
    fclose(f);
    cr_expect(strstr(md, "Cost per epoch = seconds per epoch / 3600 × the row's price per hour.") != NULL, "%s", md);
    cr_expect(strstr(md, "cpu: $0.044625 per vCPU-hour (AWS c7i.large $0.08925/h ÷ 2 vCPUs) × the PUs the row's threads "
                         "occupied (threads × 2 PU per core, at most 32)") != NULL, "%s", md);
    cr_expect(strstr(md, "cuda: $6.88 per GPU-hour (AWS p5.48xlarge $55.04/h ÷ 8 GPUs, its host CPUs included)") != NULL, "%s", md);
    /* 1 thread = 2 vCPUs: $0.08925/h; 60000/128 steps of 20 ms = 9.375 s: $0.000232 */
    cr_expect(strstr(md, "| mlp.b128.sgd.resident | cpu | 1 |") && strstr(md, "| 0.08925 | $0.000232 |"), "%s", md);
    cr_expect(strstr(md, "| mlp.b128.sgd.resident | cpu | 4 |") && strstr(md, "| 0.357 |"), "%s", md);
    free(md);
    sysinfo_free(&si);
}
