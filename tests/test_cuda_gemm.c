/* test_cuda_gemm.c: GEMM on the CUDA backend in every dtype against the reference; skipped
 * (cr_skip_test) without a usable GPU. Suite names start with cuda_: make test runs them -j1. */
#include "testutil.h"
#include "gemm_ref.h"
#include <criterion/criterion.h>

static const int shapes[][3] = {{1, 1, 1}, {7, 13, 5}, {129, 65, 257}, {33, 17, 1}, {256, 192, 1024}};

static void all_shapes(enum dtype dt)
{
    const struct backend *b = cuda_or_skip();
    const char *why = b->unsupported("gemm", dt);
    if (why) cr_skip_test("cuda %s: %s", dtype_name(dt), why);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int t = 0; t < 4; t++) {
            int m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
            double e = backend_gemm_error(b, dt, t & 1, t >> 1, m, n, k), tol = gemm_tolerance(dt, k);
            cr_expect(e >= 0 && e <= tol, "cuda %s %dx%dx%d ta=%d tb=%d: error %g, tolerance %g (%s)",
                      dtype_name(dt), m, n, k, t & 1, t >> 1, e, tol, b->dev->error());
        }
}

Test(cuda_gemm, fp32) { all_shapes(DT_F32); }
Test(cuda_gemm, tf32) { all_shapes(DT_TF32); }
Test(cuda_gemm, fp16) { all_shapes(DT_F16); }
Test(cuda_gemm, bf16) { all_shapes(DT_BF16); }

Test(cuda_backend, reports_a_reason_when_unusable)
{
    char why[256] = "";
    const struct backend *b = backend_find("cuda");
    cr_assert_not_null(b);
    if (!b->probe(why, sizeof why)) {
        cr_expect(why[0] != 0, "an unusable backend must say why");
        cr_skip_test("no usable GPU: %s", why);
    }
    cr_expect(b->dev->mem_free() > 0);
}

#ifdef HAVE_CUDA
#include "cublas_dl.h"
#include <stdio.h>
#include <string.h>

static int maps_name(const char *lib)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[1024];
    int found = 0;
    while (f && !found && fgets(line, sizeof line, f)) found = strstr(line, lib) != NULL;
    if (f) fclose(f);
    return found;
}

/* cuBLAS is no link dependency (its initialisation would cost every start ~80 ms, and its absence
 * would stop the binary): not mapped until the table is filled, then every entry resolved, from
 * the library the headers describe. Needs no GPU. */
Test(cuda_backend, cublas_loaded_at_run_time)
{
    cr_expect(!maps_name("libcublas"), "libcublas mapped before cublas_dl_open: linked, not loaded at run time");
    char why[256] = "";
    if (cublas_dl_open(why, sizeof why)) {
        cr_expect(strstr(why, "cuBLAS") || strstr(why, "libcublas"), "why names cuBLAS: %s", why);
        cr_skip_test("%s", why);
    }
    cr_expect(maps_name("libcublas"));
    const void *fns[] = {(const void *)cublas_lib.Create, (const void *)cublas_lib.SetStream, (const void *)cublas_lib.SetWorkspace,
                         (const void *)cublas_lib.GetStatusString, (const void *)cublas_lib.GetProperty, (const void *)cublas_lib.GemmEx,
                         (const void *)cublas_lib.GemmStridedBatchedEx};
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) cr_expect_not_null(fns[i], "entry %zu", i);
    int major = -1;
    cr_expect_eq(cublas_lib.GetProperty(MAJOR_VERSION, &major), CUBLAS_STATUS_SUCCESS);
    cr_expect_eq(major, CUBLAS_VER_MAJOR);
    cr_expect_str_eq(cublas_lib.GetStatusString(CUBLAS_STATUS_NOT_INITIALIZED), "the library was not initialized");
    cr_expect_eq(cublas_dl_open(NULL, 0), 0, "a second call gives the first answer");
}
#endif
