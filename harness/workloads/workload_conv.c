/* workload_conv.c: the convolution workloads conv_fwd, conv_bwd_data and conv_bwd_filter (family
 * "conv"): seeded inputs rounded to the dtype, the output (in the dtype's storage) poisoned with
 * NaN, converted to fp32 and checked on sampled elements recomputed in double by kernels/conv_ref
 * (plus a NaN scan of the whole output). */
#include "conv_cases.h"
#include "gemm_ref.h"
#include "rng.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_SAMPLES 256

struct conv_state {
    const struct backend *b;
    struct conv_shape s;
    enum conv_dir d;
    enum dtype dt;
    uint64_t seed;
    float *ha, *hb, *hout;
    void *da, *db, *dout, *packed;   /* packed: the output as downloaded, in dt's storage */
    size_t na, nb, nout;
};

/* Element counts of the two inputs and the output of direction d. */
static void sizes(const struct conv_shape *s, enum conv_dir d, size_t *na, size_t *nb, size_t *nout)
{
    size_t x = conv_x_elems(s), w = conv_w_elems(s), y = conv_y_elems(s);
    *na = d == CONV_BWD_DATA ? y : x;
    *nb = d == CONV_BWD_FILTER ? y : w;
    *nout = d == CONV_FWD ? y : d == CONV_BWD_DATA ? x : w;
}

static int conv_custom(const long *d, int nd, const void *base, void *params, char *name, size_t nn, char *why, size_t n)
{
    (void)d; (void)nd; (void)base; (void)params; (void)name; (void)nn;
    snprintf(why, n, "convolutions take their shapes from bench/conv_cases.c, not --size");
    return -1;
}

static void conv_shape_str(const void *p, char *buf, size_t n)
{
    const struct conv_shape *s = p;
    snprintf(buf, n, "N%d C%d %dx%d K%d %dx%d/%d p%d", s->n, s->c, s->h, s->w, s->k, s->r, s->s, s->stride, s->pad);
}

static double conv_wl_flops(const void *p, enum dtype dt) { (void)dt; return conv_flops(p); }

static double bytes_dir(const void *p, enum dtype dt, enum conv_dir d)
{
    size_t na, nb, nout;
    sizes(p, d, &na, &nb, &nout);
    return (double)(na + nb + nout) * (double)dtype_size(dt);
}

/* The accumulation's bound (inputs are exact in dt) plus, for fp16/bf16, the output's rounding
 * (u·|y| <= u·scale) and what transform algorithms add: cuDNN may pick Winograd or FFT, which
 * round transformed operands to the dtype (a few u relative to the scale); 8u covers both. */
static double tol_dir(const void *p, enum dtype dt, enum conv_dir d)
{
    long red = conv_reduction(p, d);
    double out_u = dt == DT_F16 || dt == DT_BF16 ? 8 * dtype_unit_roundoff(dt) : 0;
    return gemm_tolerance(dt, red > 1 ? (int)(red < 1 << 30 ? red : 1 << 30) : 1) + out_u;
}

static void conv_teardown(void *st)
{
    struct conv_state *c = st;
    if (!c) return;
    c->b->dev->release(c->da); c->b->dev->release(c->db); c->b->dev->release(c->dout);
    free(c->ha); free(c->hb); free(c->hout); free(c->packed);
    free(c);
}

static void *setup_dir(const struct backend *b, const void *p, enum dtype dt, uint64_t seed, char *why, size_t n, enum conv_dir d)
{
    struct conv_state *c = calloc(1, sizeof *c);
    struct rng r;
    c->b = b; c->s = *(const struct conv_shape *)p; c->d = d; c->dt = dt; c->seed = seed;
    sizes(&c->s, d, &c->na, &c->nb, &c->nout);
    size_t es = dtype_size(dt);
    c->ha = malloc(c->na * 4); c->hb = malloc(c->nb * 4); c->hout = malloc(c->nout * 4); c->packed = malloc(c->nout * es);
    if (!c->ha || !c->hb || !c->hout || !c->packed) { snprintf(why, n, "out of host memory"); conv_teardown(c); return NULL; }
    rng_seed(&r, seed, 4);
    c->da = upload_rounded(b, dt, c->ha, c->na, &r);
    c->db = c->da ? upload_rounded(b, dt, c->hb, c->nb, &r) : NULL;
    c->dout = c->db ? b->dev->alloc(c->nout * es) : NULL;
    if (!c->dout) { snprintf(why, n, "%s", b->dev->error()); conv_teardown(c); return NULL; }
    for (size_t i = 0; i < c->nout; i++) c->hout[i] = NAN;
    dtype_pack(dt, c->hout, c->packed, c->nout);
    if (b->dev->upload(c->dout, c->packed, c->nout * es) != 0) { snprintf(why, n, "%s", b->dev->error()); conv_teardown(c); return NULL; }
    return c;
}

static int conv_call(void *st)
{
    struct conv_state *c = st;
    const struct backend *b = c->b;
    if (c->d == CONV_FWD) return b->conv->fwd(c->dt, &c->s, c->da, c->db, c->dout);
    if (c->d == CONV_BWD_DATA) return b->conv->bwd_data(c->dt, &c->s, c->da, c->db, c->dout);
    return b->conv->bwd_filter(c->dt, &c->s, c->da, c->db, c->dout);
}

static double conv_check(void *st, char *why, size_t n)
{
    struct conv_state *c = st;
    struct rng r;
    if (c->b->dev->sync() != 0 || c->b->dev->download(c->packed, c->dout, c->nout * dtype_size(c->dt)) != 0) {
        snprintf(why, n, "%s", c->b->dev->error());
        return -1;
    }
    dtype_unpack(c->dt, c->packed, c->hout, c->nout);
    for (size_t i = 0; i < c->nout; i++)
        if (!isfinite(c->hout[i])) return INFINITY;
    rng_seed(&r, c->seed, 5);
    double worst = 0;
    for (int k = 0; k < CHECK_SAMPLES; k++) {
        size_t i = k == 0 ? 0 : k == 1 ? c->nout - 1 : (size_t)(rng_next(&r) % c->nout);
        double sc, ref = conv_ref_elem(&c->s, c->d, c->ha, c->hb, i, &sc);
        double e = fabs(c->hout[i] - ref) / (sc + 1e-30);
        if (sc == 0) e = fabs(c->hout[i] - ref) > 0 ? INFINITY : 0; /* only padding: must be exactly 0 */
        if (!(e <= worst)) worst = e;
    }
    return worst;
}

#define DIR_FUNCS(SUFFIX, DIR)                                                                  \
    static void *setup_##SUFFIX(const struct backend *b, const void *p, enum dtype dt, uint64_t seed, \
                                char *why, size_t n) { return setup_dir(b, p, dt, seed, why, n, DIR); } \
    static double bytes_##SUFFIX(const void *p, enum dtype dt) { return bytes_dir(p, dt, DIR); }   \
    static size_t dev_##SUFFIX(const void *p, enum dtype dt) { return (size_t)bytes_dir(p, dt, DIR); } \
    static double tol_##SUFFIX(const void *p, enum dtype dt) { return tol_dir(p, dt, DIR); }
DIR_FUNCS(fwd, CONV_FWD)
DIR_FUNCS(bwd_data, CONV_BWD_DATA)
DIR_FUNCS(bwd_filter, CONV_BWD_FILTER)

#define CONV_WORKLOAD(NAME, WHAT, SUFFIX)                                                         \
    {.name = NAME, .family = "conv", .what = WHAT,                                                 \
     .dtypes = 1u << DT_F32 | 1u << DT_TF32 | 1u << DT_F16 | 1u << DT_BF16, .cases = conv_cases,                   \
     .params_size = sizeof(struct conv_shape), .custom = conv_custom, .shape = conv_shape_str,     \
     .flops = conv_wl_flops, .bytes = bytes_##SUFFIX, .device_bytes = dev_##SUFFIX,                \
     .setup = setup_##SUFFIX, .call = conv_call, .check = conv_check, .tolerance = tol_##SUFFIX,   \
     .teardown = conv_teardown}

const struct workload conv_fwd_workload =
    CONV_WORKLOAD("conv_fwd", "convolution forward y = x ⋆ w, NCHW, lowered to GEMM", fwd);
const struct workload conv_bwd_data_workload =
    CONV_WORKLOAD("conv_bwd_data", "convolution backward-data dx from dy and w", bwd_data);
const struct workload conv_bwd_filter_workload =
    CONV_WORKLOAD("conv_bwd_filter", "convolution backward-filter dw from x and dy", bwd_filter);
