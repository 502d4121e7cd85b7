/* dtype.h: the element types dlbench measures, their storage sizes, unit roundoffs, and exact
 * host-side conversions (round to nearest even) so references see the very values a backend sees. */
#ifndef DLBENCH_DTYPE_H
#define DLBENCH_DTYPE_H
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

/* tf32 is stored as fp32; the GPU's tensor cores round it to 10 mantissa bits internally. */
enum dtype { DT_F32, DT_TF32, DT_F16, DT_BF16, DT_COUNT };

const char *dtype_name(enum dtype dt);
int dtype_parse(const char *s, enum dtype *out);     /* 0 ok, -1 unknown name */
size_t dtype_size(enum dtype dt);                     /* bytes per stored element */
double dtype_unit_roundoff(enum dtype dt);            /* u = 2^-(mantissa bits + 1) */

uint16_t f32_to_bf16(float f);
float bf16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);
float f16_to_f32(uint16_t h);
float f32_round_to(enum dtype dt, float f);           /* value after a round trip through dt */

/* The exponent bits of a 16-bit dtype (all set: NaN or Inf; fp16 0x7c00, bf16 0x7f80); 0 for dtypes
 * stored as fp32. */
static inline uint16_t dtype_nonfinite_mask(enum dtype dt) { return dt == DT_F16 ? 0x7c00 : dt == DT_BF16 ? 0x7f80 : 0; }

/* Converts n fp32 values into dt's storage (dst holds n * dtype_size(dt) bytes). */
void dtype_pack(enum dtype dt, const float *src, void *dst, size_t n);
/* The inverse: n values in dt's storage to fp32 (exact). */
void dtype_unpack(enum dtype dt, const void *src, float *dst, size_t n);
#ifdef __cplusplus
}
#endif
#endif
