/* fuzz_cli_values.c: libFuzzer target for every command-line value parser (sizes, numbers, lists,
 * dtypes, names): any input must give 0 or -1, never a crash, and accepted sizes stay in range. */
#include "cli.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    long dims[4], v, list[16];
    int nd, n;
    double d;
    unsigned mask;
    static const char *const names[] = {"cpu", "cuda"};
    memcpy(s, data, size);
    s[size] = 0;
    cli_quiet = 1;
    if (cli_size("--size", s, dims, &nd) == 0) {
        double p = 1;
        for (int i = 0; i < nd; i++) { if (dims[i] < 1) abort(); p *= (double)dims[i]; }
        if (nd < 1 || nd > 4 || p > 1099511627776.0) abort();
    }
    if (cli_long("--seed", s, 0, 1000, &v) == 0 && (v < 0 || v > 1000)) abort();
    if (cli_double("--min-time", s, 0, 3600, &d) == 0 && !(d >= 0 && d <= 3600)) abort();
    if (cli_list_long("--threads", s, 4096, list, 16, &n) == 0)
        for (int i = 0; i < n; i++) if (list[i] < 1 || list[i] > 4096) abort();
    cli_dtypes("--dtype", s, &mask);
    cli_names("--backend", s, names, 2);
    free(s);
    return 0;
}
