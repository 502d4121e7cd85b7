/* test_eltwise.c: every bandwidth/elementwise op on the CPU backend against its reference, and
 * the elementwise check rejecting a corrupted output. */
#include "eltwise_cases_test.h"
#include "workload.h"
#include <math.h>

Test(eltwise, cpu_all_ops_awkward_lengths_and_offsets) { check_all_eltwise_ops(backend_find("cpu"), DT_F32); }
Test(eltwise, cpu_softmax_layernorm_large_magnitude) { check_large_magnitude_rows(backend_find("cpu"), DT_F32); }
Test(eltwise, cpu_optimizers_over_several_steps) { check_optimizers_over_steps(backend_find("cpu")); }

/* A CPU backend whose triad writes one wrong element, or a NaN: the check must reject both. */
static int corrupt_mode;
static int bad_triad(enum dtype dt, size_t n, float s, const void *b, const void *c, void *av)
{
    float *a = av;
    backend_find("cpu")->elt->triad(dt, n, s, b, c, a);
    a[n / 2] = corrupt_mode ? NAN : a[n / 2] + 1e-3f;
    return 0;
}

Test(eltwise, check_rejects_a_wrong_element_and_a_nan)
{
    struct backend bad = *backend_find("cpu");
    struct eltwise_ops elt = *bad.elt;
    elt.triad = bad_triad;
    bad.elt = &elt;
    for (corrupt_mode = 0; corrupt_mode < 2; corrupt_mode++) {
        double r = eltwise_error_ratio(&bad, ELT_TRIAD, DT_F32, 1000003, 1, 0, 1.0f, 1, NULL);
        cr_expect(r > 1, "corruption %d passed the check (error/tolerance %g)", corrupt_mode, r);
    }
    cr_expect(eltwise_error_ratio(backend_find("cpu"), ELT_TRIAD, DT_F32, 1000003, 1, 0, 1.0f, 1, NULL) <= 1);
}
