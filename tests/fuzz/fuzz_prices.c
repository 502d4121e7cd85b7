/* fuzz_prices.c: libFuzzer target for the price table reader. */
#include "prices.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[512];
    struct price *p = NULL;
    FILE *f = fmemopen((void *)data, size ? size : 1, "r");
    if (!f) return 0;
    int n = prices_read(f, "fuzz.csv", &p, why, sizeof why);
    if (n > 0) { price_match(p, n, 1, "NVIDIA H100 80GB HBM3"); price_match(p, n, 0, "Intel Xeon [family 6 model 207]"); }
    free(p);
    fclose(f);
    return 0;
}
