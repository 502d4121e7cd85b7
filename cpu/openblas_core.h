/* openblas_core.h: choosing OpenBLAS's kernel set (OPENBLAS_CORETYPE) when its run-time detection
 * falls back to generic kernels on a CPU it does not know (0.3.21 on Emerald Rapids: Prescott), and
 * the one guarded re-exec that applies the choice (OpenBLAS reads the variable only when it loads). */
#ifndef DLBENCH_OPENBLAS_CORE_H
#define DLBENCH_OPENBLAS_CORE_H
#include <stddef.h>
#include "cpu_features.h"

/* The cores dlbench may choose, newest first; bit i of a `built` mask = ob_core_names[i]. */
enum { OB_COOPERLAKE, OB_SKYLAKEX, OB_HASWELL, OB_ZEN, OB_SANDYBRIDGE, OB_NCORES };
extern const char *const ob_core_names[OB_NCORES];

/* Pure: the core to set for a CPU with features f, when OpenBLAS `version` ("0.3.21") built with
 * DYNAMIC_ARCH (`dynamic`) holds the kernels of the cores in `built` and runs `running` now.
 * NULL when nothing should change, with why; else the core name, with why it was chosen. */
const char *openblas_core_choose(const struct cpu_features *f, const char *version, int dynamic,
                                 unsigned built, const char *running, char *why, size_t n);

/* This process's OpenBLAS: its version, DYNAMIC_ARCH, cores built in (their gotoblas_<CORE> tables). */
void openblas_library(char *version, size_t n, int *dynamic, unsigned *built);

/* At start-up, before anything runs: sets OMP_PLACES/OMP_PROC_BIND (unless the user set either)
 * and OPENBLAS_CORETYPE (when chosen and the user did not set it), then re-executes once with the
 * same argv and environment plus those variables. DLBENCH_REEXEC=<pid> guards it: exec keeps the
 * pid, so the re-executed program sees its own pid there and never re-executes again.
 * Returns only when no re-exec was needed or it failed. */
void cpu_startup_reexec(char **argv);

/* What runs and why, for info/system.json: "Cooperlake", and "chosen by dlbench: OpenBLAS 0.3.21
 * fell back to Prescott on family 6 model 207" / "set by the user (OPENBLAS_CORETYPE=…)" / … */
const char *openblas_core_why(void);
#endif
