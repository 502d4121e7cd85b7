/* workload_eltwise.c: the "stream" and "eltwise" workloads (family "bandwidth"): seeded inputs,
 * NaN-poisoned outputs, one backend entry per op, and an element-by-element check against
 * kernels/eltwise_ref in double. In-place ops (SGD, Adam) are re-derived for every call made. */
#include "eltwise_cases.h"
#include "eltwise_ref.h"
#include "rng.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCALAR 3.0f   /* STREAM's scalar */
#define SGD_LR 0.01f
static const struct adam_hp adam_defaults = {1e-3f, 0.9f, 0.999f, 1e-8f, 1};

struct elt_state {
    const struct backend *b;
    struct eltwise_shape s;
    long n;
    int rows, cols, nin, has_out, calls;
    float *h[4], *hp[2], *hout[3];   /* host: initial inputs, parameter vectors, downloads */
    float *db[4], *d[4], *dpar[2], *doutb, *dout;   /* device; d = db + offset */
    struct adam_hp hpar;
};

long eltwise_dram_elems(void)
{
    static long n;
    if (n) return n;
    size_t most = 0;
    for (int i = 0; i < backend_count; i++) {
        char why[256];
        const struct backend *b = backends[i];
        /* probe first: a backend this build lacks (NO_CUDA=1) is a stub without device_ops */
        if (b->probe(why, sizeof why) && b->dev && b->dev->cache_bytes && b->dev->cache_bytes() > most) most = b->dev->cache_bytes();
    }
    long need = (long)(4 * most / sizeof(float)), mi = 1L << 20;
    if (need < 32 * mi) need = 32 * mi;
    return n = (need + mi - 1) / mi * mi;
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
    if (elt_ops[s->op].row_op) snprintf(buf, n, "%ldx%d fp32", e / s->cols, s->cols);
    else snprintf(buf, n, "n=%ld fp32", e);
    if (s->offset) snprintf(buf + strlen(buf), n - strlen(buf), " +%d", s->offset);
}

static double elt_flops(const void *p, enum dtype dt)
{ (void)dt; const struct eltwise_shape *s = p; return elt_ops[s->op].flops_per_elem * (double)elems(s); }

static double elt_bytes(const void *p, enum dtype dt)
{
    (void)dt;
    const struct eltwise_shape *s = p;
    const struct elt_op_info *o = &elt_ops[s->op];
    double b = 4.0 * (o->arrays_read + o->arrays_written) * (double)elems(s) + 4.0 * o->param_vectors * s->cols;
    return s->op == ELT_DOT ? b + 4 : b;
}

static int inputs_of(enum elt_op op) { return elt_ops[op].arrays_read; }
static int in_place(enum elt_op op) { return op == ELT_SGD || op == ELT_ADAM; }

static size_t elt_device_bytes(const void *p, enum dtype dt)
{
    const struct eltwise_shape *s = p;
    long arrays = inputs_of(s->op) + !in_place(s->op);
    (void)dt;
    return (size_t)(arrays * (elems(s) + s->offset) * 4 + 8L * s->cols);
}

static double elt_tolerance(const void *p, enum dtype dt)
{
    const struct eltwise_shape *s = p;
    double u = dtype_unit_roundoff(dt);
    switch (s->op) {
    case ELT_DOT: return 8 * u * sqrt((double)elems(s)) + 8 * u;
    case ELT_SOFTMAX: return 16 * u * (1 + sqrt((double)s->cols));
    case ELT_LAYERNORM: return 16 * u * (1 + sqrt((double)s->cols));
    case ELT_GELU_FWD: case ELT_GELU_BWD: return 64 * u;
    case ELT_ADAM: return 64 * u;
    default: return 8 * u;
    }
}

static void elt_teardown(void *st)
{
    struct elt_state *e = st;
    if (!e) return;
    for (int i = 0; i < 4; i++) { e->b->dev->release(e->db[i]); free(e->h[i]); }
    for (int i = 0; i < 2; i++) { e->b->dev->release(e->dpar[i]); free(e->hp[i]); }
    for (int i = 0; i < 3; i++) free(e->hout[i]);
    e->b->dev->release(e->doutb);
    free(e);
}

/* Allocates n + offset floats on the device and uploads host values at the offset. */
static float *put(struct elt_state *e, float **base, const float *h, long n)
{
    *base = e->b->dev->alloc((size_t)(n + e->s.offset) * 4);
    if (!*base) return NULL;
    float *d = *base + e->s.offset;
    return e->b->dev->upload(d, h, (size_t)n * 4) == 0 ? d : NULL;
}

static void *elt_setup(const struct backend *b, const void *p, enum dtype dt, uint64_t seed, char *why, size_t wn)
{
    (void)dt;
    struct elt_state *e = calloc(1, sizeof *e);
    struct rng r;
    e->b = b; e->s = *(const struct eltwise_shape *)p; e->n = elems(&e->s);
    e->cols = e->s.cols; e->rows = (int)(e->n / e->cols);
    e->nin = inputs_of(e->s.op); e->has_out = !in_place(e->s.op); e->hpar = adam_defaults;
    rng_seed(&r, seed, 2);
    float mag = e->s.magnitude;
    for (int i = 0; i < e->nin; i++) {
        if (!(e->h[i] = malloc((size_t)e->n * 4))) goto oom;
        rng_fill_uniform(&r, e->h[i], (size_t)e->n, -mag, mag);
    }
    if (e->s.op == ELT_ADAM) /* m and v: a warm optimizer state, v >= 0 */
        for (long i = 0; i < e->n; i++) { e->h[2][i] *= 0.01f; e->h[3][i] = e->h[3][i] * e->h[3][i] * 1e-4f; }
    for (int i = 0; i < elt_ops[e->s.op].param_vectors; i++) {
        if (!(e->hp[i] = malloc((size_t)e->cols * 4))) goto oom;
        rng_fill_uniform(&r, e->hp[i], (size_t)e->cols, 0.5f, 1.5f);
    }
    for (int i = 0; i < 3; i++)
        if (!(e->hout[i] = malloc((size_t)e->n * 4))) goto oom;
    for (int i = 0; i < e->nin; i++)
        if (!(e->d[i] = put(e, &e->db[i], e->h[i], e->n))) goto fail;
    for (int i = 0; i < elt_ops[e->s.op].param_vectors; i++) {
        if (!(e->dpar[i] = b->dev->alloc((size_t)e->cols * 4)) || b->dev->upload(e->dpar[i], e->hp[i], (size_t)e->cols * 4)) goto fail;
    }
    if (e->has_out) {
        long on = e->s.op == ELT_DOT ? 1 : e->n;
        for (long i = 0; i < on; i++) e->hout[0][i] = NAN; /* poison */
        if (!(e->dout = put(e, &e->doutb, e->hout[0], on))) goto fail;
    }
    return e;
oom:
    snprintf(why, wn, "out of host memory");
    elt_teardown(e);
    return NULL;
fail:
    snprintf(why, wn, "%s", b->dev->error());
    elt_teardown(e);
    return NULL;
}

static int elt_call(void *st)
{
    struct elt_state *e = st;
    const struct backend *b = e->b;
    size_t n = (size_t)e->n;
    float **d = e->d;
    e->calls++;
    switch (e->s.op) {
    case ELT_COPY: return b->elt->copy(n, d[0], e->dout);
    case ELT_SCALE: return b->elt->scale(n, SCALAR, d[0], e->dout);
    case ELT_ADD: return b->elt->add(n, d[0], d[1], e->dout);
    case ELT_TRIAD: return b->elt->triad(n, SCALAR, d[0], d[1], e->dout);
    case ELT_DOT: return b->elt->dot(n, d[0], d[1], e->dout);
    case ELT_RELU_FWD: return b->elt->relu_fwd(n, d[0], e->dout);
    case ELT_RELU_BWD: return b->elt->relu_bwd(n, d[0], d[1], e->dout);
    case ELT_GELU_FWD: return b->elt->gelu_fwd(n, d[0], e->dout);
    case ELT_GELU_BWD: return b->elt->gelu_bwd(n, d[0], d[1], e->dout);
    case ELT_BIAS_ADD: return b->elt->bias_add(e->rows, e->cols, 1, d[0], e->dpar[0], e->dout);
    case ELT_SOFTMAX: return b->elt->softmax_fwd(e->rows, e->cols, d[0], e->dout);
    case ELT_LAYERNORM: return b->elt->layernorm_fwd(e->rows, e->cols, d[0], e->dpar[0], e->dpar[1], 1e-5f, e->dout);
    case ELT_SGD: return b->elt->sgd_update(n, SGD_LR, d[0], d[1]);
    case ELT_ADAM: e->hpar.step = e->calls; return b->elt->adam_update(n, &e->hpar, d[0], d[1], d[2], d[3]);
    default: return -1;
    }
}

static double rel(double y, double ref, double scale)
{
    double e = fabs(y - ref) / (fabs(ref) + scale);
    return e == e ? e : INFINITY;
}

static double check_rows(const struct elt_state *e, const float *y)
{
    double worst = 0, *ref = malloc(sizeof(double) * e->cols);
    for (long r = 0; r < e->rows; r++) {
        const float *x = e->h[0] + r * e->cols;
        const float *yr = y + r * e->cols;
        if (e->s.op == ELT_SOFTMAX) softmax_row_ref(e->cols, x, ref);
        else if (e->s.op == ELT_LAYERNORM) layernorm_row_ref(e->cols, x, e->hp[0], e->hp[1], 1e-5f, ref);
        else for (int j = 0; j < e->cols; j++) ref[j] = (double)x[j] + e->hp[0][j];
        for (int j = 0; j < e->cols; j++) {
            /* softmax outputs are probabilities: relative error, floored at 1e-6 */
            double err = e->s.op == ELT_SOFTMAX ? fabs(yr[j] - ref[j]) / fmax(ref[j], 1e-6) : rel(yr[j], ref[j], 1.0);
            if (!(err <= worst)) worst = err != err ? INFINITY : err;
        }
    }
    free(ref);
    return worst;
}

/* Every output element against its reference; the error is relative to |ref| + input scale. */
static double elt_check(void *st, char *why, size_t wn)
{
    struct elt_state *e = st;
    const struct backend *b = e->b;
    const enum elt_op op = e->s.op;
    size_t n = (size_t)e->n;
    double worst = 0, m = e->s.magnitude;
    int outs = op == ELT_ADAM ? 3 : 1;
    const float *src[3] = {e->has_out ? e->dout : e->d[0], e->d[2], e->d[3]};
    if (b->dev->sync() != 0) { snprintf(why, wn, "%s", b->dev->error()); return -1; }
    for (int i = 0; i < outs; i++)
        if (b->dev->download(e->hout[i], src[i], op == ELT_DOT ? 4 : n * 4) != 0) { snprintf(why, wn, "%s", b->dev->error()); return -1; }
    const float *y = e->hout[0], *a = e->h[0], *c = e->h[1];
    if (op == ELT_DOT) {
        double as, ref = dot_ref(n, a, c, &as);
        double err = fabs(y[0] - ref) / (as + 1e-30);
        return err == err ? err : INFINITY;
    }
    if (elt_ops[op].row_op) return check_rows(e, y);
    for (size_t i = 0; i < n; i++) {
        double ref, w = a[i], g = op == ELT_SGD || op == ELT_ADAM ? c[i] : 0, err;
        switch (op) {
        case ELT_COPY: ref = a[i]; break;
        case ELT_SCALE: ref = (double)SCALAR * a[i]; break;
        case ELT_ADD: ref = (double)a[i] + c[i]; break;
        case ELT_TRIAD: ref = (double)a[i] + (double)SCALAR * c[i]; break;
        case ELT_RELU_FWD: ref = a[i] > 0 ? a[i] : 0; break;
        case ELT_RELU_BWD: ref = a[i] > 0 ? c[i] : 0; break;
        case ELT_GELU_FWD: ref = gelu_ref(a[i]); break;
        case ELT_GELU_BWD: ref = c[i] * gelu_grad_ref(a[i]); break;
        case ELT_SGD:
            for (int k = 0; k < e->calls; k++) w -= (double)SGD_LR * g;
            ref = w;
            break;
        case ELT_ADAM: {
            double mm = e->h[2][i], vv = e->h[3][i];
            struct adam_hp h = e->hpar;
            for (h.step = 1; h.step <= e->calls; h.step++) w = adam_ref(&h, w, g, &mm, &vv);
            ref = w;
            err = fmax(rel(e->hout[1][i], mm, 0.01 * m), rel(e->hout[2][i], vv, 1e-4 * m * m));
            if (!(err <= worst)) worst = err;
            break;
        }
        default: ref = NAN;
        }
        err = rel(y[i], ref, m);
        if (!(err <= worst)) worst = err;
    }
    return worst;
}

#define ELT_WORKLOAD(NAME, WHAT, CASES)                                                    \
    {.name = NAME, .family = "bandwidth", .what = WHAT, .dtypes = 1u << DT_F32,            \
     .cases = CASES, .params_size = sizeof(struct eltwise_shape), .custom = elt_custom,    \
     .shape = elt_shape, .flops = elt_flops, .bytes = elt_bytes,                           \
     .device_bytes = elt_device_bytes, .setup = elt_setup, .call = elt_call,               \
     .check = elt_check, .tolerance = elt_tolerance, .teardown = elt_teardown}

const struct workload stream_workload =
    ELT_WORKLOAD("stream", "STREAM copy/scale/add/triad and dot: memory bandwidth (GB/s)", stream_cases);
const struct workload eltwise_workload =
    ELT_WORKLOAD("eltwise", "deep-learning elementwise ops: ReLU, GELU, bias-add, softmax, layer-norm, SGD, Adam", eltwise_cases);
