/* test_cuda_conv.c: convolution on the CUDA backend, all directions and dtypes, awkward shapes;
 * skipped without a usable GPU. */
#include "conv_cases_test.h"

Test(cuda_conv, fp32) { check_convs(cuda_or_skip(), DT_F32); }
Test(cuda_conv, fp16) { check_convs(cuda_or_skip(), DT_F16); }
Test(cuda_conv, bf16) { check_convs(cuda_or_skip(), DT_BF16); }
