/* test_eltwise_sim.c: the CUDA backend's bias-add kernels (gpu/bias_add_kernels.cuh: 16-byte
 * vectors two rows a trip, or one element a thread) run on the CPU by the CUDA simulator
 * (tests/sim/) with bias_add_cuda's plan, fp32, fp16 and bf16, per column and per row, in place
 * and not, with x, y and the bias aligned and not: bit-equal to x + bias rounded once to the dtype
 * (kernels/dtype.c's rounding), nothing written past y, and each path taken where the plan says.
 * A grid for a 1-SM GPU (32 blocks) so rows outnumber blocks: the grid-stride trips, a trip's lone
 * last row, rows longer than a block. CI has no GPU. */
#include "cpu_ops.h"   /* alloc_cpu: 64-byte-aligned buffers */
#include "rng.h"
#include "sim/eltwise_sim.h"
#include "testutil.h"
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#define CANARY 0xA5

/* One call: outer x ch (x inner) elements at element offset xoff of x (and of y unless in place),
 * bias at offset boff. Returns the path taken; expects exact results and untouched canaries. */
static int check_case(enum dtype dt, int outer, int ch, int inner, int xoff, int boff, int in_place)
{
    const size_t es = dtype_size(dt), n = (size_t)outer * ch * inner, nb = (size_t)ch;   /* one bias a column or a channel */
    const size_t pad = 64;   /* canary bytes after y */
    float *xf = malloc(n * sizeof(float)), *want = malloc(n * sizeof(float)), *got = malloc(n * sizeof(float));
    float *bias_buf = alloc_cpu((nb + 16) * sizeof(float));
    unsigned char *xbuf = alloc_cpu((n + 16) * es + pad), *ybuf = alloc_cpu((n + 16) * es + pad);
    cr_assert(xf && want && got && bias_buf && xbuf && ybuf);
    struct rng r;
    rng_seed(&r, (uint64_t)outer * 131 + ch, (uint64_t)inner * 7 + dt);
    rng_fill_uniform(&r, xf, n, -4.f, 4.f);
    float *bias = bias_buf + boff;
    rng_fill_uniform(&r, bias, nb, -2.f, 2.f);
    unsigned char *x = xbuf + xoff * es, *y = in_place ? x : ybuf + xoff * es;
    memset(xbuf, CANARY, (n + 16) * es + pad);
    memset(ybuf, CANARY, (n + 16) * es + pad);
    dtype_pack(dt, xf, x, n);
    dtype_unpack(dt, x, xf, n);   /* the stored values, as the kernel reads them */
    for (size_t i = 0; i < n; i++) {
        size_t row = i / (size_t)(inner == 1 ? ch : inner), col = i % (size_t)(inner == 1 ? ch : inner);
        want[i] = xf[i] + (inner == 1 ? bias[col] : bias[row % (size_t)ch]);
    }
    unsigned char *want_st = malloc(n * es);
    dtype_pack(dt, want, want_st, n);   /* rounded once to dt, round to nearest even */
    char why[300] = "";
    int path = -1;
    int rc = bias_add_sim(dt, outer, ch, inner, x, bias, y, 1, &path, why, sizeof why);
    cr_assert_eq(rc, 0, "%s", why);
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < n; i++)
        if (memcmp(y + i * es, want_st + i * es, es) && !bad++) first = i;
    dtype_unpack(dt, y + first * es, got, 1);
    dtype_unpack(dt, want_st + first * es, want, 1);
    cr_expect_eq(bad, 0, "%s %dx%dx%d offsets x %d bias %d%s: %zu of %zu wrong, first at %zu: %g, want %g", dtype_name(dt), outer, ch, inner,
                 xoff, boff, in_place ? " in place" : "", bad, n, first, got[0], want[0]);
    unsigned char *end = y + n * es, *stop = (in_place ? xbuf : ybuf) + (n + 16) * es + pad;
    size_t touched = 0;
    for (unsigned char *p = end; p < stop; p++) touched += *p != CANARY;
    cr_expect_eq(touched, 0, "%s %dx%dx%d: %zu bytes written past y", dtype_name(dt), outer, ch, inner, touched);
    free(xf); free(want); free(got); free(bias_buf); free(xbuf); free(ybuf); free(want_st);
    return path;
}

static const enum dtype dts[] = {DT_F32, DT_F16, DT_BF16};

/* Per column (a dense layer): row lengths below, at and past a vector and a block; 130 rows over
 * 32 blocks leave a trip with one row. */
Test(eltwise_sim, bias_add_per_column_matches_rounded_sum)
{
    static const int lens[] = {1, 3, 8, 16, 33, 1024, 1027, 2048, 4104};
    static const int rows[] = {1, 5, 130};
    for (int d = 0; d < 3; d++)
        for (int l = 0; l < 9; l++)
            for (int r = 0; r < 3; r++) {
                int len = lens[l], e = 16 / (int)dtype_size(dts[d]);
                int path = check_case(dts[d], rows[r], len, 1, 0, 0, 0);
                cr_expect_eq(path, len % e == 0 ? 2 : 0, "%s rows of %d: path %d", dtype_name(dts[d]), len, path);
            }
}

/* Per row (a convolution's planes, bias[row mod ch]); inner a multiple of a vector or not. */
Test(eltwise_sim, bias_add_per_row_matches_rounded_sum)
{
    static const int inners[] = {4, 7, 8, 49, 784, 2056};
    for (int d = 0; d < 3; d++)
        for (int i = 0; i < 6; i++) {
            int e = 16 / (int)dtype_size(dts[d]);
            int path = check_case(dts[d], 23, 3, inners[i], 0, 0, 0);
            cr_expect_eq(path, inners[i] % e == 0 ? 2 : 0, "%s planes of %d: path %d", dtype_name(dts[d]), inners[i], path);
        }
}

/* In place (x is y), x and y one element off 16 bytes (the one-element path), the bias one float
 * off (16-byte rows, the bias a float at a time). */
Test(eltwise_sim, bias_add_in_place_and_misaligned)
{
    for (int d = 0; d < 3; d++) {
        cr_expect_eq(check_case(dts[d], 70, 1024, 1, 0, 0, 1), 2, "%s in place", dtype_name(dts[d]));
        cr_expect_eq(check_case(dts[d], 9, 5, 64, 0, 0, 1), 2, "%s per row in place", dtype_name(dts[d]));
        cr_expect_eq(check_case(dts[d], 70, 1024, 1, 1, 0, 0), 0, "%s x and y off 16 bytes", dtype_name(dts[d]));
        cr_expect_eq(check_case(dts[d], 70, 1024, 1, 0, 1, 0), 1, "%s bias off 16 bytes", dtype_name(dts[d]));
        cr_expect_eq(check_case(dts[d], 70, 1024, 1, 0, 1, 1), 1, "%s bias off 16 bytes, in place", dtype_name(dts[d]));
    }
}
