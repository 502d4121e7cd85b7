/* flash_sim.cc: the flash variant's kernels on the simulator (cuda_sim.h) behind flash_sim.h: the
 * options, the shape check, the dtype dispatch to the instantiations (flash_sim_bf16.cc,
 * flash_sim_f16.cc, launched as gpu/flash_cuda.cu launches them: flash_sim_launch.h), and the
 * backward's two small kernels around the fused one (dO·O per row, dQ from its fp32 accumulator)
 * as plain loops. */
#include "flash_sim_launch.h"
#include "flash_sim.h"
#include <stdio.h>

int flash_sim_ldm = 1, flash_sim_mt = 1;
static char err[300];

void flash_sim_options(int ldmatrix, int reverse, int mt)
{
    flash_sim_ldm = ldmatrix;
    flash_sim_mt = mt;
    sim_set_reverse(reverse != 0);
    sim_set_eager_copies(reverse != 0);
}

const char *flash_sim_error(void) { return err; }

int flash_sim_bwd_offered(int d, size_t optin, int ids[3], int *dropped) { return flash_bwd_offered(d, optin, ids, dropped); }

int flash_sim_launched(int rc)
{
    if (rc) snprintf(err, sizeof err, "simulated flash kernel: %s", sim_error());
    return rc;
}

static int check_shape(enum dtype dt, const attn_shape *s)
{
    if ((dt != DT_BF16 && dt != DT_F16) || (s->d != 64 && s->d != 80 && s->d != 128) || s->ld_in % 8 || s->ld_out % 8) {
        snprintf(err, sizeof err, "simulated flash kernel: %s d=%d ld %ld/%ld is no shape the kernels take", dtype_name(dt), s->d, s->ld_in,
                 s->ld_out);
        return -1;
    }
    return 0;
}

static float to_f(enum dtype dt, uint16_t h) { return dt == DT_BF16 ? bf16_to_f32(h) : f16_to_f32(h); }

size_t attention_workspace_flash_sim(enum dtype dt, const struct attn_shape *s)
{
    (void)dt;
    return ((size_t)s->B * s->T * s->H * s->d + (size_t)s->B * s->H * s->T) * sizeof(float) + 256;
}

int attention_fwd_flash_sim(enum dtype dt, const struct attn_shape *s, const void *q, const void *k, const void *v, void *o, float *lse,
                            void *ws)
{
    (void)ws;
    if (check_shape(dt, s)) return -1;
    return dt == DT_BF16 ? flash_sim_fwd_bf16(s, q, k, v, o, lse) : flash_sim_fwd_f16(s, q, k, v, o, lse);
}

int attention_bwd_flash_sim(enum dtype dt, const struct attn_shape *s, const void *q, const void *k, const void *v, const void *o,
                            const void *dout, const float *lse, void *dq, void *dk, void *dv, void *ws)
{
    if (check_shape(dt, s)) return -1;
    const int B = s->B, H = s->H, Tn = s->T, d = s->d;
    size_t nacc = (size_t)B * Tn * H * d;
    float *acc = (float *)ws, *Dv = acc + nacc;
    memset(acc, 0, nacc * sizeof(float));
    const uint16_t *po = (const uint16_t *)o, *pdo = (const uint16_t *)dout;
    for (int b = 0; b < B; b++)   /* D[(b·H + h)·T + t] = dO·O of that row */
        for (int t = 0; t < Tn; t++)
            for (int h = 0; h < H; h++) {
                size_t row = ((size_t)b * Tn + t) * s->ld_out + (size_t)h * d;
                float sum = 0;
                for (int j = 0; j < d; j++) sum += to_f(dt, pdo[row + j]) * to_f(dt, po[row + j]);
                Dv[((size_t)b * H + h) * Tn + t] = sum;
            }
    int rc = dt == DT_BF16 ? flash_sim_bwd_bf16(s, q, k, v, dout, lse, Dv, acc, dk, dv)
                           : flash_sim_bwd_f16(s, q, k, v, dout, lse, Dv, acc, dk, dv);
    if (rc) return rc;
    const float scale = 1.f / sqrtf((float)d);
    uint16_t *pq = (uint16_t *)dq;
    for (size_t bt = 0; bt < (size_t)B * Tn; bt++)   /* dq = scale · acc, in dt with dq's row stride */
        for (int c = 0; c < H * d; c++) {
            float x = acc[bt * H * d + c] * scale;
            pq[bt * s->ld_in + c] = dt == DT_BF16 ? f32_to_bf16(x) : f32_to_f16(x);
        }
    return 0;
}
