/* test_backend.c: the backend contract as the harness applies it: a vendor variant runs only the
 * families where it brings its own tables (and no training step of a model that uses none of
 * them); an op failing with an "unsupported: " error makes the
 * row skipped with that reason; the impl note an op leaves lands in the row and never in a later
 * row. */
#include "results.h"
#include "measure.h"
#include "testutil.h"
#include "workload.h"
#include <criterion/criterion.h>
#include <string.h>

static const struct backend *cpu(void) { return backend_find("cpu"); }

Test(backend, a_variant_runs_only_families_with_its_own_tables)
{
    struct conv_ops own_conv = *cpu()->conv;
    struct backend v = *cpu();
    v.name = "variant";
    v.base = cpu();
    cr_expect(!backend_runs(&v, "gemm") && !backend_runs(&v, "conv") && !backend_runs(&v, "train") && !backend_runs(&v, "bandwidth"),
              "a variant with only its base's tables repeats nothing");
    v.conv = &own_conv;
    cr_expect(backend_runs(&v, "conv"), "its own convolutions run");
    cr_expect(backend_runs(&v, "train"), "so does the step built on them");
    cr_expect(!backend_runs(&v, "gemm") && !backend_runs(&v, "bandwidth"), "its base's GEMM and eltwise rows are not repeated");
    cr_expect(backend_runs(cpu(), "gemm") && backend_runs(cpu(), "train"), "a base backend runs what it has");
}

/* A backend whose forward convolution leaves an impl note and then fails as unsupported. */
static char fake_note[64], fake_err[96];
static int taken;
static const char *fake_impl(void)
{
    static char out[64];
    snprintf(out, sizeof out, "%s", fake_note);
    fake_note[0] = 0;
    taken++;
    return out;
}
static const char *fake_error(void) { return fake_err; }
static int fwd_unsupported(enum dtype dt, const struct conv_shape *s, const void *x, const void *w, void *y)
{
    (void)dt; (void)s; (void)x; (void)w; (void)y;
    snprintf(fake_note, sizeof fake_note, "tried algorithm X");
    snprintf(fake_err, sizeof fake_err, "%sno algorithm for this shape", BACKEND_UNSUPPORTED);
    return -1;
}
static int fwd_ok(enum dtype dt, const struct conv_shape *s, const void *x, const void *w, void *y)
{
    snprintf(fake_note, sizeof fake_note, "lowering Y");
    return cpu()->conv->fwd(dt, s, x, w, y);
}

static void measure(const struct backend *b, struct row *r)
{
    static const struct conv_shape s = {1, 2, 5, 5, 3, 3, 3, 1, 1, 1};
    const struct timing_opts t = {0.01, 0.05, 0.5, 10, 50, 0};   /* warm-up: the one call */
    struct timing_result tr;
    measure_row(b, workload_find("conv_fwd"), "tiny", &s, DT_F32, 1, &t, 1, r, &tr);
    free(tr.samples);
}

Test(backend, unsupported_errors_skip_the_row_and_impl_notes_stay_with_their_row)
{
    struct device_ops dev = *cpu()->dev;
    struct conv_ops conv = *cpu()->conv;
    struct backend b = *cpu();
    struct row r;
    dev.error = fake_error;
    conv.fwd = fwd_unsupported;
    b.dev = &dev;
    b.conv = &conv;
    b.impl = fake_impl;
    measure(&b, &r);
    cr_expect_str_eq(r.status, "skipped: no algorithm for this shape");
    cr_expect_str_eq(r.impl, "tried algorithm X");
    conv.fwd = fwd_ok;
    measure(&b, &r);
    cr_expect(!strcmp(r.status, "ok") || !strcmp(r.status, "noisy"), "%s", r.status);
    cr_expect_str_eq(r.impl, "lowering Y");
    /* a note left behind (by the timed calls above) is dropped before the next row's call */
    snprintf(fake_note, sizeof fake_note, "stale");
    conv.fwd = cpu()->conv->fwd;
    measure(&b, &r);
    cr_expect_str_eq(r.impl, "", "a stale note reached another row: %s", r.impl);
    cr_expect(taken >= 6);
}

Test(backend, a_conv_variant_skips_models_without_convolutions)
{
    struct conv_ops own_conv = *cpu()->conv;
    struct backend v = *cpu();
    v.name = "variant";
    v.base = cpu();
    v.conv = &own_conv;
    const struct workload *w = workload_find("train");
    const struct wcase *c = w->cases;
    while (c->name && strcmp(c->name, "mlp.b32.sgd.resident")) c++;
    cr_assert_not_null(c->name);
    char why[256] = "";
    void *st = w->setup(&v, c->params, DT_F32, 1, why, sizeof why);
    cr_expect_null(st, "the MLP step would repeat the base's rows");
    cr_expect(strncmp(why, "unsupported: ", 13) == 0 && strstr(why, "no convolution"), "%s", why);
    if (st) w->teardown(st);
}
