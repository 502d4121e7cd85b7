/* eltwise_cases_test.h: the shapes every backend's elementwise tests run (shared by the CPU and
 * CUDA test files): lengths 1, 7, 1000003 and an unaligned start; rows of 1, 3, 1027. */
#ifndef DLBENCH_ELTWISE_CASES_TEST_H
#define DLBENCH_ELTWISE_CASES_TEST_H
#include "eltwise_cases.h"
#include "testutil.h"
#include <criterion/criterion.h>

static void check_all_eltwise_ops(const struct backend *b)
{
    static const long lengths[] = {1, 7, 1000003};
    for (int op = 0; op < ELT_OP_COUNT; op++) {
        if (elt_ops[op].row_op) {
            static const int cols[] = {1, 3, 1027};
            for (int c = 0; c < 3; c++)
                for (int off = 0; off < 2; off++) {
                    double r = eltwise_error_ratio(b, op, 5L * cols[c], cols[c], off, 1.0f, 1, NULL);
                    cr_expect(r >= 0 && r <= 1, "%s %s rows of %d offset %d: error/tolerance %g", b->name,
                              elt_ops[op].name, cols[c], off, r);
                }
            continue;
        }
        for (int l = 0; l < 3; l++)
            for (int off = 0; off < 2; off++) {
                double r = eltwise_error_ratio(b, op, lengths[l], 1, off, 1.0f, 1, NULL);
                cr_expect(r >= 0 && r <= 1, "%s %s n=%ld offset %d: error/tolerance %g", b->name, elt_ops[op].name,
                          lengths[l], off, r);
            }
    }
}

/* exp(x - max) must not overflow: inputs of magnitude 1000 (rows of 1027). */
static void check_large_magnitude_rows(const struct backend *b)
{
    for (int op = ELT_SOFTMAX; op <= ELT_LAYERNORM; op++) {
        double r = eltwise_error_ratio(b, op, 4L * 1027, 1027, 0, 1000.0f, 1, NULL);
        cr_expect(r >= 0 && r <= 1, "%s %s at magnitude 1000: error/tolerance %g", b->name, elt_ops[op].name, r);
    }
}

static void check_optimizers_over_steps(const struct backend *b)
{
    double r = eltwise_error_ratio(b, ELT_ADAM, 100003, 1, 0, 1.0f, 7, NULL);
    cr_expect(r >= 0 && r <= 1, "%s adam after 7 steps: error/tolerance %g", b->name, r);
    r = eltwise_error_ratio(b, ELT_SGD, 100003, 1, 1, 1.0f, 5, NULL);
    cr_expect(r >= 0 && r <= 1, "%s sgd after 5 steps: error/tolerance %g", b->name, r);
}
#endif
