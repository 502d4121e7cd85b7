/* fuzz_system_json.c: libFuzzer target for the system.json reader (report and compare read it). */
#include "sysinfo.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[512], *text = malloc(size + 1);
    struct sysinfo si;
    memcpy(text, data, size);
    text[size] = 0;
    if (sysinfo_parse_json(&si, text, "fuzz.json", why, sizeof why) == 0) sysinfo_free(&si);
    free(text);
    return 0;
}
