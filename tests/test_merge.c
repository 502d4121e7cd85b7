/* test_merge.c: `dlbench merge` on the fixtures in tests/fixtures/fleet (a one-process run of the
 * first results.csv format and a 2-rank GPU run): the fleet report's figures, cheapest epoch first,
 * every row in fleet.csv, and bad input refused with file:line and exit 2. */
#include "testutil.h"
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIXTURES "tests/fixtures/fleet"   /* tests run from the source tree's root */

static char *slurp_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    char *buf = calloc(1, 1 << 20);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

static void copy_run(const char *from, const char *to, const char *file, const char *find, const char *repl)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && cp '%s'/system.json '%s'/results.csv '%s'/", to, from, from, to);
    cr_assert_eq(system(cmd), 0);
    if (!find) return;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", to, file);
    char *text = slurp_file(path), *at = strstr(text, find);
    cr_assert(at, "fixture lacks %s", find);
    FILE *f = fopen(path, "w");
    fwrite(text, 1, (size_t)(at - text), f);
    fputs(repl, f);
    fputs(at + strlen(find), f);
    fclose(f);
    free(text);
}

Test(merge, fleet_report_from_two_machines)
{
    char *dir = temp_dir(), out[512], err[2048], path[600];
    snprintf(out, sizeof out, "%s/fleet", dir);
    char *args[] = {"merge", FIXTURES "/cpu-box", FIXTURES "/gpu-box", "--out", out, NULL};
    cr_assert_eq(run_dlbench(args, err, sizeof err, NULL, 0), 0, "%s", err);
    snprintf(path, sizeof path, "%s/fleet.md", out);
    char *md = slurp_file(path);
    cr_assert(md);
    cr_expect(strstr(md, "| cpu-box | " FIXTURES "/cpu-box | AMD EPYC 9R14 | 2 |") != NULL, "fingerprint row:\n%s", md);
    cr_expect(strstr(md, "| gpu-box | gemm | 214.7 GFLOP/s (sq1024 fp32, cpu) | 21474.8 GFLOP/s (sq1024 fp32, cuda) | 100.02× | 1 |") != NULL,
              "rank 0's rows make the headline:\n%s", md);
    cr_expect(strstr(md, "| gemm | GFLOP/s | 1 | gpu-box | 107.4 | 21474.8 |") != NULL, "best machine for gemm:\n%s", md);
    cr_expect(strstr(md, "| allreduce | GB/s | 1 | gpu-box | — | 104.9 |") != NULL, "%s", md);
    /* 60000/128 × 0.02 s = 9.375 s at $0.1/h beats 0.469 s at $12/h per GPU */
    char *c1 = strstr(md, "| mlp.b128.sgd.resident | cpu-box | cpu | AMD EPYC 9R14 | 1 | 9.38 | $0.0002604 |");
    char *c2 = strstr(md, "| mlp.b128.sgd.resident | gpu-box | cuda |");
    cr_expect(c1 && c2 && c1 < c2, "cheapest epoch first:\n%s", md);
    cr_expect(strstr(md, "| mlp.b128.weak | gpu-box | cuda | NVIDIA H100 80GB HBM3 | 2 | 0.35 | $0.002344 |") != NULL,
              "the 2-GPU step costs both GPUs:\n%s", md);
    free(md);
    snprintf(path, sizeof path, "%s/fleet.csv", out);
    char *csv = slurp_file(path);
    int lines = 0;
    for (char *p = csv; *p; p++) lines += *p == '\n';
    cr_expect_eq(lines, 1 + 2 + 7, "a header and every row of both runs");
    cr_expect(strstr(csv, "\ngpu-box," FIXTURES "/gpu-box,gpu-box,cuda,NVIDIA H100 80GB HBM3,allreduce,collective,1M,") != NULL, "%s", csv);
    free(csv);
    snprintf(path, sizeof path, "%s/fleet.json", out);
    char *json = slurp_file(path);
    cJSON *doc = cJSON_Parse(json);
    cr_assert(doc, "fleet.json parses: %s", json);
    const cJSON *gemm = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "best_machine"), 0);
    cr_expect_str_eq(cJSON_GetObjectItem(gemm, "workload")->valuestring, "gemm");
    cr_expect_str_eq(cJSON_GetObjectItem(gemm, "best")->valuestring, "gpu-box");
    cr_expect_float_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(gemm, "geomean"), "cpu-box")->valuedouble, 107.4, 1e-9);
    const cJSON *m1 = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "machines"), 1);
    cr_expect_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(m1, "fingerprint"), "gpus")->valueint, 2);
    const cJSON *cheap = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "epoch_cost"), 0);
    cr_expect_float_eq(cJSON_GetObjectItem(cheap, "usd")->valuedouble, 0.000260417, 1e-9);
    cJSON_Delete(doc);
    free(json);
    cr_expect_eq(run_dlbench(args, err, sizeof err, NULL, 0), 2, "an existing fleet report is not overwritten");
    free(dir);
}

Test(merge, bad_input_names_file_and_line)
{
    char *dir = temp_dir(), bad[512], out[512], err[2048];
    snprintf(out, sizeof out, "%s/fleet", dir);
    snprintf(bad, sizeof bad, "%s/format2", dir);
    copy_run(FIXTURES "/gpu-box", bad, "system.json", "\"format\": \"1\"", "\"format\": \"2\"");
    char *a1[] = {"merge", FIXTURES "/cpu-box", bad, "--out", out, NULL};
    cr_expect_eq(run_dlbench(a1, err, sizeof err, NULL, 0), 2);
    cr_expect(strstr(err, "format2/system.json:3: run folder format 2, this dlbench reads format 1") != NULL, "%s", err);
    snprintf(bad, sizeof bad, "%s/csv", dir);
    copy_run(FIXTURES "/cpu-box", bad, "results.csv", "mlp.b128.sgd.resident,mlp batch 128 SGD", "mlp.b128.sgd.resident");
    char *a2[] = {"merge", bad, "--out", out, NULL};
    cr_expect_eq(run_dlbench(a2, err, sizeof err, NULL, 0), 2);
    cr_expect(strstr(err, "csv/results.csv:3: wrong number of fields") != NULL, "%s", err);
    snprintf(bad, sizeof bad, "%s/json", dir);
    copy_run(FIXTURES "/cpu-box", bad, "system.json", "\"cores\": \"2\",", "\"cores\": \"2\"");
    char *a3[] = {"merge", bad, "--out", out, NULL};
    cr_expect_eq(run_dlbench(a3, err, sizeof err, NULL, 0), 2);
    cr_expect(strstr(err, "json/system.json:15: malformed JSON") != NULL, "%s", err);
    char *a4[] = {"merge", NULL};
    cr_expect_eq(run_dlbench(a4, err, sizeof err, NULL, 0), 2);
    cr_expect(strstr(err, "needs at least one run folder") != NULL, "%s", err);
    char *a5[] = {"merge", dir, "--out", out, NULL};
    cr_expect_eq(run_dlbench(a5, err, sizeof err, NULL, 0), 2, "a folder without a run");
    cr_expect(strstr(err, "system.json") != NULL, "%s", err);
    free(dir);
}
