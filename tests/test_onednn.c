/* test_onednn.c: the onednn vendor variant like every backend: GEMM (all transposes, fp32 and bf16
 * where native) and convolutions in all three directions on the awkward shapes, against the double
 * references; its table and skip reasons; and parity of training steps with the cpu backend.
 * Every test skips, saying why, where libdnnl.so.2 is absent. */
#include "conv_cases_test.h"
#include "measure.h"
#include "cpu_topology.h"
#include "dataset.h"
#include "gemm_ref.h"
#include "train.h"
#include "train_cases.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const struct backend *onednn_or_skip(void) { return backend_or_skip("onednn", "built without oneDNN's header (libdnnl-dev)"); }

static const int shapes[][3] = {{1, 1, 1}, {7, 13, 5}, {129, 65, 257}, {33, 17, 1}, {1, 300, 7}, {64, 1, 129}};

static void gemm_shapes(enum dtype dt)
{
    const struct backend *b = onednn_or_skip();
    const char *why = b->unsupported("gemm", dt);
    if (why) cr_skip_test("onednn %s: %s", dtype_name(dt), why);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int t = 0; t < 4; t++) {
            int m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
            double e = backend_gemm_error(b, dt, t & 1, t >> 1, m, n, k), tol = gemm_tolerance(dt, k);
            cr_expect(e >= 0 && e <= tol, "onednn %s %dx%dx%d ta=%d tb=%d: error %g, tolerance %g (%s)", dtype_name(dt),
                      m, n, k, t & 1, t >> 1, e, tol, e < 0 ? b->dev->error() : "");
        }
    cr_expect_not_null(b->impl(), "a GEMM says what ran");
}

Test(onednn, gemm_fp32_awkward_shapes_and_transposes) { gemm_shapes(DT_F32); }
Test(onednn, gemm_bf16_where_native) { gemm_shapes(DT_BF16); }

/* All three directions on the shared awkward shapes; a shape oneDNN has no kernel for is reported
 * (and must be rare), never passed silently. */
static void conv_shapes(enum dtype dt)
{
    const struct backend *b = onednn_or_skip();
    const char *why0 = b->unsupported("conv", dt);
    if (why0) cr_skip_test("onednn conv %s: %s", dtype_name(dt), why0);
    static const char *const names[] = {"conv_fwd", "conv_bwd_data", "conv_bwd_filter"};
    int verified = 0, total = 0;
    for (int d = 0; d < 3; d++) {
        const struct workload *w = workload_find(names[d]);
        for (size_t i = 0; i < sizeof awkward_convs / sizeof awkward_convs[0]; i++, total++) {
            char why[256];
            const struct conv_shape *s = &awkward_convs[i];
            void *st = w->setup(b, s, dt, 77 + i, why, sizeof why);
            cr_assert_not_null(st, "%s setup: %s", names[d], why);
            if (w->call(st) != 0) {
                const char *e = b->dev->error();
                cr_expect(strncmp(e, "unsupported: ", 13) == 0, "%s %s shape %zu failed: %s", names[d], dtype_name(dt), i, e);
                cr_log_warn("%s %s shape %zu skipped: %s", names[d], dtype_name(dt), i, e + 13);
            } else {
                double err = w->check(st, why, sizeof why), tol = w->tolerance(s, dt);
                cr_expect(err >= 0 && err <= tol, "onednn %s %s shape %zu: error %g, tolerance %g", names[d], dtype_name(dt), i, err, tol);
                verified++;
            }
            w->teardown(st);
        }
    }
    cr_expect_geq(verified, total - 3, "only %d of %d convolutions ran on oneDNN", verified, total);
}

Test(onednn, conv_fp32_all_directions_awkward_shapes) { conv_shapes(DT_F32); }
Test(onednn, conv_bf16_all_directions_where_native) { conv_shapes(DT_BF16); }

Test(onednn, table_and_reasons)
{
    const struct backend *b = backend_find("onednn"), *cpu = backend_find("cpu");
    if (!b) cr_skip_test("built without oneDNN's header (libdnnl-dev)");
    cr_expect_eq(b->kind, BACKEND_CPU);
    cr_expect_eq(b->base, cpu);
    cr_expect_eq(b->dev, cpu->dev, "shares the CPU's device: memory, threads, timers");
    cr_expect(backend_runs(b, "gemm") && backend_runs(b, "conv") && backend_runs(b, "train"));
    cr_expect(!backend_runs(b, "bandwidth"), "elementwise rows are the cpu backend's own");
    cr_expect_not_null(b->unsupported("gemm", DT_F16));
    cr_expect_not_null(b->unsupported("gemm", DT_TF32));
    cr_expect_null(b->unsupported("train", DT_F32));
    cr_expect((b->unsupported("conv", DT_BF16) == NULL) == (cpu_has_native_bf16() != 0));
}

/* Same initial weights and batches: onednn's steps track the cpu backend's (fp32 both). */
static void parity(const struct model_spec *m, int adam)
{
    const struct backend *d = onednn_or_skip(), *cpu = backend_find("cpu");
    char why[256];
    const struct dataset *ds = dataset_get(why, sizeof why);
    struct trainer tc, td;
    const int B = 32, K = 3;
    cr_assert_not_null(ds, "%s", why);
    cr_assert_eq(trainer_init(&tc, cpu, m, DT_F32, B, adam, 7, why, sizeof why), 0, "%s", why);
    cr_assert_eq(trainer_init(&td, d, m, DT_F32, B, adam, 7, why, sizeof why), 0, "%s", why);
    for (int s = 0; s < K; s++) {
        float lc, ld;
        const float *x = ds->x + (size_t)s * B * 784;
        const int32_t *y = ds->y + (size_t)s * B;
        cr_assert_eq(trainer_step(&tc, x, y), 0);
        cr_assert_eq(trainer_step(&td, x, y), 0, "%s", d->dev->error());
        trainer_loss(&tc, &lc);
        trainer_loss(&td, &ld);
        cr_expect(fabsf(lc - ld) <= 1e-4f * fmaxf(1, lc), "%s step %d: cpu loss %g, onednn loss %g", m->name, s, lc, ld);
    }
    trainer_free(&tc);
    trainer_free(&td);
}

Test(onednn, mlp_sgd_parity_with_cpu) { parity(&mlp_model, 0); }
Test(onednn, cnn_adam_parity_with_cpu) { parity(&cnn_model, 1); }

/* The mixed-precision step (bf16 GEMM/conv operands, fp32 master weights) on oneDNN where the CPU
 * has native bf16: the train workload's first step passes its own check (loss and update against
 * the double-precision reference). */
Test(onednn, bf16_training_step_passes_its_check, .timeout = 120)
{
    const struct backend *b = onednn_or_skip();
    const char *why0 = b->unsupported("train", DT_BF16);
    if (why0) cr_skip_test("onednn bf16 training: %s", why0);
    const struct workload *w = workload_find("train");
    static const char *const cases[] = {"mlp.b32.sgd.resident", "cnn.b32.adam.resident"};
    for (int i = 0; i < 2; i++) {
        const struct wcase *c = w->cases;
        while (c->name && strcmp(c->name, cases[i])) c++;
        cr_assert_not_null(c->name, "no case %s", cases[i]);
        char why[256];
        void *st = w->setup(b, c->params, DT_BF16, 1, why, sizeof why);
        cr_assert_not_null(st, "%s setup: %s", cases[i], why);
        cr_assert_eq(w->call(st), 0, "%s: %s", cases[i], b->dev->error());
        double e = w->check(st, why, sizeof why), tol = w->tolerance(c->params, DT_BF16);
        cr_expect(e >= 0 && e <= tol, "%s bf16 on onednn: error %g, tolerance %g (%s)", cases[i], e, tol, e < 0 ? why : "");
        w->teardown(st);
    }
}

/* Without libdnnl (here: pointed elsewhere before the first probe of this test process) the onednn
 * rows are skipped with the reason and the cpu backend's rows of the same case still run. */
Test(onednn, without_its_library_rows_are_skipped)
{
    const struct backend *d = backend_find("onednn"), *cpu = backend_find("cpu");
    if (!d) cr_skip_test("built without oneDNN's header (libdnnl-dev)");
    setenv("DLBENCH_LIBDNNL", "/nonexistent/libdnnl.so.2", 1);
    const struct workload *w = workload_find("gemm");
    const struct wcase *c = w->cases;
    while (c->name && strcmp(c->name, "sq128")) c++;
    cr_assert_not_null(c->name);
    const struct timing_opts t = {0.01, 0.05, 0.01, 60, 100000, 0};   /* warm-up: the one call */
    struct row r;
    struct timing_result tr;
    cr_assert_eq(measure_row(d, w, c->name, c->params, DT_F32, 1, &t, 42, &r, &tr), 0);
    free(tr.samples);
    cr_expect(strstr(r.status, "skipped: oneDNN library not found") == r.status, "%s", r.status);
    cr_assert_eq(measure_row(cpu, w, c->name, c->params, DT_F32, 1, &t, 42, &r, &tr), 0);
    free(tr.samples);
    cr_expect(row_measured(&r), "cpu: %s", r.status);
    unsetenv("DLBENCH_LIBDNNL");
}
