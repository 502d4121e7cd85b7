/* test_train_mixed.c: the mixed-precision training step (fp16/bf16 GEMM and conv operands, fp32
 * master weights) run on the CPU through an emulating backend: the CPU's tables with GEMM and conv
 * that unpack fp16/bf16 inputs to fp32 (exact, as a tensor core's products are) and round a conv's
 * output back to the dtype. Checks that every GEMM/conv of the step runs in the dtype, that the
 * workload's check passes at its tolerance (and how much margin it has), and that a corrupted
 * low-precision copy of the weights is caught. */
#include "testutil.h"
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "dataset.h"
#include "train.h"
#include "train_cases.h"
#include "workload.h"
#include "eta.h"
#include <stdio.h>

static const struct backend *cpu(void) { return backend_find("cpu"); }
static int calls_low, calls_f32, corrupt_weights;

static float *unpack_copy(enum dtype dt, const void *src, size_t n)
{
    float *f = malloc(n * 4);
    dtype_unpack(dt, src, f, n);
    return f;
}

static int gemm_emul(enum dtype dt, int ta, int tb, int m, int n, int k, const void *a, const void *b, float *c)
{
    if (dt == DT_F32) { calls_f32++; return cpu()->mm->gemm(dt, ta, tb, m, n, k, a, b, c); }
    calls_low++;
    float *fa = unpack_copy(dt, a, (size_t)m * k), *fb = unpack_copy(dt, b, (size_t)k * n);
    if (corrupt_weights) fb[0] += 0.25f; /* b is the weight operand in every forward GEMM */
    int rc = cpu()->mm->gemm(DT_F32, ta, tb, m, n, k, fa, fb, c);
    free(fa); free(fb);
    return rc;
}

/* One direction of a conv through the CPU's fp32 one, output rounded to dt. */
static int conv_emul(enum conv_dir d, enum dtype dt, const struct conv_shape *s, const void *a, const void *b, void *out)
{
    size_t x = conv_x_elems(s), w = conv_w_elems(s), y = conv_y_elems(s);
    size_t na = d == CONV_BWD_DATA ? y : x, nb = d == CONV_BWD_FILTER ? y : w, no = d == CONV_FWD ? y : d == CONV_BWD_DATA ? x : w;
    const struct conv_ops *c = cpu()->conv;
    if (dt == DT_F32) {
        calls_f32++;
        return d == CONV_FWD ? c->fwd(dt, s, a, b, out) : d == CONV_BWD_DATA ? c->bwd_data(dt, s, a, b, out) : c->bwd_filter(dt, s, a, b, out);
    }
    calls_low++;
    float *fa = unpack_copy(dt, a, na), *fb = unpack_copy(dt, b, nb), *fo = malloc(no * 4);
    int rc = d == CONV_FWD ? c->fwd(DT_F32, s, fa, fb, fo) : d == CONV_BWD_DATA ? c->bwd_data(DT_F32, s, fa, fb, fo)
                                                             : c->bwd_filter(DT_F32, s, fa, fb, fo);
    dtype_pack(dt, fo, out, no);
    free(fa); free(fb); free(fo);
    return rc;
}
static int fwd_emul(enum dtype dt, const struct conv_shape *s, const void *x, const void *w, void *y) { return conv_emul(CONV_FWD, dt, s, x, w, y); }
static int bwd_data_emul(enum dtype dt, const struct conv_shape *s, const void *dy, const void *w, void *dx) { return conv_emul(CONV_BWD_DATA, dt, s, dy, w, dx); }
static int bwd_filter_emul(enum dtype dt, const struct conv_shape *s, const void *x, const void *dy, void *dw) { return conv_emul(CONV_BWD_FILTER, dt, s, x, dy, dw); }

static const struct matmul_ops mm_emul = {.gemm = gemm_emul};
static const struct conv_ops conv_emul_ops = {.fwd = fwd_emul, .bwd_data = bwd_data_emul, .bwd_filter = bwd_filter_emul};

static struct backend emul_backend(void)
{
    struct backend b = *cpu();
    b.name = "emul";
    b.mm = &mm_emul;
    b.conv = &conv_emul_ops;
    return b;
}

/* The workload's first, verified step on the emulating backend; returns error / tolerance. */
static double step_error_ratio(const struct backend *b, const char *case_name, enum dtype dt)
{
    const struct workload *w = workload_find("train");
    const struct wcase *c = w->cases;
    while (c->name && strcmp(c->name, case_name)) c++;
    cr_assert_not_null(c->name, "no case %s", case_name);
    char why[256];
    void *st = w->setup(b, c->params, dt, 1, why, sizeof why);
    cr_assert_not_null(st, "%s %s setup: %s", case_name, dtype_name(dt), why);
    cr_assert_eq(w->call(st), 0);
    double e = w->check(st, why, sizeof why), tol = w->tolerance(c->params, dt);
    cr_assert(e >= 0, "%s", why);
    w->teardown(st);
    return e / tol;
}

Test(train_mixed, every_gemm_and_conv_runs_in_the_dtype_and_the_check_passes, .timeout = 120)
{
    struct backend b = emul_backend();
    static const char *const cases[] = {"mlp.b32.sgd.resident", "cnn.b32.adam.resident"};
    static const enum dtype dts[] = {DT_BF16, DT_F16};
    for (int d = 0; d < 2; d++)
        for (int i = 0; i < 2; i++) {
            calls_low = calls_f32 = 0;
            double r = step_error_ratio(&b, cases[i], dts[d]);
            cr_expect(calls_low > 0 && calls_f32 == 0, "%s %s: %d GEMM/conv calls in the dtype, %d in fp32", cases[i],
                      dtype_name(dts[d]), calls_low, calls_f32);
            cr_expect(r <= 1, "%s %s: error/tolerance %g", cases[i], dtype_name(dts[d]), r);
            cr_log_info("%s %s: error/tolerance %.3f", cases[i], dtype_name(dts[d]), r);
        }
}

/* A wrong low-precision copy of the weights must fail the check (the tolerance is not so loose). */
Test(train_mixed, check_catches_a_corrupted_weight, .timeout = 60)
{
    struct backend b = emul_backend();
    corrupt_weights = 1;
    double r = step_error_ratio(&b, "mlp.b32.sgd.resident", DT_BF16);
    corrupt_weights = 0;
    cr_expect(r > 1, "a weight off by 0.25 passed: error/tolerance %g", r);
}

/* The first step's double reference is computed once per model, batch and initial weights and
 * shared by every row that checks that step; another batch or model gets its own, and a shared one
 * still fails a wrong step. */
Test(train_mixed, rows_of_one_step_share_its_reference_and_no_other, .timeout = 120)
{
    struct backend b = emul_backend();
    const struct backend *cpu_b = cpu();
    cr_expect_eq(train_step_refs_computed(), 0);
    cr_expect(step_error_ratio(cpu_b, "mlp.b32.sgd.resident", DT_F32) <= 1);
    cr_expect(step_error_ratio(cpu_b, "mlp.b32.adam.resident", DT_F32) <= 1);
    cr_expect(step_error_ratio(cpu_b, "mlp.b32.sgd.transfer", DT_F32) <= 1);
    cr_expect(step_error_ratio(&b, "mlp.b32.sgd.resident", DT_BF16) <= 1);
    cr_expect_eq(train_step_refs_computed(), 1, "one MLP b32 step: %d references", train_step_refs_computed());
    cr_expect(step_error_ratio(cpu_b, "mlp.b128.sgd.resident", DT_F32) <= 1);
    cr_expect(step_error_ratio(cpu_b, "cnn.b32.sgd.resident", DT_F32) <= 1);
    cr_expect_eq(train_step_refs_computed(), 3, "another batch, another model: %d", train_step_refs_computed());
    corrupt_weights = 1;
    double r = step_error_ratio(&b, "mlp.b32.sgd.resident", DT_BF16);
    corrupt_weights = 0;
    cr_expect(r > 1, "a wrong step passed against the shared reference: error/tolerance %g", r);
    cr_expect_eq(train_step_refs_computed(), 3);
}

/* What the run's estimate knows of that sharing: rows of one model and batch have one check key,
 * another batch or model another, a GPT case none (its check is its own). */
Test(train_mixed, the_estimate_counts_a_shared_reference_once)
{
    const struct workload *w = workload_find("train");
    const void *p[5] = {0};
    static const char *const names[5] = {"mlp.b128.sgd.resident", "mlp.b128.adam.graph", "mlp.b32.sgd.resident",
                                         "cnn.b128.sgd.resident", "gpt.tiny.b8"};
    for (int i = 0; i < 5; i++) {
        const struct wcase *c = wcase_find(w, names[i]);
        cr_assert_not_null(c, "%s", names[i]);
        p[i] = c->params;
    }
    cr_assert_not_null(w->check_key);
    cr_expect(w->check_key(p[0]) != 0 && w->check_key(p[0]) == w->check_key(p[1]));
    cr_expect(w->check_key(p[2]) != w->check_key(p[0]) && w->check_key(p[3]) != w->check_key(p[0]));
    cr_expect_eq(w->check_key(p[4]), 0);
    cr_expect(eta_check_seconds(w, p[3], DT_F32) > eta_check_seconds(w, p[0], DT_F32), "a CNN's reference costs more than an MLP's");
}

/* Over 12 steps the bf16 step follows the fp32 one: same data, same initial weights. */
Test(train_mixed, bf16_steps_track_fp32, .timeout = 120)
{
    struct backend b = emul_backend();
    char why[256];
    const struct dataset *ds = dataset_get(why, sizeof why);
    cr_assert_not_null(ds, "%s", why);
    struct trainer t32, t16;
    const int B = 16, K = 12;
    cr_assert_eq(trainer_init(&t32, &b, &cnn_model, DT_F32, B, 1, 3, why, sizeof why), 0, "%s", why);
    cr_assert_eq(trainer_init(&t16, &b, &cnn_model, DT_BF16, B, 1, 3, why, sizeof why), 0, "%s", why);
    float l32 = 0, l16 = 0;
    for (int s = 0; s < K; s++) {
        size_t off = (size_t)s * B;
        cr_assert_eq(trainer_step(&t32, ds->x + off * 784, ds->y + off), 0);
        cr_assert_eq(trainer_step(&t16, ds->x + off * 784, ds->y + off), 0);
    }
    trainer_loss(&t32, &l32);
    trainer_loss(&t16, &l16);
    cr_expect(fabsf(l32 - l16) <= 0.05f * l32, "after %d Adam steps: fp32 loss %g, bf16 loss %g", K, l32, l16);
    trainer_free(&t32);
    trainer_free(&t16);
}
