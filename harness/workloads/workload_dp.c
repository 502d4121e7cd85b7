/* workload_dp.c: the "dp-train" workload: one call = one data-parallel training step on a group of k
 * ranks, each on its own slice of the global batch, its gradients summed over the group (the
 * backend's collectives) and averaged before the SGD update. Buckets are the layers: each layer's sum
 * starts as soon as backward has queued its gradient and overlaps the backward of earlier layers
 * (NCCL on its own stream; MPI as far as its progress inside MPI calls allows); k = 1 sends nothing
 * and is the baseline of the scaling efficiency. Verified after the first step: the weights every
 * rank ends with must be the weights one rank gets from the whole global batch, within fp32
 * reduction-order rounding. */
#include "dp_cases.h"
#include "dataset.h"
#include "group.h"
#include "train.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DP_SEED 2025            /* the initial weights of train_workload: same on every rank */

struct dp_state {
    const struct backend *b;
    struct dp_case c;
    const struct coll_group *g;
    void *comm;
    struct trainer t;
    struct grad_sync sync;
    const struct dataset *ds;
    float *dx;                  /* the dataset, resident on the device */
    int32_t *dy;
    int local, global, nbatches, next, noreduce;
};

static int ranks_now(void) { const struct coll_group *g = dist_current_group(); return g ? g->size : 1; }
static int local_batch(const struct dp_case *c, int k) { return c->scaling == DP_WEAK ? c->batch : c->batch / k; }
static int global_batch(const struct dp_case *c, int k) { return local_batch(c, k) * k; }

static int dp_custom(const long *d, int nd, const void *base, void *params, char *name, size_t nn, char *why, size_t n)
{
    const struct dp_case *b = base;
    struct dp_case *c = params;
    if (nd != 1 || d[0] > 65536) { snprintf(why, n, "data-parallel training takes one batch size (at most 65536)"); return -1; }
    *c = *b;
    c->batch = (int)d[0];
    snprintf(name, nn, "%s.b%ld.%s", b->model->name, d[0], b->scaling == DP_WEAK ? "weak" : "strong");
    return 0;
}

static void dp_shape(const void *p, char *buf, size_t n)
{
    const struct dp_case *c = p;
    int k = ranks_now();
    snprintf(buf, n, "%s SGD %d/rank x %d ranks = %d", c->model->name, local_batch(c, k), k, global_batch(c, k));
}

static double dp_flops(const void *p, enum dtype dt) { (void)dt; const struct dp_case *c = p; return model_step_flops(c->model, global_batch(c, ranks_now())); }

/* Estimated traffic of the whole group: every rank's train_bytes-style traffic plus its gradients
 * sent and received once (a ring moves 2(k-1)/k of them). */
static double dp_bytes(const void *p, enum dtype dt)
{
    (void)dt;
    const struct dp_case *c = p;
    int dims[MAX_LAYERS][3], k = ranks_now();
    double act = 0, par = 0;
    model_dims(c->model, dims);
    for (int l = 0; l < c->model->nlayers; l++) {
        act += (double)dims[l][0] * dims[l][1] * dims[l][2];
        par += (double)model_params(c->model, l);
    }
    return k * (4.0 * local_batch(c, k) * (784 + 1 + 4 * act) + 4.0 * par * (4 + 2.0 * (k - 1) / k));
}

static size_t dp_device_bytes(const void *p, enum dtype dt)
{
    const struct dp_case *c = p;
    int k = ranks_now();
    return (size_t)(dp_bytes(p, dt) / k * 2 * (1 + global_batch(c, k) / (double)local_batch(c, k))) + (size_t)60000 * 788;
}

static double dp_items(const void *p) { const struct dp_case *c = p; return global_batch(c, ranks_now()); }
static double dp_tolerance(const void *p, enum dtype dt) { (void)p; (void)dt; return 1e-4; }

static int grad_ready_dp(void *user, int layer, float *g, size_t n)
{
    struct dp_state *s = user;
    (void)layer;
    if (s->g->size == 1 || s->noreduce) return 0;
    return s->b->coll->all_reduce_start(s->comm, DT_F32, n, g);
}

/* Every sum done, then the mean: the gradient one rank would get from the whole global batch. */
static int grads_wait_dp(void *user)
{
    struct dp_state *s = user;
    if (s->g->size == 1 || s->noreduce) return 0;
    if (s->b->coll->wait_all(s->comm)) return -1;
    for (int l = 0; l < s->c.model->nlayers; l++)
        if (s->t.nparam[l] && s->b->elt->scale(DT_F32, s->t.nparam[l], 1.0f / s->g->size, s->t.g[l], s->t.g[l])) return -1;
    return 0;
}

static void dp_teardown(void *st)
{
    struct dp_state *s = st;
    if (!s) return;
    trainer_free(&s->t);
    s->b->dev->release(s->dx);
    s->b->dev->release(s->dy);
    free(s);
}

static void *dp_setup(const struct backend *b, const void *p, enum dtype dt, uint64_t seed, char *why, size_t n)
{
    (void)dt; (void)seed;
    struct dp_state *s = calloc(1, sizeof *s);
    s->b = b;
    s->c = *(const struct dp_case *)p;
    s->g = dist_current_group();
    int k = s->g ? s->g->size : 1;
    if (!s->g || !(s->comm = dist_comm(b, s->g))) { snprintf(why, n, "no communicator for this group"); free(s); return NULL; }
    if (s->c.scaling == DP_STRONG && (s->c.batch % k || s->c.batch < k)) {
        snprintf(why, n, "unsupported: global batch %d does not split evenly over %d ranks", s->c.batch, k);
        free(s);
        return NULL;
    }
    s->local = local_batch(&s->c, k);
    s->global = global_batch(&s->c, k);
    const char *fault = getenv("DLBENCH_TEST_FAULT");     /* tests: every rank skips the sum */
    s->noreduce = fault && !strncmp(fault, "dp-noreduce", 11);
    if (!(s->ds = dataset_get(why, n))) { free(s); return NULL; }
    if ((s->nbatches = s->ds->n / s->global) < 1) {
        snprintf(why, n, "global batch %d is larger than the dataset (%d)", s->global, s->ds->n);
        free(s);
        return NULL;
    }
    if (trainer_init(&s->t, b, s->c.model, DT_F32, s->local, 0, DP_SEED, why, n) != 0) { free(s); return NULL; }
    s->sync = (struct grad_sync){grad_ready_dp, grads_wait_dp, s};
    s->t.sync = &s->sync;
    size_t nx = (size_t)s->ds->n * 784;
    if (!(s->dx = b->dev->alloc(nx * 4)) || !(s->dy = b->dev->alloc((size_t)s->ds->n * 4)) ||
        b->dev->upload(s->dx, s->ds->x, nx * 4) || b->dev->upload(s->dy, s->ds->y, (size_t)s->ds->n * 4)) {
        snprintf(why, n, "%s", b->dev->error());
        dp_teardown(s);
        return NULL;
    }
    return s;
}

/* Global batch i is samples [i·global, (i+1)·global); rank r takes its r-th slice. */
static int dp_call(void *st)
{
    struct dp_state *s = st;
    size_t off = (size_t)(s->next++ % s->nbatches) * s->global + (size_t)s->g->rank * s->local;
    return trainer_step(&s->t, s->dx + off * 784, s->dy + off);
}

/* One rank's step on the whole first global batch from the same initial weights; the error is the
 * largest, over layers, of max |w_dp - w_one| / max |w_one - w0|. */
static double dp_check(void *st, char *why, size_t n)
{
    struct dp_state *s = st;
    struct trainer one;
    double worst = 0;
    if (s->t.steps != 1) { snprintf(why, n, "check expects exactly one step, saw %d", s->t.steps); return -1; }
    if (trainer_init(&one, s->b, s->c.model, DT_F32, s->global, 0, DP_SEED, why, n) != 0) return -1;
    if (trainer_step(&one, s->dx, s->dy) || s->b->dev->sync()) { snprintf(why, n, "%s", s->b->dev->error()); trainer_free(&one); return -1; }
    for (int l = 0; l < s->c.model->nlayers && worst >= 0; l++) {
        size_t np = s->t.nparam[l];
        if (!np) continue;
        float *dp = malloc(np * 4), *ref = malloc(np * 4);
        if (s->b->dev->download(dp, s->t.p[l], np * 4) || s->b->dev->download(ref, one.p[l], np * 4)) {
            snprintf(why, n, "%s", s->b->dev->error());
            worst = -1;
        } else {
            double step = 0, diff = 0;
            for (size_t i = 0; i < np; i++) {
                step = fmax(step, fabs((double)ref[i] - s->t.host_init[l][i]));
                diff = fmax(diff, isfinite(dp[i]) ? fabs((double)dp[i] - ref[i]) : INFINITY);
            }
            worst = fmax(worst, diff / fmax(step, 1e-30));
        }
        free(dp);
        free(ref);
    }
    trainer_free(&one);
    return worst;
}

static int dp_uses_images(const void *p) { (void)p; return 1; }

const struct workload dp_train_workload = {
    .name = "dp-train",
    .family = "dp-train",
    .uses_images = dp_uses_images,
    .what = "data-parallel training step (MLP, CNN; SGD) on 1, 2, 4 ... ranks: per-layer gradient sums overlapped with backward; weak and strong scaling",
    .dtypes = 1u << DT_F32,
    .cases = dp_cases,
    .params_size = sizeof(struct dp_case),
    .group = GROUP_SCALING,
    .custom = dp_custom,
    .shape = dp_shape,
    .flops = dp_flops,
    .bytes = dp_bytes,
    .device_bytes = dp_device_bytes,
    .items = dp_items,
    .setup = dp_setup,
    .call = dp_call,
    .check = dp_check,
    .tolerance = dp_tolerance,
    .teardown = dp_teardown,
};
