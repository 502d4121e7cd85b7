/* test_results.c: results.csv / samples.csv round trips with awkward strings, malformed files
 * rejected with file and line, and system.json round trips. */
#include "results.h"
#include "sysinfo.h"
#include "testutil.h"
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void sample_row(struct row *r, const char *status)
{
    row_init(r);
    strcpy(r->backend, "cpu");
    strcpy(r->device, "CPU, \"quoted\" model");
    strcpy(r->workload, "gemm");
    strcpy(r->family, "gemm");
    strcpy(r->case_name, "odd,case\nname");
    strcpy(r->shape, "M=1 N=2 K=3 NN");
    strcpy(r->dtype, "fp32");
    r->threads = 2;
    snprintf(r->status, sizeof r->status, "%s", status);
    r->samples = 3; r->reps = 7;
    r->median_s = 1.5e-3; r->flops = 12; r->bytes = 40; r->gflops = 8e-6; r->verify_err = 1e-7;
    strcpy(r->check, "full at n=1048579 fp32; 4096 samples (64 blocks of 64), \"scan\"");
    strcpy(r->flags, "cache-assisted");
    r->clock_mhz = 1755; r->power_w = 612.5; r->power_limit_w = 700; r->temp_c = 71;
    strcpy(r->throttle, "sw_power_cap+hw_slowdown");
    r->wall_s = 0.731;
}

Test(results, csv_round_trip_with_awkward_strings)
{
    char *dir = temp_dir(), path[512], why[256];
    struct results_out o;
    struct row w[2], *r;
    const double s[3] = {1e-3, 1.5e-3, 2e-3};
    cr_assert_eq(results_open(&o, dir, why, sizeof why), 0, "%s", why);
    sample_row(&w[0], "ok");
    sample_row(&w[1], "failed: error 1e-2 > tolerance, \"bad\"");
    w[1].threads = 1;
    strcpy(w[0].impl, "cuDNN WINOGRAD, ws 1.5 MiB (FFT: ws 3 GiB over the limit)");
    cr_assert_eq(results_append(&o, &w[0], s, 3), 0);
    cr_assert_eq(results_append(&o, &w[1], NULL, 0), 0);
    results_close(&o);
    snprintf(path, sizeof path, "%s/results.csv", dir);
    int n = results_load(path, &r, why, sizeof why);
    cr_assert_eq(n, 2, "%s", why);
    cr_expect_str_eq(r[0].case_name, "odd,case\nname");
    cr_expect_str_eq(r[0].device, "CPU, \"quoted\" model");
    cr_expect_str_eq(r[1].status, "failed: error 1e-2 > tolerance, \"bad\"");
    cr_expect_float_eq(r[0].median_s, 1.5e-3, 1e-12);
    cr_expect(isnan(r[0].ci_lo_s), "empty fields read back as not measured");
    cr_expect_eq(r[0].reps, 7);
    cr_expect_str_eq(r[0].impl, "cuDNN WINOGRAD, ws 1.5 MiB (FFT: ws 3 GiB over the limit)");
    cr_expect_str_eq(r[1].impl, "");
    cr_expect_str_eq(r[0].check, "full at n=1048579 fp32; 4096 samples (64 blocks of 64), \"scan\"");
    cr_expect_str_eq(r[0].flags, "cache-assisted");
    cr_expect_float_eq(r[0].clock_mhz, 1755, 1e-9);
    cr_expect(isnan(r[0].mem_clock_mhz), "a state not read stays empty");
    cr_expect_float_eq(r[0].power_w, 612.5, 1e-9);
    cr_expect_str_eq(r[0].throttle, "sw_power_cap+hw_slowdown");
    cr_expect_float_eq(r[0].wall_s, 0.731, 1e-9);
    free(r);
    struct sample_set *ss;
    snprintf(path, sizeof path, "%s/samples.csv", dir);
    cr_assert_eq(samples_load(path, &ss, why, sizeof why), 1, "%s", why);
    cr_expect_eq(ss[0].n, 3);
    cr_expect_str_eq(ss[0].key, "cpu|gemm|odd,case\nname|fp32|2");
    cr_expect_float_eq(ss[0].v[2], 2e-3, 1e-12);
    samples_free(ss, 1);
    free(dir);
}

/* text as a results.csv, loaded: the row count (rows in *r, freed by the caller) or -1 with why. */
static int load_rows(const char *text, struct row **r, char *why, size_t n)
{
    char *dir = temp_dir(), path[512];
    snprintf(path, sizeof path, "%s/results.csv", dir);
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fputs(text, f);
    fclose(f);
    int ret = results_load(path, r, why, n);
    free(dir);
    return ret;
}

static int load_text(const char *text, char *why, size_t n)
{
    struct row *r;
    int ret = load_rows(text, &r, why, n);
    if (ret >= 0) free(r);
    return ret;
}

/* On the 28-column layout of an earlier version, which is still read (device state left empty). */
Test(results, malformed_files_name_the_line)
{
    char why[512], hdr[1024] = "";
    for (int i = 0; i < RESULTS_NCOLS_V2; i++) { strcat(hdr, i ? "," : ""); strcat(hdr, results_columns[i]); }
    strcat(hdr, "\n");
    cr_expect_eq(load_text("backend,device\n", why, sizeof why), -1);
    cr_expect(strstr(why, ":1:") != NULL, "%s", why);
    char text[4096];
    snprintf(text, sizeof text, "%scpu,x,gemm,gemm,c,s,fp32,2,ok\n", hdr);
    cr_expect_eq(load_text(text, why, sizeof why), -1);
    cr_expect(strstr(why, ":2:") != NULL, "%s", why);
    snprintf(text, sizeof text, "%scpu,x,gemm,gemm,c,s,fp32,2x,ok,,,1,1,,,,,,,1,1,,,,,,,\n", hdr);
    cr_expect_eq(load_text(text, why, sizeof why), -1);
    cr_expect(strstr(why, ":2: malformed") != NULL, "%s", why);
    /* A crash can cut the last row anywhere, even inside a quoted field: complete rows still count. */
    snprintf(text, sizeof text, "%scpu,x,gemm,gemm,c,s,fp32,2,ok,,,1,1,0.5,,,,,,1,1,,,,,,,\ncpu,\"unterminated,gemm\n", hdr);
    cr_expect_eq(load_text(text, why, sizeof why), 1, "%s", why);
    snprintf(text, sizeof text, "%scpu,x,gemm,gemm,c,s,fp32,2,ok,,,1,1,0.5,,,,,,1,1,,,,,,,\ncpu,x,gemm,gemm,c2,s,fp3", hdr);
    cr_expect_eq(load_text(text, why, sizeof why), 1, "%s", why);
    snprintf(text, sizeof text, "%scpu,x,gemm,gemm,c,s,fp32,2,ok,,,1,1,0.5,,,,,,1,1,,,,,,,\n\n", hdr);
    cr_expect_eq(load_text(text, why, sizeof why), 1, "%s", why);
}

/* A run written before the impl column (27 columns) still loads, with empty impl. */
Test(results, reads_files_without_the_impl_column)
{
    char why[512], hdr[1024] = "", text[4096];
    for (int i = 0; i < RESULTS_NCOLS_V1; i++) { strcat(hdr, i ? "," : ""); strcat(hdr, results_columns[i]); }
    snprintf(text, sizeof text, "%s\ncpu,x,gemm,gemm,c,s,fp32,2,ok,,,1,1,0.5,,,,,,1,1,,,,,,\n", hdr);
    cr_expect_eq(load_text(text, why, sizeof why), 1, "%s", why);
    snprintf(text, sizeof text, "%s\ncpu,x,gemm,gemm,c,s,fp32,2,ok,,,1,1,0.5,,,,,,1,1,,,,,,,extra\n", hdr);
    cr_expect_eq(load_text(text, why, sizeof why), -1, "a row longer than its header is malformed");
}

/* A run written with impl but before check, flags and the device state (28 columns) loads too. */
Test(results, reads_files_with_impl_before_the_device_state)
{
    char why[512], hdr[1024] = "", text[4096];
    for (int i = 0; i < RESULTS_NCOLS_V2; i++) { strcat(hdr, i ? "," : ""); strcat(hdr, results_columns[i]); }
    snprintf(text, sizeof text, "%s\ncpu,x,gemm,gemm,c,s,fp32,2,ok,,,1,1,0.5,,,,,,1,1,,,,,,,OpenBLAS sgemm (Cooperlake)\n", hdr);
    struct row *r;
    cr_assert_eq(load_rows(text, &r, why, sizeof why), 1, "%s", why);
    cr_expect_str_eq(r[0].impl, "OpenBLAS sgemm (Cooperlake)");
    cr_expect_str_eq(r[0].check, "");
    cr_expect(isnan(r[0].wall_s), "not measured before this column");
    free(r);
}

/* The columns of multi-process runs: a rank's row, a row of ranks together (empty rank), host and
 * bus bandwidth; samples of two ranks of the same case stay apart. */
Test(results, rank_columns_round_trip)
{
    char *dir = temp_dir(), path[512], why[256];
    struct results_out o;
    struct row w[3], *r;
    const double s[2] = {1e-3, 2e-3};
    cr_assert_eq(results_open(&o, dir, why, sizeof why), 0, "%s", why);
    for (int i = 0; i < 3; i++) sample_row(&w[i], "ok");
    w[0].rank = 0; w[0].ranks = 4; strcpy(w[0].host, "node-a");
    w[1].rank = 3; w[1].ranks = 4; strcpy(w[1].host, "node,b");
    w[2].rank = -1; w[2].ranks = 4; strcpy(w[2].host, "node-a"); strcpy(w[2].workload, "allreduce"); w[2].busbw_gbps = 12.5;
    for (int i = 0; i < 3; i++) cr_assert_eq(results_append(&o, &w[i], s, 2), 0);
    results_close(&o);
    snprintf(path, sizeof path, "%s/results.csv", dir);
    cr_assert_eq(results_load(path, &r, why, sizeof why), 3, "%s", why);
    cr_expect_eq(r[0].rank, 0); cr_expect_eq(r[0].ranks, 4); cr_expect_str_eq(r[0].host, "node-a");
    cr_expect_eq(r[1].rank, 3); cr_expect_str_eq(r[1].host, "node,b");
    cr_expect_eq(r[2].rank, -1, "an empty rank field is a row of several ranks together");
    cr_expect_float_eq(r[2].busbw_gbps, 12.5, 1e-9);
    cr_expect(isnan(r[0].busbw_gbps));
    char k0[256], k1[256], k2[256];
    row_key(&r[0], k0, sizeof k0); row_key(&r[1], k1, sizeof k1); row_key(&r[2], k2, sizeof k2);
    cr_expect(strcmp(k0, k1) != 0, "two ranks of one case have different keys");
    cr_expect(strstr(k2, "|group4") != NULL, "%s", k2);
    free(r);
    struct sample_set *ss;
    snprintf(path, sizeof path, "%s/samples.csv", dir);
    cr_assert_eq(samples_load(path, &ss, why, sizeof why), 3, "%s", why);
    cr_expect_str_eq(ss[0].key, k0);
    cr_expect_str_eq(ss[1].key, k1);
    cr_expect_eq(ss[1].n, 2);
    samples_free(ss, 3);
    free(dir);
}

/* Files of the first format (27 columns; samples without rank columns) still read: one process. */
Test(results, first_format_still_reads)
{
    char why[512], hdr[1024] = "", text[4096];
    for (int i = 0; i < RESULTS_NCOLS_V1; i++) { strcat(hdr, i ? "," : ""); strcat(hdr, results_columns[i]); }
    snprintf(text, sizeof text, "%s\ncpu,x,gemm,gemm,c,s,fp32,2,ok,,,1,1,0.5,,,,,,1,1,,,,,,\n", hdr);
    char *dir = temp_dir(), path[512];
    snprintf(path, sizeof path, "%s/results.csv", dir);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    struct row *r;
    cr_assert_eq(results_load(path, &r, why, sizeof why), 1, "%s", why);
    cr_expect_eq(r[0].rank, 0);
    cr_expect_eq(r[0].ranks, 1);
    cr_expect_str_eq(r[0].host, "");
    free(r);
    snprintf(path, sizeof path, "%s/samples.csv", dir);
    f = fopen(path, "w");
    fputs("backend,workload,case,dtype,threads,sample,seconds\ncpu,gemm,c,fp32,2,0,0.5\n", f);
    fclose(f);
    struct sample_set *ss;
    cr_assert_eq(samples_load(path, &ss, why, sizeof why), 1, "%s", why);
    cr_expect_str_eq(ss[0].key, "cpu|gemm|c|fp32|2");
    samples_free(ss, 1);
    /* A 27-column header with 31-column rows, and a rank outside its ranks, are both refused. */
    snprintf(text, sizeof text, "%s\ncpu,x,gemm,gemm,c,s,fp32,2,ok,,,1,1,0.5,,,,,,1,1,,,,,,,0,1,,\n", hdr);
    cr_expect_eq(load_text(text, why, sizeof why), -1);
    cr_expect(strstr(why, ":2: wrong number of fields") != NULL, "%s", why);
    hdr[0] = 0;
    for (int i = 0; i < RESULTS_NCOLS; i++) { strcat(hdr, i ? "," : ""); strcat(hdr, results_columns[i]); }
    snprintf(text, sizeof text, "%s\ncpu,x,gemm,gemm,c,s,fp32,2,ok,,,1,1,0.5,,,,,,1,1,,,,,,,,,,,,,,,,,2,2,h,\n", hdr);
    cr_expect_eq(load_text(text, why, sizeof why), -1);
    cr_expect(strstr(why, ":2: malformed") != NULL, "%s", why);
    free(dir);
}

Test(sysinfo, json_round_trip)
{
    struct sysinfo a = {0}, b;
    char *dir = temp_dir(), path[512], why[256];
    char fmt[8];
    snprintf(fmt, sizeof fmt, "%d", DLBENCH_FORMAT);
    sysinfo_put(&a, "dlbench", "format", fmt);
    sysinfo_put(&a, "cpu", "model", "Weird \"CPU\"\\ name\t1");
    sysinfo_put(&a, "cpu", "cores", "2");
    snprintf(path, sizeof path, "%s/system.json", dir);
    cr_assert_eq(sysinfo_write_json(&a, path), 0);
    cr_assert_eq(sysinfo_read_json(&b, path, why, sizeof why), 0, "%s", why);
    cr_expect_str_eq(sysinfo_get(&b, "cpu", "model"), "Weird \"CPU\"\\ name\t1");
    cr_expect_str_eq(sysinfo_get(&b, "cpu", "cores"), "2");
    sysinfo_free(&a);
    sysinfo_free(&b);
    FILE *f = fopen(path, "w");
    fputs("{\"dlbench\": {\"format\": \"999\"}}", f);
    fclose(f);
    cr_expect_eq(sysinfo_read_json(&b, path, why, sizeof why), -1);
    cr_expect(strstr(why, "format 999") != NULL, "%s", why);
    free(dir);
}

/* system.json is read through cJSON: anything but an object of objects of strings is refused. */
Test(sysinfo, wrong_shapes_are_refused_with_a_reason)
{
    struct sysinfo si;
    char why[256];
    cr_expect_eq(sysinfo_parse_json(&si, "{\"dlbench\": {\"format\": 1}}", "t.json", why, sizeof why), -1);
    cr_expect(strstr(why, "not a dlbench system.json") != NULL, "%s", why);
    cr_expect_eq(sysinfo_parse_json(&si, "[1, 2]", "t.json", why, sizeof why), -1);
    cr_expect_eq(sysinfo_parse_json(&si, "{\"dlbench\": {\"format\": \"1\"}} trailing", "t.json", why, sizeof why), -1);
    cr_expect(strstr(why, "malformed JSON near byte") != NULL, "%s", why);
    cr_assert_eq(sysinfo_parse_json(&si, "{\"dlbench\": {\"format\": \"1\", \"x\": \"\\u00e9\\n\"}}", "t.json", why, sizeof why), 0, "%s", why);
    cr_expect_str_eq(sysinfo_get(&si, "dlbench", "x"), "\xc3\xa9\n", "escapes decoded (UTF-8)");
    sysinfo_free(&si);
}

/* Found by fuzz_system_json: a \u escape cut short at the end of the text read past it. */
Test(sysinfo, truncated_unicode_escape_is_malformed_not_a_crash)
{
    struct sysinfo si;
    char why[256];
    cr_expect_eq(sysinfo_parse_json(&si, "{\"\\u cp", "t.json", why, sizeof why), -1);
    cr_expect_eq(sysinfo_parse_json(&si, "{\"dlbench\": {\"format\": \"\\u00", "t.json", why, sizeof why), -1);
    cr_expect(strstr(why, "malformed JSON") != NULL, "%s", why);
}
