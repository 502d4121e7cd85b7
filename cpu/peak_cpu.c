/* peak_cpu.c: compute-bound loops for the CPU's FLOP/s ceilings, dispatched at run time to the widest
 * path the CPU and OS allow, whatever -march the build used (a x86-64-v3 build still measures
 * AVX-512): fp32 FMA chains (AVX-512, AVX2+FMA, or SSE mul+add) and bf16 dot products (AMX tiles,
 * else AVX512-BF16). Independent accumulator chains cover latency x ports; no memory traffic. */
#include "cpu_ops.h"
#include "cpu_features.h"
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

/* Chains per thread: FMA latency (4) x ports (2) = 8 at least; 12 of 32 zmm, 10 of 16 ymm. */
#define NACC512 12
#define NACC256 10
#define NACC128 10

__attribute__((target("avx512f"))) static float fma_avx512(long iters, int t)
{
    __m512 acc[NACC512], m = _mm512_set1_ps(0.999999f), a = _mm512_set1_ps(1e-6f);
    for (int j = 0; j < NACC512; j++) acc[j] = _mm512_set1_ps((float)(j + t));
    for (long i = 0; i < iters; i++)
        for (int j = 0; j < NACC512; j++) acc[j] = _mm512_fmadd_ps(acc[j], m, a);
    for (int j = 1; j < NACC512; j++) acc[0] = _mm512_add_ps(acc[0], acc[j]);
    return _mm512_reduce_add_ps(acc[0]);
}

__attribute__((target("avx2,fma"))) static float fma_avx2(long iters, int t)
{
    __m256 acc[NACC256], m = _mm256_set1_ps(0.999999f), a = _mm256_set1_ps(1e-6f);
    float out[8], s = 0;
    for (int j = 0; j < NACC256; j++) acc[j] = _mm256_set1_ps((float)(j + t));
    for (long i = 0; i < iters; i++)
        for (int j = 0; j < NACC256; j++) acc[j] = _mm256_fmadd_ps(acc[j], m, a);
    for (int j = 1; j < NACC256; j++) acc[0] = _mm256_add_ps(acc[0], acc[j]);
    _mm256_storeu_ps(out, acc[0]);
    for (int l = 0; l < 8; l++) s += out[l];
    return s;
}

static float fma_sse(long iters, int t)   /* x86-64 baseline: no FMA, a multiply and an add */
{
    __m128 acc[NACC128], m = _mm_set1_ps(0.999999f), a = _mm_set1_ps(1e-6f);
    float out[4], s = 0;
    for (int j = 0; j < NACC128; j++) acc[j] = _mm_set1_ps((float)(j + t));
    for (long i = 0; i < iters; i++)
        for (int j = 0; j < NACC128; j++) acc[j] = _mm_add_ps(_mm_mul_ps(acc[j], m), a);
    for (int j = 1; j < NACC128; j++) acc[0] = _mm_add_ps(acc[0], acc[j]);
    _mm_storeu_ps(out, acc[0]);
    for (int l = 0; l < 4; l++) s += out[l];
    return s;
}

/* bf16: 12 chains of vdpbf16ps, each 16 lanes x 2 products x 2 FLOPs = 64 FLOPs. */
__attribute__((target("avx512f,avx512bf16"))) static float dp_avx512bf16(long iters, int t)
{
    __m512 acc[NACC512];
    __m512bh x = (__m512bh)_mm512_set1_epi32(0x3f803f80), y = (__m512bh)_mm512_set1_epi32(0x3a833a83); /* 1.0, ~1e-3 */
    for (int j = 0; j < NACC512; j++) acc[j] = _mm512_set1_ps((float)(j + t));
    for (long i = 0; i < iters; i++)
        for (int j = 0; j < NACC512; j++) acc[j] = _mm512_dpbf16_ps(acc[j], x, y);
    for (int j = 1; j < NACC512; j++) acc[0] = _mm512_add_ps(acc[0], acc[j]);
    return _mm512_reduce_add_ps(acc[0]);
}

/* AMX: 4 accumulator tiles (16x16 fp32) from 2 A tiles (16 rows x 32 bf16) and 2 B tiles (16 rows x
 * 16 bf16 pairs); each tdpbf16ps is 16*16*32 products = 16384 FLOPs. Tile state is per thread:
 * each thread loads the configuration and releases the tiles. */
#define AMX_FLOPS 16384.0
struct tilecfg { uint8_t palette, start; uint8_t pad[14]; uint16_t colsb[16]; uint8_t rows[16]; };
/* ldtilecfg through asm with the whole 64-byte configuration as its operand: GCC 12's
 * _tile_loadconfig lets dead-store elimination drop the rows/colsb stores (seen in an x86-64-v3
 * build: the tiles were configured empty and the first tile load faulted). */
static inline void tile_loadconfig(const struct tilecfg *cfg) { __asm__ volatile("ldtilecfg %0" : : "m"(*cfg)); }

__attribute__((target("amx-tile,amx-bf16,avx512f"))) static float dp_amx(long iters, int t)
{
    uint16_t ab[16 * 32] __attribute__((aligned(64)));  /* bf16 ~1e-3: real data, no overflow in 2^30 trips */
    struct tilecfg cfg;
    float c[16 * 16] __attribute__((aligned(64)));
    for (int i = 0; i < 16 * 32; i++) ab[i] = 0x3a83;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int i = 0; i < 8; i++) { cfg.colsb[i] = 64; cfg.rows[i] = 16; }
    tile_loadconfig(&cfg);
    _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_zero(3);
    _tile_loadd(4, ab, 64); _tile_loadd(5, ab, 64);
    _tile_loadd(6, ab, 64); _tile_loadd(7, ab, 64);
    for (long i = 0; i < iters; i++) {
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(1, 4, 7);
        _tile_dpbf16ps(2, 5, 6);
        _tile_dpbf16ps(3, 5, 7);
    }
    _tile_stored(0, c, 64);
    _tile_release();
    return c[t % 256];
}

/* The path per dtype, fixed once per process. */
static enum vec_isa vec(void) { return cpu_vec_isa(cpu_features()); }

static enum bf16_path bf16(void)
{
    enum bf16_path p = cpu_bf16_path(cpu_features());
    if (p == BF16_AMX && cpu_amx_enable(NULL, 0) != 0) p = cpu_features()->avx512_bf16 ? BF16_AVX512 : BF16_NONE;
    return p;
}

double peak_flops_per_iter_cpu(enum dtype dt)
{
    double per_thread = 0;
    if (dt == DT_F32) {
        enum vec_isa v = vec();
        per_thread = v == ISA_AVX512 ? 2.0 * 16 * NACC512 : v == ISA_AVX2 ? 2.0 * 8 * NACC256 : 2.0 * 4 * NACC128;
    } else if (dt == DT_BF16) {
        enum bf16_path p = bf16();
        per_thread = p == BF16_AMX ? 4 * AMX_FLOPS : p == BF16_AVX512 ? 64.0 * NACC512 : 0;
    }
    return per_thread * omp_get_max_threads();
}

const char *peak_path_cpu(enum dtype dt)
{
    static char s[64];
    if (dt == DT_F32) snprintf(s, sizeof s, "%s %s", vec_isa_name(vec()), vec() == ISA_SSE ? "mul+add" : "FMA");
    else if (dt == DT_BF16 && bf16() != BF16_NONE)
        snprintf(s, sizeof s, "%s", bf16() == BF16_AMX ? "AMX-BF16 tiles (tdpbf16ps)" : "AVX512-BF16 (vdpbf16ps)");
    else return NULL;
    return s;
}

int peak_cpu(enum dtype dt, long iters, float *out)
{
    float total = 0;
    enum vec_isa v = vec();
    enum bf16_path p = dt == DT_BF16 ? bf16() : BF16_NONE;
    if (dt != DT_F32 && p == BF16_NONE) return -1;
#pragma omp parallel reduction(+ : total)
    {
        int t = omp_get_thread_num();
        if (dt == DT_F32) total += v == ISA_AVX512 ? fma_avx512(iters, t) : v == ISA_AVX2 ? fma_avx2(iters, t) : fma_sse(iters, t);
        else total += p == BF16_AMX ? dp_amx(iters, t) : dp_avx512bf16(iters, t);
    }
    *out += total; /* consumed so the loop cannot be removed */
    return 0;
}
