/* flash_sim_f16.cc: the simulated flash kernels' fp16 instantiations, in a translation unit of their own
 * (flash_sim_launch.h says why). */
#include "flash_sim_launch.h"

FLASH_SIM_DEFINE(__half, f16)
