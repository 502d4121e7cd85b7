/* ci_json.h: the run's rows in formats CI tools already read: Google Benchmark's JSON
 * (results.json), github-action-benchmark's customBiggerIsBetter list and Bencher's BMF. */
#ifndef DLBENCH_CI_JSON_H
#define DLBENCH_CI_JSON_H
#include "results.h"
#include "sysinfo.h"

/* Writes results.json, github-action-benchmark.json and bmf.json into dir, each atomically. */
int ci_json_write(const struct row *rows, int n, const struct sysinfo *si, const char *dir);
void row_bench_name(const struct row *r, char *buf, size_t n);   /* "cpu/gemm/sq2048/fp32/threads:2" */
#endif
