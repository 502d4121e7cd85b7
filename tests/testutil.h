/* testutil.h: helpers shared by the test files: running the dlbench binary, seeded inputs in a
 * dtype, and pushing one GEMM through a backend's table to compare it with the dense double
 * reference. */
#ifndef DLBENCH_TESTUTIL_H
#define DLBENCH_TESTUTIL_H
#include "backend.h"
#include "rng.h"

/* Runs DLBENCH_BIN with args (NULL-terminated); returns its exit code, stderr/stdout captured. */
int run_dlbench(char *const args[], char *err, size_t errn, char *out, size_t outn);
/* n seeded values uniform in [-1, 1), rounded to dt: in v as floats, in packed as dt's storage. */
void seeded_dtype_values(struct rng *r, enum dtype dt, float *v, void *packed, size_t n);
/* Largest |C - ref| / (‖a_i‖‖b_j‖) of one GEMM on backend b; -1 when the backend failed. */
double backend_gemm_error(const struct backend *b, enum dtype dt, int ta, int tb, int m, int n, int k);
/* Skips the calling test (cr_skip_test) when no usable GPU; returns the CUDA backend. */
const struct backend *cuda_or_skip(void);
/* The named backend, or the test skipped: `absent` when this build lacks it, its probe's reason
 * when it cannot run here. GPU variants call cuda_or_skip() first for the GPU's own reason. */
const struct backend *backend_or_skip(const char *name, const char *absent);
char *temp_dir(void);
/* One elementwise op through its workload (setup, `calls` calls, check). Returns error/tolerance
 * (<= 1 passes), or -1 when setup or a call failed. *state_out keeps the state when non-NULL. */
double eltwise_error_ratio(const struct backend *b, int op, enum dtype dt, long n, int cols, int offset,
                           float magnitude, int calls, void **state_out);                       /* fresh folder under /tmp, caller frees */
#endif
