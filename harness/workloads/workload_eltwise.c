/* workload_eltwise.c: the "stream" and "eltwise" workloads (family "bandwidth"): inputs from the
 * counter-based generator made where the data lives (rounded to the dtype: fp32, or fp16/bf16 at
 * half the bytes), NaN-poisoned outputs, one backend entry per op, and the check against
 * kernels/eltwise_ref in double (verify.h): element by element up to VERIFY_FULL_MAX, else sampled
 * blocks (whole rows for row ops) plus a NaN/Inf scan, after the smaller instance (elt_small)
 * passed in full. In-place ops (SGD, Adam) are re-derived for every call made; they, and dot, run
 * fp32 only. */
#include "eltwise_cases.h"
#include "cbrng.h"
#include "eltwise_ref.h"
#include "rng.h"
#include "verify.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCALAR 3.0f   /* STREAM's scalar */
#define SGD_LR 0.01f
#define SMALL_ELEMS ((1L << 20) + 3)   /* the smaller instance: parallel paths plus an odd tail */
static const struct adam_hp adam_defaults = {1e-3f, 0.9f, 0.999f, 1e-8f, 1};

struct elt_state {
    const struct backend *b;
    struct eltwise_shape s;
    enum dtype dt;
    size_t es;                       /* bytes per array element (dt's storage) */
    long n;
    int rows, cols, nin, nout, calls;
    uint64_t seed, key[4];           /* input streams and their ranges */
    float lo[4], hi[4];
    float *hp[2];                    /* host: parameter vectors (cols each) */
    void *db[4], *d[4], *doutb, *dout;   /* device arrays in dt's storage; d = db + offset elements */
    float *dpar[2];                  /* device parameter vectors, fp32 */
    struct adam_hp hpar;
};

/* DRAM size: 4x the largest last-level cache of the backends present (at least 32 Mi elements),
 * so every backend runs identical sizes; the quick suite caps it (bandwidth_cap_bytes). */
long eltwise_dram_elems(void)
{
    static long full;
    long mi = 1L << 20;
    if (!full) {
        size_t most = 0;
        for (int i = 0; i < backend_count; i++) {
            char why[256];
            const struct backend *b = backends[i];
            /* probe first: a backend this build lacks (NO_CUDA=1) is a stub without device_ops */
            if (b->probe(why, sizeof why) && b->dev && b->dev->cache_bytes && b->dev->cache_bytes() > most) most = b->dev->cache_bytes();
        }
        long need = (long)(4 * most / sizeof(float));
        if (need < 32 * mi) need = 32 * mi;
        full = (need + mi - 1) / mi * mi;
    }
    long cap = (long)(bandwidth_cap_bytes / sizeof(float)) / mi * mi;
    return cap > 0 && full > cap ? cap : full;
}

static long elems(const struct eltwise_shape *s) { return s->n ? s->n : eltwise_dram_elems(); }

static int elt_custom(const long *d, int nd, const void *base, void *params, char *name, size_t nn, char *why, size_t n)
{
    const struct eltwise_shape *b = base;
    struct eltwise_shape *s = params;
    *s = *b;
    if (elt_ops[b->op].row_op) {
        if (nd != 2) { snprintf(why, n, "%s takes ROWSxCOLS", elt_ops[b->op].name); return -1; }
        s->n = d[0] * d[1];
        s->cols = (int)d[1];
    } else {
        if (nd != 1) { snprintf(why, n, "%s takes one length N", elt_ops[b->op].name); return -1; }
        s->n = d[0];
        s->cols = 1;
    }
    if (s->n > (1L << 33) || s->cols > (1 << 30)) { snprintf(why, n, "more than 2^33 elements"); return -1; }
    if (nd == 2) snprintf(name, nn, "%s.%ldx%ld", elt_ops[b->op].name, d[0], d[1]);
    else snprintf(name, nn, "%s.%ld", elt_ops[b->op].name, d[0]);
    return 0;
}

static void elt_shape(const void *p, char *buf, size_t n)
{
    const struct eltwise_shape *s = p;
    long e = elems(s);
    if (elt_ops[s->op].row_op) snprintf(buf, n, "%ldx%d", e / s->cols, s->cols);
    else snprintf(buf, n, "n=%ld", e);
    if (s->offset) snprintf(buf + strlen(buf), n - strlen(buf), " +%d", s->offset);
}

static double elt_flops(const void *p, enum dtype dt)
{ (void)dt; const struct eltwise_shape *s = p; return elt_ops[s->op].flops_per_elem * (double)elems(s); }

/* Arrays in dt's storage; parameter vectors fp32. */
static double elt_bytes(const void *p, enum dtype dt)
{
    const struct eltwise_shape *s = p;
    const struct elt_op_info *o = &elt_ops[s->op];
    double b = (double)dtype_size(dt) * (o->arrays_read + o->arrays_written) * (double)elems(s) + 4.0 * o->param_vectors * s->cols;
    return s->op == ELT_DOT ? b + 4 : b;
}

static double elt_array_bytes(const void *p) { return 4.0 * (double)elems(p); }
static int in_place(enum elt_op op);
static int elt_in_place(const void *p) { return in_place(((const struct eltwise_shape *)p)->op); }

static int inputs_of(enum elt_op op) { return elt_ops[op].arrays_read; }
static int in_place(enum elt_op op) { return op == ELT_SGD || op == ELT_ADAM; }
static int fp32_only(enum elt_op op) { return op == ELT_DOT || in_place(op); }

static size_t elt_device_bytes(const void *p, enum dtype dt)
{
    const struct eltwise_shape *s = p;
    long arrays = inputs_of(s->op) + !in_place(s->op);
    return (size_t)(arrays * (elems(s) + s->offset)) * dtype_size(dt) + 8 * (size_t)s->cols;
}

/* fp32 arithmetic's bound, plus the rounding of a reduced-precision output to dt (inputs are
 * exact in dt: the reference reads the same rounded values), doubled for slack. */
static double elt_tolerance(const void *p, enum dtype dt)
{
    const struct eltwise_shape *s = p;
    double u = dtype_unit_roundoff(DT_F32), out = dt == DT_F32 ? 0 : 2 * dtype_unit_roundoff(dt), t;
    switch (s->op) {
    case ELT_DOT: t = 8 * u * sqrt((double)elems(s)) + 8 * u; break;
    case ELT_SOFTMAX: t = 16 * u * (1 + sqrt((double)s->cols)); break;
    case ELT_LAYERNORM: t = 16 * u * (1 + sqrt((double)s->cols)); break;
    case ELT_GELU_FWD: case ELT_GELU_BWD: t = 64 * u; break;
    case ELT_ADAM: t = 64 * u; break;
    default: t = 8 * u;
    }
    return t + out;
}

/* The smaller instance: about a million elements (whole rows for row ops), same op, offset and
 * magnitude; the timed size's check then samples. A dot product is always checked in full. */
static int elt_small(const void *p, void *sp)
{
    const struct eltwise_shape *s = p;
    struct eltwise_shape *o = sp;
    if ((size_t)elems(s) <= VERIFY_FULL_MAX || s->op == ELT_DOT) return 0;
    *o = *s;
    if (elt_ops[s->op].row_op) {
        long rows = SMALL_ELEMS / s->cols;
        o->n = (rows < 3 ? 3 : rows) * s->cols;
    } else {
        o->n = SMALL_ELEMS;
    }
    return 1;
}

static void elt_teardown(void *st)
{
    struct elt_state *e = st;
    if (!e) return;
    for (int i = 0; i < 4; i++) e->b->dev->release(e->db[i]);
    for (int i = 0; i < 2; i++) { e->b->dev->release(e->dpar[i]); free(e->hp[i]); }
    e->b->dev->release(e->doutb);
    free(e);
}

/* n + offset elements of dt on the device, element i of stream `key` (rounded to dt) at offset + i. */
static void *put(struct elt_state *e, void **base, long n, uint64_t key, float lo, float hi)
{
    *base = e->b->dev->alloc((size_t)(n + e->s.offset) * e->es);
    if (!*base) return NULL;
    void *d = (char *)*base + (size_t)e->s.offset * e->es;
    return gen_fill(e->b, d, e->dt, (size_t)n, key, lo, hi) == 0 ? d : NULL;
}

static void *elt_setup(const struct backend *b, const void *p, enum dtype dt, uint64_t seed, char *why, size_t wn)
{
    const struct eltwise_shape *sp = p;
    if (dt != DT_F32 && fp32_only(sp->op)) {
        snprintf(why, wn, "unsupported: %s runs fp32 only (%s)", elt_ops[sp->op].name,
                 sp->op == ELT_DOT ? "a long reduction" : "fp32 master weights");
        return NULL;
    }
    struct elt_state *e = calloc(1, sizeof *e);
    e->b = b; e->s = *sp; e->n = elems(&e->s); e->dt = dt; e->es = dtype_size(dt); e->seed = seed;
    e->cols = e->s.cols; e->rows = (int)(e->n / e->cols);
    e->nin = inputs_of(e->s.op); e->nout = e->s.op == ELT_ADAM ? 3 : 1; e->hpar = adam_defaults;
    float mag = e->s.magnitude;
    for (int i = 0; i < 4; i++) { e->key[i] = cbrng_key(seed, 16 + (uint64_t)i); e->lo[i] = -mag; e->hi[i] = mag; }
    if (e->s.op == ELT_ADAM) { /* m and v: a warm optimizer state, v >= 0 */
        e->lo[2] = -0.01f * mag; e->hi[2] = 0.01f * mag;
        e->lo[3] = 0; e->hi[3] = 1e-4f * mag * mag;
    }
    for (int i = 0; i < e->nin; i++)
        if (!(e->d[i] = put(e, &e->db[i], e->n, e->key[i], e->lo[i], e->hi[i]))) goto fail;
    for (int i = 0; i < elt_ops[e->s.op].param_vectors; i++) {
        struct rng r;
        rng_seed(&r, seed, 2 + (uint64_t)i);
        if (!(e->hp[i] = malloc((size_t)e->cols * 4))) { snprintf(why, wn, "out of host memory"); elt_teardown(e); return NULL; }
        rng_fill_uniform(&r, e->hp[i], (size_t)e->cols, 0.5f, 1.5f);
        if (!(e->dpar[i] = b->dev->alloc((size_t)e->cols * 4)) || b->dev->upload(e->dpar[i], e->hp[i], (size_t)e->cols * 4)) goto fail;
    }
    if (!in_place(e->s.op) && !(e->dout = put(e, &e->doutb, e->s.op == ELT_DOT ? 1 : e->n, 0, NAN, NAN))) goto fail;
    return e;
fail:
    snprintf(why, wn, "%s", b->dev->error());
    elt_teardown(e);
    return NULL;
}

static int elt_call(void *st)
{
    struct elt_state *e = st;
    const struct backend *b = e->b;
    const enum dtype dt = e->dt;
    size_t n = (size_t)e->n;
    void **d = e->d;
    e->calls++;
    switch (e->s.op) {
    case ELT_COPY: return b->elt->copy(dt, n, d[0], e->dout);
    case ELT_SCALE: return b->elt->scale(dt, n, SCALAR, d[0], e->dout);
    case ELT_ADD: return b->elt->add(dt, n, d[0], d[1], e->dout);
    case ELT_TRIAD: return b->elt->triad(dt, n, SCALAR, d[0], d[1], e->dout);
    case ELT_DOT: return b->elt->dot(n, d[0], d[1], e->dout);
    case ELT_RELU_FWD: return b->elt->relu_fwd(dt, n, d[0], e->dout);
    case ELT_RELU_BWD: return b->elt->relu_bwd(dt, n, d[0], d[1], e->dout);
    case ELT_GELU_FWD: return b->elt->gelu_fwd(dt, n, d[0], e->dout);
    case ELT_GELU_BWD: return b->elt->gelu_bwd(dt, n, d[0], d[1], e->dout);
    case ELT_BIAS_ADD: return b->elt->bias_add(dt, e->rows, e->cols, 1, d[0], e->dpar[0], e->dout);
    case ELT_SOFTMAX: return b->elt->softmax_fwd(dt, e->rows, e->cols, d[0], e->dout);
    case ELT_LAYERNORM: return b->elt->layernorm_fwd(dt, e->rows, e->cols, d[0], e->dpar[0], e->dpar[1], 1e-5f, e->dout);
    case ELT_SGD: return b->elt->sgd_update(n, SGD_LR, d[0], d[1]);
    case ELT_ADAM: e->hpar.step = e->calls; return b->elt->adam_update(n, &e->hpar, d[0], d[1], d[2], d[3]);
    default: return -1;
    }
}

/* Elements [base, base + len) of every input (regenerated on the host) and every output
 * (downloaded): what the element and row errors below read. */
struct view {
    const struct elt_state *e;
    size_t base, len;
    float *in[4], *out[3];
};

static void view_free(struct view *v)
{
    for (int i = 0; i < 4; i++) free(v->in[i]);
    for (int i = 0; i < 3; i++) free(v->out[i]);
}

/* Output k's device array (Adam: w, m, v in place), element `at` on. */
static const void *out_src(const struct elt_state *e, int k, size_t at)
{
    const void *p = k == 0 ? (e->dout ? e->dout : e->d[0]) : e->d[k + 1];
    return (const char *)p + at * e->es;
}

static int view_load(struct view *v, const struct elt_state *e, size_t base, size_t len, char *why, size_t wn)
{
    memset(v, 0, sizeof *v);
    v->e = e; v->base = base; v->len = len;
    for (int i = 0; i < e->nin; i++) {
        if (!(v->in[i] = malloc(len * 4))) { snprintf(why, wn, "out of host memory"); return -1; }
        gen_host(v->in[i], base, len, e->key[i], e->lo[i], e->hi[i], e->dt);
    }
    for (int k = 0; k < e->nout; k++) {
        void *raw = e->dt == DT_F32 ? NULL : malloc(len * e->es);   /* fp16/bf16 as stored */
        if (!(v->out[k] = malloc(len * 4)) || (e->dt != DT_F32 && !raw)) { free(raw); snprintf(why, wn, "out of host memory"); return -1; }
        int rc = e->b->dev->download(raw ? raw : (void *)v->out[k], out_src(e, k, base), len * e->es);
        if (rc == 0 && raw) dtype_unpack(e->dt, raw, v->out[k], len);
        free(raw);
        if (rc != 0) { snprintf(why, wn, "%s", e->b->dev->error()); return -1; }
    }
    return 0;
}

/* Error of element j of a map op's view, relative to |ref| + the input scale. */
static double elem_err(const void *ctx, size_t j)
{
    const struct view *v = ctx;
    const struct elt_state *e = v->e;
    double a = v->in[0][j], c = e->nin > 1 ? v->in[1][j] : 0, m = e->s.magnitude, ref, w = a, err = 0;
    switch (e->s.op) {
    case ELT_COPY: ref = a; break;
    case ELT_SCALE: ref = (double)SCALAR * a; break;
    case ELT_ADD: ref = a + c; break;
    case ELT_TRIAD: ref = a + (double)SCALAR * c; break;
    case ELT_RELU_FWD: ref = a > 0 ? a : 0; break;
    case ELT_RELU_BWD: ref = a > 0 ? c : 0; break;
    case ELT_GELU_FWD: ref = gelu_ref(a); break;
    case ELT_GELU_BWD: ref = c * gelu_grad_ref(a); break;
    case ELT_SGD:
        for (int k = 0; k < e->calls; k++) w -= (double)SGD_LR * c;
        ref = w;
        break;
    case ELT_ADAM: {
        double mm = v->in[2][j], vv = v->in[3][j];
        struct adam_hp h = e->hpar;
        for (h.step = 1; h.step <= e->calls; h.step++) w = adam_ref(&h, w, c, &mm, &vv);
        ref = w;
        err = fmax(verify_rel(v->out[1][j], mm, 0.01 * m), verify_rel(v->out[2][j], vv, 1e-4 * m * m));
        break;
    }
    default: ref = NAN;
    }
    return fmax(err, verify_rel(v->out[0][j], ref, m));
}

/* Worst error over row r of a row op's view (rows of cols elements). */
static double row_err(const void *ctx, size_t r)
{
    const struct view *v = ctx;
    const struct elt_state *e = v->e;
    const float *x = v->in[0] + r * e->cols, *y = v->out[0] + r * e->cols;
    double *ref = malloc(sizeof(double) * e->cols), worst = 0, floor = e->dt == DT_F16 ? ldexp(1.0, -14) : 1e-6;
    if (!ref) return INFINITY;
    if (e->s.op == ELT_SOFTMAX) softmax_row_ref(e->cols, x, ref);
    else if (e->s.op == ELT_LAYERNORM) layernorm_row_ref(e->cols, x, e->hp[0], e->hp[1], 1e-5f, ref);
    else for (int j = 0; j < e->cols; j++) ref[j] = (double)x[j] + e->hp[0][j];
    for (int j = 0; j < e->cols; j++) {
        /* softmax outputs are probabilities: relative error, floored at 1e-6 (fp16: at its
         * smallest normal, below which it keeps absolute, not relative, precision) */
        double err = e->s.op == ELT_SOFTMAX ? fabs(y[j] - ref[j]) / fmax(ref[j], floor) : verify_rel(y[j], ref[j], 1.0);
        if (!(err <= worst)) worst = err == err ? err : INFINITY;
    }
    free(ref);
    return worst;
}

/* One view's worst error (the view must cover whole rows for row ops). */
static double view_err(const struct view *v)
{
    const struct elt_state *e = v->e;
    if (elt_ops[e->s.op].row_op) return verify_max(v->len / (size_t)e->cols, row_err, v);
    return verify_max(v->len, elem_err, v);
}

/* The dot product in full at any size: inputs regenerated in chunks, summed in double. */
static double dot_check(const struct elt_state *e, char *why, size_t wn)
{
    float y;
    long chunks = (long)((e->n + 4095) / 4096);
    double s = 0, as = 0;
    if (e->b->dev->download(&y, e->dout, 4) != 0) { snprintf(why, wn, "%s", e->b->dev->error()); return -1; }
#pragma omp parallel for schedule(static) reduction(+ : s, as)
    for (long k = 0; k < chunks; k++) {
        float a[4096], c[4096];
        size_t lo = (size_t)k * 4096, len = (size_t)e->n - lo < 4096 ? (size_t)e->n - lo : 4096;
        double part_abs;
        for (size_t i = 0; i < len; i++) {
            a[i] = cbrng_uniform(e->key[0], lo + i, e->lo[0], e->hi[0]);
            c[i] = cbrng_uniform(e->key[1], lo + i, e->lo[1], e->hi[1]);
        }
        s += dot_ref(len, a, c, &part_abs);
        as += part_abs;
    }
    double err = fabs(y - s) / (as + 1e-30);
    return err == err ? err : INFINITY;
}

/* Sampled check at the timed size: a NaN/Inf scan of every output element, then blocks of
 * VERIFY_BLOCK elements (row ops: whole rows, VERIFY_BLOCKS·VERIFY_BLOCK elements' worth). */
static double sampled_check(const struct elt_state *e, char *why, size_t wn)
{
    size_t starts[VERIFY_BLOCKS], block = VERIFY_BLOCK, units = (size_t)e->n;
    int row = elt_ops[e->s.op].row_op, want = VERIFY_BLOCKS;
    for (int k = 0; k < e->nout; k++) {
        size_t bad, first;
        if (verify_scan(e->b, out_src(e, k, 0), e->dt, (size_t)e->n, &bad, &first, why, wn) != 0) return -1;
        if (bad) { snprintf(why, wn, "%zu NaN/Inf in output %d, the first at element %zu", bad, k, first); return INFINITY; }
    }
    if (row) { /* sample rows */
        units = (size_t)e->rows;
        block = 1;
        want = (int)(VERIFY_BLOCKS * VERIFY_BLOCK / e->cols);
        want = want < 4 ? 4 : want > VERIFY_BLOCKS ? VERIFY_BLOCKS : want;
    }
    int nb = verify_blocks(e->seed, units, block, starts, want);
    double worst = 0;
    for (int i = 0; i < nb; i++) {
        struct view v;
        size_t len = block < units ? block : units, scale = row ? (size_t)e->cols : 1;
        if (view_load(&v, e, starts[i] * scale, len * scale, why, wn) != 0) { view_free(&v); return -1; }
        double err = view_err(&v);
        view_free(&v);
        if (!(err <= worst)) worst = err;
    }
    if (row) snprintf(why, wn, "%d sampled rows of %d + NaN/Inf scan of %ld", nb, e->cols, e->n);
    else verify_describe_sampled(why, wn, (size_t)e->n, nb, block);
    return worst;
}

static double elt_check(void *st, char *why, size_t wn)
{
    struct elt_state *e = st;
    if (e->b->dev->sync() != 0) { snprintf(why, wn, "%s", e->b->dev->error()); return -1; }
    if (e->s.op == ELT_DOT) return dot_check(e, why, wn);
    if ((size_t)e->n > VERIFY_FULL_MAX) return sampled_check(e, why, wn);
    struct view v;
    double err = view_load(&v, e, 0, (size_t)e->n, why, wn) == 0 ? view_err(&v) : -1;
    view_free(&v);
    return err;
}

#define ELT_WORKLOAD(NAME, WHAT, CASES)                                                    \
    {.name = NAME, .family = "bandwidth", .what = WHAT,                                    \
     .dtypes = 1u << DT_F32 | 1u << DT_F16 | 1u << DT_BF16,                                \
     .cases = CASES, .params_size = sizeof(struct eltwise_shape), .custom = elt_custom,    \
     .shape = elt_shape, .flops = elt_flops, .bytes = elt_bytes,                           \
     .device_bytes = elt_device_bytes, .setup = elt_setup, .call = elt_call,               \
     .check = elt_check, .tolerance = elt_tolerance, .teardown = elt_teardown,           \
     .small = elt_small, .array_bytes = elt_array_bytes, .in_place = elt_in_place}

const struct workload stream_workload =
    ELT_WORKLOAD("stream", "STREAM copy/scale/add/triad and dot: memory bandwidth (GB/s)", stream_cases);
const struct workload eltwise_workload =
    ELT_WORKLOAD("eltwise", "deep-learning elementwise ops: ReLU, GELU, bias-add, softmax, layer-norm, SGD, Adam", eltwise_cases);
