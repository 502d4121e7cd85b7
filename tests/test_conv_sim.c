/* test_conv_sim.c: the CUDA backend's implicit-GEMM convolutions (gpu/conv_igemm.cuh: forward and
 * backward-filter on the tensor cores; conv_igemm_f32.cuh: the same in fp32 FFMA) run on the CPU
 * by the CUDA simulator (tests/sim/) against the double reference, bf16, fp16 and fp32, on the
 * awkward shapes every backend runs plus shapes that take several blocks in both GEMM dimensions,
 * several reduction steps and slices, and both ways of loading the filter; the backward-data by
 * stride phases (dgrad_plan in conv_igemm.cuh) on strides 1 to 4 besides.
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
    /* C a multiple of 32: fp16/bf16 reduce in (r, s, c) order, the filter reordered first */
    {2, 64, 9, 10, 40, 3, 3, 1, 1, 1},    /* 18 steps, two column blocks */
    {2, 32, 11, 9, 70, 3, 3, 2, 1, 1},    /* stride 2, K = 70: two row blocks */
    {1, 32, 12, 10, 64, 3, 3, 1, 2, 2},   /* dilation 2, padding 2; K = 64: the backward-data too */
};

/* The backward-data's stride phases (dgrad_plan) beyond the awkward shapes: phases with 4, 2, 2, 1
 * taps and several blocks; stride 3 and 4; stride 2 with dilation 2 (all taps in one phase, the
 * others zero); a 7x7/2 stem; a 2x2/2 (no overlap); pixels past the last output's reach. */
static const struct conv_shape dgrad_convs[] = {
    /* n, c, h, w, k, r, s, stride, pad, dil */
    {2, 70, 14, 13, 40, 3, 3, 2, 1, 1},   /* C = 70: two row blocks; K·Rp·Sp 160/80/80/40 */
    {2, 5, 11, 10, 6, 3, 3, 3, 1, 1},     /* stride 3: one tap a phase */
    {1, 4, 13, 9, 3, 5, 3, 4, 2, 1},      /* stride 4, R != S: some phases without taps */
    {2, 3, 12, 11, 4, 3, 3, 2, 2, 2},     /* stride 2, dilation 2 */
    {1, 3, 23, 21, 8, 7, 7, 2, 3, 1},     /* a 7x7/2 stem */
    {3, 4, 8, 8, 6, 2, 2, 2, 0, 1},       /* 2x2/2: each pixel one tap */
    {2, 4, 8, 9, 5, 3, 3, 2, 0, 1},       /* h = 7: its one tap lands past P */
    {2, 16, 10, 9, 32, 3, 3, 2, 1, 1},    /* K = 32: the phases reduce in (r, s, c) order */
};

/* Largest error of the simulated kernel of direction d (CONV_FWD: y from x, w; CONV_BWD_DATA:
 * dx from dy, w; CONV_BWD_FILTER: dw from x, dy) over its output, in units of each element's bound (2u·|ref| + 1e-4·‖a terms‖
 * ‖b terms‖): above 1 is a failure. */
static double igemm_error(enum dtype dt, enum conv_dir d, const struct conv_shape *s)
{
    size_t na = d == CONV_BWD_DATA ? conv_y_elems(s) : conv_x_elems(s), nb = d == CONV_BWD_FILTER ? conv_y_elems(s) : conv_w_elems(s);
    size_t no = d == CONV_FWD ? conv_y_elems(s) : d == CONV_BWD_DATA ? conv_x_elems(s) : conv_w_elems(s);
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
    int rc = d == CONV_FWD        ? conv_igemm_fwd_sim(dt, s, ap, bp, op, why, sizeof why)
             : d == CONV_BWD_DATA ? conv_igemm_dgrad_sim(dt, s, ap, bp, op, why, sizeof why)
                                  : conv_igemm_wgrad_sim(dt, s, 4, ap, bp, op, why, sizeof why);
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
    const size_t nd = d == CONV_BWD_DATA ? sizeof dgrad_convs / sizeof dgrad_convs[0] : 0;
    for (size_t i = 0; i < na + ni + nd; i++) {
        const struct conv_shape *s = i < na ? &awkward_convs[i] : i < na + ni ? &igemm_convs[i - na] : &dgrad_convs[i - na - ni];
        double e = igemm_error(dt, d, s);
        cr_expect(e <= 1, "%s %s n%d c%d %dx%d k%d %dx%d/%d pad %d dil %d: error %.3g of the bound",
                  d == CONV_FWD ? "fwd" : d == CONV_BWD_DATA ? "bwd-data" : "bwd-filter",
                  dtype_name(dt), s->n, s->c, s->h, s->w, s->k, s->r, s->s, s->stride, s->pad, s->dil, e);
    }
}

Test(conv_sim, igemm_bf16_matches_reference) { igemm_shapes(DT_BF16, CONV_FWD); }
Test(conv_sim, igemm_fp16_matches_reference) { igemm_shapes(DT_F16, CONV_FWD); }
Test(conv_sim, igemm_bwd_filter_bf16_matches_reference) { igemm_shapes(DT_BF16, CONV_BWD_FILTER); }
Test(conv_sim, igemm_bwd_filter_fp16_matches_reference) { igemm_shapes(DT_F16, CONV_BWD_FILTER); }
Test(conv_sim, igemm_fp32_matches_reference) { igemm_shapes(DT_F32, CONV_FWD); }
Test(conv_sim, igemm_bwd_filter_fp32_matches_reference) { igemm_shapes(DT_F32, CONV_BWD_FILTER); }
Test(conv_sim, igemm_bwd_data_bf16_matches_reference) { igemm_shapes(DT_BF16, CONV_BWD_DATA); }
Test(conv_sim, igemm_bwd_data_fp16_matches_reference) { igemm_shapes(DT_F16, CONV_BWD_DATA); }
Test(conv_sim, igemm_bwd_data_fp32_matches_reference) { igemm_shapes(DT_F32, CONV_BWD_DATA); }
/* The other extreme of thread order and copy landing (conv_sim_options), one dtype a direction. */
Test(conv_sim, igemm_fp16_threads_reversed_copies_eager_match_reference) { conv_sim_options(1); igemm_shapes(DT_F16, CONV_FWD); }
Test(conv_sim, igemm_fp32_threads_reversed_copies_eager_match_reference) { conv_sim_options(1); igemm_shapes(DT_F32, CONV_FWD); }
Test(conv_sim, igemm_bwd_filter_bf16_threads_reversed_copies_eager_match_reference)
{
    conv_sim_options(1);
    igemm_shapes(DT_BF16, CONV_BWD_FILTER);
}
Test(conv_sim, igemm_bwd_data_fp16_threads_reversed_copies_eager_match_reference)
{
    conv_sim_options(1);
    igemm_shapes(DT_F16, CONV_BWD_DATA);
}

/* The plan itself, on a grid of strides, filters, paddings and dilations: every tap in exactly
 * one phase, every pixel in one, and each phase's forward reading the dy row its tap reaches (the
 * reference above checks the values on fewer shapes). */
Test(conv_sim, dgrad_plan_partitions_taps_and_pixels)
{
    int plans = 0;
    for (int st = 1; st <= 4; st++)
        for (int r = 1; r <= 7; r++)
            for (int pad = 0; pad <= 3; pad++)
                for (int dil = 1; dil <= 3; dil++) {
                    const int h = 17;
                    if (h + 2 * pad < dil * (r - 1) + 1) continue;   /* no output */
                    int taps = 0, pixels = 0, bad = conv_dgrad_plan_check(h, r, st, pad, dil, &taps, &pixels);
                    cr_expect_eq(bad, 0, "st %d r %d pad %d dil %d: %d mismatches", st, r, pad, dil, bad);
                    cr_expect_eq(taps, r, "st %d r %d pad %d dil %d: %d taps in the phases", st, r, pad, dil, taps);
                    cr_expect_eq(pixels, h, "st %d r %d pad %d dil %d: %d pixels in the phases", st, r, pad, dil, pixels);
                    plans++;
                }
    cr_expect_gt(plans, 300);
}
