/* workload_train_gpt.c: the GPT training-step cases: tokens resident on the device (or copied into
 * a fixed slot for the CUDA graph), one step per call, and the first step's check: the per-token
 * losses of a prefix against kernels/gpt_ref from the initial weights, and three checks of the
 * backward from the step's own buffers (layer 0's QKV weight gradient, its attention backward for
 * two heads, AdamW's first moment after clipping), each in double. */
#include "workload_train_gpt.h"
#include "attention_ref.h"
#include "tokens.h"
#include "train_gpt.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GPT_SEED 2025

struct gpt_run {
    const struct backend *b;
    struct train_case c;
    struct gpt_trainer t;
    int32_t *dtok, *slot;          /* device: the token stream; the graph's batch slot (B·T + 1) */
    int32_t *first;                /* host: batch 0's tokens, for the check */
    size_t per_batch;              /* B·T */
    int next, nbatches;
};

static size_t tokens_needed(const struct train_case *c) { return (size_t)c->batch * c->gpt->T + 1; }

void gpt_case_shape(const struct train_case *c, char *buf, size_t n)
{
    const struct gpt_config *g = c->gpt;
    snprintf(buf, n, "L=%d C=%d H=%d T=%d V=%d B=%d AdamW", g->L, g->C, g->H, g->T, g->V, c->batch);
}

double gpt_case_flops(const struct train_case *c) { return gpt_step_flops(c->gpt, c->batch); }
double gpt_case_items(const struct train_case *c) { return (double)c->batch * c->gpt->T; }

/* check_losses' prefix: P tokens of 2·params FLOPs each, P from 2 to 16 within 2^29 FLOPs. */
static int loss_prefix(const struct gpt_config *g)
{
    double per_token = 2.0 * (double)gpt_param_count(g);
    int P = (int)fmin(16, fmax(2, (double)(1 << 29) / per_token));
    return P > g->T ? g->T : P;
}

double gpt_case_check_flops(const struct train_case *c) { return 2.0 * (double)gpt_param_count(c->gpt) * loss_prefix(c->gpt); }

/* Estimated traffic: parameters through AdamW (p, g, m, v read and written, the copy written),
 * every activation written once forward and read twice backward, and the logits three times. */
double gpt_case_bytes(const struct train_case *c, enum dtype dt)
{
    const struct gpt_config *g = c->gpt;
    double N = gpt_case_items(c), es = (double)dtype_size(dt), np = (double)gpt_layout(g, NULL, NULL);
    return np * (4 * 7 + es) + 3 * es * N * (16.0 * g->C * g->L + 3.0 * gpt_vocab_padded(g->V));
}

size_t gpt_case_device_bytes(const struct train_case *c, enum dtype dt)
{
    size_t stream = tokens_needed(c) > ((size_t)1 << 20) ? tokens_needed(c) : ((size_t)1 << 20);
    return gpt_device_bytes(NULL, c->gpt, c->batch, dt) + stream * 4 + tokens_needed(c) * 4;
}

/* fp32: summation order only. bf16: the loss of bf16 activations and bf16 attention probabilities. */
double gpt_case_tolerance(const struct train_case *c, enum dtype dt) { (void)c; return dt == DT_F32 ? 1e-3 : 3e-2; }

int gpt_case_check_data(const struct train_case *c, char *why, size_t n)
{
    return tokens_get(c->gpt->V, tokens_needed(c), why, n) ? 0 : -1;
}

void gpt_run_teardown(void *st)
{
    struct gpt_run *r = st;
    if (!r) return;
    gpt_free(&r->t);
    r->b->dev->release(r->dtok);
    r->b->dev->release(r->slot);
    free(r->first);
    free(r);
}

static int capture(struct gpt_run *r)
{
    const struct backend *b = r->b;
    size_t bytes = tokens_needed(&r->c) * sizeof(int32_t);
    /* One eager step first so every lazily allocated workspace exists before the capture; then back
     * to the initial weights, and capture a step that reads the batch slot. */
    return !(r->slot = b->dev->alloc(bytes)) || b->xfer->d2d(r->slot, r->dtok, bytes) || gpt_step(&r->t, r->slot) ||
           b->dev->sync() || gpt_reset(&r->t) || b->graph->begin() || gpt_step(&r->t, r->slot) || b->graph->end()
               ? -1 : 0;
}

int gpt_case_refuses(const struct backend *b, const struct train_case *c, enum dtype dt, char *why, size_t n)
{
    if (dt != DT_F32 && dt != DT_BF16) snprintf(why, n, "the GPT step runs fp32 and bf16 (mixed precision)");
    else if (c->variant == TRAIN_GRAPH && (!b->graph || !b->xfer)) snprintf(why, n, "CUDA graphs are a GPU feature");
    else if (c->variant == TRAIN_TRANSFER) snprintf(why, n, "GPT cases keep their tokens resident");
    else if ((!b->attn || !b->xformer) && b->base)
        snprintf(why, n, "%s has no transformer tables of its own: its GPT rows would repeat %s's", b->name, b->base->name);
    else if (!b->attn || !b->xformer) snprintf(why, n, "%s has no transformer ops", b->name);
    else return 0;
    return -1;
}

void *gpt_run_setup(const struct backend *b, const struct train_case *c, enum dtype dt, char *why, size_t n)
{
    char r0[200];
    if (gpt_case_refuses(b, c, dt, r0, sizeof r0)) { snprintf(why, n, "unsupported: %s", r0); return NULL; }
    const struct token_set *ts = tokens_get(c->gpt->V, tokens_needed(c), why, n);
    if (!ts) return NULL;
    struct gpt_run *r = calloc(1, sizeof *r);
    r->b = b;
    r->c = *c;
    r->per_batch = (size_t)c->batch * c->gpt->T;
    r->nbatches = (int)((ts->n - 1) / r->per_batch);
    r->first = malloc(tokens_needed(c) * sizeof(int32_t));
    if (!r->first) { snprintf(why, n, "out of host memory"); free(r); return NULL; }
    memcpy(r->first, ts->tok, tokens_needed(c) * sizeof(int32_t));
    if (gpt_init(&r->t, b, c->gpt, c->batch, dt, GPT_SEED, why, n) != 0) { free(r->first); free(r); return NULL; }
    int fail = !(r->dtok = b->dev->alloc(ts->n * sizeof(int32_t))) || b->dev->upload(r->dtok, ts->tok, ts->n * sizeof(int32_t)) ||
               (c->variant == TRAIN_GRAPH && capture(r) != 0);
    if (fail) { snprintf(why, n, "%s", b->dev->error()); gpt_run_teardown(r); return NULL; }
    r->t.steps = 0;
    return r;
}

int gpt_run_call(void *st)
{
    struct gpt_run *r = st;
    const int32_t *tok = r->dtok + (size_t)(r->next++ % r->nbatches) * r->per_batch;
    if (r->c.variant != TRAIN_GRAPH) return gpt_step(&r->t, tok);
    if (r->b->xfer->d2d(r->slot, tok, tokens_needed(&r->c) * sizeof(int32_t)) || r->b->graph->launch()) return -1;
    r->t.steps++;
    return 0;
}

/* n elements of dt at device p, as fp32 on the host (malloc'ed); NULL on failure. */
static float *fetch(const struct backend *b, const void *p, size_t n, enum dtype dt)
{
    float *h = malloc(n * sizeof(float));
    void *raw = malloc(n * dtype_size(dt));
    if (!h || !raw || b->dev->download(raw, p, n * dtype_size(dt)) != 0) { free(h); free(raw); return NULL; }
    dtype_unpack(dt, raw, h, n);
    free(raw);
    return h;
}

/* The first P tokens' losses of sequence 0 against a double forward of that prefix (causal: the
 * same values as within the full sequence). */
static double check_losses(struct gpt_run *r, const float *losses)
{
    const struct gpt_config *g = r->c.gpt;
    int P = loss_prefix(g);
    double ref[16], worst = 0;
    gpt_ref(g, 1, P, r->t.host_init, r->first, r->first + 1, ref, NULL);
    for (int i = 0; i < P; i++) worst = fmax(worst, isfinite(losses[i]) ? fabs(losses[i] - ref[i]) / fmax(1, ref[i]) : INFINITY);
    return worst;
}

/* Layer 0's QKV weight and bias gradients at 64 sampled entries: Σ over tokens of dqkv·ln1, from
 * the step's own dqkv and ln1, relative to Σ |terms|. */
static double check_qkv_grad(struct gpt_run *r, const float *dqkv, const float *ln1)
{
    const int N = r->t.N, C = r->c.gpt->C;
    size_t nw = (size_t)3 * C * C;
    float *gw = malloc(nw * sizeof(float)), *gb = malloc((size_t)3 * C * sizeof(float));
    double worst = -1;
    if (!gw || !gb || r->b->dev->download(gw, gpt_grad(&r->t, GPT_QKVW, 0), nw * sizeof(float)) ||
        r->b->dev->download(gb, gpt_grad(&r->t, GPT_QKVB, 0), (size_t)3 * C * sizeof(float)))
        goto out;
    worst = 0;
    for (int k = 0; k < 64; k++) {
        int o = (int)(((uint64_t)k * 2654435761u) % (3u * C)), i = (int)(((uint64_t)k * 40503u + 7) % (unsigned)C);
        double s = 0, a = 0, sb = 0, ab = 0;
        for (int t = 0; t < N; t++) {
            double d = dqkv[(size_t)t * 3 * C + o], x = ln1[(size_t)t * C + i];
            s += d * x; a += fabs(d * x); sb += d; ab += fabs(d);
        }
        worst = fmax(worst, fabs(gw[(size_t)o * C + i] - s) / fmax(a, 1e-30));
        worst = fmax(worst, fabs(gb[o] - sb) / fmax(ab, 1e-30));
        if (!isfinite(gw[(size_t)o * C + i]) || !isfinite(gb[o])) worst = INFINITY;
    }
out:
    free(gw); free(gb);
    return worst;
}

/* Layer 0's attention backward for heads (0, 0) and (B-1, H-1): dq, dk, dv from its qkv and datt
 * against kernels/attention_ref, relative to the largest reference value. */
static double check_attention(struct gpt_run *r, const float *qkv, const float *datt, const float *dqkv)
{
    const struct gpt_config *g = r->c.gpt;
    const int T = g->T, C = g->C, d = C / g->H;
    size_t td = (size_t)T * d;
    double *buf = malloc(sizeof(double) * (9 * td + T)), worst = 0, num[3] = {0}, den[3] = {0};
    if (!buf) return -1;
    int heads[2][2] = {{0, 0}, {r->c.batch - 1, g->H - 1}};
    for (int k = 0; k < 2; k++) {
        size_t in = (size_t)heads[k][0] * T * 3 * C + (size_t)heads[k][1] * d, out = (size_t)heads[k][0] * T * C + (size_t)heads[k][1] * d;
        double *q = buf, *kk = buf + td, *v = buf + 2 * td, *dout = buf + 3 * td, *o = buf + 4 * td, *grad = buf + 5 * td, *lse = buf + 9 * td;
        for (int t = 0; t < T; t++)
            for (int i = 0; i < d; i++) {
                q[(size_t)t * d + i] = qkv[in + (size_t)t * 3 * C + i];
                kk[(size_t)t * d + i] = qkv[in + (size_t)t * 3 * C + C + i];
                v[(size_t)t * d + i] = qkv[in + (size_t)t * 3 * C + 2 * C + i];
                dout[(size_t)t * d + i] = datt[out + (size_t)t * C + i];
            }
        attention_head_fwd_ref(T, d, q, kk, v, d, 0, T, o, d, lse);
        attention_head_bwd_ref(T, d, q, kk, v, d, o, dout, d, lse, 0, grad, grad + td, grad + 2 * td);
        for (int w = 0; w < 3; w++)
            for (int t = 0; t < T; t++)
                for (int i = 0; i < d; i++) {
                    double got = dqkv[in + (size_t)t * 3 * C + (size_t)w * C + i], want = grad[w * td + (size_t)t * d + i];
                    num[w] = fmax(num[w], isfinite(got) ? fabs(got - want) : INFINITY);
                    den[w] = fmax(den[w], fabs(want));
                }
    }
    for (int w = 0; w < 3; w++) worst = fmax(worst, num[w] / fmax(den[w], 1e-30));
    free(buf);
    return worst;
}

/* AdamW's first moment after one step: (1 - beta1) · clip scale · g, the scale from ‖g‖ in double. */
static double check_moment(struct gpt_run *r)
{
    struct gpt_trainer *t = &r->t;
    float *g = malloc(t->np * sizeof(float)), *m = malloc(t->np * sizeof(float));
    double worst = -1, ss = 0, num = 0, den = 0;
    if (!g || !m || r->b->dev->download(g, t->grads, t->np * sizeof(float)) || r->b->dev->download(m, t->m, t->np * sizeof(float)))
        goto out;
    for (size_t i = 0; i < t->np; i++) ss += (double)g[i] * g[i];
    double scale = adamw_clip_scale(&t->hp, sqrt(ss));
    for (size_t i = 0; i < t->np; i += 997) {
        double want = (1 - (double)t->hp.beta1) * scale * g[i];
        num = fmax(num, isfinite(m[i]) ? fabs(m[i] - want) : INFINITY);
        den = fmax(den, fabs(want));
    }
    worst = isfinite(ss) ? num / fmax(den, 1e-30) : INFINITY;
out:
    free(g); free(m);
    return worst;
}

double gpt_run_check(void *st, char *why, size_t n)
{
    struct gpt_run *r = st;
    struct gpt_trainer *t = &r->t;
    const size_t NC = (size_t)t->N * r->c.gpt->C;
    float loss;
    if (t->steps != 1) { snprintf(why, n, "check expects exactly one step, saw %d", t->steps); return -1; }
    if (gpt_loss(t, &loss) != 0) { snprintf(why, n, "%s", r->b->dev->error()); return -1; }
    float *losses = malloc(t->N * sizeof(float)), *dqkv = fetch(r->b, t->a.dqkv, 3 * NC, t->dt);
    float *ln1 = fetch(r->b, t->a.ln1, NC, t->dt), *qkv = fetch(r->b, t->a.qkv, 3 * NC, t->dt), *datt = fetch(r->b, t->a.datt, NC, t->dt);
    double worst = -1;
    if (!losses || !dqkv || !ln1 || !qkv || !datt || r->b->dev->download(losses, t->a.losses, t->N * sizeof(float))) {
        snprintf(why, n, "%s", r->b->dev->error());
    } else {
        double e[4] = {check_losses(r, losses), check_qkv_grad(r, dqkv, ln1), check_attention(r, qkv, datt, dqkv), check_moment(r)};
        worst = isfinite(loss) ? 0 : INFINITY;
        for (int i = 0; i < 4 && worst >= 0; i++) worst = e[i] < 0 ? -1 : fmax(worst, e[i]);
        if (worst < 0) snprintf(why, n, "%s", r->b->dev->error());
    }
    free(losses); free(dqkv); free(ln1); free(qkv); free(datt);
    return worst;
}
