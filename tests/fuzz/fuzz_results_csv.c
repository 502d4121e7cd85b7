/* fuzz_results_csv.c: libFuzzer target for the results.csv reader (report and compare read it). */
#include "results.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[512];
    struct row *rows = NULL;
    FILE *f = fmemopen((void *)data, size ? size : 1, "r");
    if (!f) return 0;
    int n = results_read(f, "fuzz.csv", &rows, why, sizeof why);
    for (int i = 0; i < n; i++) (void)row_measured(&rows[i]);
    free(rows);
    fclose(f);
    return 0;
}
