/* test_gemm.c: GEMM on the CPU backend against the dense double reference: awkward shapes, all
 * four transpose combinations, bf16 where the CPU has it; and the GEMM check itself. */
#include "testutil.h"
#include "gemm_ref.h"
#include "rng.h"
#include "cpu_ops.h"
#include "dtype.h"
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const int shapes[][3] = {{1, 1, 1}, {7, 13, 5}, {129, 65, 257}, {33, 17, 1}, {1, 300, 7}, {64, 1, 129}};

static void all_shapes(const struct backend *b, enum dtype dt)
{
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int t = 0; t < 4; t++) {
            int m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
            double e = backend_gemm_error(b, dt, t & 1, t >> 1, m, n, k), tol = gemm_tolerance(dt, k);
            cr_expect(e >= 0 && e <= tol, "%s %s %dx%dx%d ta=%d tb=%d: error %g, tolerance %g", b->name,
                      dtype_name(dt), m, n, k, t & 1, t >> 1, e, tol);
        }
}

Test(gemm, cpu_fp32_awkward_shapes_and_transposes)
{
    all_shapes(backend_find("cpu"), DT_F32);
}

/* fp32 on several threads cut into one OpenBLAS call per tile of C (uneven tiles, every transpose),
 * forced on and off, and chosen by measurement; the impl note says which ran. */
Test(gemm, cpu_fp32_tiles_per_thread)
{
    static const int tiled_shapes[][3] = {{129, 65, 257}, {100, 97, 31}, {64, 200, 9}, {256, 256, 256}};
    const struct backend *b = backend_find("cpu");
    b->dev->set_threads(4);   /* the measured choice starts at 4 threads */
    float *a = calloc(256 * 256, sizeof(float)), *bb = calloc(256 * 256, sizeof(float)), *c = calloc(256 * 256, sizeof(float));
    for (int force = 1; force >= -1; force--) {
        gemm_cpu_way = force;
        for (size_t s = 0; s < sizeof tiled_shapes / sizeof tiled_shapes[0]; s++)
            for (int t = 0; t < 4; t++) {
                int m = tiled_shapes[s][0], n = tiled_shapes[s][1], k = tiled_shapes[s][2];
                double e = backend_gemm_error(b, DT_F32, t & 1, t >> 1, m, n, k), tol = gemm_tolerance(DT_F32, k);
                cr_expect(e >= 0 && e <= tol, "tiling %d: %dx%dx%d ta=%d tb=%d: error %g, tolerance %g", force, m, n, k,
                          t & 1, t >> 1, e, tol);
            }
        cr_assert_eq(gemm_cpu(DT_F32, 0, 0, 129, 65, 256, a, bb, c), 0);
        const char *note = cpu_impl();
        cr_assert_not_null(note);
        if (force == 1) cr_expect(strstr(note, "a call per thread on 2x2 tiles of C") != NULL, "%s", note);
        if (force == -1)
            cr_expect(strstr(note, " ms tiles") && strstr(note, " ms OpenBLAS") &&
                          (!gemm_own_cpu_available() || (strstr(note, " ms own,") && strstr(note, " ms own 192-deep"))),
                      "every way timed at 4 threads: %s", note);
        if (force == 0) cr_expect(strstr(note, "tiles") == NULL && strstr(note, "OpenBLAS sgemm (") == note, "%s", note);
    }
    gemm_cpu_way = 1;
    cr_assert_eq(gemm_cpu(DT_F32, 0, 0, 60, 60, 8, a, bb, c), 0);
    cr_expect(strstr(cpu_impl(), "tiles") == NULL, "tiles thinner than 32 rows and columns: OpenBLAS's own threads");
    gemm_cpu_way = -1;
    free(a); free(bb); free(c);
}

/* dlbench's own fp32 kernel on one vector set (512: AVX-512, 12 x 32 tiles, 16-deep transposes;
 * 256: AVX2, 6 x 16, 8-deep), forced, on the set's default slices and on 192-deep ones, against
 * the double reference: shapes that end inside a tile of either set and inside a transpose step, K
 * past one slice, M, N and K past the 2048-wide packed blocks (K = 2049: two blocks, the second
 * one deep), every transpose, on 1, 2 and 3 threads (an uneven grid); skipped, with the reason,
 * where the CPU lacks the set. */
static void check_own_set(int isa, const char *set, const char *lacks)
{
    gemm_own_cpu_isa = isa;
    if (!gemm_own_cpu_available()) {
        gemm_own_cpu_isa = 0;
        cr_skip_test("the CPU lacks %s: that set of the own kernel never runs here", lacks);
    }
    static const int own_shapes[][3] = {{1, 1, 1},   {12, 32, 16},  {13, 33, 17}, {11, 31, 15},  {6, 16, 8}, {7, 17, 9},
                                        {5, 9, 7},   {100, 97, 385}, {2049, 40, 3}, {5, 2050, 9}, {24, 64, 2049}};
    const struct backend *b = backend_find("cpu");
    for (int way = 2; way <= 3; way++)   /* the set's default slices, and 192-deep */
        for (int threads = 1; threads <= 3; threads++) {
            gemm_cpu_way = way;
            b->dev->set_threads(threads);
            for (size_t s = 0; s < sizeof own_shapes / sizeof own_shapes[0]; s++)
                for (int t = 0; t < 4; t++) {
                    int m = own_shapes[s][0], n = own_shapes[s][1], k = own_shapes[s][2];
                    double e = backend_gemm_error(b, DT_F32, t & 1, t >> 1, m, n, k), tol = gemm_tolerance(DT_F32, k);
                    cr_expect(e >= 0 && e <= tol, "%s, way %d, %d threads: %dx%dx%d ta=%d tb=%d: error %g, tolerance %g", set, way,
                              threads, m, n, k, t & 1, t >> 1, e, tol);
                    const char *impl = cpu_impl();   /* read once: reading clears it */
                    cr_assert_not_null(impl);
                    cr_expect(strstr(impl, set) && (way == 2) == !strstr(impl, "192-deep"), "forced %s, way %d: %s", set, way, impl);
                }
        }
    gemm_own_cpu_isa = 0;
    gemm_cpu_way = -1;
}

Test(gemm, cpu_fp32_own_kernel_avx512) { check_own_set(512, "AVX-512 sgemm kernel (12x32)", "AVX-512F"); }
Test(gemm, cpu_fp32_own_kernel_avx2) { check_own_set(256, "AVX2 sgemm kernel (6x16)", "AVX2 + FMA"); }

/* op(A) packed once (gemm_own_cpu_pack) then multiplied (gemm_own_cpu_packed, as conv_cpu.c does
 * per image) gives C bit for bit as the ordinary call: shapes past a 2048-row block (its last
 * panel short, the next block's panels counted from its own first row), past the 2048-deep block,
 * inside one tile; op(A) transposed or not, leading dimensions wider than the rows, accumulating
 * into C, op(B) transposed; 1 and 2 threads, each vector set the CPU has. */
static void check_packed_a(int isa)
{
    gemm_own_cpu_isa = isa;
    if (!gemm_own_cpu_available()) return;
    static const int shapes[][3] = {{2053, 19, 7}, {13, 33, 2100}, {5, 9, 7}, {100, 97, 385}};
    for (int threads = 1; threads <= 2; threads++) {
        backend_find("cpu")->dev->set_threads(threads);
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
            for (int t = 0; t < 4; t++) {
                int m = shapes[s][0], n = shapes[s][1], k = shapes[s][2], ta = t & 1, tb = t >> 1, acc = (int)(s & 1);
                long lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 2, ldc = n + 1;
                float *a = malloc(sizeof(float) * lda * (ta ? k : m)), *b = malloc(sizeof(float) * ldb * (tb ? n : k));
                float *c1 = malloc(sizeof(float) * ldc * m), *c2 = malloc(sizeof(float) * ldc * m);
                size_t np = gemm_own_cpu_packed_size(m, k);
                float *ap = aligned_alloc(64, (np * sizeof(float) + 63) / 64 * 64);
                cr_assert(a && b && c1 && c2 && ap && np >= (size_t)m * k);
                struct rng r;
                rng_seed(&r, 11, (uint64_t)(s * 4 + t));
                rng_fill_uniform(&r, a, (size_t)lda * (ta ? k : m), -1, 1);
                rng_fill_uniform(&r, b, (size_t)ldb * (tb ? n : k), -1, 1);
                rng_fill_uniform(&r, c1, (size_t)ldc * m, -1, 1);
                memcpy(c2, c1, sizeof(float) * ldc * m);
                cr_assert_eq(gemm_own_cpu_ld(0, ta, tb, m, n, k, a, lda, b, ldb, acc, c1, ldc), 0);
                cr_assert_eq(gemm_own_cpu_pack(ta, m, k, a, lda, ap), 0);
                cr_assert_eq(gemm_own_cpu_packed(m, n, k, ap, tb, b, ldb, acc, c2, ldc), 0);
                long bad = -1;
                for (long i = 0; i < m && bad < 0; i++)
                    for (long j = 0; j < n; j++)
                        if (memcmp(&c1[i * ldc + j], &c2[i * ldc + j], sizeof(float))) { bad = i * ldc + j; break; }
                cr_expect(bad < 0, "isa %d, %d threads, %dx%dx%d ta=%d tb=%d acc=%d: C[%ld] %g packed once, %g ordinary", isa,
                          threads, m, n, k, ta, tb, acc, bad, bad < 0 ? 0 : c2[bad], bad < 0 ? 0 : c1[bad]);
                free(a); free(b); free(c1); free(c2); free(ap);
            }
    }
    gemm_own_cpu_isa = 0;
}

Test(gemm, cpu_fp32_own_kernel_packed_a_once)
{
    if (!gemm_own_cpu_available()) cr_skip_test("the CPU has neither AVX-512F nor AVX2 + FMA: the kernel never runs");
    check_packed_a(512);
    check_packed_a(256);
}

/* Chosen by measurement on one thread: the own kernel's time in the note beside OpenBLAS's, no
 * tiles, no shallow slices. */
Test(gemm, cpu_fp32_own_kernel_timed_beside_openblas)
{
    if (!gemm_own_cpu_available()) cr_skip_test("the CPU has neither AVX-512F nor AVX2 + FMA: the kernel never runs");
    const struct backend *b = backend_find("cpu");
    float *a = calloc(96 * 96, sizeof(float)), *bb = calloc(96 * 96, sizeof(float)), *c = calloc(96 * 96, sizeof(float));
    b->dev->set_threads(1);
    gemm_cpu_way = -1;
    cr_assert_eq(gemm_cpu(DT_F32, 0, 1, 96, 95, 94, a, bb, c), 0);
    const char *note = cpu_impl();
    cr_expect(strstr(note, " ms own") && strstr(note, " ms OpenBLAS") && !strstr(note, " ms tiles") &&
                  !strstr(note, "192-deep"),
              "one thread: the kernel and OpenBLAS timed, no tiles, no shallow slices: %s", note);
    free(a); free(bb); free(c);
}

Test(gemm, cpu_bf16_native_or_reported)
{
    const struct backend *b = backend_find("cpu");
    const char *why = b->unsupported("gemm", DT_BF16);
    if (why) cr_skip_test("cpu bf16: %s", why);
    all_shapes(b, DT_BF16);
}

/* Both of the CPU's own bf16 kernels, whichever gemm_cpu picks here: vdpbf16ps and AMX tiles, on
 * awkward shapes, all transposes, and shapes where A is read in place (M, K multiples of 32). */
typedef int (*bf16_kernel)(int, int, int, int, int, const uint16_t *, const uint16_t *, float *);

static void bf16_kernel_shapes(bf16_kernel fn, const char *name)
{
    static const int more[][3] = {{32, 32, 32}, {64, 48, 96}, {96, 33, 64}, {32, 7, 320}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0] + 4; s++)
        for (int t = 0; t < 4; t++) {
            const int *d = s < sizeof shapes / sizeof shapes[0] ? shapes[s] : more[s - sizeof shapes / sizeof shapes[0]];
            int m = d[0], n = d[1], k = d[2], ta = t & 1, tb = t >> 1;
            float *a = malloc(4L * m * k), *b = malloc(4L * k * n), *c = malloc(4L * m * n);
            uint16_t *pa = malloc(2L * m * k), *pb = malloc(2L * k * n);
            struct rng r;
            rng_seed(&r, 5, (uint64_t)(s * 4 + t));
            rng_fill_uniform(&r, a, (size_t)m * k, -1, 1);
            rng_fill_uniform(&r, b, (size_t)k * n, -1, 1);
            for (long i = 0; i < (long)m * k; i++) a[i] = bf16_to_f32(pa[i] = f32_to_bf16(a[i]));
            for (long i = 0; i < (long)k * n; i++) b[i] = bf16_to_f32(pb[i] = f32_to_bf16(b[i]));
            for (long i = 0; i < (long)m * n; i++) c[i] = NAN;
            cr_assert_eq(fn(ta, tb, m, n, k, pa, pb, c), 0, "%s", name);
            double e = gemm_check(ta, tb, m, n, k, a, b, c, 3), tol = gemm_tolerance(DT_BF16, k);
            cr_expect(e <= tol, "%s %dx%dx%d ta=%d tb=%d: error %g, tolerance %g", name, m, n, k, ta, tb, e, tol);
            free(a); free(b); free(c); free(pa); free(pb);
        }
}

Test(gemm, cpu_bf16_vdpbf16ps_kernel)
{
    if (!gemm_bf16_cpu_available()) cr_skip_test("no AVX512-BF16 on this CPU");
    bf16_kernel_shapes(gemm_bf16_cpu, "vdpbf16ps");
}

Test(gemm, cpu_bf16_amx_kernel)
{
    if (!gemm_amx_cpu_available()) cr_skip_test("no AMX-BF16 tiles on this CPU (or the OS refused them)");
    bf16_kernel_shapes(gemm_amx_cpu, "AMX");
}

Test(gemm, cpu_reports_tf32_and_fp16_as_unsupported)
{
    const struct backend *b = backend_find("cpu");
    cr_expect_not_null(b->unsupported("gemm", DT_TF32));
    cr_expect_not_null(b->unsupported("gemm", DT_F16));
    cr_expect_null(b->unsupported("gemm", DT_F32));
}

/* A correct 384x320x512 product passes gemm_check; one wrong element or a NaN fails it. */
static void make_product(float *a, float *b, float *c, int m, int n, int k)
{
    struct rng r;
    double *ref = malloc(sizeof(double) * m * n);
    rng_seed(&r, 3, 4);
    rng_fill_uniform(&r, a, (size_t)m * k, -1, 1);
    rng_fill_uniform(&r, b, (size_t)k * n, -1, 1);
    gemm_ref(0, 0, m, n, k, a, b, ref);
    for (long i = 0; i < (long)m * n; i++) c[i] = (float)ref[i];
    free(ref);
}

Test(gemm_check, accepts_correct_rejects_one_wrong_element)
{
    const int m = 384, n = 320, k = 512;
    float *a = malloc(4L * m * k), *b = malloc(4L * k * n), *c = malloc(4L * m * n);
    make_product(a, b, c, m, n, k);
    double tol = gemm_tolerance(DT_F32, k);
    double ok = gemm_check(0, 0, m, n, k, a, b, c, 99);
    cr_expect(ok <= tol, "correct product rejected: %g > %g", ok, tol);
    /* One element off by 1% of the row's typical magnitude, somewhere in the middle. */
    long bad = 200L * n + 123;
    float saved = c[bad];
    c[bad] += 0.01f * sqrtf((float)k / 9.0f);
    for (uint64_t seed = 1; seed <= 20; seed++) {
        double e = gemm_check(0, 0, m, n, k, a, b, c, seed);
        cr_expect(e > tol, "seed %lu: corrupted element not detected (%g <= %g)", (unsigned long)seed, e, tol);
    }
    c[bad] = NAN;
    cr_expect(isinf(gemm_check(0, 0, m, n, k, a, b, c, 1)), "a NaN must fail the check");
    c[bad] = saved;
    cr_expect(gemm_check(0, 0, m, n, k, a, b, c, 5) <= tol);
    free(a); free(b); free(c);
}

Test(gemm_check, transposed_layouts_agree_with_reference)
{
    const int m = 37, n = 29, k = 41;
    float *a = malloc(4L * m * k), *b = malloc(4L * k * n), *c = malloc(4L * m * n);
    double *ref = malloc(8L * m * n);
    struct rng r;
    rng_seed(&r, 11, 0);
    rng_fill_uniform(&r, a, (size_t)m * k, -1, 1);
    rng_fill_uniform(&r, b, (size_t)k * n, -1, 1);
    for (int t = 0; t < 4; t++) {
        gemm_ref(t & 1, t >> 1, m, n, k, a, b, ref);
        for (long i = 0; i < (long)m * n; i++) c[i] = (float)ref[i];
        cr_expect(gemm_check(t & 1, t >> 1, m, n, k, a, b, c, 1) <= gemm_tolerance(DT_F32, k), "layout %d", t);
        gemm_ref(!(t & 1), t >> 1, m, n, k, a, b, ref); /* the wrong layout must not pass */
        for (long i = 0; i < (long)m * n; i++) c[i] = (float)ref[i];
        cr_expect(gemm_check(t & 1, t >> 1, m, n, k, a, b, c, 1) > gemm_tolerance(DT_F32, k), "wrong layout %d passed", t);
    }
    free(a); free(b); free(c); free(ref);
}

Test(dtype, conversions_round_to_nearest_even)
{
    cr_expect_eq(f32_to_bf16(1.0f), 0x3f80);
    cr_expect_eq(f32_to_bf16(1.00390625f), 0x3f80);      /* exactly half an ulp: to even */
    cr_expect_eq(f32_to_bf16(1.01171875f), 0x3f82);      /* 1.5 ulp: up to even */
    cr_expect_eq(f32_to_f16(1.0f), 0x3c00);
    cr_expect_eq(f32_to_f16(65504.0f), 0x7bff);
    cr_expect_eq(f32_to_f16(65520.0f), 0x7c00);          /* rounds to infinity */
    cr_expect_eq(f32_to_f16(5.9604645e-08f), 0x0001);    /* smallest subnormal */
    cr_expect_float_eq(f16_to_f32(0x3555), 0.33325195f, 1e-9);
    for (float x = -3; x < 3; x += 0.0137f) {
        cr_expect_float_eq(f16_to_f32(f32_to_f16(x)), x, fabsf(x) * 0x1p-11f + 1e-7f);
        cr_expect_float_eq(bf16_to_f32(f32_to_bf16(x)), x, fabsf(x) * 0x1p-8f + 1e-7f);
    }
}
