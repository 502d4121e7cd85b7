/* test_cuda_gpt.c: the GPT step on the GPU: its layer ops (fp32, bf16) against the references, a
 * whole fp32 step's gradients against the double reference, a bf16 step (flash attention) close to
 * it, CPU/GPU parity of the loss over the first steps, a CUDA-graph replay equal to eager steps,
 * and the workload's own first-step check in fp32 and bf16. */
#include "gpt_test_util.h"
#include "tokens.h"
#include "train_cases.h"
#include "workload.h"

Test(cuda_gpt, transformer_ops_match_references)
{
    const struct backend *b = cuda_or_skip();
    check_transformer_ops(b, DT_F32);
    check_transformer_ops(b, DT_BF16);
}

Test(cuda_gpt, fp32_step_gradients_match_reference)
{
    const struct gpt_config c = {"micro", 2, 16, 2, 7, 11};
    double gerr, lerr = gpt_step_error(cuda_or_skip(), DT_F32, &c, 3, &gerr);
    cr_expect(lerr <= 1e-5, "loss relative error %g", lerr);
    cr_expect(gerr <= 1e-4, "gradient error %g", gerr);
}

Test(cuda_gpt, bf16_step_close_to_reference)
{
    const struct gpt_config c = {"small", 2, 128, 2, 70, 300};   /* d = 64: the fused kernel where it runs */
    double gerr, lerr = gpt_step_error(cuda_or_skip(), DT_BF16, &c, 2, &gerr);
    cr_expect(lerr <= 3e-2, "loss relative error %g", lerr);
    cr_expect(gerr <= 0.15, "gradient error %g", gerr);
}

static float *run_steps(const struct backend *b, const struct gpt_config *c, int B, enum dtype dt, int K, int graph)
{
    struct gpt_trainer t;
    char why[256];
    size_t N = (size_t)B * c->T;
    const struct token_set *ts = tokens_get(c->V, N * K + 1, why, sizeof why);
    cr_assert(ts, "%s", why);
    cr_assert_eq(gpt_init(&t, b, c, B, dt, 11, why, sizeof why), 0, "%s", why);
    int32_t *dtok = b->dev->alloc((N * K + 1) * sizeof(int32_t)), *slot = b->dev->alloc((N + 1) * sizeof(int32_t));
    cr_assert(dtok && slot && b->dev->upload(dtok, ts->tok, (N * K + 1) * sizeof(int32_t)) == 0);
    float *loss = malloc(K * sizeof(float));
    if (graph) {
        cr_assert(b->xfer->d2d(slot, dtok, (N + 1) * 4) == 0 && gpt_step(&t, slot) == 0 && b->dev->sync() == 0 && gpt_reset(&t) == 0);
        cr_assert(b->graph->begin() == 0 && gpt_step(&t, slot) == 0 && b->graph->end() == 0, "%s", b->dev->error());
    }
    for (int s = 0; s < K; s++) {
        if (graph) cr_assert(b->xfer->d2d(slot, dtok + N * s, (N + 1) * 4) == 0 && b->graph->launch() == 0, "%s", b->dev->error());
        else cr_assert_eq(gpt_step(&t, dtok + N * s), 0, "%s", b->dev->error());
        cr_assert_eq(gpt_loss(&t, &loss[s]), 0);
    }
    b->dev->release(dtok);
    b->dev->release(slot);
    gpt_free(&t);
    return loss;
}

Test(cuda_gpt, cpu_gpu_loss_parity_fp32)
{
    const struct backend *gpu = cuda_or_skip(), *cpu = backend_find("cpu");
    const struct gpt_config c = {"parity", 2, 64, 2, 64, 500};
    float *lc = run_steps(cpu, &c, 4, DT_F32, 5, 0), *lg = run_steps(gpu, &c, 4, DT_F32, 5, 0);
    for (int s = 0; s < 5; s++) cr_expect(fabsf(lc[s] - lg[s]) <= 1e-4f * lc[s], "step %d: cpu loss %g, gpu loss %g", s, lc[s], lg[s]);
    free(lc);
    free(lg);
}

/* A replayed graph must advance AdamW's step count and read each new batch. */
Test(cuda_gpt, graph_replay_matches_eager_steps)
{
    const struct backend *gpu = cuda_or_skip();
    const struct gpt_config c = {"graph", 2, 128, 2, 64, 500};
    for (int bf = 0; bf < 2; bf++) {
        enum dtype dt = bf ? DT_BF16 : DT_F32;
        float *le = run_steps(gpu, &c, 2, dt, 4, 0), *lg = run_steps(gpu, &c, 2, dt, 4, 1);
        for (int s = 0; s < 4; s++)
            cr_expect(fabsf(le[s] - lg[s]) <= 1e-3f * le[s], "%s step %d: eager %g, graph %g", dtype_name(dt), s, le[s], lg[s]);
        free(le);
        free(lg);
    }
}

/* The train workload's gpt.tiny case, fp32 and bf16: setup, one step, its own verification. */
Test(cuda_gpt, workload_first_step_verifies)
{
    const struct backend *gpu = cuda_or_skip();
    const struct workload *w = workload_find("train");
    for (const struct wcase *c = w->cases; c->name; c++) {
        if (strcmp(c->name, "gpt.tiny.b8") != 0) continue;
        for (int bf = 0; bf < 2; bf++) {
            enum dtype dt = bf ? DT_BF16 : DT_F32;
            char why[256] = "";
            void *st = w->setup(gpu, c->params, dt, 1, why, sizeof why);
            cr_assert(st, "%s: %s", dtype_name(dt), why);
            cr_assert_eq(w->call(st), 0, "%s", gpu->dev->error());
            double e = w->check(st, why, sizeof why);
            cr_expect(e >= 0 && e <= w->tolerance(c->params, dt), "%s: error %g (tolerance %g) %s", dtype_name(dt), e,
                      w->tolerance(c->params, dt), why);
            w->teardown(st);
        }
    }
}
