/* test_cuda_attention.c: causal attention on the GPU against the double reference on awkward
 * shapes (T = 1, T not a multiple of the tiles, d = 80, B = 1, H = 1, packed-QKV row strides), in
 * fp32/bf16/fp16 through the batched-GEMM path, and in bf16/fp16 through the fused kernels with
 * both fragment-load paths (ldmatrix and plain loads) and every variant of each pass (16 and 32
 * query rows per warp; 4 warps of 16 keys, 128 keys a block, the split layout), plus the flash
 * variant's self-test. */
#include "attention_test_util.h"
#ifdef HAVE_CUDA
#include "cuda_ops.h"
#endif

static const struct backend *flash_or_skip(void)
{
    cuda_or_skip();
    return backend_or_skip("flash", "built without the flash variant");
}

Test(cuda_attention, batched_gemm_matches_reference)
{
    const struct backend *b = cuda_or_skip();
    const enum dtype dts[] = {DT_F32, DT_BF16, DT_F16};
    for (int i = 0; i < 3; i++) {
        expect_attention_ok(b, b->attn, dts[i], attn_shape(1, 1, 1, 16, 0, 0));
        expect_attention_ok(b, b->attn, dts[i], attn_shape(2, 3, 67, 80, 0, 0));
        expect_attention_ok(b, b->attn, dts[i], attn_shape(1, 1, 130, 64, 0, 0));
        expect_attention_ok(b, b->attn, dts[i], attn_shape(2, 2, 33, 16, 2 * 2 * 16 + 8, 8));
        expect_attention_ok(b, b->attn, dts[i], attn_shape(1, 2, 200, 128, 2 * 2 * 128, 0));
    }
}

#ifdef HAVE_CUDA
static const struct attention_ops direct = {attention_workspace_flash, attention_fwd_flash, attention_bwd_flash};

/* Each variant forced: the forward's 16 and 32 query rows per warp (32 with 32-key tiles at
 * d = 128); the backward's 4 warps of 16 keys, 128 keys a block (4 warps of 32 at d = 64, 8 of 16
 * at d = 128) and the split layout (d = 64, 128; d = 80 runs its nearest below). */
static void flash_shapes(int ldmatrix)
{
    const struct backend *b = backend_find("cuda");
    const enum dtype dts[] = {DT_BF16, DT_F16};
    flash_use_ldmatrix(ldmatrix);
    for (int i = 0; i < 6; i++) {
        flash_force_mt(1 + i / 2);   /* the forward has 2: 3 runs its second */
        expect_attention_ok(b, &direct, dts[i % 2], attn_shape(1, 1, 1, 64, 0, 0));
        expect_attention_ok(b, &direct, dts[i % 2], attn_shape(2, 3, 67, 80, 0, 0));
        expect_attention_ok(b, &direct, dts[i % 2], attn_shape(1, 1, 130, 64, 0, 0));
        expect_attention_ok(b, &direct, dts[i % 2], attn_shape(2, 2, 100, 128, 2 * 2 * 128, 0));
        expect_attention_ok(b, &direct, dts[i % 2], attn_shape(1, 1, 300, 128, 0, 0));
        expect_attention_ok(b, &direct, dts[i % 2], attn_shape(1, 2, 200, 64, 2 * 2 * 64 + 8, 8));
    }
    flash_force_mt(0);
}

Test(cuda_attention, flash_plain_loads_match_reference) { flash_or_skip(); flash_shapes(0); }
Test(cuda_attention, flash_ldmatrix_matches_reference) { flash_or_skip(); flash_shapes(1); }
#endif

static void put_info(void *user, const char *section, const char *key, const char *value)
{
    (void)section;
    if (!strcmp(key, "fragment_loads")) snprintf(user, 200, "%s", value);
}

/* Through the variant's table: its first call runs the ldmatrix-vs-plain self-test. */
Test(cuda_attention, flash_variant_self_test_and_table)
{
    const struct backend *f = flash_or_skip();
    cr_expect_null(f->unsupported("attention", DT_BF16));
    cr_expect_not_null(f->unsupported("attention", DT_F32), "fp32 is not a fused-kernel dtype");
    expect_attention_ok(f, f->attn, DT_BF16, attn_shape(3, 2, 150, 64, 0, 0));
    char note[200] = "";
    f->info(put_info, note);
    cr_expect(strstr(note, "ldmatrix (agrees") != NULL, "fragment loads: %s", note);
}
