/* verify_faults_test.h: planted faults that the bounded checks must catch, on any backend's path
 * (the CPU and CUDA test files share this): one NaN at a random position of a large output (the
 * NaN/Inf scan), one wrong element in the smaller fully-checked instance (the full check), and a
 * wrong stripe, every 64th element, at the timed size (the samples). Faults are written through
 * the backend's own upload/download, so the same code plants them in host or device memory. */
#ifndef DLBENCH_VERIFY_FAULTS_TEST_H
#define DLBENCH_VERIFY_FAULTS_TEST_H
#include "eltwise_cases.h"
#include "measure.h"
#include "rng.h"
#include "testutil.h"
#include "verify.h"
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum fault { FAULT_NONE, FAULT_NAN_LARGE, FAULT_WRONG_SMALL, FAULT_STRIPE_LARGE };
static enum fault planted;
static const struct backend *fault_base;   /* the real backend whose op is wrapped */
static size_t nan_at;                      /* where FAULT_NAN_LARGE put its NaN */

/* Corrupts the output y (n floats in backend memory) as `planted` says. */
static int plant(size_t n, float *y)
{
    const struct device_ops *d = fault_base->dev;
    int large = n > VERIFY_FULL_MAX;
    if (planted == FAULT_NAN_LARGE && large) {
        float v = NAN;
        return d->upload(y + nan_at % n, &v, 4);
    }
    if (planted == FAULT_WRONG_SMALL && !large) {
        float v;
        if (d->download(&v, y + n / 3, 4)) return -1;
        v += 0.01f;
        return d->upload(y + n / 3, &v, 4);
    }
    if (planted == FAULT_STRIPE_LARGE && large) {
        float *h = malloc(n * 4);
        int rc = !h || d->download(h, y, n * 4);
        for (size_t i = 17; !rc && i < n; i += 64) h[i] += 0.01f;
        rc = rc || d->upload(y, h, n * 4);
        free(h);
        return rc ? -1 : 0;
    }
    return 0;
}

/* fp32 rows only (measure_faulty runs DT_F32): plant() edits the output as floats. */
static int faulty_triad(enum dtype dt, size_t n, float s, const void *b, const void *c, void *a)
{
    return fault_base->elt->triad(dt, n, s, b, c, a) || fault_base->dev->sync() ? -1 : plant(n, a);
}

static int faulty_softmax(enum dtype dt, int rows, int cols, const void *x, void *y)
{
    return fault_base->elt->softmax_fwd(dt, rows, cols, x, y) || fault_base->dev->sync() ? -1 : plant((size_t)rows * cols, y);
}

/* One row through measure_row on base with triad and softmax wrapped; the row's status. */
static void measure_faulty(const struct backend *base, enum fault f, enum elt_op op, struct row *r)
{
    static struct backend bad;
    static struct eltwise_ops elt;
    struct timing_opts t = {0.001, 0.01, 0.5, 60, 20, 0};   /* warm-up: the one call */
    struct timing_result tr;
    long cols = op == ELT_SOFTMAX ? 1024 : 1;
    struct eltwise_shape s = {op, 5L << 20, (int)cols, 0, 1.0f};   /* 5 Mi elements: above VERIFY_FULL_MAX */
    struct rng rg;
    fault_base = base;
    bad = *base;
    elt = *base->elt;
    elt.triad = faulty_triad;
    elt.softmax_fwd = faulty_softmax;
    bad.elt = &elt;
    planted = f;
    rng_seed(&rg, (uint64_t)f * 7919, 99);
    nan_at = (size_t)(rng_next(&rg) % (uint64_t)s.n);
    const struct workload *w = workload_find(op == ELT_TRIAD ? "stream" : "eltwise");
    measure_row(&bad, w, "planted", &s, DT_F32, 2, &t, 42, r, &tr);
    free(tr.samples);
}

static void check_planted_faults(const struct backend *b)
{
    static const enum elt_op ops[] = {ELT_TRIAD, ELT_SOFTMAX};
    for (int k = 0; k < 2; k++) {
        struct row r;
        const char *op = elt_ops[ops[k]].name;
        measure_faulty(b, FAULT_NONE, ops[k], &r);
        cr_expect(row_measured(&r), "%s %s without a fault: %s", b->name, op, r.status);
        cr_expect(strstr(r.check, "full at") && strstr(r.check, "sample") && strstr(r.check, "NaN/Inf scan"),
                  "%s %s: the check says what it did: %s", b->name, op, r.check);
        measure_faulty(b, FAULT_NAN_LARGE, ops[k], &r);
        cr_expect(strstr(r.status, "failed") && strstr(r.status, "NaN/Inf"), "%s %s NaN at %zu: %s", b->name, op, nan_at, r.status);
        measure_faulty(b, FAULT_WRONG_SMALL, ops[k], &r);
        cr_expect(strstr(r.status, "failed: smaller instance") != NULL, "%s %s one wrong element in the smaller instance: %s",
                  b->name, op, r.status);
        measure_faulty(b, FAULT_STRIPE_LARGE, ops[k], &r);
        cr_expect(strstr(r.status, "failed: error") != NULL, "%s %s stripe every 64th element: %s", b->name, op, r.status);
    }
}
#endif
