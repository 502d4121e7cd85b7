/* test_fastdiv.c: the GPU kernels' fast division (gpu/fastdiv.h, host build of the same code)
 * against plain division: every divisor up to 5000 and the powers of two, on the edges of each
 * quotient step and on random numerators up to 2^31 - 1. */
#include "fastdiv.h"
#include "rng.h"
#include <criterion/criterion.h>

static void check_divisor(uint32_t d, struct rng *r)
{
    struct fastdiv f = fastdiv_make(d);
    uint32_t probe[64];
    int n = 0;
    probe[n++] = 0; probe[n++] = 1; probe[n++] = d - 1; probe[n++] = d; probe[n++] = d + 1;
    probe[n++] = 0x7fffffffu; probe[n++] = 0x7fffffffu - 0x7fffffffu % d; probe[n++] = 0x7fffffffu - 0x7fffffffu % d - 1;
    uint32_t q = 0x7fffffffu / d;
    probe[n++] = (q / 2) * d; probe[n++] = (q / 2) * d - 1; probe[n++] = (q / 3) * d + d - 1;
    while (n < 64) probe[n++] = (uint32_t)(rng_next(r) & 0x7fffffffu);
    for (int i = 0; i < n; i++) {
        if (probe[i] > 0x7fffffffu) continue;
        uint32_t got = fastdiv_div(probe[i], f), want = probe[i] / d;
        if (got != want) cr_assert_fail("%u / %u: fastdiv %u, exact %u (mul %u shr %u)", probe[i], d, got, want, f.mul, f.shr);
    }
}

Test(fastdiv, matches_integer_division)
{
    struct rng r;
    rng_seed(&r, 11, 1);
    for (uint32_t d = 1; d <= 5000; d++) check_divisor(d, &r);
    for (int k = 0; k <= 31; k++) { check_divisor(1u << k, &r); if (k > 1 && k < 31) { check_divisor((1u << k) - 1, &r); check_divisor((1u << k) + 1, &r); } }
    for (int i = 0; i < 2000; i++) check_divisor(1 + (uint32_t)(rng_next(&r) % 0x7fffffffu), &r);
}
