/* test_conv_sim.c: the CUDA backend's implicit-GEMM convolutions (gpu/conv_igemm.cuh: forward and
 * backward-filter on the tensor cores; conv_igemm_f32.cuh: the same in fp32 FFMA) run on the CPU
 * by the CUDA simulator (tests/sim/) against the double reference, bf16, fp16 and fp32, on the awkward shapes every backend runs plus shapes that take several blocks in
 * both GEMM dimensions, several reduction steps and slices, and both ways of loading the filter.
 * CI has no GPU. */
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

/* Largest error of the simulated kernel of direction d (CONV_FWD: y from x, w; CONV_BWD_FILTER:
 * dw from x, dy) over its output, in units of each element's bound (2u·|ref| + 1e-4·‖a terms‖
 * ‖b terms‖): above 1 is a failure. */
static double igemm_error(enum dtype dt, enum conv_dir d, const struct conv_shape *s)
{
    size_t na = conv_x_elems(s), nb = d == CONV_FWD ? conv_w_elems(s) : conv_y_elems(s);
    size_t no = d == CONV_FWD ? conv_y_elems(s) : conv_w_elems(s);
    float *a = malloc(na * sizeof(float)), *b = malloc(nb * sizeof(float)), *out = malloc(no * sizeof(float));
    const size_t es = dtype_size(dt);
    void *ap = malloc(na * es), *bp = aligned_alloc(16, (nb * es + 15) / 16 * 16), *op = malloc(no * es);
    cr_assert(a && b && out && ap && bp && op);
    struct rng r;
    rng_seed(&r, 5, (uint64_t)(s->c * 1000 + s->k * 10 + s->r + d));
    seeded_dtype_values(&r, dt, a, ap, na);
    seeded_dtype_values(&r, dt, b, bp, nb);
    memset(op, 0xff, no * es);   /* NaN: an element the kernel never writes fails */
    char why[300] = "";
    int rc = d == CONV_FWD ? conv_igemm_fwd_sim(dt, s, ap, bp, op, why, sizeof why) : conv_igemm_wgrad_sim(dt, s, 4, ap, bp, op, why, sizeof why);
    cr_assert_eq(rc, 0, "%s", why);
    dtype_unpack(dt, op, out, no);
    double worst = 0, u = dtype_unit_roundoff(dt);
    for (size_t i = 0; i < no; i++) {
        double scale, ref = conv_ref_elem(s, d, a, b, i, &scale);
        double e = isfinite(out[i]) ? fabs(out[i] - ref) / (2 * u * fabs(ref) + 1e-4 * scale + 1e-30) : INFINITY;
        if (e > worst) worst = e;
    }
    free(a); free(b); free(out); free(ap); free(bp); free(op);
    return worst;
}

static void igemm_shapes(enum dtype dt, enum conv_dir d)
{
    const size_t na = sizeof awkward_convs / sizeof awkward_convs[0], ni = sizeof igemm_convs / sizeof igemm_convs[0];
    for (size_t i = 0; i < na + ni; i++) {
        const struct conv_shape *s = i < na ? &awkward_convs[i] : &igemm_convs[i - na];
        double e = igemm_error(dt, d, s);
        cr_expect(e <= 1, "%s %s n%d c%d %dx%d k%d %dx%d/%d pad %d dil %d: error %.3g of the bound", d == CONV_FWD ? "fwd" : "bwd-filter",
                  dtype_name(dt), s->n, s->c, s->h, s->w, s->k, s->r, s->s, s->stride, s->pad, s->dil, e);
    }
}

Test(conv_sim, igemm_bf16_matches_reference) { igemm_shapes(DT_BF16, CONV_FWD); }
Test(conv_sim, igemm_fp16_matches_reference) { igemm_shapes(DT_F16, CONV_FWD); }
Test(conv_sim, igemm_bwd_filter_bf16_matches_reference) { igemm_shapes(DT_BF16, CONV_BWD_FILTER); }
Test(conv_sim, igemm_bwd_filter_fp16_matches_reference) { igemm_shapes(DT_F16, CONV_BWD_FILTER); }
Test(conv_sim, igemm_fp32_matches_reference) { igemm_shapes(DT_F32, CONV_FWD); }
Test(conv_sim, igemm_bwd_filter_fp32_matches_reference) { igemm_shapes(DT_F32, CONV_BWD_FILTER); }
