/* test_cuda_eltwise.c: every bandwidth/elementwise op on the CUDA backend against its reference;
 * skipped without a usable GPU. */
#include "eltwise_cases_test.h"

Test(cuda_eltwise, all_ops_awkward_lengths_and_offsets) { check_all_eltwise_ops(cuda_or_skip()); }
Test(cuda_eltwise, softmax_layernorm_large_magnitude) { check_large_magnitude_rows(cuda_or_skip()); }
Test(cuda_eltwise, optimizers_over_several_steps) { check_optimizers_over_steps(cuda_or_skip()); }
