/* test_cuda_eltwise.c: every bandwidth/elementwise op on the CUDA backend against its reference,
 * in fp32 and in fp16/bf16 storage; the casts; skipped without a usable GPU. */
#include "eltwise_cases_test.h"
#include "dtype.h"
#include "rng.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

Test(cuda_eltwise, all_ops_awkward_lengths_and_offsets) { check_all_eltwise_ops(cuda_or_skip(), DT_F32); }
Test(cuda_eltwise, all_ops_fp16) { check_all_eltwise_ops(cuda_or_skip(), DT_F16); }
Test(cuda_eltwise, all_ops_bf16) { check_all_eltwise_ops(cuda_or_skip(), DT_BF16); }
Test(cuda_eltwise, softmax_layernorm_large_magnitude)
{
    const struct backend *b = cuda_or_skip();
    check_large_magnitude_rows(b, DT_F32);
    check_large_magnitude_rows(b, DT_BF16);
}
Test(cuda_eltwise, optimizers_over_several_steps) { check_optimizers_over_steps(cuda_or_skip()); }

/* cast between every pair of dtypes, on odd lengths and unaligned starts, bit-exact with the host's
 * round-to-nearest-even conversions (kernels/dtype.c). */
Test(cuda_eltwise, cast_matches_host_rounding)
{
    const struct backend *b = cuda_or_skip();
    static const enum dtype dts[] = {DT_F32, DT_F16, DT_BF16};
    static const size_t lens[] = {1, 7, 100003};
    struct rng r;
    rng_seed(&r, 5, 5);
    for (int l = 0; l < 3; l++) {
        size_t n = lens[l] + 1;
        float *h = malloc(n * 4), *got = malloc(n * 4), *want = malloc(n * 4);
        rng_fill_uniform(&r, h, n, -70000.0f, 70000.0f);   /* beyond fp16's range: inf */
        for (size_t i = 0; i < n; i += 5) h[i] *= 1e-6f;     /* and fp16 subnormals */
        for (int f = 0; f < 3; f++)
            for (int t = 0; t < 3; t++) {
                enum dtype from = dts[f], to = dts[t];
                void *pin = malloc(n * 4), *pout = malloc(n * 4);
                char *din = b->dev->alloc(n * 4), *dout = b->dev->alloc(n * 4);
                dtype_pack(from, h, pin, n);
                cr_assert_eq(b->dev->upload(din, pin, n * 4), 0);
                /* start one element in: the unaligned head */
                cr_assert_eq(b->elt->cast(lens[l], from, din + dtype_size(from), to, dout + dtype_size(to)), 0, "%s", b->dev->error());
                cr_assert_eq(b->dev->sync(), 0, "%s", b->dev->error());
                cr_assert_eq(b->dev->download(pout, dout + dtype_size(to), lens[l] * dtype_size(to)), 0);
                dtype_unpack(to, pout, got, lens[l]);
                float *src = malloc(n * 4);
                dtype_unpack(from, pin, src, n);
                for (size_t i = 0; i < lens[l]; i++) want[i] = f32_round_to(to, src[i + 1]);
                size_t bad = 0;
                for (size_t i = 0; i < lens[l]; i++) bad += memcmp(&got[i], &want[i], 4) != 0 && !(isnan(got[i]) && isnan(want[i]));
                cr_expect_eq(bad, 0, "cast %s -> %s n=%zu: %zu elements differ from host rounding", dtype_name(from),
                             dtype_name(to), lens[l], bad);
                free(src); free(pin); free(pout);
                b->dev->release(din); b->dev->release(dout);
            }
        free(h); free(got); free(want);
    }
}
