/* test_eltwise.c: every bandwidth/elementwise op on the CPU backend against its reference, and
 * the elementwise check rejecting a corrupted output. */
#include "eltwise_cases_test.h"
#include "cpu_ops.h"
#include "workload.h"
#include "rng.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

Test(eltwise, cpu_all_ops_awkward_lengths_and_offsets) { check_all_eltwise_ops(backend_find("cpu"), DT_F32); }
Test(eltwise, cpu_softmax_layernorm_large_magnitude) { check_large_magnitude_rows(backend_find("cpu"), DT_F32); }
Test(eltwise, cpu_optimizers_over_several_steps) { check_optimizers_over_steps(backend_find("cpu")); }

/* The streamed-output paths (large arrays: every op whose output is not an input writes by
 * streaming stores, through an L1 buffer for the row ops) on the same awkward shapes and rows
 * longer than that buffer, the bound lowered to one byte so that even n = 1 and unaligned starts
 * take them. */
Test(eltwise, cpu_all_ops_streamed_outputs)
{
    eltwise_stream_above_cpu(1);
    check_all_eltwise_ops(backend_find("cpu"), DT_F32);
    check_large_magnitude_rows(backend_find("cpu"), DT_F32);
    for (int op = 0; op < ELT_OP_COUNT; op++)   /* rows longer than the row buffer: in pieces */
        if (elt_ops[op].row_op) {
            double r = eltwise_error_ratio(backend_find("cpu"), op, DT_F32, 3L * 8197, 8197, 1, 1.0f, 1, NULL);
            cr_expect(r >= 0 && r <= 1, "%s rows of 8197: error/tolerance %g", elt_ops[op].name, r);
        }
    eltwise_stream_above_cpu(0);
}

/* ReLU of a NaN is 0 on every path (the scalar a > 0 ? a : 0 and the vector max(a, 0) alike), and
 * its backward passes no gradient there. */
Test(eltwise, cpu_relu_of_nan_is_zero)
{
    enum { N = 1000 };
    float *x = alloc_cpu(N * sizeof(float)), *dy = alloc_cpu(N * sizeof(float)), *y = alloc_cpu(N * sizeof(float));
    for (int i = 0; i < N; i++) x[i] = i % 3 ? NAN : (float)(i % 7) - 3.0f, dy[i] = 1.0f;
    for (int streamed = 0; streamed < 2; streamed++) {
        eltwise_stream_above_cpu(streamed ? 1 : 0);
        for (int bwd = 0; bwd < 2; bwd++) {
            cr_assert_eq(bwd ? relu_bwd_cpu(DT_F32, N, x, dy, y) : relu_fwd_cpu(DT_F32, N, x, y), 0);
            int bad = 0;
            for (int i = 0; i < N; i++) {
                float want = x[i] > 0 ? (bwd ? dy[i] : x[i]) : 0.0f;
                bad += memcmp(&want, &y[i], sizeof want) != 0;
            }
            cr_expect_eq(bad, 0, "relu %s, %s: %d of %d elements wrong", bwd ? "bwd" : "fwd", streamed ? "streamed" : "ordinary", bad, N);
        }
    }
    eltwise_stream_above_cpu(0);
    free(x);
    free(dy);
    free(y);
}

/* bias_add's per-channel layout ((outer, ch, inner), as a convolution's output), out of place,
 * ordinary and streamed, from an unaligned start: every element is x + its channel's bias, exactly. */
Test(eltwise, cpu_bias_add_per_channel)
{
    enum { OUTER = 3, CH = 5, INNER = 1027, N = OUTER * CH * INNER };
    float *x = alloc_cpu((N + 1) * sizeof(float)), *y = alloc_cpu((N + 1) * sizeof(float)), bias[CH];
    struct rng g;
    rng_seed(&g, 9, 1);
    rng_fill_uniform(&g, x, N + 1, -1.0f, 1.0f);
    rng_fill_uniform(&g, bias, CH, -1.0f, 1.0f);
    for (int streamed = 0; streamed < 2; streamed++) {
        eltwise_stream_above_cpu(streamed ? 1 : 0);
        memset(y, 0, (N + 1) * sizeof(float));
        cr_assert_eq(bias_add_cpu(DT_F32, OUTER, CH, INNER, x + 1, bias, y + 1), 0);
        size_t bad = 0;
        for (size_t i = 0; i < N; i++) bad += y[1 + i] != x[1 + i] + bias[i / INNER % CH];
        cr_expect_eq(bad, 0, "%s: %zu of %d elements wrong", streamed ? "streamed" : "ordinary", bad, (int)N);
        cr_expect_eq(y[0], 0.0f, "wrote before the output");
    }
    eltwise_stream_above_cpu(0);
    free(x);
    free(y);
}

/* A CPU backend whose triad writes one wrong element, or a NaN: the check must reject both. */
static int corrupt_mode;
static int bad_triad(enum dtype dt, size_t n, float s, const void *b, const void *c, void *av)
{
    float *a = av;
    backend_find("cpu")->elt->triad(dt, n, s, b, c, a);
    a[n / 2] = corrupt_mode ? NAN : a[n / 2] + 1e-3f;
    return 0;
}

Test(eltwise, check_rejects_a_wrong_element_and_a_nan)
{
    struct backend bad = *backend_find("cpu");
    struct eltwise_ops elt = *bad.elt;
    elt.triad = bad_triad;
    bad.elt = &elt;
    for (corrupt_mode = 0; corrupt_mode < 2; corrupt_mode++) {
        double r = eltwise_error_ratio(&bad, ELT_TRIAD, DT_F32, 1000003, 1, 0, 1.0f, 1, NULL);
        cr_expect(r > 1, "corruption %d passed the check (error/tolerance %g)", corrupt_mode, r);
    }
    cr_expect(eltwise_error_ratio(backend_find("cpu"), ELT_TRIAD, DT_F32, 1000003, 1, 0, 1.0f, 1, NULL) <= 1);
}

/* The CPU's cast between every pair of dtypes matches the host conversions bit for bit (it feeds
 * the mixed-precision step), including values beyond fp16's range and fp16 subnormals. */
Test(eltwise, cpu_cast_matches_host_rounding)
{
    static const enum dtype dts[] = {DT_F32, DT_F16, DT_BF16};
    const size_t n = 100003;
    float *h = malloc(n * 4), *src = malloc(n * 4), *got = malloc(n * 4);
    void *in = malloc(n * 4), *out = malloc(n * 4);
    struct rng r;
    rng_seed(&r, 5, 5);
    rng_fill_uniform(&r, h, n, -70000.0f, 70000.0f);
    for (size_t i = 0; i < n; i += 5) h[i] *= 1e-6f;
    for (int f = 0; f < 3; f++)
        for (int t = 0; t < 3; t++) {
            dtype_pack(dts[f], h, in, n);
            dtype_unpack(dts[f], in, src, n);
            cr_assert_eq(backend_find("cpu")->elt->cast(n, dts[f], in, dts[t], out), 0);
            dtype_unpack(dts[t], out, got, n);
            size_t bad = 0;
            for (size_t i = 0; i < n; i++) {
                float want = f32_round_to(dts[t], src[i]);
                bad += memcmp(&want, &got[i], 4) != 0;
            }
            cr_expect_eq(bad, 0, "cast %s -> %s: %zu of %zu differ", dtype_name(dts[f]), dtype_name(dts[t]), bad, n);
        }
    free(h); free(src); free(got); free(in); free(out);
}
