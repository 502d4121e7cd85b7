/* workload_attention.c: the attention family: causal scaled-dot-product attention, forward
 * ("attention_fwd") and forward + backward ("attention_fwd_bwd", what a training step pays), on
 * q, k, v (and dO) of shape (B, T, H, d) seeded in [-1, 1] and rounded to the dtype. Outputs are
 * poisoned with NaN; the check recomputes whole heads in double (kernels/attention_ref) for three
 * heads, and for long sequences the last 128 query rows plus the first 64 (a row's output needs
 * only the keys before it, a key's gradient only the rows after it). FLOPs: the causal count. */
#include "attention_cases.h"
#include "attention_ref.h"
#include "cbrng.h"
#include "verify.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAIL_ROWS 128
#define HEAD_ROWS 64
#define FULL_HEAD_WORK (1L << 26)   /* T·T·d up to this: the check recomputes the whole head */

struct attn_state {
    const struct backend *b;
    struct attn_shape s;
    enum dtype dt;
    int bwd;
    size_t n;                                     /* elements per tensor: B·T·H·d */
    float *h[4];                                  /* host: q, k, v, dO as the backend sees them */
    void *d[4], *out[4], *ws;                     /* device: inputs; o, dq, dk, dv */
    float *lse;
};

static struct attn_shape shape_of(const struct attention_case *c)
{
    return (struct attn_shape){c->B, c->H, c->T, c->d, (long)c->H * c->d, (long)c->H * c->d};
}

static int attn_custom(const long *dm, int nd, const void *base, void *params, char *name, size_t nn, char *why, size_t n)
{
    const struct attention_case *b = base;
    struct attention_case *c = params;
    *c = *b;
    if (nd == 1) c->T = (int)dm[0];
    else if (nd == 4) *c = (struct attention_case){(int)dm[0], (int)dm[1], (int)dm[2], (int)dm[3]};
    else { snprintf(why, n, "attention takes T, or BxHxTxd"); return -1; }
    if (nd == 4 && (dm[0] > 4096 || dm[1] > 1024 || dm[3] > 1024)) { snprintf(why, n, "attention: B <= 4096, H <= 1024, d <= 1024"); return -1; }
    if (c->T > 1 << 20 || (double)c->B * c->H * c->T * c->d > 1e10) { snprintf(why, n, "attention: more than 1e10 elements"); return -1; }
    snprintf(name, nn, "B%dH%dT%dd%d", c->B, c->H, c->T, c->d);
    return 0;
}

static void attn_shape_str(const void *p, char *buf, size_t n)
{
    const struct attention_case *c = p;
    snprintf(buf, n, "B=%d H=%d T=%d d=%d causal", c->B, c->H, c->T, c->d);
}

static double fwd_flops(const void *p, enum dtype dt) { (void)dt; struct attn_shape s = shape_of(p); return attention_fwd_flops(&s); }
static double fwd_bwd_flops(const void *p, enum dtype dt)
{
    (void)dt;
    struct attn_shape s = shape_of(p);
    return attention_fwd_flops(&s) + attention_bwd_flops(&s);
}

static double elems(const void *p) { const struct attention_case *c = p; return (double)c->B * c->H * c->T * c->d; }
/* Compulsory traffic: q, k, v read and o written (+ lse); the backward reads q, k, v, o, dO and
 * writes dq, dk, dv. */
static double fwd_bytes(const void *p, enum dtype dt) { const struct attention_case *c = p; return 4 * elems(p) * dtype_size(dt) + 4.0 * c->B * c->H * c->T; }
static double fwd_bwd_bytes(const void *p, enum dtype dt) { return fwd_bytes(p, dt) + 8 * elems(p) * dtype_size(dt); }

/* Inputs and outputs, plus the largest workspace of any backend: the batched-GEMM path's T×T
 * scores (fp32) and probabilities (dt) of every head. */
static size_t attn_device_bytes(const void *p, enum dtype dt)
{
    const struct attention_case *c = p;
    double heads = (double)c->B * c->H, ws = heads * c->T * (double)c->T * (4 + dtype_size(dt)) + heads * c->T * 8 + elems(p) * 4;
    return (size_t)(9 * elems(p) * dtype_size(dt) + ws);
}

/* A family-wide bound: rows compare relative to the largest reference value of their tensor;
 * fp32 accumulates over up to T keys, 16-bit formats round P and dS once per element. */
static double attn_tolerance(const void *p, enum dtype dt)
{
    const struct attention_case *c = p;
    double u = dtype_unit_roundoff(dt);
    return dt == DT_F32 ? 4 * u * sqrt((double)c->T) + 1e-6 : 8 * u;
}

static void attn_teardown(void *st)
{
    struct attn_state *a = st;
    if (!a) return;
    for (int i = 0; i < 4; i++) {
        free(a->h[i]);
        a->b->dev->release(a->d[i]);
        a->b->dev->release(a->out[i]);
    }
    a->b->dev->release(a->ws);
    a->b->dev->release(a->lse);
    free(a);
}

/* A device buffer of n elements of dt, filled with NaN. */
static void *alloc_poisoned(const struct backend *b, enum dtype dt, size_t n) { return gen_device(b, dt, n, 0, NAN, NAN); }

static void *attn_setup_common(const struct backend *b, const void *p, enum dtype dt, uint64_t seed, int bwd, char *why, size_t n)
{
    struct attn_state *a = calloc(1, sizeof *a);
    a->b = b; a->s = shape_of(p); a->dt = dt; a->bwd = bwd;
    a->n = (size_t)a->s.B * a->s.T * a->s.H * a->s.d;
    int fail = 0;
    for (int i = 0; i < (bwd ? 4 : 3) && !fail; i++) {
        /* q, k, v (and dO): made on the device, the same bits regenerated here for the check */
        uint64_t key = cbrng_key(seed, 11 + (uint64_t)i);
        fail = !(a->h[i] = malloc(a->n * sizeof(float))) || !(a->d[i] = gen_device(b, dt, a->n, key, -1, 1));
        if (!fail) gen_host(a->h[i], 0, a->n, key, -1, 1, dt);
    }
    for (int i = 0; i < (bwd ? 4 : 1) && !fail; i++) fail = !(a->out[i] = alloc_poisoned(b, dt, a->n));
    if (!fail) fail = !(a->lse = alloc_poisoned(b, DT_F32, (size_t)a->s.B * a->s.H * a->s.T));
    if (!fail) fail = !(a->ws = b->dev->alloc(b->attn->workspace(dt, &a->s)));
    if (fail) {
        snprintf(why, n, "%s", a->h[0] && a->h[bwd ? 3 : 2] ? b->dev->error() : "out of host memory");
        attn_teardown(a);
        return NULL;
    }
    return a;
}

static void *attn_fwd_setup(const struct backend *b, const void *p, enum dtype dt, uint64_t seed, char *why, size_t n)
{ return attn_setup_common(b, p, dt, seed, 0, why, n); }
static void *attn_fwd_bwd_setup(const struct backend *b, const void *p, enum dtype dt, uint64_t seed, char *why, size_t n)
{ return attn_setup_common(b, p, dt, seed, 1, why, n); }

static int attn_call(void *st)
{
    struct attn_state *a = st;
    const struct attention_ops *op = a->b->attn;
    if (op->fwd(a->dt, &a->s, a->d[0], a->d[1], a->d[2], a->out[0], a->lse, a->ws)) return -1;
    if (!a->bwd) return 0;
    return op->bwd(a->dt, &a->s, a->d[0], a->d[1], a->d[2], a->out[0], a->d[3], a->lse, a->out[1], a->out[2], a->out[3], a->ws);
}

struct head_err { double num[5], den[5]; };   /* o, lse, dq, dk, dv: max |got - ref|, max |ref| */

static void compare(struct head_err *e, int which, const float *got, long ldg, const double *ref, long ldr, int r0, int r1, int d)
{
    for (int t = r0; t < r1; t++)
        for (int i = 0; i < d; i++) {
            double g = got[(size_t)t * ldg + i], r = ref[(size_t)t * ldr + i];
            e->num[which] = fmax(e->num[which], isfinite(g) ? fabs(g - r) : INFINITY);
            e->den[which] = fmax(e->den[which], fabs(r));
        }
}

/* A head's double reference: the forward output o (T x d) and log-sum-exp lr (T) of rows [0, early)
 * and [r0, T), and with the backward dq, dk, dv (3 x T x d) of rows and keys >= r0. It depends only on
 * the head's inputs (rounded to the row's dtype) and those bounds, which are the same for every
 * backend of a case and dtype (cpu, cuda and flash get identical bits), so it is computed once per
 * process and reused: a GPT-2 small head's forward and backward in double take ~0.3 s on one core
 * of the development VM, three heads a row (a GPU server's quick suite checks each case and dtype
 * on cuda and flash, fp32 on cpu too). Keyed by a hash of every input byte it reads and the bounds. */
struct head_ref { uint64_t key; double *o, *lr, *g; };
#define HEAD_REFS 6                   /* two rows' three heads; rows that share are consecutive */
static struct head_ref head_refs[HEAD_REFS];
static int head_ref_next;

int attention_head_refs_computed(void) { return head_ref_next; }

static const struct head_ref *head_ref_get(double *const x[4], int bwd, int T, int d, int r0, int early)
{
    size_t td = (size_t)T * d;
    int bounds[5] = {T, d, r0, early, bwd};
    uint64_t key = verify_hash(VERIFY_HASH_SEED, bounds, sizeof bounds);
    for (int i = 0; i < (bwd ? 4 : 3); i++) key = verify_hash(key, x[i], td * sizeof(double));
    for (int k = 0; k < HEAD_REFS; k++)
        if (head_refs[k].o && head_refs[k].key == key) return &head_refs[k];
    struct head_ref *r = &head_refs[head_ref_next++ % HEAD_REFS];
    free(r->o);
    r->key = key;
    r->o = malloc(sizeof(double) * ((bwd ? 4 : 1) * td + T));
    r->lr = r->o + (bwd ? 4 : 1) * td;
    r->g = bwd ? r->o + td : NULL;
    if (!r->o) return NULL;
    attention_head_fwd_ref(T, d, x[0], x[1], x[2], d, 0, early, r->o, d, r->lr);
    attention_head_fwd_ref(T, d, x[0], x[1], x[2], d, r0, T, r->o, d, r->lr);
    if (bwd) attention_head_bwd_ref(T, d, x[0], x[1], x[2], d, r->o, x[3], d, r->lr, r0, r->g, r->g + td, r->g + 2 * td);
    return r;
}

/* Head (b, h): rows [0, e) and [r0, T) forward, and the backward of rows and keys >= r0; -1 when
 * the host has no memory for the reference. */
static int check_head(const struct attn_state *a, float *const got[4], const float *lse, int b, int h, struct head_err *e)
{
    const struct attn_shape *s = &a->s;
    const int T = s->T, d = s->d;
    int r0 = (double)T * T * d <= FULL_HEAD_WORK ? 0 : T - TAIL_ROWS, early = r0 < HEAD_ROWS ? r0 : HEAD_ROWS;
    size_t td = (size_t)T * d, off = (size_t)b * T * s->ld_in + (size_t)h * d;
    double *buf = malloc(sizeof(double) * 4 * td), *x[4];
    if (!buf) return -1;
    for (int i = 0; i < 4; i++) {
        x[i] = buf + i * td;
        if (a->h[i])
            for (int t = 0; t < T; t++)
                for (int j = 0; j < d; j++) x[i][(size_t)t * d + j] = a->h[i][off + (size_t)t * s->ld_in + j];
    }
    const struct head_ref *ref = head_ref_get(x, a->bwd, T, d, r0, early);
    free(buf);
    if (!ref) return -1;
    compare(e, 0, got[0] + off, s->ld_out, ref->o, d, 0, early, d);
    compare(e, 0, got[0] + off, s->ld_out, ref->o, d, r0, T, d);
    const float *lg = lse + ((size_t)b * s->H + h) * T;
    for (int t = 0; t < T; t++) {
        if (t >= early && t < r0) continue;
        e->num[1] = fmax(e->num[1], isfinite(lg[t]) ? fabs(lg[t] - ref->lr[t]) / fmax(1, fabs(ref->lr[t])) : INFINITY);
    }
    e->den[1] = 1;
    if (a->bwd)
        for (int k = 0; k < 3; k++) compare(e, 2 + k, got[1 + k] + off, s->ld_in, ref->g + k * td, d, r0, T, d);
    return 0;
}

static double attn_check(void *st, char *why, size_t n)
{
    struct attn_state *a = st;
    const struct attn_shape *s = &a->s;
    size_t es = dtype_size(a->dt), nl = (size_t)s->B * s->H * s->T;
    float *got[4] = {0}, *lse = malloc(nl * sizeof(float));
    void *raw = malloc(a->n * es);
    double worst = -1;
    int nout = a->bwd ? 4 : 1;
    if (!lse || !raw || a->b->dev->sync() || a->b->dev->download(lse, a->lse, nl * sizeof(float))) goto fail;
    for (int i = 0; i < nout; i++) {
        if (!(got[i] = malloc(a->n * sizeof(float))) || a->b->dev->download(raw, a->out[i], a->n * es)) goto fail;
        dtype_unpack(a->dt, raw, got[i], a->n);
    }
    struct head_err e = {{0}, {0}};
    int heads[3][2] = {{0, 0}, {s->B / 2, s->H / 2}, {s->B - 1, s->H - 1}};
    for (int k = 0; k < 3; k++) {
        int dup = 0;
        for (int j = 0; j < k; j++) dup |= heads[j][0] == heads[k][0] && heads[j][1] == heads[k][1];
        if (!dup && check_head(a, got, lse, heads[k][0], heads[k][1], &e) != 0) {
            snprintf(why, n, "out of host memory");
            goto out;
        }
    }
    worst = 0;
    for (int i = 0; i < (a->bwd ? 5 : 2); i++) worst = fmax(worst, e.num[i] / fmax(e.den[i], 1e-30));
    if (isnan(worst)) worst = INFINITY;
    goto out;
fail:
    snprintf(why, n, "%s", lse && raw ? a->b->dev->error() : "out of host memory");
out:
    for (int i = 0; i < 4; i++) free(got[i]);
    free(lse);
    free(raw);
    return worst;
}

static const unsigned attn_dtypes = 1u << DT_F32 | 1u << DT_F16 | 1u << DT_BF16;

const struct workload attention_fwd_workload = {
    .name = "attention_fwd",
    .family = "attention",
    .what = "causal attention forward, softmax(q·kᵀ/√d)·v, (B,T,H,d); FLOPs: causal count 2·B·H·T²·d",
    .dtypes = attn_dtypes,
    .cases = attention_cases,
    .params_size = sizeof(struct attention_case),
    .custom = attn_custom,
    .shape = attn_shape_str,
    .flops = fwd_flops,
    .bytes = fwd_bytes,
    .device_bytes = attn_device_bytes,
    .setup = attn_fwd_setup,
    .call = attn_call,
    .check = attn_check,
    .tolerance = attn_tolerance,
    .teardown = attn_teardown,
};

const struct workload attention_fwd_bwd_workload = {
    .name = "attention_fwd_bwd",
    .family = "attention",
    .what = "causal attention forward + backward (dq, dk, dv); FLOPs: causal count, 3.5 × 2·B·H·T²·d",
    .dtypes = attn_dtypes,
    .cases = attention_cases,
    .params_size = sizeof(struct attention_case),
    .custom = attn_custom,
    .shape = attn_shape_str,
    .flops = fwd_bwd_flops,
    .bytes = fwd_bwd_bytes,
    .device_bytes = attn_device_bytes,
    .setup = attn_fwd_bwd_setup,
    .call = attn_call,
    .check = attn_check,
    .tolerance = attn_tolerance,
    .teardown = attn_teardown,
};
