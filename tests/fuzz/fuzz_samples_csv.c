/* fuzz_samples_csv.c: libFuzzer target for the samples.csv reader (compare reads it). */
#include "results.h"
#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[512];
    struct sample_set *sets = NULL;
    FILE *f = fmemopen((void *)data, size ? size : 1, "r");
    if (!f) return 0;
    int n = samples_read(f, "fuzz.csv", &sets, why, sizeof why);
    if (n > 0) samples_free(sets, n);
    fclose(f);
    return 0;
}
