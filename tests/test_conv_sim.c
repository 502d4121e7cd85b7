/* test_conv_sim.c: the CUDA backend's implicit-GEMM forward convolution (gpu/conv_igemm.cuh) run
 * on the CPU by the CUDA simulator (tests/sim/) against the double reference, bf16 and fp16, on
 * the awkward shapes every backend runs plus shapes that take several blocks in both GEMM
 * dimensions, several reduction steps, and both ways of loading the filter. CI has no GPU. */
#include "conv_cases_test.h"
#include "rng.h"
#include "sim/conv_sim.h"
#include <math.h>

static const struct conv_shape igemm_convs[] = {
    /* n, c, h, w, k, r, s, stride, pad, dil */
    {2, 16, 11, 13, 70, 3, 3, 1, 1, 1},   /* CRS 144: five steps, cp.async filter; K = 70: two row blocks */
    {3, 8, 9, 9, 33, 3, 3, 2, 1, 1},      /* stride 2, CRS 72, 3 images in one 128-pixel tile */
    {1, 32, 7, 7, 64, 1, 1, 1, 0, 1},     /* pointwise, CRS 32: one step */
    {2, 8, 12, 10, 16, 3, 3, 1, 2, 2},    /* dilation 2 with padding 2 */
};

/* Largest error of the simulated kernel over y, in units of each element's bound
 * (2u·|ref| + 1e-4·‖x terms‖‖w terms‖): above 1 is a failure. */
static double igemm_error(enum dtype dt, const struct conv_shape *s)
{
    size_t nx = conv_x_elems(s), nw = conv_w_elems(s), ny = conv_y_elems(s);
    float *x = malloc(nx * sizeof(float)), *w = malloc(nw * sizeof(float));
    uint16_t *xp = malloc(nx * 2), *wp = aligned_alloc(16, (nw * 2 + 15) / 16 * 16), *yp = malloc(ny * 2);
    cr_assert(x && w && xp && wp && yp);
    struct rng r;
    rng_seed(&r, 5, (uint64_t)(s->c * 1000 + s->k * 10 + s->r));
    rng_fill_uniform(&r, x, nx, -1, 1);
    rng_fill_uniform(&r, w, nw, -1, 1);
    for (size_t i = 0; i < nx; i++) x[i] = f32_round_to(dt, x[i]);
    for (size_t i = 0; i < nw; i++) w[i] = f32_round_to(dt, w[i]);
    dtype_pack(dt, x, xp, nx);
    dtype_pack(dt, w, wp, nw);
    memset(yp, 0xff, ny * 2);   /* NaN: an element the kernel never writes fails */
    char why[300] = "";
    int rc = conv_igemm_fwd_sim(dt, s, xp, wp, yp, why, sizeof why);
    cr_assert_eq(rc, 0, "%s", why);
    float *y = malloc(ny * sizeof(float));
    dtype_unpack(dt, yp, y, ny);
    double worst = 0, u = dtype_unit_roundoff(dt);
    for (size_t i = 0; i < ny; i++) {
        double scale, ref = conv_ref_elem(s, CONV_FWD, x, w, i, &scale);
        double e = isfinite(y[i]) ? fabs(y[i] - ref) / (2 * u * fabs(ref) + 1e-4 * scale + 1e-30) : INFINITY;
        if (e > worst) worst = e;
    }
    free(x); free(w); free(xp); free(wp); free(yp); free(y);
    return worst;
}

static void igemm_shapes(enum dtype dt)
{
    for (size_t i = 0; i < sizeof awkward_convs / sizeof awkward_convs[0]; i++) {
        const struct conv_shape *s = &awkward_convs[i];
        double e = igemm_error(dt, s);
        cr_expect(e <= 1, "%s n%d c%d %dx%d k%d %dx%d/%d pad %d dil %d: error %.3g of the bound", dtype_name(dt), s->n, s->c, s->h, s->w,
                  s->k, s->r, s->s, s->stride, s->pad, s->dil, e);
    }
    for (size_t i = 0; i < sizeof igemm_convs / sizeof igemm_convs[0]; i++) {
        const struct conv_shape *s = &igemm_convs[i];
        double e = igemm_error(dt, s);
        cr_expect(e <= 1, "%s n%d c%d %dx%d k%d %dx%d/%d pad %d dil %d: error %.3g of the bound", dtype_name(dt), s->n, s->c, s->h, s->w,
                  s->k, s->r, s->s, s->stride, s->pad, s->dil, e);
    }
}

Test(conv_sim, igemm_bf16_matches_reference) { igemm_shapes(DT_BF16); }
Test(conv_sim, igemm_fp16_matches_reference) { igemm_shapes(DT_F16); }
