/* train_test_util.h: shared by the CPU and CUDA training tests: the training-layer ops of a
 * backend against kernels/train_ref on small awkward shapes, and a few steps of a model. */
#ifndef DLBENCH_TRAIN_TEST_UTIL_H
#define DLBENCH_TRAIN_TEST_UTIL_H
#include "testutil.h"
#include "train_ref.h"
#include "rng.h"
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static float *dev_put(const struct backend *b, const void *h, size_t bytes)
{
    float *d = b->dev->alloc(bytes);
    cr_assert(d && b->dev->upload(d, h, bytes) == 0, "%s", b->dev->error());
    return d;
}

static void check_train_layers(const struct backend *b)
{
    struct rng r;
    rng_seed(&r, 9, 9);
    /* bias gradient over (outer, ch, inner): a convolution's (3, 5, 7), and dense layers' (inner 1):
     * one row, a strip and a part (70 columns), the MLP's 128 x 1024 (threaded) */
    static const int bias_shapes[][3] = {{3, 5, 7}, {1, 1, 1}, {130, 70, 1}, {128, 1024, 1}};
    for (size_t t = 0; t < sizeof bias_shapes / sizeof *bias_shapes; t++) {
        int o = bias_shapes[t][0], ch = bias_shapes[t][1], in = bias_shapes[t][2];
        size_t ny = (size_t)o * ch * in;
        float *dy = malloc(ny * sizeof *dy), *db = malloc(ch * sizeof *db);
        double *ref = malloc(ch * sizeof *ref);
        cr_assert(dy && db && ref);
        rng_fill_uniform(&r, dy, ny, -1, 1);
        float *d_dy = dev_put(b, dy, ny * sizeof *dy), *d_db = b->dev->alloc(ch * sizeof *db);
        cr_assert_eq(b->train->bias_bwd(o, ch, in, d_dy, d_db), 0);
        b->dev->sync();
        b->dev->download(db, d_db, ch * sizeof *db);
        bias_bwd_ref(o, ch, in, dy, ref);
        for (int i = 0; i < ch; i++)
            cr_expect(fabs(db[i] - ref[i]) < 1e-5 * fmax(1, fabs(ref[i])) + 1e-5, "%s bias_bwd (%d, %d, %d)[%d] %g vs %g", b->name, o, ch,
                      in, i, db[i], ref[i]);
        b->dev->release(d_dy); b->dev->release(d_db);
        free(dy); free(db); free(ref);
    }
    /* max-pool 2x2 on 3 planes of 7x6 (odd height: the last row is dropped) */
    {
        const int P = 3, H = 7, W = 6, ny = P * 3 * 3;
        float x[126], y[27], dy[27], dx[126];
        double xd[126], yd[27], dyd[27], dxd[126];
        uint8_t *idx;
        rng_fill_uniform(&r, x, 126, -1, 1);
        rng_fill_uniform(&r, dy, 27, -1, 1);
        for (int i = 0; i < 126; i++) xd[i] = x[i];
        for (int i = 0; i < 27; i++) dyd[i] = dy[i];
        float *d_x = dev_put(b, x, sizeof x), *d_y = b->dev->alloc(sizeof y), *d_dy = dev_put(b, dy, sizeof dy), *d_dx = b->dev->alloc(sizeof dx);
        idx = b->dev->alloc(ny);
        cr_assert_eq(b->train->maxpool2_fwd(P, H, W, d_x, d_y, idx), 0);
        cr_assert_eq(b->train->maxpool2_bwd(P, H, W, d_dy, idx, d_dx), 0);
        b->dev->sync();
        b->dev->download(y, d_y, sizeof y);
        b->dev->download(dx, d_dx, sizeof dx);
        maxpool2_ref(P, H, W, xd, yd);
        maxpool2_bwd_ref(P, H, W, xd, dyd, dxd);
        for (int i = 0; i < ny; i++) cr_expect_eq(y[i], (float)yd[i], "%s maxpool y[%d]", b->name, i);
        for (int i = 0; i < 126; i++) cr_expect_eq(dx[i], (float)dxd[i], "%s maxpool dx[%d]", b->name, i);
        b->dev->release(d_x); b->dev->release(d_y); b->dev->release(d_dy); b->dev->release(d_dx); b->dev->release(idx);
    }
    /* softmax cross-entropy, 5 rows of 13 classes, logits up to ±50 (no overflow) */
    {
        float z[65], dz[65], losses[5], loss;
        double zd[65], dzd[65];
        int32_t lab[5] = {0, 12, 3, 3, 7};
        rng_fill_uniform(&r, z, 65, -50, 50);
        for (int i = 0; i < 65; i++) zd[i] = z[i];
        float *d_z = dev_put(b, z, sizeof z), *d_dz = b->dev->alloc(sizeof dz), *d_l = b->dev->alloc(sizeof losses), *d_m = b->dev->alloc(4);
        int32_t *d_lab = (int32_t *)dev_put(b, lab, sizeof lab);
        cr_assert_eq(b->train->softmax_xent(5, 13, d_z, d_lab, d_l, d_m, d_dz), 0);
        b->dev->sync();
        b->dev->download(dz, d_dz, sizeof dz);
        b->dev->download(&loss, d_m, 4);
        double ref = softmax_xent_ref(5, 13, zd, lab, dzd);
        cr_expect(fabs(loss - ref) <= 1e-5 * fmax(1, ref), "%s loss %g vs %g", b->name, loss, ref);
        for (int i = 0; i < 65; i++) cr_expect(fabs(dz[i] - dzd[i]) < 1e-6, "%s dz[%d] %g vs %g", b->name, i, dz[i], dzd[i]);
        b->dev->release(d_z); b->dev->release(d_dz); b->dev->release(d_l); b->dev->release(d_m); b->dev->release(d_lab);
    }
}
#endif
