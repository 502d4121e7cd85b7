/* test_cuda_conv.c: convolution on the CUDA backend, all directions and dtypes, awkward shapes;
 * skipped without a usable GPU. */
#include "conv_cases_test.h"

Test(cuda_conv, fp32) { check_convs(cuda_or_skip(), DT_F32); }
Test(cuda_conv, fp16) { check_convs(cuda_or_skip(), DT_F16); }
Test(cuda_conv, bf16) { check_convs(cuda_or_skip(), DT_BF16); }

/* The vendor variant (cuDNN, fp32) against the same references; skipped without it or a GPU. */
Test(cuda_conv, cudnn_variant_fp32)
{
    const struct backend *b = backend_find("cudnn");
    char why[256];
    if (!b) cr_skip_test("built without cuDNN");
    if (!b->probe(why, sizeof why)) cr_skip_test("no usable GPU: %s", why);
    check_convs(b, DT_F32);
}
