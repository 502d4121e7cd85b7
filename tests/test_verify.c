/* test_verify.c: the counter-based generator against known values, the shared check helpers
 * (scan, sample blocks, host and device generation agreeing), the quick suite's array cap and
 * "cache-assisted" flag, one bandwidth convention, and planted faults caught on the CPU path. */
#include "cbrng.h"
#include "ceilings.h"
#include "transfer_cases.h"
#include "verify_faults_test.h"
#include <stdint.h>

long eltwise_dram_elems(void);

/* With key 0, element i is splitmix64's (i+1)-th output from seed 0 (Vigna's reference sequence). */
Test(verify, generator_matches_splitmix64_reference)
{
    static const uint64_t splitmix0[] = {0xe220a8397b1dcdafull, 0x6e789e6aa1b965f4ull, 0x06c45d188009454full, 0xf88bb8a8724c81ecull};
    for (int i = 0; i < 4; i++) cr_expect_eq(cbrng_bits(0, (uint64_t)i), splitmix0[i], "element %d", i);
    /* 24 bits 0xe220a8 = 14819496 scaled to [-1, 1): (2·14819496 - 2^24) / 2^24, exactly */
    cr_expect_eq(cbrng_uniform(0, 0, -1.0f, 1.0f), 12861776.0f / 16777216.0f);
    cr_expect(isnan(cbrng_uniform(5, 7, NAN, NAN)), "lo = hi = NaN poisons");
    cr_expect_eq(cbrng_uniform(5, 7, 2.5f, 2.5f), 2.5f);
    float lo = 1, hi = -1;
    for (uint64_t i = 0; i < 100000; i++) {
        float v = cbrng_uniform(cbrng_key(42, 16), i, -1.0f, 1.0f);
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    cr_expect(lo >= -1.0f && lo < -0.999f && hi < 1.0f && hi > 0.999f, "range [%g, %g]", lo, hi);
}

/* The CPU backend's in-place fill and the host copy a check makes are the same bits, any dtype,
 * and a slice starting at `first` is the same elements. */
Test(verify, cpu_fill_and_host_copy_agree)
{
    const struct backend *b = backend_find("cpu");
    const size_t n = 100003;
    uint64_t key = cbrng_key(7, 3);
    for (int d = 0; d < DT_COUNT; d++) {
        enum dtype dt = (enum dtype)d;
        void *dev = gen_device(b, dt, n, key, -3.0f, 5.0f);
        float *host = malloc(n * 4), *unpacked = malloc(n * 4), *slice = malloc(64 * 4);
        cr_assert(dev && host && unpacked && slice);
        gen_host(host, 0, n, key, -3.0f, 5.0f, dt);
        for (size_t i = 0; i < n; i++)
            unpacked[i] = dt == DT_F16 ? f16_to_f32(((uint16_t *)dev)[i]) : dt == DT_BF16 ? bf16_to_f32(((uint16_t *)dev)[i]) : ((float *)dev)[i];
        cr_expect_eq(memcmp(host, unpacked, n * 4), 0, "%s: device fill and host copy differ", dtype_name(dt));
        gen_host(slice, 5000, 64, key, -3.0f, 5.0f, dt);
        cr_expect_eq(memcmp(slice, host + 5000, 64 * 4), 0, "%s: a slice is the same elements", dtype_name(dt));
        b->dev->release(dev);
        free(host); free(unpacked); free(slice);
    }
}

/* Without a device generator or scan (another backend's table), the harness uploads and downloads. */
Test(verify, fallbacks_without_device_fill_or_scan)
{
    struct backend plain = *backend_find("cpu");
    struct device_ops dev = *plain.dev;
    dev.fill = NULL;
    dev.scan_nonfinite = NULL;
    plain.dev = &dev;
    const size_t n = (1u << 24) + 77; /* more than one upload chunk */
    float *a = gen_device(&plain, DT_F32, n, 99, -1, 1), *b = gen_device(backend_find("cpu"), DT_F32, n, 99, -1, 1);
    char why[256];
    size_t bad, first;
    cr_assert(a && b);
    cr_expect_eq(memcmp(a, b, n * 4), 0, "uploaded values are the device fill's");
    a[n - 3] = INFINITY;
    a[n - 1] = NAN;
    cr_assert_eq(verify_scan(&plain, a, DT_F32, n, &bad, &first, why, sizeof why), 0, "%s", why);
    cr_expect(bad == 2 && first == n - 3, "downloaded scan: %zu at %zu", bad, first);
    cr_assert_eq(verify_scan(backend_find("cpu"), a, DT_F32, n, &bad, &first, why, sizeof why), 0, "%s", why);
    cr_expect(bad == 2 && first == n - 3, "device scan: %zu at %zu", bad, first);
    free(a);
    free(b);
}

/* fp16/bf16 outputs are scanned in their own storage: NaN and Inf found on both paths, the largest
 * finite values and subnormals not. */
Test(verify, scans_16_bit_storage)
{
    const enum dtype dts[] = {DT_F16, DT_BF16};
    struct backend plain = *backend_find("cpu");
    struct device_ops dev = *plain.dev;
    dev.scan_nonfinite = NULL;
    plain.dev = &dev;
    for (int t = 0; t < 2; t++) {
        enum dtype dt = dts[t];
        const size_t n = 100003;
        uint16_t *h = gen_device(backend_find("cpu"), dt, n, 7, -1, 1);
        cr_assert(h);
        h[10] = dt == DT_F16 ? 0x7bff : 0x7f7f;   /* largest finite */
        h[11] = 0x0001;                            /* smallest subnormal */
        h[n - 5] = dt == DT_F16 ? 0xfc00 : 0xff80; /* -Inf */
        h[n - 2] = dt == DT_F16 ? 0x7e00 : 0x7fc0; /* NaN */
        for (int path = 0; path < 2; path++) {
            char why[256];
            size_t bad, first;
            cr_assert_eq(verify_scan(path ? &plain : backend_find("cpu"), h, dt, n, &bad, &first, why, sizeof why), 0, "%s", why);
            cr_expect(bad == 2 && first == n - 5, "%s %s scan: %zu at %zu", dtype_name(dt), path ? "downloaded" : "device", bad, first);
        }
        free(h);
    }
}

Test(verify, sample_blocks_cover_both_ends_and_are_distinct)
{
    size_t s[VERIFY_BLOCKS];
    int k = verify_blocks(1, 1000000, VERIFY_BLOCK, s, VERIFY_BLOCKS);
    cr_expect_eq(k, VERIFY_BLOCKS);
    cr_expect(s[0] == 0 && s[1] == 1000000 - VERIFY_BLOCK, "first and last block");
    for (int i = 0; i < k; i++) {
        cr_expect(s[i] + VERIFY_BLOCK <= 1000000);
        for (int j = 0; j < i; j++) cr_expect_neq(s[i], s[j]);
    }
    cr_expect_eq(verify_blocks(1, 10, VERIFY_BLOCK, s, VERIFY_BLOCKS), 1, "a short output: one block, all of it");
    cr_expect_eq(s[0], 0);
}

Test(verify, planted_faults_caught_on_the_cpu_path) { check_planted_faults(backend_find("cpu")); }

/* The quick suite caps DRAM-sized arrays; the full suite keeps 4x the largest last-level cache. */
Test(verify, quick_cap_and_cache_assisted_flag)
{
    const struct backend *b = backend_find("cpu");
    size_t llc = b->dev->cache_bytes();
    bandwidth_cap_bytes = 0;
    long full = eltwise_dram_elems();
    cr_expect(full * 4.0 >= 4.0 * llc, "full: %ld elements for a %zu-byte LLC", full, llc);
    bandwidth_cap_bytes = QUICK_ARRAY_CAP_BYTES;
    long quick = eltwise_dram_elems();
    cr_expect(quick * 4 <= (long)QUICK_ARRAY_CAP_BYTES && (quick == full || quick * 4 == (long)QUICK_ARRAY_CAP_BYTES), "quick %ld", quick);
    bandwidth_cap_bytes = 0;
    /* a 4 MiB copy is below 4x any LLC of 1 MiB and more: flagged, and no % of a larger-array ceiling */
    struct eltwise_shape s = {ELT_COPY, 1L << 20, 1, 0, 1.0f};
    struct timing_opts t = {0.001, 0.01, 0.5, 60, 10, 0};   /* warm-up: the one call */
    struct timing_result tr;
    struct row r;
    measure_row(b, workload_find("stream"), "copy.small", &s, DT_F32, 1, &t, 1, &r, &tr);
    free(tr.samples);
    cr_assert(row_measured(&r), "%s", r.status);
    if (llc >= (1u << 20)) cr_expect_str_eq(r.flags, "cache-assisted");
    struct ceiling c;
    ceiling_clear(&c);
    c.bw_gbps = 1;
    c.bw_array_bytes = 1e9;
    ceiling_apply(&c, &r);
    cr_expect(isnan(r.ceiling_pct), "smaller arrays than the ceiling's get no %%: %g", r.ceiling_pct);
    c.bw_array_bytes = 4 << 20;
    c.bw_cache_assisted = 1;
    ceiling_apply(&c, &r);
    cr_expect(!isnan(r.ceiling_pct) || !r.flags[0], "against a cache-assisted ceiling on arrays as large, a %% again");
}

/* Bytes read plus bytes written for device-to-device copies and STREAM; bus bytes once. */
Test(verify, one_bandwidth_convention)
{
    const struct workload *x = workload_find("transfer"), *st = workload_find("stream");
    struct transfer_shape d2d = {XFER_D2D, 1 << 20}, h2d = {XFER_H2D_PINNED, 1 << 20};
    struct eltwise_shape copy = {ELT_COPY, 1000, 1, 0, 1.0f}, triad = {ELT_TRIAD, 1000, 1, 0, 1.0f};
    cr_expect_eq(x->bytes(&d2d, DT_F32), 2.0 * (1 << 20));
    cr_expect_eq(x->bytes(&h2d, DT_F32), 1.0 * (1 << 20));
    cr_expect_eq(st->bytes(&copy, DT_F32), 8000.0);
    cr_expect_eq(st->bytes(&triad, DT_F32), 12000.0);
    char shape[96];
    x->shape(&h2d, shape, sizeof shape);
    cr_expect(strstr(shape, "once") != NULL, "%s", shape);
}

/* A ceiling is the best the machine did in the run: a faster GEMM or same-size streaming row raises
 * it (and is then at 100%), an in-place update or a smaller-array row does not. */
Test(verify, rows_faster_than_a_ceiling_raise_it)
{
    struct ceiling c;
    struct row g, s;
    ceiling_clear(&c);
    c.gflops[DT_F32] = 100;
    c.bw_gbps = 50;
    c.bw_array_bytes = 256 << 20;
    c.bw_cache_assisted = 1;
    row_init(&g);
    strcpy(g.family, "gemm"); strcpy(g.dtype, "fp32"); strcpy(g.status, "ok"); strcpy(g.case_name, "bert");
    g.flops = 1e9; g.bytes = 1e7; g.intensity = 100; g.gflops = 120; g.gbytes_per_s = 1.2;
    cr_expect(ceiling_raise(&c, &g) && c.gflops[DT_F32] == 120 && strstr(c.fl_how[DT_F32], "bert"));
    ceiling_apply(&c, &g);
    cr_expect_float_eq(g.ceiling_pct, 100, 1e-9);
    row_init(&s);
    strcpy(s.family, "bandwidth"); strcpy(s.dtype, "fp32"); strcpy(s.status, "ok"); strcpy(s.workload, "eltwise");
    strcpy(s.case_name, "adam"); strcpy(s.flags, "in-place");
    s.bytes = 1e9; s.gbytes_per_s = 60; s.array_bytes = 256 << 20;
    cr_expect(!ceiling_raise(&c, &s) && c.bw_gbps == 50, "an in-place update does not raise the bandwidth");
    strcpy(s.flags, "cache-assisted");
    s.array_bytes = 1 << 20;
    cr_expect(!ceiling_raise(&c, &s), "nor does a cache-assisted row on smaller arrays");
    s.array_bytes = 256 << 20;
    cr_expect(ceiling_raise(&c, &s) && c.bw_gbps == 60, "a streaming row on arrays as large does");
}
