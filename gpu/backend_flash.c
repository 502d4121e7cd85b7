/* backend_flash.c: the fused-attention variant of the GPU backend: the CUDA backend's device,
 * stream, memory and timers with only the attention table, run by dlbench's flash-style kernels
 * (gpu/flash_cuda.cu, fp16/bf16, sm_80+), reported beside the batched-GEMM attention of `cuda`.
 * Before the first use, one small forward+backward runs with ldmatrix fragment loads and with
 * plain loads: they must agree (bit for bit where the order of sums is fixed), else the plain
 * loads are used and `info` says so. */
#include "backend.h"
#include "cuda_check.h"
#include "cuda_ops.h"
#include "cuda_state.h"
#include "rng.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct backend cuda_backend;
extern const struct device_ops cuda_device;

static int state;          /* 0 unprobed, 1 usable, -1 not */
static int tested;         /* the ldmatrix self-test: 0 not yet, 1 done */
static char why_not[256], ldm_note[160] = "not yet run";

static int flash_probe(char *why, size_t n)
{
    if (state == 0) {
        char w[256];
        if (!cuda_backend.probe(w, sizeof w)) { snprintf(why_not, sizeof why_not, "%s", w); state = -1; }
        else if (cuda_cc < 80) {
            snprintf(why_not, sizeof why_not, "the fused kernel needs sm_80 or newer (bf16 mma.sync); GPU 0 is sm_%d", cuda_cc);
            state = -1;
        } else state = 1;
    }
    if (state < 0 && why) snprintf(why, n, "%s", why_not);
    return state > 0;
}

static const char *flash_unsupported(const char *family, enum dtype dt)
{
    if (strcmp(family, "attention") != 0) return "the flash variant runs attention only";
    if (dt != DT_F16 && dt != DT_BF16) return "the fused kernel is fp16/bf16 (tensor cores)";
    return NULL;
}

static void flash_info(info_put_fn put, void *u)
{
    char v[256];
    if (!flash_probe(v, sizeof v)) { put(u, "flash", "status", v); return; }
    put(u, "flash", "status", "available");
    put(u, "flash", "kernel", "FlashAttention-2 style, mma.sync m16n8k16, 64-row query / 64-key tiles, head dims 64, 80, 128");
    put(u, "flash", "fragment_loads", ldm_note);
}

/* q, k, v, dO of (1, 80, 2, 64) bf16; outputs of both load paths compared. */
static int self_test(void)
{
    const struct device_ops *d = &cuda_device;
    const struct attn_shape s = {1, 2, 80, 64, 128, 128};
    const size_t n = 80 * 128, bytes = n * 2, nl = 160;
    float *h = malloc(n * sizeof(float)), *got[2][5];
    uint16_t *packed = malloc(bytes);
    void *in[4] = {0}, *out[2][4] = {{0}}, *ws = NULL;
    float *lse[2] = {0};
    struct rng r;
    int rc = -1;
    memset(got, 0, sizeof got);
    rng_seed(&r, 5, 5);
    for (int i = 0; i < 4 && h && packed; i++) {
        rng_fill_uniform(&r, h, n, -1, 1);
        dtype_pack(DT_BF16, h, packed, n);
        if (!(in[i] = d->alloc(bytes)) || d->upload(in[i], packed, bytes)) goto out;
    }
    if (!(ws = d->alloc(attention_workspace_flash(DT_BF16, &s)))) goto out;
    for (int p = 0; p < 2; p++) {
        for (int i = 0; i < 4; i++) if (!(out[p][i] = d->alloc(bytes))) goto out;
        if (!(lse[p] = d->alloc(nl * sizeof(float)))) goto out;
        flash_use_ldmatrix(p == 0);
        if (attention_fwd_flash(DT_BF16, &s, in[0], in[1], in[2], out[p][0], lse[p], ws) ||
            attention_bwd_flash(DT_BF16, &s, in[0], in[1], in[2], out[p][0], in[3], lse[p], out[p][1], out[p][2], out[p][3], ws) ||
            d->sync())
            goto out;
        for (int i = 0; i < 4; i++) {
            if (!(got[p][i] = malloc(n * sizeof(float))) || d->download(packed, out[p][i], bytes)) goto out;
            dtype_unpack(DT_BF16, packed, got[p][i], n);
        }
        if (!(got[p][4] = malloc(nl * sizeof(float))) || d->download(got[p][4], lse[p], nl * sizeof(float))) goto out;
    }
    /* o, dk, dv, lse: fixed summation order, so bit-equal; dq: fp32 atomics in any order */
    int same = !memcmp(got[0][0], got[1][0], n * 4) && !memcmp(got[0][2], got[1][2], n * 4) &&
               !memcmp(got[0][3], got[1][3], n * 4) && !memcmp(got[0][4], got[1][4], nl * 4);
    double dmax = 0, emax = 0;
    for (size_t i = 0; i < n; i++) { dmax = fmax(dmax, fabs(got[1][1][i])); emax = fmax(emax, fabs(got[0][1][i] - got[1][1][i])); }
    same = same && emax <= 1e-2 * dmax;
    flash_use_ldmatrix(same);
    snprintf(ldm_note, sizeof ldm_note, "%s", same ? "ldmatrix (agrees with plain loads)"
                                                   : "plain 32-bit loads: the ldmatrix path disagreed in the self-test");
    rc = 0;
out:
    if (rc) snprintf(ldm_note, sizeof ldm_note, "self-test could not run: %s", d->error());
    for (int i = 0; i < 4; i++) d->release(in[i]);
    for (int p = 0; p < 2; p++) {
        for (int i = 0; i < 4; i++) d->release(out[p][i]);
        d->release(lse[p]);
        for (int i = 0; i < 5; i++) free(got[p][i]);
    }
    d->release(ws);
    free(h);
    free(packed);
    return rc;
}

static int ready(void)
{
    if (!tested) {
        tested = 1;
        if (self_test() != 0) return -1;
    }
    return 0;
}

/* The impl note (backend.h, 160 characters): the fragment loads and the variant each pass ran
 * (flash_cuda.cu's notes; a forward starts a row's note, so a forward+backward row names both),
 * forgotten when read. */
static char fwd_part[160], bwd_part[160], impl_out[420];   /* the row keeps its first 160 */
static const char *flash_impl(void)
{
    if (!fwd_part[0] && !bwd_part[0]) return "";
    snprintf(impl_out, sizeof impl_out, "fused kernel, mma.sync, %s%s%s%s%s",
             flash_uses_ldmatrix() ? "ldmatrix" : "plain loads (ldmatrix failed its self-test)", fwd_part[0] ? "; fwd: " : "", fwd_part,
             bwd_part[0] ? "; bwd: " : "", bwd_part);
    fwd_part[0] = bwd_part[0] = 0;
    return impl_out;
}

static int fwd_flash(enum dtype dt, const struct attn_shape *s, const void *q, const void *k, const void *v, void *o, float *lse, void *ws)
{
    if (ready()) return -1;
    int rc = attention_fwd_flash(dt, s, q, k, v, o, lse, ws);
    snprintf(fwd_part, sizeof fwd_part, "%s", flash_fwd_note());
    bwd_part[0] = 0;
    return rc;
}

static int bwd_flash(enum dtype dt, const struct attn_shape *s, const void *q, const void *k, const void *v, const void *o,
                     const void *dout, const float *lse, void *dq, void *dk, void *dv, void *ws)
{
    if (ready()) return -1;
    int rc = attention_bwd_flash(dt, s, q, k, v, o, dout, lse, dq, dk, dv, ws);
    snprintf(bwd_part, sizeof bwd_part, "%s", flash_bwd_note());
    return rc;
}

static const struct attention_ops flash_attention = {.workspace = attention_workspace_flash, .fwd = fwd_flash, .bwd = bwd_flash};

const struct backend flash_backend = {
    .name = "flash",
    .kind = BACKEND_GPU,
    .base = &cuda_backend,
    .probe = flash_probe,
    .info = flash_info,
    .unsupported = flash_unsupported,
    .impl = flash_impl,
    .dev = &cuda_device,
    .attn = &flash_attention,
};
