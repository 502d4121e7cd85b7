/* workload_train.c: the "train" workload: one call = one full training step (forward, loss,
 * backward, update) on the next batch of the dataset, entirely on the backend; fp32, or mixed
 * precision (fp16/bf16 GEMM and conv operands, fp32 master weights) as the bf16/fp16 rows. The
 * graph variant replays one captured step that also selects its batch and counts its step on the
 * device. Verified after the first step from the shared initial weights: the loss against a
 * double-precision forward pass, and the last layer's update against the reference gradient and
 * optimizer step. */
#include "train_cases.h"
#include "dataset.h"
#include "train.h"
#include "verify.h"
#include "workload_train_gpt.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct train_state {
    const struct backend *b;
    struct train_case c;
    struct trainer t;
    const struct dataset *ds;
    float *dx, *slot_x;        /* device: whole dataset (resident, graph) or one batch slot */
    int32_t *dy, *slot_y;
    float *host_x;             /* transfer: the dataset in (pinned) host memory */
    int32_t *host_y;
    int pinned, next, nbatches;
    void *gpt;                 /* a GPT case's state (workload_train_gpt.c): the calls below go there */
};

static int train_custom(const long *d, int nd, const void *base, void *params, char *name, size_t nn, char *why, size_t n)
{
    const struct train_case *b = base;
    struct train_case *c = params;
    if (nd != 1 || d[0] > 65536) { snprintf(why, n, "training takes one batch size (at most 65536)"); return -1; }
    *c = *b;
    c->batch = (int)d[0];
    if (b->gpt) {
        snprintf(name, nn, "%s.b%ld%s", b->gpt->name, d[0], b->variant == TRAIN_GRAPH ? ".graph" : "");
        return 0;
    }
    snprintf(name, nn, "%s.b%ld.%s.%s", b->model->name, d[0], b->adam ? "adam" : "sgd",
             b->variant == TRAIN_RESIDENT ? "resident" : b->variant == TRAIN_TRANSFER ? "transfer" : "graph");
    return 0;
}

static void train_shape(const void *p, char *buf, size_t n)
{
    const struct train_case *c = p;
    if (c->gpt) { gpt_case_shape(c, buf, n); return; }
    snprintf(buf, n, "%s batch %d %s", c->model->name, c->batch, c->adam ? "Adam" : "SGD");
}

static double train_flops(const void *p, enum dtype dt)
{
    (void)dt;
    const struct train_case *c = p;
    return c->gpt ? gpt_case_flops(c) : model_step_flops(c->model, c->batch);
}

/* The first step's check: MLP/CNN recompute the batch's forward pass in double (a third of the
 * step's FLOPs); GPT cases a short prefix of one sequence. */
static double train_check_flops(const void *p, enum dtype dt)
{
    const struct train_case *c = p;
    return c->gpt ? gpt_case_check_flops(c) : train_flops(p, dt) / 3;
}

/* The estimate's share of the roofline: a GPT step is dominated by large GEMMs (gpt.tiny on the dev
 * VM: 65 GFLOP in 0.38 s on 2 threads, near the GEMM ceiling; 0.5 keeps room for its attention).
 * An MLP/CNN step is many small GEMMs, convolutions and elementwise kernels: on a CPU the MLP step
 * reaches 0.41-0.49 of the FMA-loop ceiling (dev VM 2 threads; H100 host 16 threads) and the CNN
 * step 0.21-0.33; on a GPU ~0.1 (H100: MLP 0.13; a CNN step of 3 ms is sampled by budget anyway). */
static double train_efficiency(const void *p, int gpu)
{
    const struct train_case *c = p;
    if (c->gpt) return 0.5;
    if (gpu) return 0.1;
    for (int l = 0; l < c->model->nlayers; l++)
        if (c->model->layers[l].kind == LAYER_CONV3X3) return 0.2;
    return 0.4;
}

/* MLP/CNN rows share their first step's reference (step_ref below) by model and batch. */
static uint64_t train_check_key(const void *p)
{
    const struct train_case *c = p;
    return c->gpt ? 0 : ((uint64_t)(uintptr_t)c->model << 16) ^ (uint64_t)c->batch ^ 1;
}

/* Estimated traffic: the batch, every activation written and read forward and backward, and the
 * parameters read, graded and updated (SGD: p, g; Adam: p, g, m, v). */
static double train_bytes(const void *p, enum dtype dt)
{
    const struct train_case *c = p;
    if (c->gpt) return gpt_case_bytes(c, dt);
    int dims[MAX_LAYERS][3];
    double act = 0, par = 0;
    model_dims(c->model, dims);
    for (int l = 0; l < c->model->nlayers; l++) {
        act += (double)dims[l][0] * dims[l][1] * dims[l][2];
        par += (double)model_params(c->model, l);
    }
    return 4.0 * c->batch * (784 + 1 + 4 * act) + 4.0 * par * (c->adam ? 9 : 4);
}

static size_t train_device_bytes(const void *p, enum dtype dt)
{
    const struct train_case *c = p;
    return c->gpt ? gpt_case_device_bytes(c, dt) : (size_t)(train_bytes(p, dt) * 2) + ((size_t)60000 * 788);
}
static double train_items(const void *p)
{
    const struct train_case *c = p;
    return c->gpt ? gpt_case_items(c) : c->batch;
}
static int train_check_data(const void *p, char *why, size_t n)
{
    const struct train_case *c = p;
    return c->gpt ? gpt_case_check_data(c, why, n) : 0;
}
static int train_uses_images(const void *p) { return !((const struct train_case *)p)->gpt; }
/* fp32: summation order only. Mixed precision: every GEMM/conv operand rounded to dt (u = 2^-11
 * fp16, 2^-8 bf16) through the layers; measured on an emulating backend (tests/test_train_mixed.c)
 * at 1.5-2e-4 (fp16) and 1.1-1.7e-3 (bf16), so these leave about 10x for other summation orders
 * and cuDNN's algorithms. */
static double train_tolerance(const void *p, enum dtype dt)
{
    const struct train_case *c = p;
    if (c->gpt) return gpt_case_tolerance(c, dt);
    return dt == DT_BF16 ? TRAIN_TOL_BF16 : dt == DT_F16 ? TRAIN_TOL_F16 : 1e-3;
}

static void train_teardown(void *st)
{
    struct train_state *s = st;
    if (!s) return;
    if (s->gpt) { gpt_run_teardown(s->gpt); free(s); return; }
    trainer_free(&s->t);
    s->b->dev->release(s->dx); s->b->dev->release(s->dy); s->b->dev->release(s->slot_x); s->b->dev->release(s->slot_y);
    if (s->pinned) { s->b->xfer->host_free_pinned(s->host_x); s->b->xfer->host_free_pinned(s->host_y); }
    free(s);
}

static int put_dataset(struct train_state *s)
{
    size_t nx = (size_t)s->ds->n * 784;
    return !(s->dx = s->b->dev->alloc(nx * 4)) || !(s->dy = s->b->dev->alloc((size_t)s->ds->n * 4)) ||
           s->b->dev->upload(s->dx, s->ds->x, nx * 4) || s->b->dev->upload(s->dy, s->ds->y, (size_t)s->ds->n * 4);
}

static int has_conv(const struct model_spec *m)
{
    for (int l = 0; l < m->nlayers; l++)
        if (m->layers[l].kind == LAYER_CONV3X3) return 1;
    return 0;
}

/* Known before setup: the GPT cases' own reasons; a graph without CUDA graphs or without the
 * device-side batch and step count; a variant that would repeat its base's MLP rows. */
static int train_refuses(const struct backend *b, const void *p, enum dtype dt, char *why, size_t n)
{
    const struct train_case *c = p;
    if (c->gpt) return gpt_case_refuses(b, c, dt, why, n);
    if (c->variant == TRAIN_GRAPH && (!b->graph || !b->graph->begin)) snprintf(why, n, "CUDA graphs are a GPU feature");
    else if (c->variant == TRAIN_GRAPH && (!b->train->next_batch || !b->train->adam_update_dev))
        snprintf(why, n, "%s cannot advance a captured step's batch and count on the device", b->name);
    else if (b->base && b->mm == b->base->mm && b->elt == b->base->elt && b->train == b->base->train && !has_conv(c->model))
        snprintf(why, n, "%s has no convolution: %s would repeat %s's rows", c->model->name, b->name, b->base->name);
    else return 0;
    return -1;
}

static void *train_setup(const struct backend *b, const void *p, enum dtype dt, uint64_t seed, char *why, size_t n)
{
    (void)seed; /* same initial weights and data on every backend and every case */
    struct train_state *s = calloc(1, sizeof *s);
    s->b = b;
    s->c = *(const struct train_case *)p;
    if (s->c.gpt) {
        if (!(s->gpt = gpt_run_setup(b, &s->c, dt, why, n))) { free(s); return NULL; }
        return s;
    }
    char r0[200];
    if (train_refuses(b, p, dt, r0, sizeof r0)) {
        snprintf(why, n, "unsupported: %s", r0);
        free(s);
        return NULL;
    }
    if (!(s->ds = dataset_get(why, n))) { free(s); return NULL; }
    s->nbatches = s->ds->n / s->c.batch;
    if (s->nbatches < 1) { snprintf(why, n, "batch %d is larger than the dataset (%d)", s->c.batch, s->ds->n); free(s); return NULL; }
    if (trainer_init(&s->t, b, s->c.model, dt, s->c.batch, s->c.adam, 2025, why, n) != 0) { free(s); return NULL; }
    size_t bx = (size_t)s->c.batch * 784 * 4, by = (size_t)s->c.batch * 4;
    int fail = 0;
    if (s->c.variant != TRAIN_TRANSFER) fail = put_dataset(s);
    if (!fail && s->c.variant != TRAIN_RESIDENT) fail = !(s->slot_x = b->dev->alloc(bx)) || !(s->slot_y = b->dev->alloc(by));
    if (!fail && s->c.variant == TRAIN_TRANSFER) {
        size_t nx = (size_t)s->ds->n * 784 * 4, ny = (size_t)s->ds->n * 4;
        s->pinned = b->xfer && b->xfer->host_alloc_pinned; /* the GPU reads page-locked memory directly */
        s->host_x = s->pinned ? b->xfer->host_alloc_pinned(nx) : (float *)s->ds->x;
        s->host_y = s->pinned ? b->xfer->host_alloc_pinned(ny) : (int32_t *)s->ds->y;
        fail = !s->host_x || !s->host_y;
        if (!fail && s->pinned) { memcpy(s->host_x, s->ds->x, nx); memcpy(s->host_y, s->ds->y, ny); }
    }
    if (!fail && s->c.variant == TRAIN_GRAPH) {
        /* One eager step first so workspaces and algorithm choices are made outside the capture;
         * then back to the initial weights and step 0, and capture the whole step: batch
         * selection, forward, loss, backward, update. No host sync inside. */
        fail = trainer_step_on_device(&s->t, s->dx, s->dy, s->nbatches, s->slot_x, s->slot_y) || b->dev->sync() ||
               trainer_reset(&s->t) || b->graph->begin();
        if (!fail && trainer_step_on_device(&s->t, s->dx, s->dy, s->nbatches, s->slot_x, s->slot_y)) {
            snprintf(why, n, "while capturing the step: %s", b->dev->error());
            b->graph->end(); /* a failed capture must still be ended, or the stream stays capturing */
            train_teardown(s);
            return NULL;
        }
        fail = fail || b->graph->end();
        s->t.steps = 0;
    }
    if (fail) { snprintf(why, n, "%s", b->dev->error()); train_teardown(s); return NULL; }
    return s;
}

static int train_call(void *st)
{
    struct train_state *s = st;
    const struct backend *b = s->b;
    if (s->gpt) return gpt_run_call(s->gpt);
    size_t off = (size_t)(s->next++ % s->nbatches) * s->c.batch, bx = (size_t)s->c.batch * 784 * 4, by = (size_t)s->c.batch * 4;
    switch (s->c.variant) {
    case TRAIN_RESIDENT:
        return trainer_step(&s->t, s->dx + off * 784, s->dy + off);
    case TRAIN_TRANSFER: {
        int (*h2d)(void *, const void *, size_t) = b->xfer && b->xfer->h2d ? b->xfer->h2d : b->dev->upload;
        if (h2d(s->slot_x, s->host_x + off * 784, bx) || h2d(s->slot_y, s->host_y + off, by)) return -1;
        return trainer_step(&s->t, s->slot_x, s->slot_y);
    }
    default: /* the captured step picks batch (step mod nbatches) itself */
        s->t.steps++;
        return b->graph->launch();
    }
}

/* The first step's reference: the double forward pass of batch 0 from the initial weights, the
 * loss gradient and the last layer's input. It depends only on the model, the batch and those
 * bytes, which are the same on every backend, dtype and variant by design, so it is computed once
 * per process and reused by every row that checks the same step: a CNN b128 forward in double
 * takes about a second on one core, and a quick suite on a GPU server checks it some 40 times.
 * Keyed by the model, the batch and a hash of every byte the pass reads: other bytes never hit. */
struct step_ref {
    const struct model_spec *m;
    int B;
    uint64_t key;
    double loss, *last_in, *dz;   /* last_in: B x in (the last layer's input); dz: B x classes */
};
static struct step_ref step_ref_cache[4];
static int step_ref_next;

int train_step_refs_computed(void)
{
    return step_ref_next;
}

static const struct step_ref *step_ref_get(const struct train_state *s)
{
    const struct trainer *t = &s->t;
    const struct model_spec *m = s->c.model;
    int B = s->c.batch, last = m->nlayers - 1, C = m->classes;
    uint64_t key = verify_hash(VERIFY_HASH_SEED, s->ds->x, (size_t)B * 784 * sizeof(float));
    key = verify_hash(key, s->ds->y, (size_t)B * sizeof(int32_t));
    for (int l = 0; l < m->nlayers; l++) key = verify_hash(key, t->host_init[l], t->nparam[l] * sizeof(float));
    for (int k = 0; k < 4; k++) {
        const struct step_ref *r = &step_ref_cache[k];
        if (r->dz && r->m == m && r->B == B && r->key == key) return r;
    }
    struct step_ref *r = &step_ref_cache[step_ref_next++ % 4];
    free(r->last_in);
    free(r->dz);
    double **acts = calloc(MAX_LAYERS, sizeof(double *)), *logits = malloc(sizeof(double) * B * C);
    *r = (struct step_ref){m, B, key, 0, NULL, malloc(sizeof(double) * B * C)};
    model_forward_ref(m, B, s->ds->x, t->host_init, logits, acts);
    r->loss = softmax_xent_ref(B, C, logits, s->ds->y, r->dz);
    r->last_in = acts[last - 1];
    acts[last - 1] = NULL;
    for (int l = 0; l < MAX_LAYERS; l++) free(acts[l]);
    free(acts);
    free(logits);
    return r;
}

/* After the first step (batch 0): the loss against a double forward pass from the initial
 * weights, and the last layer's new parameters against W0 - update(reference gradient). */
static double train_check(void *st, char *why, size_t n)
{
    struct train_state *s = st;
    if (s->gpt) return gpt_run_check(s->gpt, why, n);
    struct trainer *t = &s->t;
    const struct model_spec *m = s->c.model;
    int B = s->c.batch, last = m->nlayers - 1, C = m->classes;
    float loss;
    if (t->steps != 1) { snprintf(why, n, "check expects exactly one step, saw %d", t->steps); return -1; }
    if (trainer_loss(t, &loss) != 0) { snprintf(why, n, "%s", s->b->dev->error()); return -1; }
    const struct step_ref *ref = step_ref_get(s);
    const double *dz = ref->dz, *last_in = ref->last_in, ref_loss = ref->loss;
    double worst = fabs(loss - ref_loss) / fmax(ref_loss, 1e-3);
    if (!isfinite(loss)) worst = INFINITY;
    /* last layer: linear (C, in) with bias; its input is the previous layer's output */
    size_t in = t->nparam[last] / C - 1, np = t->nparam[last];
    float *got = malloc(np * 4);
    double *gref = calloc(np, sizeof(double)), dmax = 0, emax = 0;
    if (s->b->dev->download(got, t->p[last], np * 4) != 0) { snprintf(why, n, "%s", s->b->dev->error()); worst = -1; goto out; }
    for (int r = 0; r < B; r++)
        for (int o = 0; o < C; o++) {
            double g = dz[(size_t)r * C + o];
            for (size_t i = 0; i < in; i++) gref[(size_t)o * in + i] += g * last_in[(size_t)r * in + i];
            gref[(size_t)C * in + o] += g;
        }
    if (s->c.adam) {
        /* Adam's first update, lr·g/(|g| + eps), is ill-conditioned where |g| is near eps: check
         * the first moment m = (1 - beta1)·g instead (the update itself is tested in eltwise). */
        if (s->b->dev->download(got, t->m1[last], np * 4) != 0) { snprintf(why, n, "%s", s->b->dev->error()); worst = -1; goto out; }
        for (size_t i = 0; i < np; i++) {
            double want = (1 - 0.9) * gref[i];
            dmax = fmax(dmax, fabs(want));
            emax = fmax(emax, isfinite(got[i]) ? fabs(got[i] - want) : INFINITY);
        }
    } else {
        for (size_t i = 0; i < np; i++) {
            double upd = TRAIN_LR_SGD * gref[i], d_got = t->host_init[last][i] - (double)got[i];
            dmax = fmax(dmax, fabs(upd));
            emax = fmax(emax, isfinite(got[i]) ? fabs(d_got - upd) : INFINITY);
        }
    }
    worst = fmax(worst, emax / fmax(dmax, 1e-30));
    snprintf(why, n, "step 1: the loss and the last layer's %s", s->c.adam ? "first moment" : "update");
out:
    free(got);
    free(gref);
    return worst;
}

const struct workload train_workload = {
    .name = "train",
    .family = "train",
    .what = "full training step (forward, softmax cross-entropy, backward, SGD/Adam) of an MLP and a CNN on MNIST-shaped data, "
            "and of a GPT (AdamW, clipping; bf16 with fp32 master weights on GPUs) on tokens",
    .dtypes = 1u << DT_F32 | 1u << DT_F16 | 1u << DT_BF16,
    /* quick: the mixed-precision step once, in bf16 (what CPUs with AMX/AVX512-BF16 run too); the
     * fp16 step does the same work at the same tensor-core rate and is left to the full suite */
    .quick_dtypes = 1u << DT_F32 | 1u << DT_BF16,
    .cases = train_cases,
    .params_size = sizeof(struct train_case),
    .custom = train_custom,
    .shape = train_shape,
    .flops = train_flops,
    .check_flops = train_check_flops,
    .check_key = train_check_key,
    .efficiency = train_efficiency,
    .bytes = train_bytes,
    .device_bytes = train_device_bytes,
    .items = train_items,
    .check_data = train_check_data,
    .uses_images = train_uses_images,
    .refuses = train_refuses,
    .composite = 1,
    .setup = train_setup,
    .call = train_call,
    .check = train_check,
    .tolerance = train_tolerance,
    .teardown = train_teardown,
};
