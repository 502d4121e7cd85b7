/* conv_cases_test.h: the small awkward convolution shapes every backend's tests run (shared by
 * the CPU and CUDA test files): N = 1, C = 1 and 3, 1x1 and 5x5 filters, R != S, stride 2,
 * padding 0/1/2 (a padded 1x1), odd spatial sizes, K not a multiple of anything, dilation 2, and
 * a reduction long enough (N·P·Q = 6272) that the GPU's backward-filter splits it into slices. */
#ifndef DLBENCH_CONV_CASES_TEST_H
#define DLBENCH_CONV_CASES_TEST_H
#include "testutil.h"
#include "workload.h"
#include <criterion/criterion.h>

static const struct conv_shape awkward_convs[] = {
    /* n, c, h, w, k, r, s, stride, pad, dil */
    {1, 3, 7, 9, 5, 3, 3, 1, 1, 1},
    {2, 3, 13, 11, 7, 5, 5, 2, 2, 1},
    {1, 4, 9, 9, 13, 1, 1, 1, 0, 1},
    {3, 5, 10, 7, 3, 1, 1, 2, 0, 1},
    {2, 6, 15, 15, 11, 3, 3, 2, 0, 1},
    {1, 2, 12, 12, 3, 3, 3, 1, 2, 2},
    {5, 8, 6, 6, 9, 3, 3, 1, 1, 1},   /* more images than threads: the per-image path */
    {1, 1, 28, 28, 32, 3, 3, 1, 1, 1},  /* C = 1, batch 1 (MNIST conv1) */
    {8, 1, 28, 28, 32, 3, 3, 1, 1, 1},  /* backward-filter over 6272 in slices and a tail */
    {3, 6, 5, 5, 4, 1, 1, 1, 0, 1},     /* pointwise, several images */
    {2, 3, 5, 5, 4, 1, 1, 1, 1, 1},     /* a padded 1x1: P = H + 2 */
    {2, 3, 8, 7, 5, 1, 3, 1, 0, 1},     /* R != S: different padding per axis when flipped */
    {2, 3, 9, 7, 4, 3, 1, 2, 1, 1},     /* R != S, stride 2 */
    {2, 7, 9, 8, 5, 3, 3, 1, 1, 1},     /* K <= C: the GPU's flipped-filter backward-data in fp32 */
    {1, 6, 10, 9, 4, 3, 1, 1, 0, 2},    /* dilated R x 1, flipped with padding 4 x 0 */
};

/* Every direction of each shape on backend b, against the double reference at dt's tolerance. */
static inline void check_conv_shapes(const struct backend *b, enum dtype dt, const struct conv_shape *shapes, size_t n)
{
    static const char *const names[] = {"conv_fwd", "conv_bwd_data", "conv_bwd_filter"};
    for (int d = 0; d < 3; d++) {
        const struct workload *w = workload_find(names[d]);
        for (size_t i = 0; i < n; i++) {
            char why[256];
            const struct conv_shape *s = &shapes[i];
            void *st = w->setup(b, s, dt, 77 + i, why, sizeof why);
            cr_assert_not_null(st, "%s setup: %s", names[d], why);
            cr_expect_eq(w->call(st), 0, "%s call: %s", names[d], b->dev->error());
            double e = w->check(st, why, sizeof why), tol = w->tolerance(s, dt);
            cr_expect(e >= 0 && e <= tol, "%s %s %s shape %zu: error %g, tolerance %g", b->name, names[d], dtype_name(dt), i, e, tol);
            w->teardown(st);
        }
    }
}

static inline void check_convs(const struct backend *b, enum dtype dt)
{
    check_conv_shapes(b, dt, awkward_convs, sizeof awkward_convs / sizeof awkward_convs[0]);
}
#endif
