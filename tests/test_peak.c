/* test_peak.c: the CPU ceiling loops run the widest path cpuid allows, whatever -march this test
 * binary was built with (the portable x86-64-v3 build included), and they compute. */
#include "cpu_ops.h"
#include "cpu_features.h"
#include "backend.h"
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

Test(peak, fp32_loop_follows_cpuid_not_the_build)
{
    const char *path = peak_path_cpu(DT_F32), *isa = vec_isa_name(cpu_vec_isa(cpu_features()));
    cr_assert_not_null(path);
    cr_expect(strncmp(path, isa, strlen(isa)) == 0, "loop runs '%s' but the CPU allows %s", path, isa);
#ifndef __AVX512F__
    if (cpu_vec_isa(cpu_features()) == ISA_AVX512)
        cr_log_info("built without -mavx512f, the loop still runs %s", path);
#endif
    float sink = 0;
    cr_expect_eq(peak_cpu(DT_F32, 1000, &sink), 0);
    cr_expect(isfinite(sink) && sink != 0, "sink %g", sink);
    cr_expect_gt(peak_flops_per_iter_cpu(DT_F32), 0);
}

Test(peak, bf16_loop_on_the_widest_bf16_path)
{
    enum bf16_path p = cpu_bf16_path(cpu_features());
    const char *path = peak_path_cpu(DT_BF16);
    if (p == BF16_NONE) {
        cr_expect_null(path);
        cr_expect_neq(peak_cpu(DT_BF16, 10, &(float){0}), 0, "no bf16 path: the loop refuses");
        cr_skip_test("no native bf16 on this CPU");
    }
    cr_assert_not_null(path);
    char why[160];
    if (p == BF16_AMX && cpu_amx_enable(why, sizeof why) == 0)
        cr_expect(strstr(path, "AMX") != NULL, "%s", path);
    else
        cr_expect(strstr(path, "AVX512-BF16") != NULL, "%s", path);
    float sink = 0;
    cr_expect_eq(peak_cpu(DT_BF16, 1000, &sink), 0);
    cr_expect(isfinite(sink) && sink != 0, "sink %g", sink);
    cr_expect_gt(peak_flops_per_iter_cpu(DT_BF16), 0);
}

Test(peak, no_loop_for_formats_the_cpu_lacks)
{
    cr_expect_null(peak_path_cpu(DT_F16));
    cr_expect_null(peak_path_cpu(DT_TF32));
    cr_expect_eq(peak_flops_per_iter_cpu(DT_F16), 0);
}
