/* test_cuda_conv.c: convolution on the CUDA backend and its cuDNN variant, all directions, every
 * dtype (fp32, tf32, fp16, bf16: fp16/bf16 outputs converted for the check), awkward shapes, the
 * lowering cut into several chunks, and the impl notes; skipped without a usable GPU. */
#include "conv_cases_test.h"
#include <stdlib.h>
#include <string.h>

static const struct backend *cudnn_or_skip(void)
{
    cuda_or_skip();
    return backend_or_skip("cudnn", "built without cuDNN");
}

Test(cuda_conv, fp32) { check_convs(cuda_or_skip(), DT_F32); }
Test(cuda_conv, tf32) { check_convs(cuda_or_skip(), DT_TF32); }
Test(cuda_conv, fp16) { check_convs(cuda_or_skip(), DT_F16); }
Test(cuda_conv, bf16) { check_convs(cuda_or_skip(), DT_BF16); }

/* A 24000-byte lowering budget: 2 images per chunk for the 5-image shape (2, 2, 1), so the
 * backward-filter accumulates across chunks and the last chunk is smaller. */
Test(cuda_conv, several_chunks)
{
    setenv("DLBENCH_CONV_WS_MAX", "24000", 1);   /* read once, by this test's own process */
    check_convs(cuda_or_skip(), DT_F32);
    check_convs(cuda_or_skip(), DT_BF16);
}

Test(cuda_conv, cudnn_fp32) { check_convs(cudnn_or_skip(), DT_F32); }
Test(cuda_conv, cudnn_tf32) { check_convs(cudnn_or_skip(), DT_TF32); }
Test(cuda_conv, cudnn_fp16) { check_convs(cudnn_or_skip(), DT_F16); }
Test(cuda_conv, cudnn_bf16) { check_convs(cudnn_or_skip(), DT_BF16); }

/* Each backend names what it ran; the note is handed out once. cuDNN's comes from its search and
 * stays with the cached plan for later calls of the same case. */
Test(cuda_conv, impl_notes_name_the_algorithm)
{
    const struct backend *backs[] = {cuda_or_skip(), backend_find("cudnn")};
    const struct workload *w = workload_find("conv_bwd_filter");
    const struct conv_shape s = {4, 3, 9, 9, 5, 3, 3, 1, 1, 1};
    char why[256];
    for (int i = 0; i < 2; i++) {
        const struct backend *b = backs[i];
        if (!b || !b->probe(why, sizeof why)) continue;
        void *st = w->setup(b, &s, DT_F32, 5, why, sizeof why);
        cr_assert_not_null(st, "%s", why);
        b->impl();
        for (int call = 0; call < 2; call++) {
            cr_assert_eq(w->call(st), 0, "%s", b->dev->error());
            const char *note = b->impl();
            cr_expect(strlen(note) > 10, "%s call %d left no impl note", b->name, call);
            if (i == 1) cr_expect(strstr(note, "cuDNN find: ") != NULL, "%s", note);
            cr_expect_str_eq(b->impl(), "", "%s: the note is handed out once", b->name);
        }
        w->teardown(st);
    }
}
