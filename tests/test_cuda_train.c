/* test_cuda_train.c: the training-layer ops on the GPU against their references, and CPU/GPU
 * parity: same initial weights and batches give the same losses and weights after 5 steps. */
#include "train_test_util.h"
#include "dataset.h"
#include "train.h"
#include "train_cases.h"

Test(cuda_train, layer_ops_match_references) { check_train_layers(cuda_or_skip()); }

static void parity(const struct model_spec *m, int adam)
{
    const struct backend *gpu = cuda_or_skip(), *cpu = backend_find("cpu");
    char why[256];
    const struct dataset *ds = dataset_get(why, sizeof why);
    struct trainer tc, tg;
    const int B = 32, K = 5;
    cr_assert_eq(trainer_init(&tc, cpu, m, B, adam, 7, why, sizeof why), 0, "%s", why);
    cr_assert_eq(trainer_init(&tg, gpu, m, B, adam, 7, why, sizeof why), 0, "%s", why);
    float *dx = gpu->dev->alloc((size_t)B * K * 784 * 4), *dy = gpu->dev->alloc((size_t)B * K * 4);
    gpu->dev->upload(dx, ds->x, (size_t)B * K * 784 * 4);
    gpu->dev->upload(dy, ds->y, (size_t)B * K * 4);
    for (int s = 0; s < K; s++) {
        float lc, lg;
        cr_assert_eq(trainer_step(&tc, ds->x + (size_t)s * B * 784, ds->y + (size_t)s * B), 0);
        cr_assert_eq(trainer_step(&tg, dx + (size_t)s * B * 784, (int32_t *)dy + (size_t)s * B), 0, "%s", gpu->dev->error());
        trainer_loss(&tc, &lc);
        trainer_loss(&tg, &lg);
        /* fp32 rounding in different summation orders: a few hundred ulps of the loss */
        cr_expect(fabsf(lc - lg) <= 1e-4f * fmaxf(1, lc), "%s step %d: cpu loss %g, gpu loss %g", m->name, s, lc, lg);
    }
    int last = m->nlayers - 1;
    size_t np = tc.nparam[last];
    float *wc = malloc(np * 4), *wg = malloc(np * 4);
    cpu->dev->download(wc, tc.p[last], np * 4);
    gpu->dev->download(wg, tg.p[last], np * 4);
    double dmax = 0, emax = 0;
    for (size_t i = 0; i < np; i++) { dmax = fmax(dmax, fabs(wc[i] - tc.host_init[last][i])); emax = fmax(emax, fabs(wc[i] - wg[i])); }
    cr_expect(emax <= 1e-2 * dmax, "%s: last-layer weights differ by %g after moving %g", m->name, emax, dmax);
    free(wc); free(wg);
    gpu->dev->release(dx); gpu->dev->release(dy);
    trainer_free(&tc);
    trainer_free(&tg);
}

Test(cuda_train, mlp_sgd_parity) { parity(&mlp_model, 0); }
Test(cuda_train, cnn_adam_parity) { parity(&cnn_model, 1); }
