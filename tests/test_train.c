/* test_train.c: the training step: finite-difference checks of each layer's backward in double,
 * the CPU layer ops against their references, the loss falling over 200 CPU steps, the IDX loader
 * (good and malformed files). The price table and costs: test_prices.c. */
#include "train_test_util.h"
#include "cpu_ops.h"
#include "dataset.h"
#include "train.h"
#include "train_cases.h"
#include "measure.h"
#include <math.h>
#include <stdio.h>
#include <unistd.h>

/* Central differences of L(v) = Σ f(v)·g against an analytic gradient, every `stride` element. */
typedef double (*loss_fn)(const double *v, void *ctx);
static void fd_check(const char *what, double *v, size_t n, const double *grad, loss_fn L, void *ctx, size_t stride)
{
    const double h = 1e-6;
    for (size_t i = 0; i < n; i += stride) {
        double keep = v[i];
        v[i] = keep + h; double lp = L(v, ctx);
        v[i] = keep - h; double lm = L(v, ctx);
        v[i] = keep;
        double fd = (lp - lm) / (2 * h);
        cr_expect(fabs(fd - grad[i]) < 1e-6 * fmax(1, fabs(fd)), "%s[%zu]: finite difference %g, backward %g", what, i, fd, grad[i]);
    }
}

struct pool_ctx { const double *g; };
static double pool_loss(const double *x, void *c)
{
    double y[27], l = 0;
    maxpool2_ref(3, 7, 6, x, y);
    for (int i = 0; i < 27; i++) l += y[i] * ((struct pool_ctx *)c)->g[i];
    return l;
}

struct xent_ctx { const int32_t *lab; };
static double xent_loss(const double *z, void *c) { return softmax_xent_ref(5, 13, z, ((struct xent_ctx *)c)->lab, NULL); }

/* linear layer y (4, 6) = x (4, 5) · Wᵀ + b, W (6, 5): L = Σ y·g */
struct lin_ctx { const double *x, *w, *g; int which; };
static double lin_loss(const double *v, void *c)
{
    struct lin_ctx *k = c;
    const double *x = k->which == 0 ? v : k->x, *w = k->which == 1 ? v : k->w, *b = k->which == 2 ? v : k->w + 30;
    double l = 0;
    for (int n = 0; n < 4; n++)
        for (int o = 0; o < 6; o++) {
            double y = b[o];
            for (int i = 0; i < 5; i++) y += x[n * 5 + i] * w[o * 5 + i];
            l += y * k->g[n * 6 + o];
        }
    return l;
}

Test(train, layer_backwards_match_finite_differences)
{
    struct rng r;
    rng_seed(&r, 3, 3);
    double x[126], g[27], dx[126];
    for (int i = 0; i < 126; i++) x[i] = 2 * rng_uniform(&r) - 1;
    for (int i = 0; i < 27; i++) g[i] = 2 * rng_uniform(&r) - 1;
    maxpool2_bwd_ref(3, 7, 6, x, g, dx);
    struct pool_ctx pc = {g};
    fd_check("maxpool dx", x, 126, dx, pool_loss, &pc, 1);

    double z[65], dz[65];
    int32_t lab[5] = {1, 12, 0, 5, 5};
    for (int i = 0; i < 65; i++) z[i] = 8 * rng_uniform(&r) - 4;
    softmax_xent_ref(5, 13, z, lab, dz);
    struct xent_ctx xc = {lab};
    fd_check("softmax-xent dz", z, 65, dz, xent_loss, &xc, 1);

    /* linear: dW = gᵀ·x, db = Σ g (bias_bwd_ref), dx = g·W — as the trainer computes them */
    double lx[20], lw[36], lg[24], dW[30] = {0}, dxl[20] = {0}, db[6];
    float gf[24];
    for (int i = 0; i < 20; i++) lx[i] = 2 * rng_uniform(&r) - 1;
    for (int i = 0; i < 36; i++) lw[i] = 2 * rng_uniform(&r) - 1;
    for (int i = 0; i < 24; i++) gf[i] = (float)(2 * rng_uniform(&r) - 1), lg[i] = gf[i];
    for (int n = 0; n < 4; n++)
        for (int o = 0; o < 6; o++)
            for (int i = 0; i < 5; i++) { dW[o * 5 + i] += lg[n * 6 + o] * lx[n * 5 + i]; dxl[n * 5 + i] += lg[n * 6 + o] * lw[o * 5 + i]; }
    bias_bwd_ref(4, 6, 1, gf, db);
    struct lin_ctx lc = {lx, lw, lg, 0};
    fd_check("linear dx", lx, 20, dxl, lin_loss, &lc, 1);
    lc.which = 1;
    fd_check("linear dW", lw, 30, dW, lin_loss, &lc, 1);
    lc.which = 2;
    fd_check("linear db", lw + 30, 6, db, lin_loss, &lc, 1);
}

Test(train, cpu_layer_ops_match_references) { check_train_layers(backend_find("cpu")); }

/* The CPU's vectorised max-pool on rows of 18 windows (two 8-wide steps and a tail), an odd height
 * and width, values from four levels (ties in most windows: the first maximum wins, as in the
 * reference's backward) and NaNs first and last in a window (chosen only where first). */
Test(train, cpu_maxpool_ties_nans_and_wide_rows)
{
    enum { P = 2, H = 9, W = 37, HO = 4, WO = 18, NX = P * H * W, NY = P * HO * WO };
    float x[NX], y[NY], dy[NY], dx[NX];
    double xd[NX], yd[NY], dyd[NY], dxd[NX];
    uint8_t idx[NY];
    struct rng r;
    rng_seed(&r, 5, 5);
    for (int i = 0; i < NX; i++) x[i] = (float)(int)(4 * rng_uniform(&r));
    x[0] = NAN;           /* window (0, 0, 0): first */
    x[3 * W + 3] = NAN;   /* window (0, 1, 1): last */
    for (int i = 0; i < NY; i++) dy[i] = (float)(i + 1);
    for (int i = 0; i < NX; i++) xd[i] = x[i];
    for (int i = 0; i < NY; i++) dyd[i] = dy[i];
    cr_assert_eq(maxpool2_fwd_cpu(P, H, W, x, y, idx), 0);
    cr_assert_eq(maxpool2_bwd_cpu(P, H, W, dy, idx, dx), 0);
    maxpool2_ref(P, H, W, xd, yd);
    maxpool2_bwd_ref(P, H, W, xd, dyd, dxd);
    cr_expect(isnan(y[0]) && idx[0] == 0, "a NaN first in its window is the maximum: %g (%d)", y[0], idx[0]);
    cr_expect(!isnan(y[WO + 1]) && idx[WO + 1] != 3, "a NaN last in its window is passed over: %g (%d)", y[WO + 1], idx[WO + 1]);
    for (int i = 1; i < NY; i++) cr_expect_eq(y[i], (float)yd[i], "maxpool y[%d]", i);
    for (int i = 0; i < NX; i++) cr_expect_eq(dx[i], (float)dxd[i], "maxpool dx[%d]: the gradient goes to the first maximum", i);
}

Test(train, loss_falls_over_200_cpu_steps, .timeout = 120)
{
    const struct backend *b = backend_find("cpu");
    char why[256];
    const struct dataset *ds = dataset_get(why, sizeof why);
    cr_assert_not_null(ds, "%s", why);
    struct trainer t;
    const int B = 64;
    cr_assert_eq(trainer_init(&t, b, &mlp_model, DT_F32, B, 0, 1, why, sizeof why), 0, "%s", why);
    double first = 0, last = 0;
    for (int s = 0; s < 200; s++) {
        float loss;
        size_t off = (size_t)s * B;
        cr_assert_eq(trainer_step(&t, ds->x + off * 784, ds->y + off), 0);
        cr_assert_eq(trainer_loss(&t, &loss), 0);
        if (s < 20) first += loss / 20;
        if (s >= 180) last += loss / 20;
    }
    cr_expect(first > 2.0, "starts near ln 10: %g", first);
    cr_expect(last < 0.75 * first, "loss must fall clearly: first 20 steps %g, last 20 %g", first, last);
    trainer_free(&t);
}

static void write_file(const char *path, const unsigned char *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, n, f);
    fclose(f);
}

/* IDX files for `count` images; corrupt: 0 none, 1 bad magic, 2 truncated, 3 label 11, 4 count mismatch, 5 16x16 */
static char *make_idx(int count, int corrupt)
{
    char *dir = temp_dir(), path[512];
    int side = corrupt == 5 ? 16 : 28;
    size_t n = 16 + (size_t)count * side * side;
    unsigned char *img = calloc(n, 1), lab[64] = {0, 0, 8, 1};
    img[2] = 8; img[3] = 3;
    img[7] = (unsigned char)count; img[11] = (unsigned char)side; img[15] = (unsigned char)side;
    for (size_t i = 16; i < n; i++) img[i] = (unsigned char)(i * 7);
    int nl = corrupt == 4 ? count - 1 : count;
    lab[7] = (unsigned char)nl;
    for (int i = 0; i < nl; i++) lab[8 + i] = (unsigned char)(i % 10);
    if (corrupt == 1) img[0] = 0x1f;
    if (corrupt == 3) lab[9] = 11;
    snprintf(path, sizeof path, "%s/train-images-idx3-ubyte", dir);
    write_file(path, img, corrupt == 2 ? n - 100 : n);
    snprintf(path, sizeof path, "%s/train-labels-idx1-ubyte", dir);
    write_file(path, lab, 8 + nl);
    free(img);
    return dir;
}

Test(train, idx_loader_reads_good_files_and_names_bad_ones)
{
    char why[512];
    struct dataset d;
    char *dir = make_idx(12, 0);
    cr_assert_eq(dataset_load_idx(&d, dir, why, sizeof why), 0, "%s", why);
    cr_expect_eq(d.n, 12);
    cr_expect_float_eq(d.x[1], (17 * 7 % 256) / 255.0f, 1e-7);
    cr_expect_eq(d.y[11], 1);
    dataset_free(&d);
    free(dir);
    const char *expect[] = {NULL, "bad magic", "header says", "not a digit", "labels for", "expected 28x28"};
    for (int c = 1; c <= 5; c++) {
        dir = make_idx(12, c);
        cr_expect_eq(dataset_load_idx(&d, dir, why, sizeof why), -1, "corruption %d accepted", c);
        cr_expect(strstr(why, expect[c]) && strstr(why, dir), "corruption %d: %s", c, why);
        free(dir);
    }
    cr_expect_eq(dataset_load_idx(&d, "/nonexistent", why, sizeof why), -1);
}


/* Only the MLP/CNN cases (and every data-parallel one) train on the image set, so a run of GPT
 * cases alone neither makes the 47 M-draw synthetic set nor records it in system.json. */
Test(train, only_image_cases_ask_for_the_image_set)
{
    const struct workload *w = workload_find("train"), *dp = workload_find("dp-train");
    cr_assert(w && w->uses_images && dp && dp->uses_images);
    int gpt = 0, images = 0;
    for (const struct wcase *c = w->cases; c->name; c++) {
        int is_gpt = strncmp(c->name, "gpt", 3) == 0;
        cr_expect_eq(w->uses_images(c->params), !is_gpt, "train/%s: uses_images %d", c->name, w->uses_images(c->params));
        gpt += is_gpt, images += !is_gpt;
    }
    cr_expect(gpt > 0 && images > 0, "both kinds of case: %d gpt, %d image", gpt, images);
    for (const struct wcase *c = dp->cases; c->name; c++) cr_expect(dp->uses_images(c->params), "dp-train/%s", c->name);
}

/* The CPU backend has no transfer or graph table: the transfer variant copies with its upload, the
 * graph variant is skipped with the reason (both used to dereference the missing tables). */
Test(train, cpu_runs_the_transfer_variant_and_skips_the_graph_one)
{
    const struct workload *w = workload_find("train");
    struct timing_opts t = {0.001, 0.01, 0.5, 60, 5, 0};   /* warm-up: the one call */
    for (const struct wcase *c = w->cases; c->name; c++) {
        if (strcmp(c->name, "mlp.b32.sgd.transfer") && strcmp(c->name, "mlp.b32.sgd.graph")) continue;
        struct row r;
        struct timing_result tr;
        measure_row(backend_find("cpu"), w, c->name, c->params, DT_F32, 1, &t, 1, &r, &tr);
        free(tr.samples);
        if (strstr(c->name, "graph")) cr_expect(!strncmp(r.status, "skipped: ", 9), "%s: %s", c->name, r.status);
        else cr_expect(row_measured(&r), "%s: %s", c->name, r.status);
    }
}
