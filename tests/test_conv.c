/* test_conv.c: convolution on the CPU backend in all three directions on awkward shapes, the check
 * rejecting a wrong result, and a finite-difference gradient check tying backward-data and
 * backward-filter to forward (in double through kernels/conv_ref). */
#include "conv_cases_test.h"
#include "conv_ref.h"
#include "cpu_ops.h"
#include "rng.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

Test(conv, cpu_all_directions_awkward_shapes) { check_convs(backend_find("cpu"), DT_F32); }

/* The CPU lowering's edges (conv_cpu.c: im2col and col2im on the padded image, blocks of output
 * rows): taps whose every column reads padding (a dilated 3x3 over a 2x2 image padded by 3), stride
 * 3 with padding wider than a tap, the ResNet stem's 7x7/2 padded by 3 on an odd width, and images
 * whose col matrix takes several blocks of rows (stride 1: 16, 16, 16 and 8 of 56; stride 2: 15 and
 * 14 of 29). */
Test(conv, cpu_lowering_edges)
{
    static const struct conv_shape shapes[] = {
        /* n, c, h, w, k, r, s, stride, pad, dil */
        {1, 2, 2, 2, 3, 3, 3, 1, 3, 3},
        {2, 3, 5, 4, 2, 3, 3, 3, 2, 1},
        {2, 3, 17, 15, 5, 7, 7, 2, 3, 1},
        {1, 64, 56, 56, 8, 3, 3, 1, 1, 1},
        {1, 128, 57, 57, 4, 3, 3, 2, 1, 1},
    };
    check_conv_shapes(backend_find("cpu"), DT_F32, shapes, sizeof shapes / sizeof shapes[0]);
}

/* The same shapes with the GEMMs forced on OpenBLAS and on the own kernel (where the CPU has
 * AVX-512 or AVX2: leading dimensions of the tiles, β = 1 of the backward-filter sums); then chosen by
 * measurement, both times in the note. */
Test(conv, cpu_gemm_ways_and_note)
{
    const struct backend *b = backend_find("cpu");
    const struct conv_shape s = {2, 3, 7, 6, 4, 3, 3, 2, 1, 1};
    float x[2 * 3 * 7 * 6] = {0}, w[4 * 3 * 3 * 3] = {0}, y[2 * 4 * 4 * 3];
    int own = gemm_own_cpu_available();
    /* OpenBLAS, then the own kernel on each vector set the CPU has (0: the widest) */
    static const int ways[][2] = {{0, 0}, {1, 512}, {1, 256}};
    for (size_t v = 0; v < sizeof ways / sizeof *ways; v++) {
        int way = ways[v][0];
        gemm_own_cpu_isa = ways[v][1];
        if (way && !gemm_own_cpu_available()) continue;
        conv_cpu_way = way;
        check_convs(b, DT_F32);
        cr_assert_eq(b->conv->fwd(DT_F32, &s, x, w, y), 0);
        const char *note = cpu_impl();   /* read once: reading clears it */
        cr_assert_not_null(note);
        cr_expect(strstr(note, !way ? "OpenBLAS sgemm" : ways[v][1] == 512 ? "AVX-512 sgemm kernel (" : "AVX2 sgemm kernel (") &&
                      !strstr(note, "first calls"),
                  "forced %d (%d): %s", way, ways[v][1], note);
    }
    gemm_own_cpu_isa = 0;
    conv_cpu_way = -1;
    cr_assert_eq(b->conv->bwd_filter(DT_F32, &s, x, y, w), 0);
    const char *note = cpu_impl();
    cr_assert_not_null(note);
    if (own) cr_expect(strstr(note, " ms OpenBLAS, ") && strstr(note, " ms own)"), "measured: %s", note);
    else cr_expect(strstr(note, "OpenBLAS sgemm") && !strstr(note, "first calls"), "no own kernel: %s", note);
}

static int conv_fwd_off_by_one(enum dtype dt, const struct conv_shape *s, const void *x, const void *w, void *y)
{
    int rc = backend_find("cpu")->conv->fwd(dt, s, x, w, y);
    ((float *)y)[conv_y_elems(s) / 2] += 0.05f;
    return rc;
}

Test(conv, check_rejects_a_wrong_element)
{
    struct backend bad = *backend_find("cpu");
    struct conv_ops conv = *bad.conv;
    conv.fwd = conv_fwd_off_by_one;
    bad.conv = &conv;
    const struct workload *w = workload_find("conv_fwd");
    /* small enough that the 256 sampled elements cover every output */
    const struct conv_shape s = {1, 3, 6, 6, 4, 3, 3, 1, 1, 1};
    char why[256];
    void *st = w->setup(&bad, &s, DT_F32, 3, why, sizeof why);
    cr_assert_not_null(st);
    w->call(st);
    double e = w->check(st, why, sizeof why);
    cr_expect(e > w->tolerance(&s, DT_F32), "wrong element passed: error %g", e);
    w->teardown(st);
}

/* L = Σ y·g with y = conv(x, w): dL/dx = bwd_data(g, w), dL/dw = bwd_filter(x, g). */
static double loss(const struct conv_shape *s, const double *x, const double *w, const double *g, double *y)
{
    double l = 0;
    conv_fwd_ref(s, x, w, y);
    for (size_t i = 0; i < conv_y_elems(s); i++) l += y[i] * g[i];
    return l;
}

Test(conv, finite_differences_tie_backward_to_forward)
{
    const struct conv_shape shapes[] = {{2, 3, 7, 6, 4, 3, 3, 2, 1, 1}, {1, 2, 8, 8, 3, 3, 3, 1, 2, 2}};
    for (int si = 0; si < 2; si++) {
        const struct conv_shape *s = &shapes[si];
        size_t nx = conv_x_elems(s), nw = conv_w_elems(s), ny = conv_y_elems(s);
        double *x = malloc(8 * nx), *w = malloc(8 * nw), *g = malloc(8 * ny), *y = malloc(8 * ny);
        double *dx = malloc(8 * nx), *dw = malloc(8 * nw);
        struct rng r;
        rng_seed(&r, 1, si);
        for (size_t i = 0; i < nx; i++) x[i] = 2 * rng_uniform(&r) - 1;
        for (size_t i = 0; i < nw; i++) w[i] = 2 * rng_uniform(&r) - 1;
        for (size_t i = 0; i < ny; i++) g[i] = 2 * rng_uniform(&r) - 1;
        conv_bwd_data_ref(s, g, w, dx);
        conv_bwd_filter_ref(s, x, g, dw);
        const double h = 1e-6;
        for (size_t i = 0; i < nx; i += 7) {
            double keep = x[i];
            x[i] = keep + h; double lp = loss(s, x, w, g, y);
            x[i] = keep - h; double lm = loss(s, x, w, g, y);
            x[i] = keep;
            cr_expect(fabs((lp - lm) / (2 * h) - dx[i]) < 1e-6, "shape %d dx[%zu]: fd %g, backward %g", si, i, (lp - lm) / (2 * h), dx[i]);
        }
        for (size_t i = 0; i < nw; i += 3) {
            double keep = w[i];
            w[i] = keep + h; double lp = loss(s, x, w, g, y);
            w[i] = keep - h; double lm = loss(s, x, w, g, y);
            w[i] = keep;
            cr_expect(fabs((lp - lm) / (2 * h) - dw[i]) < 1e-6, "shape %d dw[%zu]: fd %g, backward %g", si, i, (lp - lm) / (2 * h), dw[i]);
        }
        free(x); free(w); free(g); free(y); free(dx); free(dw);
    }
}
