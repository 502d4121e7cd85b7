/* workload_conv.c: the convolution workloads conv_fwd, conv_bwd_data and conv_bwd_filter (family
 * "conv"): seeded inputs rounded to the dtype (generated on the device, verify.h), the output (in
 * the dtype's storage) poisoned with NaN, converted to fp32 and checked against kernels/conv_ref in
 * double: every element when that costs at most FULL_MACS multiply-adds, else sampled blocks plus a
 * NaN/Inf scan of the whole output after the batch-1 instance (conv_small) passed in full. */
#include "conv_cases.h"
#include "gemm_ref.h"
#include "cbrng.h"
#include "verify.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FULL_MACS ((double)(1L << 27))   /* a full check's cost: ~0.1 s on two cores */
#define SAMPLE_BLOCKS 16                 /* sampled check: 16 blocks of 16 elements */
#define SAMPLE_BLOCK 16

struct conv_state {
    const struct backend *b;
    struct conv_shape s;
    enum conv_dir d;
    enum dtype dt;
    uint64_t seed, key_a, key_b;
    void *da, *db, *dout;   /* dout in dt's storage */
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
    free(c);
}

static void *setup_dir(const struct backend *b, const void *p, enum dtype dt, uint64_t seed, char *why, size_t n, enum conv_dir d)
{
    struct conv_state *c = calloc(1, sizeof *c);
    c->b = b; c->s = *(const struct conv_shape *)p; c->d = d; c->dt = dt; c->seed = seed;
    c->key_a = cbrng_key(seed, 4); c->key_b = cbrng_key(seed, 5);
    sizes(&c->s, d, &c->na, &c->nb, &c->nout);
    c->da = gen_device(b, dt, c->na, c->key_a, -1, 1);
    c->db = c->da ? gen_device(b, dt, c->nb, c->key_b, -1, 1) : NULL;
    c->dout = c->db ? gen_device(b, dt, c->nout, 0, NAN, NAN) : NULL;   /* poisoned */
    if (!c->dout) {
        snprintf(why, n, "%s", b->dev->error());
        conv_teardown(c);
        return NULL;
    }
    return c;
}

/* Batch 1 of a batched layer, when checking all of it in full is affordable. */
static int small_dir(const void *p, void *sp, enum conv_dir d)
{
    const struct conv_shape *s = p;
    struct conv_shape *o = sp;
    size_t na, nb, nout;
    if (s->n <= 1) return 0;
    *o = *s;
    o->n = 1;
    sizes(o, d, &na, &nb, &nout);
    return (double)nout * (double)conv_reduction(o, d) <= FULL_MACS;
}

static int conv_call(void *st)
{
    struct conv_state *c = st;
    const struct backend *b = c->b;
    if (c->d == CONV_FWD) return b->conv->fwd(c->dt, &c->s, c->da, c->db, c->dout);
    if (c->d == CONV_BWD_DATA) return b->conv->bwd_data(c->dt, &c->s, c->da, c->db, c->dout);
    return b->conv->bwd_filter(c->dt, &c->s, c->da, c->db, c->dout);
}

/* What one element's error reads: the inputs on the host, the downloaded output. */
struct conv_view { const struct conv_state *c; const float *ha, *hb, *out; const size_t *idx; };

static double elem_err(const void *ctx, size_t k)
{
    const struct conv_view *v = ctx;
    size_t i = v->idx ? v->idx[k] : k;
    double sc, ref = conv_ref_elem(&v->c->s, v->c->d, v->ha, v->hb, i, &sc);
    if (sc == 0) return fabs(v->out[i] - ref) > 0 ? INFINITY : 0; /* only padding: must be exactly 0 */
    double e = fabs(v->out[i] - ref) / (sc + 1e-30);
    return e == e ? e : INFINITY;
}

static double conv_check(void *st, char *why, size_t n)
{
    struct conv_state *c = st;
    float *ha = malloc(c->na * 4), *hb = malloc(c->nb * 4), *out = malloc(c->nout * 4);
    void *raw = c->dt == DT_F32 || c->dt == DT_TF32 ? NULL : malloc(c->nout * dtype_size(c->dt));   /* as stored */
    size_t starts[SAMPLE_BLOCKS], idx[SAMPLE_BLOCKS * SAMPLE_BLOCK], bad, first, k = 0;
    int full = (double)c->nout * (double)conv_reduction(&c->s, c->d) <= FULL_MACS;
    double err = -1;
    if (!ha || !hb || !out || (dtype_size(c->dt) != 4 && !raw)) { snprintf(why, n, "out of host memory"); goto done; }
    if (verify_scan(c->b, c->dout, c->dt, c->nout, &bad, &first, why, n) != 0) goto done;
    if (bad) { snprintf(why, n, "%zu NaN/Inf in the output, the first at element %zu", bad, first); err = INFINITY; goto done; }
    if (c->b->dev->download(raw ? raw : (void *)out, c->dout, c->nout * dtype_size(c->dt)) != 0) {
        snprintf(why, n, "%s", c->b->dev->error());
        goto done;
    }
    if (raw) dtype_unpack(c->dt, raw, out, c->nout);
    gen_host(ha, 0, c->na, c->key_a, -1, 1, c->dt);
    gen_host(hb, 0, c->nb, c->key_b, -1, 1, c->dt);
    struct conv_view v = {c, ha, hb, out, NULL};
    if (full) { err = verify_max(c->nout, elem_err, &v); goto done; }
    int nblk = verify_blocks(c->seed, c->nout, SAMPLE_BLOCK, starts, SAMPLE_BLOCKS);
    for (int b = 0; b < nblk; b++)
        for (size_t j = 0; j < SAMPLE_BLOCK && starts[b] + j < c->nout; j++) idx[k++] = starts[b] + j;
    v.idx = idx;
    err = verify_max(k, elem_err, &v);
    verify_describe_sampled(why, n, c->nout, nblk, SAMPLE_BLOCK);
done:
    free(ha); free(hb); free(out); free(raw);
    return err;
}

#define DIR_FUNCS(SUFFIX, DIR)                                                                  \
    static void *setup_##SUFFIX(const struct backend *b, const void *p, enum dtype dt, uint64_t seed, \
                                char *why, size_t n) { return setup_dir(b, p, dt, seed, why, n, DIR); } \
    static double bytes_##SUFFIX(const void *p, enum dtype dt) { return bytes_dir(p, dt, DIR); }   \
    static size_t dev_##SUFFIX(const void *p, enum dtype dt) { return (size_t)bytes_dir(p, dt, DIR); } \
    static double tol_##SUFFIX(const void *p, enum dtype dt) { return tol_dir(p, dt, DIR); }      \
    static int small_##SUFFIX(const void *p, void *sp) { return small_dir(p, sp, DIR); }
DIR_FUNCS(fwd, CONV_FWD)
DIR_FUNCS(bwd_data, CONV_BWD_DATA)
DIR_FUNCS(bwd_filter, CONV_BWD_FILTER)

/* The quick suite leaves tf32 (fp32 data, tensor-core math) to the full suite: a GPU-only math
 * mode of fp32, no CPU row to pair with, and 36 of the 144 GPU conv rows of the H200 quick run. */
#define CONV_QUICK_DTYPES (1u << DT_F32 | 1u << DT_F16 | 1u << DT_BF16)

#define CONV_WORKLOAD(NAME, WHAT, SUFFIX)                                                         \
    {.name = NAME, .family = "conv", .what = WHAT,                                                 \
     .dtypes = 1u << DT_F32 | 1u << DT_TF32 | 1u << DT_F16 | 1u << DT_BF16, .cases = conv_cases,  \
     .quick_dtypes = CONV_QUICK_DTYPES,                                                            \
     .params_size = sizeof(struct conv_shape), .custom = conv_custom, .shape = conv_shape_str,     \
     .flops = conv_wl_flops, .bytes = bytes_##SUFFIX, .device_bytes = dev_##SUFFIX,                \
     .setup = setup_##SUFFIX, .call = conv_call, .check = conv_check, .tolerance = tol_##SUFFIX,   \
     .teardown = conv_teardown, .small = small_##SUFFIX}

const struct workload conv_fwd_workload =
    CONV_WORKLOAD("conv_fwd", "convolution forward y = x ⋆ w, NCHW, lowered to GEMM", fwd);
const struct workload conv_bwd_data_workload =
    CONV_WORKLOAD("conv_bwd_data", "convolution backward-data dx from dy and w", bwd_data);
const struct workload conv_bwd_filter_workload =
    CONV_WORKLOAD("conv_bwd_filter", "convolution backward-filter dw from x and dy", bwd_filter);
