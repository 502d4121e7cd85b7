/* dtype.c: names, sizes and round-to-nearest-even conversions for fp32, tf32, fp16 and bf16.
 * Bit-exact with CUDA's __float2half_rn / __float2bfloat16_rn for finite values. */
#include "dtype.h"
#include <math.h>
#include <string.h>

static const char *const names[DT_COUNT] = {"fp32", "tf32", "fp16", "bf16"};

const char *dtype_name(enum dtype dt) { return dt < DT_COUNT ? names[dt] : "?"; }

int dtype_parse(const char *s, enum dtype *out)
{
    for (int i = 0; i < DT_COUNT; i++)
        if (strcmp(s, names[i]) == 0) { *out = (enum dtype)i; return 0; }
    return -1;
}

size_t dtype_size(enum dtype dt) { return dt == DT_F16 || dt == DT_BF16 ? 2 : 4; }

double dtype_unit_roundoff(enum dtype dt)
{
    switch (dt) {
    case DT_F32: return ldexp(1.0, -24);
    case DT_TF32: return ldexp(1.0, -11);
    case DT_F16: return ldexp(1.0, -11);
    case DT_BF16: return ldexp(1.0, -8);
    default: return 1.0;
    }
}

static uint32_t bits_of(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float float_of(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

uint16_t f32_to_bf16(float f)
{
    uint32_t u = bits_of(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); /* quiet NaN */
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

float bf16_to_f32(uint16_t h) { return float_of((uint32_t)h << 16); }

uint16_t f32_to_f16(float f)
{
    uint32_t u = bits_of(f), sign = (u >> 16) & 0x8000u, a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return (uint16_t)(sign | 0x7e00u);
    if (a >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* rounds to >= 65520: inf */
    if (a < 0x38800000u) {                                   /* subnormal or zero in fp16 */
        float v = float_of(a) * 16777216.0f;                 /* scale by 2^24: exact */
        return (uint16_t)(sign | (uint32_t)lrintf(v));       /* lrintf rounds to even */
    }
    uint32_t r = a + 0xfffu + ((a >> 13) & 1u) - 0x38000000u; /* rebias 127 -> 15 */
    return (uint16_t)(sign | (r >> 13));
}

float f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1f, m = h & 0x3ffu;
    if (e == 0) return (sign ? -1.0f : 1.0f) * ldexpf((float)m, -24);
    if (e == 31) return float_of(sign | 0x7f800000u | (m << 13));
    return float_of(sign | ((e + 112) << 23) | (m << 13));
}

float f32_round_to(enum dtype dt, float f)
{
    switch (dt) {
    case DT_F16: return f16_to_f32(f32_to_f16(f));
    case DT_BF16: return bf16_to_f32(f32_to_bf16(f));
    default: return f; /* tf32 rounding happens inside the tensor core; fp32 is exact */
    }
}

void dtype_pack(enum dtype dt, const float *src, void *dst, size_t n)
{
    uint16_t *h = dst;
    if (dt == DT_F16) for (size_t i = 0; i < n; i++) h[i] = f32_to_f16(src[i]);
    else if (dt == DT_BF16) for (size_t i = 0; i < n; i++) h[i] = f32_to_bf16(src[i]);
    else memcpy(dst, src, n * sizeof(float));
}

void dtype_unpack(enum dtype dt, const void *src, float *dst, size_t n)
{
    const uint16_t *h = src;
    if (dt == DT_F16) for (size_t i = 0; i < n; i++) dst[i] = f16_to_f32(h[i]);
    else if (dt == DT_BF16) for (size_t i = 0; i < n; i++) dst[i] = bf16_to_f32(h[i]);
    else memcpy(dst, src, n * sizeof(float));
}
