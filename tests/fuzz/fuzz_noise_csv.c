/* fuzz_noise_csv.c: libFuzzer target for the noise.csv reader (compare reads a baseline's noise model). */
#include "noise.h"
#include "stats.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[512];
    struct noise_row *rows = NULL;
    FILE *f = fmemopen((void *)data, size ? size : 1, "r");
    if (!f) return 0;
    int n = noise_read(f, "fuzz.csv", &rows, why, sizeof why);
    for (int i = 0; i < n; i++) (void)noise_spread(rows[i].median_s, rows[i].n);
    if (n > 0) noise_free(rows, n);
    fclose(f);
    return 0;
}
