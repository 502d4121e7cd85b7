/* fuzz_idx.c: libFuzzer target for the IDX header check (MNIST files given with --data). */
#include "dataset.h"
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[256];
    unsigned dims[3];
    for (int nd = 1; nd <= 3; nd += 2) {
        long off = idx_parse(data, size, nd, dims, why, sizeof why);
        if (off >= 0) {
            unsigned long long total = 1;
            for (int i = 0; i < nd; i++) total *= dims[i];
            if ((size_t)off + total != size) abort(); /* accepted only when the sizes add up */
        }
    }
    return 0;
}
