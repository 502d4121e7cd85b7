/* test_cuda_train.c: the training step on the GPU: layer ops against their references; CPU/GPU
 * and cuda/cudnn parity (same initial weights and batches, same losses and weights after 5
 * steps); the device-side batch selection and step count; a captured step replayed equals the
 * same steps run eagerly (SGD and Adam, whose bias correction reads the count on the device); and
 * mixed-precision steps (fp16, bf16) passing the workload's check and tracking fp32. */
#include "train_test_util.h"
#include "dataset.h"
#include "train.h"
#include "train_cases.h"
#include "workload.h"

Test(cuda_train, layer_ops_match_references) { check_train_layers(cuda_or_skip()); }

static const struct backend *cudnn_or_skip(void)
{
    cuda_or_skip();
    return backend_or_skip("cudnn", "built without cuDNN");
}

/* The dataset's first `batches` batches of B on b's device. */
static void put_batches(const struct backend *b, int B, int batches, float **dx, int32_t **dy)
{
    char why[256];
    const struct dataset *ds = dataset_get(why, sizeof why);
    cr_assert_not_null(ds, "%s", why);
    *dx = b->dev->alloc((size_t)B * batches * 784 * 4);
    *dy = b->dev->alloc((size_t)B * batches * 4);
    cr_assert(*dx && *dy && !b->dev->upload(*dx, ds->x, (size_t)B * batches * 784 * 4) &&
              !b->dev->upload(*dy, ds->y, (size_t)B * batches * 4), "%s", b->dev->error());
}

/* Largest |a - b| of the last layer's weights over how far a moved from the initial ones. */
static double last_layer_gap(struct trainer *ta, struct trainer *tb)
{
    int last = ta->m->nlayers - 1;
    size_t np = ta->nparam[last];
    float *wa = malloc(np * 4), *wb = malloc(np * 4);
    cr_assert_eq(ta->b->dev->download(wa, ta->p[last], np * 4), 0);
    cr_assert_eq(tb->b->dev->download(wb, tb->p[last], np * 4), 0);
    double moved = 0, gap = 0;
    for (size_t i = 0; i < np; i++) {
        moved = fmax(moved, fabs(wa[i] - ta->host_init[last][i]));
        gap = fmax(gap, isfinite(wb[i]) ? fabs(wa[i] - wb[i]) : INFINITY);
    }
    free(wa); free(wb);
    return gap / fmax(moved, 1e-30);
}

/* K steps on two backends from the same weights and batches: losses and weights agree. */
static void parity(const struct backend *a, const struct backend *g, const struct model_spec *m, int adam, enum dtype dt)
{
    char why[256];
    const struct dataset *ds = dataset_get(why, sizeof why);
    struct trainer ta, tg;
    const int B = 32, K = 5;
    cr_assert_eq(trainer_init(&ta, a, m, dt, B, adam, 7, why, sizeof why), 0, "%s", why);
    cr_assert_eq(trainer_init(&tg, g, m, dt, B, adam, 7, why, sizeof why), 0, "%s", why);
    float *dx, *ax = NULL;
    int32_t *dy, *ay = NULL;
    put_batches(g, B, K, &dx, &dy);
    if (a->kind == BACKEND_GPU) put_batches(a, B, K, &ax, &ay);
    for (int s = 0; s < K; s++) {
        float la, lg;
        const float *xa = ax ? ax + (size_t)s * B * 784 : ds->x + (size_t)s * B * 784;
        const int32_t *ya = ay ? ay + (size_t)s * B : ds->y + (size_t)s * B;
        cr_assert_eq(trainer_step(&ta, xa, ya), 0, "%s", a->dev->error());
        cr_assert_eq(trainer_step(&tg, dx + (size_t)s * B * 784, dy + (size_t)s * B), 0, "%s", g->dev->error());
        trainer_loss(&ta, &la);
        trainer_loss(&tg, &lg);
        /* fp32 rounding in different summation orders: a few hundred ulps of the loss */
        float tol = dt == DT_F32 ? 1e-4f : dt == DT_F16 ? 2e-3f : 1e-2f;
        cr_expect(fabsf(la - lg) <= tol * fmaxf(1, la), "%s %s %s step %d: %s loss %g, %s loss %g", m->name, dtype_name(dt),
                  adam ? "adam" : "sgd", s, a->name, la, g->name, lg);
    }
    double gap = last_layer_gap(&ta, &tg);
    cr_expect(gap <= (dt == DT_F32 ? 1e-2 : 5e-2), "%s: last-layer weights %s vs %s differ by %g of their move", m->name,
              a->name, g->name, gap);
    g->dev->release(dx); g->dev->release(dy);
    if (ax) { a->dev->release(ax); a->dev->release(ay); }
    trainer_free(&ta);
    trainer_free(&tg);
}

Test(cuda_train, mlp_sgd_parity_with_cpu) { parity(backend_find("cpu"), cuda_or_skip(), &mlp_model, 0, DT_F32); }
Test(cuda_train, cnn_adam_parity_with_cpu) { parity(backend_find("cpu"), cuda_or_skip(), &cnn_model, 1, DT_F32); }
Test(cuda_train, cnn_cudnn_parity_with_cuda)
{
    const struct backend *dnn = cudnn_or_skip();
    parity(cuda_or_skip(), dnn, &cnn_model, 0, DT_F32);
    /* SGD: Adam's first steps move every weight by about lr whatever the gradient's size, so
     * bf16 rounding in two different convolution algorithms would flip small gradients' signs */
    parity(cuda_or_skip(), dnn, &cnn_model, 0, DT_BF16);
}

/* next_batch copies batch (count mod nbatches) and advances the count on the device. */
Test(cuda_train, next_batch_picks_by_the_device_count)
{
    const struct backend *b = cuda_or_skip();
    const int B = 3, nb = 4, xlen = 5;
    float xs[60], x[15];
    int32_t ys[12], y[3], *dstep = b->dev->alloc(4), step = 2;
    for (int i = 0; i < 60; i++) xs[i] = (float)i;
    for (int i = 0; i < 12; i++) ys[i] = 100 + i;
    float *dxs = b->dev->alloc(sizeof xs), *dx = b->dev->alloc(sizeof x);
    int32_t *dys = b->dev->alloc(sizeof ys), *dy = b->dev->alloc(sizeof y);
    cr_assert(!b->dev->upload(dxs, xs, sizeof xs) && !b->dev->upload(dys, ys, sizeof ys) && !b->dev->upload(dstep, &step, 4));
    for (int call = 0; call < 3; call++) {   /* counts 2, 3, then 4: batch 0 again */
        int k = (2 + call) % nb;
        cr_assert_eq(b->train->next_batch(dstep, nb, B, xlen, dxs, dys, dx, dy), 0, "%s", b->dev->error());
        cr_assert(!b->dev->sync() && !b->dev->download(x, dx, sizeof x) && !b->dev->download(y, dy, sizeof y));
        for (int i = 0; i < 15; i++) cr_expect_eq(x[i], (float)(k * 15 + i), "call %d x[%d]", call, i);
        for (int i = 0; i < 3; i++) cr_expect_eq(y[i], 100 + k * 3 + i, "call %d y[%d]", call, i);
    }
    cr_assert_eq(b->dev->download(&step, dstep, 4), 0);
    cr_expect_eq(step, 5);
    b->dev->release(dxs); b->dev->release(dx); b->dev->release(dys); b->dev->release(dy); b->dev->release(dstep);
}

/* adam_update_dev with the count in device memory equals adam_update with it from the host, on
 * 16-byte aligned arrays (float4 path) and on arrays one element off (scalar path). */
static void adam_run(const struct backend *b, const float *h, size_t n, int off, const int32_t *dstep, float *out)
{
    struct adam_hp hp = {1e-3f, 0.9f, 0.999f, 1e-8f, 3};
    float *d[4];
    for (int k = 0; k < 4; k++) {
        d[k] = b->dev->alloc((n + 1) * 4);
        cr_assert(d[k] && !b->dev->upload(d[k] + off, h + k * n, n * 4));
    }
    if (dstep) hp.step = 99; /* must not be read */
    int rc = dstep ? b->train->adam_update_dev(n, &hp, dstep, d[0] + off, d[1] + off, d[2] + off, d[3] + off)
                   : b->elt->adam_update(n, &hp, d[0] + off, d[1] + off, d[2] + off, d[3] + off);
    cr_assert_eq(rc, 0, "%s", b->dev->error());
    cr_assert(!b->dev->sync() && !b->dev->download(out, d[0] + off, n * 4));
    for (int k = 0; k < 4; k++) b->dev->release(d[k]);
}

Test(cuda_train, adam_with_the_step_on_the_device)
{
    const struct backend *b = cuda_or_skip();
    const size_t n = 1027;
    struct rng r;
    rng_seed(&r, 4, 4);
    float *h = malloc(4 * n * 4), *want = malloc(n * 4), *got = malloc(n * 4);
    rng_fill_uniform(&r, h, 4 * n, -1, 1);
    for (size_t i = 0; i < n; i++) h[2 * n + i] *= 0.01f, h[3 * n + i] *= h[3 * n + i] * 1e-4f;   /* warm m, v >= 0 */
    int32_t step = 3, *dstep = b->dev->alloc(4);
    cr_assert_eq(b->dev->upload(dstep, &step, 4), 0);
    adam_run(b, h, n, 0, NULL, want);
    for (int off = 0; off < 2; off++) {
        adam_run(b, h, n, off, dstep, got);
        for (size_t i = 0; i < n; i++)
            cr_expect(fabsf(got[i] - want[i]) <= 1e-6f * fmaxf(1, fabsf(want[i])), "offset %d w[%zu]: host step %g, device step %g",
                      off, i, want[i], got[i]);
    }
    free(h); free(want); free(got);
    b->dev->release(dstep);
}

/* The captured step replayed K times equals K eager steps that select batches the same way. */
static void graph_equals_eager(const struct backend *b, const struct model_spec *m, int adam, enum dtype dt)
{
    char why[256];
    struct trainer te, tg;
    const int B = 32, K = 6, NB = 4;   /* K > NB: the batch index wraps */
    float *dx, *sx = b->dev->alloc((size_t)B * 784 * 4), *ex = b->dev->alloc((size_t)B * 784 * 4);
    int32_t *dy, *sy = b->dev->alloc((size_t)B * 4), *ey = b->dev->alloc((size_t)B * 4);
    put_batches(b, B, NB, &dx, &dy);
    cr_assert_eq(trainer_init(&te, b, m, dt, B, adam, 9, why, sizeof why), 0, "%s", why);
    cr_assert_eq(trainer_init(&tg, b, m, dt, B, adam, 9, why, sizeof why), 0, "%s", why);
    /* as the workload does: one eager step (workspaces, plans), back to the start, capture */
    cr_assert_eq(trainer_step_on_device(&tg, dx, dy, NB, sx, sy), 0, "%s", b->dev->error());
    cr_assert(!b->dev->sync() && !trainer_reset(&tg));
    cr_assert_eq(b->graph->begin(), 0, "%s", b->dev->error());
    int rc = trainer_step_on_device(&tg, dx, dy, NB, sx, sy);
    cr_assert_eq(b->graph->end(), 0, "%s", b->dev->error());
    cr_assert_eq(rc, 0, "capture: %s", b->dev->error());
    for (int s = 0; s < K; s++) {
        float le, lg;
        cr_assert_eq(trainer_step_on_device(&te, dx, dy, NB, ex, ey), 0, "%s", b->dev->error());
        cr_assert_eq(b->graph->launch(), 0, "%s", b->dev->error());
        trainer_loss(&te, &le);
        trainer_loss(&tg, &lg);
        cr_expect(fabsf(le - lg) <= 1e-5f * fmaxf(1, le), "%s %s %s %s step %d: eager %g, graph %g", b->name, m->name,
                  adam ? "adam" : "sgd", dtype_name(dt), s, le, lg);
    }
    int32_t count = -1;
    cr_assert_eq(b->dev->download(&count, tg.dstep, 4), 0);
    cr_expect_eq(count, K, "the replayed step counted itself: %d", count);
    double gap = last_layer_gap(&te, &tg);
    cr_expect(gap <= 1e-4, "%s %s: weights after %d replays differ by %g of their move", b->name, m->name, K, gap);
    trainer_free(&te);
    trainer_free(&tg);
    b->dev->release(dx); b->dev->release(dy); b->dev->release(sx); b->dev->release(sy);
    b->dev->release(ex); b->dev->release(ey);
}

Test(cuda_train, graph_replay_equals_eager_steps)
{
    const struct backend *b = cuda_or_skip();
    graph_equals_eager(b, &cnn_model, 0, DT_F32);
    graph_equals_eager(b, &cnn_model, 1, DT_F32);
    graph_equals_eager(b, &mlp_model, 1, DT_BF16);
}

/* SGD only: cuDNN's fastest backward algorithms may add with atomics (not bit-reproducible), and
 * Adam would turn such last-bit differences of tiny gradients into lr-sized steps. */
Test(cuda_train, cudnn_graph_replay_equals_eager_steps)
{
    const struct backend *b = cudnn_or_skip();
    graph_equals_eager(b, &cnn_model, 0, DT_F32);
    graph_equals_eager(b, &cnn_model, 0, DT_F16);
}

/* The workload's own first step, verified at its tolerance, for every variant and dtype. */
static void workload_rows(const struct backend *b, const char *const cases[3])
{
    static const enum dtype dts[] = {DT_F32, DT_F16, DT_BF16};
    const struct workload *w = workload_find("train");
    for (int c = 0; c < 3; c++)
        for (int d = 0; d < 3; d++) {
            const struct wcase *wc = w->cases;
            while (wc->name && strcmp(wc->name, cases[c])) wc++;
            cr_assert_not_null(wc->name);
            char why[256];
            void *st = w->setup(b, wc->params, dts[d], 1, why, sizeof why);
            cr_assert_not_null(st, "%s %s %s setup: %s", b->name, cases[c], dtype_name(dts[d]), why);
            cr_assert_eq(w->call(st), 0, "%s", b->dev->error());
            double e = w->check(st, why, sizeof why), tol = w->tolerance(wc->params, dts[d]);
            cr_expect(e >= 0 && e <= tol, "%s %s %s: error %g, tolerance %g (%s)", b->name, cases[c], dtype_name(dts[d]), e, tol,
                      e < 0 ? why : "");
            cr_log_info("%s %s %s: error/tolerance %.3f", b->name, cases[c], dtype_name(dts[d]), e / tol);
            w->teardown(st);
        }
}

Test(cuda_train, workload_rows_pass_their_check)
{
    static const char *const cases[] = {"cnn.b128.sgd.resident", "cnn.b128.adam.graph", "mlp.b128.adam.transfer"};
    workload_rows(cuda_or_skip(), cases);
}

/* (the MLP has no convolution: on cudnn its rows are skipped as repeats of cuda's) */
Test(cuda_train, cudnn_workload_rows_pass_their_check)
{
    static const char *const cases[] = {"cnn.b128.sgd.resident", "cnn.b128.adam.graph", "cnn.b128.adam.transfer"};
    workload_rows(cudnn_or_skip(), cases);
}
