/* test_cuda_gemm.c: GEMM on the CUDA backend in every dtype against the reference; skipped
 * (cr_skip_test) without a usable GPU. Suite names start with cuda_: make test runs them -j1. */
#include "testutil.h"
#include "gemm_ref.h"
#include <criterion/criterion.h>

static const int shapes[][3] = {{1, 1, 1}, {7, 13, 5}, {129, 65, 257}, {33, 17, 1}, {256, 192, 1024}};

static void all_shapes(enum dtype dt)
{
    const struct backend *b = cuda_or_skip();
    const char *why = b->unsupported("gemm", dt);
    if (why) cr_skip_test("cuda %s: %s", dtype_name(dt), why);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int t = 0; t < 4; t++) {
            int m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
            double e = backend_gemm_error(b, dt, t & 1, t >> 1, m, n, k), tol = gemm_tolerance(dt, k);
            cr_expect(e >= 0 && e <= tol, "cuda %s %dx%dx%d ta=%d tb=%d: error %g, tolerance %g (%s)",
                      dtype_name(dt), m, n, k, t & 1, t >> 1, e, tol, b->dev->error());
        }
}

Test(cuda_gemm, fp32) { all_shapes(DT_F32); }
Test(cuda_gemm, tf32) { all_shapes(DT_TF32); }
Test(cuda_gemm, fp16) { all_shapes(DT_F16); }
Test(cuda_gemm, bf16) { all_shapes(DT_BF16); }

Test(cuda_backend, reports_a_reason_when_unusable)
{
    char why[256] = "";
    const struct backend *b = backend_find("cuda");
    cr_assert_not_null(b);
    if (!b->probe(why, sizeof why)) {
        cr_expect(why[0] != 0, "an unusable backend must say why");
        cr_skip_test("no usable GPU: %s", why);
    }
    cr_expect(b->dev->mem_free() > 0);
}
