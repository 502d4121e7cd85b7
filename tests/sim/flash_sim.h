/* flash_sim.h: the flash variant's fused kernels (gpu/flash_kernels.cuh) run on the CPU by the
 * simulator (cuda_sim.h), behind the attention_ops signatures, on host memory. The launch logic
 * mirrors gpu/flash_cuda.cu: the same grids, shared-memory sizes and workspace layout. */
#ifndef DLBENCH_FLASH_SIM_H
#define DLBENCH_FLASH_SIM_H
#include <stddef.h>
#include "attention_ref.h"
#include "dtype.h"
#ifdef __cplusplus
extern "C" {
#endif
size_t attention_workspace_flash_sim(enum dtype dt, const struct attn_shape *s);
int attention_fwd_flash_sim(enum dtype dt, const struct attn_shape *s, const void *q, const void *k, const void *v, void *o,
                            float *lse, void *ws);
int attention_bwd_flash_sim(enum dtype dt, const struct attn_shape *s, const void *q, const void *k, const void *v,
                            const void *o, const void *dout, const float *lse, void *dq, void *dk, void *dv, void *ws);
/* Fragment loads through ldmatrix (1) or plain loads (0); threads resumed last to first and
 * cp.async copies landing at issue (1: the other extreme of both orders from 0); the
 * variant of both kernels: 1; 2 where the head dimension has it (the forward's 32 query rows per
 * warp, the backward's 128 keys a block); 3 and 4, the backward's split layout where d has it
 * (d = 64, 128; else as 2) with Q/dO double- or single-buffered, the forward as 2. */
void flash_sim_options(int ldmatrix, int reverse, int mt);
/* flash_bwd_offered (gpu/flash_kernels.cuh): the backward variants the launcher offers at head
 * dimension d where a block may opt in to `optin` bytes of shared memory, and those left out. */
int flash_sim_bwd_offered(int d, size_t optin, int ids[3], int *dropped);
const char *flash_sim_error(void);
#ifdef __cplusplus
}
#endif
#endif
