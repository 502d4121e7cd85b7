/* eltwise_cases_test.h: the shapes every backend's elementwise tests run (shared by the CPU and
 * CUDA test files): lengths 1, 7, 1000003 and an unaligned start; rows of 1, 3, 32, 33, 1024 (one
 * warp per row on the GPU) and 1027 (one block per row); each dtype the op offers. */
#ifndef DLBENCH_ELTWISE_CASES_TEST_H
#define DLBENCH_ELTWISE_CASES_TEST_H
#include "eltwise_cases.h"
#include "testutil.h"
#include <criterion/criterion.h>

/* dot and the optimizer updates are fp32 only */
static int op_has_dtype(int op, enum dtype dt) { return dt == DT_F32 || !(op == ELT_DOT || op == ELT_SGD || op == ELT_ADAM); }

static void check_all_eltwise_ops(const struct backend *b, enum dtype dt)
{
    static const long lengths[] = {1, 7, 1000003};
    for (int op = 0; op < ELT_OP_COUNT; op++) {
        if (!op_has_dtype(op, dt)) continue;
        if (elt_ops[op].row_op) {
            static const int cols[] = {1, 3, 32, 33, 1024, 1027};
            for (int c = 0; c < 6; c++)
                for (int off = 0; off < 2; off++) {
                    double r = eltwise_error_ratio(b, op, dt, 5L * cols[c], cols[c], off, 1.0f, 1, NULL);
                    cr_expect(r >= 0 && r <= 1, "%s %s %s rows of %d offset %d: error/tolerance %g", b->name,
                              elt_ops[op].name, dtype_name(dt), cols[c], off, r);
                }
            continue;
        }
        for (int l = 0; l < 3; l++)
            for (int off = 0; off < 2; off++) {
                double r = eltwise_error_ratio(b, op, dt, lengths[l], 1, off, 1.0f, 1, NULL);
                cr_expect(r >= 0 && r <= 1, "%s %s %s n=%ld offset %d: error/tolerance %g", b->name, elt_ops[op].name,
                          dtype_name(dt), lengths[l], off, r);
            }
    }
}

/* exp(x - max) must not overflow: inputs of magnitude 1000 (rows of 1027 and 1024). */
static void check_large_magnitude_rows(const struct backend *b, enum dtype dt)
{
    for (int op = ELT_SOFTMAX; op <= ELT_LAYERNORM; op++)
        for (int cols = 1024; cols <= 1027; cols += 3) {
            double r = eltwise_error_ratio(b, op, dt, 4L * cols, cols, 0, 1000.0f, 1, NULL);
            cr_expect(r >= 0 && r <= 1, "%s %s %s rows of %d at magnitude 1000: error/tolerance %g", b->name,
                      elt_ops[op].name, dtype_name(dt), cols, r);
        }
}

static void check_optimizers_over_steps(const struct backend *b)
{
    double r = eltwise_error_ratio(b, ELT_ADAM, DT_F32, 100003, 1, 0, 1.0f, 7, NULL);
    cr_expect(r >= 0 && r <= 1, "%s adam after 7 steps: error/tolerance %g", b->name, r);
    r = eltwise_error_ratio(b, ELT_SGD, DT_F32, 100003, 1, 1, 1.0f, 5, NULL);
    cr_expect(r >= 0 && r <= 1, "%s sgd after 5 steps: error/tolerance %g", b->name, r);
}
#endif
