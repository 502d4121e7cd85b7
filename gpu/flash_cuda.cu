/* flash_cuda.cu: the flash variant's launchers (fused causal attention, fp16/bf16): shape checks,
 * the workspace (fp32 dQ accumulator and the rows' dO·O), the backward's row-dot and dQ-conversion
 * kernels around the fused kernels of flash_kernels.cuh, and the choice of fragment loads. */
#include "cuda_ops.h"
#include "cuda_state.h"
#include "xf_cuda.cuh"
#include "flash_kernels.cuh"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <type_traits>

static int use_ldm = 1;
extern "C" void flash_use_ldmatrix(int on) { use_ldm = on; }
extern "C" int flash_uses_ldmatrix(void) { return use_ldm; }

/* dq = scale · the fp32 accumulator ((B, T, H, d) packed) in dt with dq's row stride. */
template <class T>
__global__ void flash_dq_kernel(size_t total, int H, int d, long ld, float scale, const float *__restrict__ acc, T *__restrict__ dq)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        size_t bt = i / ((size_t)H * d);
        int rem = (int)(i % ((size_t)H * d));
        dq[bt * ld + rem] = from_f32<T>(acc[i] * scale);
    }
}

/* Workspace: the fp32 dQ accumulator (B, T, H, d) and D (B, H, T). */
extern "C" size_t attention_workspace_flash(enum dtype dt, const struct attn_shape *s)
{
    (void)dt;
    return ((size_t)s->B * s->T * s->H * s->d + (size_t)s->B * s->H * s->T) * sizeof(float) + 256;
}

/* Shapes the kernels take: head dimension 64, 80 or 128; rows 16-byte aligned; B·H in a grid column. */
static int check_shape(enum dtype dt, const struct attn_shape *s, const void *const *ptrs, int n)
{
    if (dt != DT_BF16 && dt != DT_F16) { cuda_set_error("flash: the fused kernel is fp16/bf16 only, not %s", dtype_name(dt)); return -1; }
    if (s->d != 64 && s->d != 80 && s->d != 128) { cuda_set_error("flash: head dimension %d (built for 64, 80, 128)", s->d); return -1; }
    if (s->ld_in % 8 || s->ld_out % 8) { cuda_set_error("flash: row strides must be multiples of 8 elements"); return -1; }
    for (int i = 0; i < n; i++)
        if ((uintptr_t)ptrs[i] & 15) { cuda_set_error("flash: tensors must be 16-byte aligned"); return -1; }
    if ((long)s->B * s->H > 65535 || s->T < 1) { cuda_set_error("flash: B·H = %ld exceeds a grid column (65535)", (long)s->B * s->H); return -1; }
    return 0;
}

template <class K> static int allow_smem(K kernel, size_t bytes)
{
    if (bytes > 48 * 1024) CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes));
    return 0;
}

template <class T, int D, int LD, int MT>
static int fwd_launch_mt(const struct attn_shape *s, const void *q, const void *k, const void *v, void *o, float *lse)
{
    static int ready;   /* the opt-in shared-memory size, set once (outside any graph capture: eager steps run first) */
    size_t smem = flash_fwd_smem(D, MT);
    if (!ready) { if (allow_smem(flash_fwd_kernel<T, D, LD, MT>, smem)) return -1; ready = 1; }
    dim3 grid((s->T + 64 * MT - 1) / (64 * MT), s->B * s->H);
    flash_fwd_kernel<T, D, LD, MT><<<grid, FLASH_THREADS, smem, cuda_stream>>>(s->H, s->T, s->ld_in, s->ld_out, LOG2E / sqrtf((float)D),
                                                                            (const T *)q, (const T *)k, (const T *)v, (T *)o, lse);
    CUDA_CHECK_LAUNCH();
    return 0;
}

/* The variants of each fused kernel: 16 or 32 query rows per warp in the forward (every head
 * size); in the backward 4 warps of 16 keys (every d), 128 keys a block (flash_bwd_kt/_nw: 4 warps
 * of 32 keys at d = 64, 8 warps of 16 at d = 128) and the split layout (d = 64, 128). Those a head
 * size has and this GPU's shared memory takes are each timed once per shape, dtype and pass outside
 * a capture (under one an untimed shape takes the first) and the fastest kept;
 * DLBENCH_FLASH_MT=1|2 (forward) and DLBENCH_FLASH_KT=1|2|3 (backward), or flash_force_mt, force
 * one. The notes say which ran and why. */
static int force_mt = -1, force_kt = -1;
static char fwd_note[160], bwd_note[160];
static way_table flash_ways;
extern "C" void flash_force_mt(int mt) { force_mt = mt; force_kt = mt; }
extern "C" const char *flash_fwd_note(void) { return fwd_note; }
extern "C" const char *flash_bwd_note(void) { return bwd_note; }

/* The forced variant (1-based; 0 none) from *f or, the first time, env (values 1..max). */
static int forced(int *f, const char *env, int max)
{
    if (*f < 0) {
        const char *e = getenv(env);
        *f = e && atoi(e) >= 1 && atoi(e) <= max ? atoi(e) : 0;
    }
    return *f > max ? max : *f;
}

/* Shared memory a block may opt in to on this GPU (bytes; 0 when it cannot be read). */
static size_t smem_optin(void)
{
    static int v = -1;
    if (v < 0) {
        int dev = 0;
        if (cudaGetDevice(&dev) != cudaSuccess || cudaDeviceGetAttribute(&v, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev) != cudaSuccess)
            v = 0;
        cudaGetLastError();
    }
    return (size_t)v;
}

/* Runs run(f - 1) for a forced variant f (1-based; 0: none, or past n: the last), else the fastest
 * of run(0) .. run(n - 1) (name[i] in the note), timed once per shape; reset() restores what the
 * timing runs changed. */
template <class T, class R, class Z>
static int pick_run(const struct attn_shape *s, int pass, int force, int n, const char *const *name, R run, Z reset, char *note)
{
    if (force || n == 1) {
        int i = force > n || !force ? n - 1 : force - 1;
        snprintf(note, 160, "%s%s", name[i], force ? ", forced" : "");
        return run(i);
    }
    struct { struct attn_shape s; int half, pass; } key;
    memset(&key, 0, sizeof key);
    key.s = *s;
    key.half = std::is_same<T, __half>::value;
    key.pass = pass;
    way_choice c;
    int rc = way_choose_n(&flash_ways, &key, sizeof key, n, run, reset, &c);
    if (rc < 0) return -1;
    if (rc == 0) {
        snprintf(note, 160, "%s (not timed: under graph capture)", name[0]);
        return run(0);
    }
    int len = snprintf(note, 160, "%s, %.3f ms against", name[c.best], c.ms[c.best]);
    for (int i = 0, first = 1; i < n && len < 160; i++) {
        if (i == c.best) continue;
        if (c.ms[i] < 0) len += snprintf(note + len, 160 - len, "%s %s: did not run", first ? "" : ",", name[i]);
        else len += snprintf(note + len, 160 - len, "%s %s %.3f", first ? "" : ",", name[i], c.ms[i]);
        first = 0;
    }
    return run(c.best);
}

template <class T, int D, int LD>
static int fwd_launch(const struct attn_shape *s, const void *q, const void *k, const void *v, void *o, float *lse)
{
    static const char *const name[2] = {"16 rows/warp", "32 rows/warp"};
    auto run = [&](int i) { return i ? fwd_launch_mt<T, D, LD, 2>(s, q, k, v, o, lse) : fwd_launch_mt<T, D, LD, 1>(s, q, k, v, o, lse); };
    return pick_run<T>(s, 0, forced(&force_mt, "DLBENCH_FLASH_MT", 2), 2, name, run, [] { return 0; }, fwd_note);
}

/* Backward variant V of head dimension D (flash_bwd_offered): V = 1, 2 run flash_bwd_kernel with
 * flash_bwd_kt(D, V) key m-tiles per warp and flash_bwd_nw(D, V) warps; V = 3 the split kernel with
 * Q/dO double-buffered, V = 4 single-buffered (offered as the third variant where the GPU's shared
 * memory does not take the double buffers: A100 at d = 128). */
template <class T, int D, int LD, int V> static constexpr auto bwd_kernel()
{
    if constexpr (V >= 3) return flash_bwd_split_kernel<T, D, LD, V == 3>;
    else return flash_bwd_kernel<T, D, LD, flash_bwd_kt(D, V), flash_bwd_nw(D, V)>;
}

template <class T, int D, int LD, int V>
static int bwd_launch_v(const struct attn_shape *s, const void *q, const void *k, const void *v, const void *dout, const float *lse,
                        const float *Dv, float *acc, void *dk, void *dv)
{
    constexpr int NW = V >= 3 ? 8 : flash_bwd_nw(D, V), keys = V >= 3 ? 128 : 16 * flash_bwd_kt(D, V) * NW;
    constexpr auto kernel = bwd_kernel<T, D, LD, V>();
    static int ready;
    size_t smem = flash_bwd_id_smem(D, V);
    if (!ready) { if (allow_smem(kernel, smem)) return -1; ready = 1; }
    dim3 grid((s->T + keys - 1) / keys, s->B * s->H);
    float scale = 1.f / sqrtf((float)D);
    kernel<<<grid, 32 * NW, smem, cuda_stream>>>(s->H, s->T, s->ld_in, s->ld_out, LOG2E * scale, scale, (const T *)q, (const T *)k,
                                                 (const T *)v, (const T *)dout, lse, Dv, acc, (T *)dk, (T *)dv);
    CUDA_CHECK_LAUNCH();
    return 0;
}

/* The variants D has whose shared memory this GPU gives a block (d = 128: 113 KiB for v = 2, 173
 * or 138.5 KiB for the split layout double- or single-buffered; sm_86/sm_89 give 99, an A100 163,
 * Hopper 227), timed; the runs add into the dQ accumulator, zeroed again before the kept variant
 * runs. A forced variant D lacks runs the nearest offered below it. */
template <class T, int D, int LD>
static int bwd_launch(const struct attn_shape *s, const void *q, const void *k, const void *v, const void *dout, const float *lse,
                      const float *Dv, float *acc, void *dk, void *dv)
{
    static const char *const names[4] = {"4 warps x 16 keys", flash_bwd_nw(D, 2) == 8 ? "8 warps x 16 keys" : "4 warps x 32 keys",
                                         "split layout (8 warps)", "split layout (8 warps, Q/dO single-buffered)"};
    int ids[3], f = forced(&force_kt, "DLBENCH_FLASH_KT", 3), fi = 0, dropped;
    const char *name[3];
    size_t have = smem_optin();
    int n = flash_bwd_offered(D, have, ids, &dropped);
    if (!n) {
        cuda_set_error("flash: no backward variant for d = %d fits this GPU's %zu KiB of shared memory a block", D, have >> 10);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        if (f >= (ids[i] > 3 ? 3 : ids[i])) fi = i + 1;   /* the forced variant, or the nearest offered below it */
        name[i] = names[ids[i] - 1];
    }
    auto run = [&](int i) {
        if constexpr (flash_bwd_has(D, 3)) {
            if (ids[i] == 3) return bwd_launch_v<T, D, LD, 3>(s, q, k, v, dout, lse, Dv, acc, dk, dv);
            if (ids[i] == 4) return bwd_launch_v<T, D, LD, 4>(s, q, k, v, dout, lse, Dv, acc, dk, dv);
        }
        if constexpr (flash_bwd_has(D, 2))
            if (ids[i] == 2) return bwd_launch_v<T, D, LD, 2>(s, q, k, v, dout, lse, Dv, acc, dk, dv);
        return bwd_launch_v<T, D, LD, 1>(s, q, k, v, dout, lse, Dv, acc, dk, dv);
    };
    auto reset = [&] {
        CUDA_CHECK(cudaMemsetAsync(acc, 0, (size_t)s->B * s->T * s->H * s->d * sizeof(float), cuda_stream));
        return 0;
    };
    int rc = pick_run<T>(s, 1, f ? fi : 0, n, name, run, reset, bwd_note);
    for (int V = 2; V <= 3; V++) {   /* say why a faster candidate may be missing */
        size_t len = strlen(bwd_note);
        if (dropped >> V & 1 && len < sizeof bwd_note)
            snprintf(bwd_note + len, sizeof bwd_note - len, "; %s not offered: %zu KiB of shared memory, this GPU gives %zu", names[V - 1],
                     flash_bwd_id_smem(D, V == 3 ? 4 : V) >> 10, have >> 10);
    }
    return rc;
}

/* (d, ldmatrix) -> the instantiation */
#define BY_HEAD(d, ld, F, ...)                                                                \
    ((d) == 64 ? ((ld) ? F<T, 64, 1>(__VA_ARGS__) : F<T, 64, 0>(__VA_ARGS__))                \
     : (d) == 80 ? ((ld) ? F<T, 80, 1>(__VA_ARGS__) : F<T, 80, 0>(__VA_ARGS__))              \
                 : ((ld) ? F<T, 128, 1>(__VA_ARGS__) : F<T, 128, 0>(__VA_ARGS__)))

template <class T>
static int fwd(const struct attn_shape *s, const void *q, const void *k, const void *v, void *o, float *lse)
{
    return BY_HEAD(s->d, use_ldm, fwd_launch, s, q, k, v, o, lse);
}

template <class T>
static int bwd(const struct attn_shape *s, const void *q, const void *k, const void *v, const void *o, const void *dout,
               const float *lse, void *dq, void *dk, void *dv, void *ws)
{
    size_t nacc = (size_t)s->B * s->T * s->H * s->d, rows = (size_t)s->B * s->H * s->T;
    float *acc = (float *)ws, *Dv = acc + nacc;
    CUDA_CHECK(cudaMemsetAsync(acc, 0, nacc * sizeof(float), cuda_stream));
    attention_rowdot_kernel<T><<<(unsigned)((rows * 32 + 255) / 256), 256, 0, cuda_stream>>>(s->H, s->T, s->d, s->ld_out, (const T *)dout,
                                                                                       (const T *)o, Dv, rows);
    CUDA_CHECK_LAUNCH();
    if (BY_HEAD(s->d, use_ldm, bwd_launch, s, q, k, v, dout, lse, Dv, acc, dk, dv)) return -1;
    size_t blocks = (nacc + 255) / 256, cap = (size_t)cuda_sm_count * 32;
    flash_dq_kernel<T><<<(unsigned)(blocks < cap ? blocks : cap), 256, 0, cuda_stream>>>(nacc, s->H, s->d, s->ld_in,
                                                                                      1.f / sqrtf((float)s->d), acc, (T *)dq);
    CUDA_CHECK_LAUNCH();
    return 0;
}

extern "C" int attention_fwd_flash(enum dtype dt, const struct attn_shape *s, const void *q, const void *k, const void *v, void *o,
                                   float *lse, void *ws)
{
    (void)ws;
    const void *p[] = {q, k, v, o};
    if (check_shape(dt, s, p, 4)) return -1;
    if (dt == DT_BF16) { using T = __nv_bfloat16; return fwd<T>(s, q, k, v, o, lse); }
    using T = __half;
    return fwd<T>(s, q, k, v, o, lse);
}

extern "C" int attention_bwd_flash(enum dtype dt, const struct attn_shape *s, const void *q, const void *k, const void *v, const void *o,
                                   const void *dout, const float *lse, void *dq, void *dk, void *dv, void *ws)
{
    const void *p[] = {q, k, v, o, dout, dq, dk, dv, ws};
    if (check_shape(dt, s, p, 9)) return -1;
    if (dt == DT_BF16) { using T = __nv_bfloat16; return bwd<T>(s, q, k, v, o, dout, lse, dq, dk, dv, ws); }
    using T = __half;
    return bwd<T>(s, q, k, v, o, dout, lse, dq, dk, dv, ws);
}
