/* test_cuda_verify.c: the counter-based generator gives identical bits on the GPU and the host
 * for every dtype (the NaN poison: NaN everywhere; NaN bit patterns differ between CPUs and GPUs),
 * the device NaN/Inf scan agrees with the host's, and the planted faults are caught on the CUDA
 * path; skipped without a usable GPU. */
#include "cbrng.h"
#include "verify_faults_test.h"

Test(cuda_verify, generator_bits_identical_to_the_host)
{
    const struct backend *b = cuda_or_skip();
    const size_t n = (1u << 20) + 5;
    static const float ranges[][2] = {{-1, 1}, {0.5f, 1.5f}, {-1000, 1000}, {0, 1e-4f}, {NAN, NAN}};
    for (int d = 0; d < DT_COUNT; d++)
        for (int r = 0; r < 5; r++) {
            enum dtype dt = (enum dtype)d;
            size_t es = dtype_size(dt);
            uint64_t key = cbrng_key(2024, (uint64_t)(d * 8 + r));
            void *dev = gen_device(b, dt, n, key, ranges[r][0], ranges[r][1]);
            void *got = malloc(n * es), *want = malloc(n * es);
            float *h = malloc(n * 4);
            cr_assert(dev && got && want && h, "%s", b->dev->error());
            cr_assert_eq(b->dev->download(got, dev, n * es), 0, "%s", b->dev->error());
            for (size_t i = 0; i < n; i++) h[i] = cbrng_uniform(key, i, ranges[r][0], ranges[r][1]);
            dtype_pack(dt, h, want, n);
            if (isnan(ranges[r][0])) {
                size_t not_nan = 0;
                for (size_t i = 0; i < n && dt == DT_F32; i++) not_nan += !isnan(((float *)got)[i]);
                cr_expect_eq(not_nan, 0, "the poison is NaN everywhere");
            } else {
                cr_expect_eq(memcmp(got, want, n * es), 0, "%s range %d: CUDA and C generators differ", dtype_name(dt), r);
            }
            b->dev->release(dev);
            free(got); free(want); free(h);
        }
}

Test(cuda_verify, device_scan_finds_nan_and_inf)
{
    const struct backend *b = cuda_or_skip();
    const size_t n = 3000017;
    char why[256];
    size_t bad, first;
    float *d = gen_device(b, DT_F32, n, 5, -1, 1), v[2] = {INFINITY, NAN};
    cr_assert(d, "%s", b->dev->error());
    cr_assert_eq(verify_scan(b, d, DT_F32, n, &bad, &first, why, sizeof why), 0, "%s", why);
    cr_expect(bad == 0 && first == n);
    cr_assert_eq(b->dev->upload(d + 1234567, &v[0], 4) | b->dev->upload(d + n - 1, &v[1], 4), 0);
    cr_assert_eq(verify_scan(b, d, DT_F32, n, &bad, &first, why, sizeof why), 0, "%s", why);
    cr_expect(bad == 2 && first == 1234567, "%zu at %zu", bad, first);
    b->dev->release(d);
}

Test(cuda_verify, planted_faults_caught_on_the_cuda_path) { check_planted_faults(cuda_or_skip()); }
