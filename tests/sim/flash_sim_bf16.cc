/* flash_sim_bf16.cc: the simulated flash kernels' bf16 instantiations, in a translation unit of their own
 * (flash_sim_launch.h says why). */
#include "flash_sim_launch.h"

FLASH_SIM_DEFINE(__nv_bfloat16, bf16)
