/* verify.c: the shared input generation and output checks (verify.h): device-side or parallel
 * host-side generation, NaN/Inf scans, sample-block positions, parallel worst-error reductions. */
#include "verify.h"
#include "cbrng.h"
#include "cpu_topology.h"
#include "rng.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Checks run on every core, whatever thread count the row itself is timed at. */
static int nthreads(void) { return cpu_topology()->cores > 0 ? cpu_topology()->cores : 1; }

void gen_host(float *dst, size_t first, size_t n, uint64_t key, float lo, float hi, enum dtype dt)
{
    long ln = (long)n;
    int round = dt == DT_F16 || dt == DT_BF16;
#pragma omp parallel for schedule(static) num_threads(nthreads()) if (n > 65536)
    for (long i = 0; i < ln; i++) {
        float v = cbrng_uniform(key, first + (uint64_t)i, lo, hi);
        dst[i] = round ? f32_round_to(dt, v) : v;
    }
}

int gen_fill(const struct backend *b, void *dst, enum dtype dt, size_t n, uint64_t key, float lo, float hi)
{
    if (b->dev->fill) return b->dev->fill(dst, dt, n, key, lo, hi);
    /* no device generator: host values in chunks, packed and uploaded (kept small: 16 Mi) */
    const size_t chunk = (size_t)1 << 24;
    size_t es = dtype_size(dt);
    float *h = malloc(sizeof(float) * (n < chunk ? n : chunk) + 1);
    void *packed = malloc(es * (n < chunk ? n : chunk) + 1);
    int rc = h && packed ? 0 : -1;
    for (size_t at = 0; rc == 0 && at < n; at += chunk) {
        size_t len = n - at < chunk ? n - at : chunk;
        gen_host(h, at, len, key, lo, hi, dt);
        dtype_pack(dt, h, packed, len);
        rc = b->dev->upload((char *)dst + at * es, packed, len * es);
    }
    free(h);
    free(packed);
    return rc;
}

void *gen_device(const struct backend *b, enum dtype dt, size_t n, uint64_t key, float lo, float hi)
{
    void *d = b->dev->alloc(n * dtype_size(dt));
    if (d && gen_fill(b, d, dt, n, key, lo, hi) != 0) { b->dev->release(d); d = NULL; }
    return d;
}

int verify_scan(const struct backend *b, const void *src, enum dtype dt, size_t n, size_t *count, size_t *first, char *why,
                size_t wn)
{
    *count = 0;
    *first = n;
    if (b->dev->sync() != 0) { snprintf(why, wn, "%s", b->dev->error()); return -1; }
    if (b->dev->scan_nonfinite) {
        if (b->dev->scan_nonfinite(src, dt, n, count, first) == 0) return 0;
        snprintf(why, wn, "%s", b->dev->error());
        return -1;
    }
    const size_t chunk = (size_t)1 << 24, es = dtype_size(dt);
    const uint16_t mask = dtype_nonfinite_mask(dt);   /* 0: fp32 storage */
    void *h = malloc(es * (n < chunk ? n : chunk) + 1);
    if (!h) { snprintf(why, wn, "out of host memory"); return -1; }
    const float *hf = h;
    const uint16_t *hh = h;
    for (size_t at = 0; at < n; at += chunk) {
        long len = (long)(n - at < chunk ? n - at : chunk);
        size_t bad = 0, pos = n;
        if (b->dev->download(h, (const char *)src + at * es, (size_t)len * es) != 0) {
            snprintf(why, wn, "%s", b->dev->error());
            free(h);
            return -1;
        }
#pragma omp parallel for schedule(static) num_threads(nthreads()) reduction(+ : bad) reduction(min : pos)
        for (long i = 0; i < len; i++)
            if (mask ? (hh[i] & mask) == mask : !isfinite(hf[i])) { bad++; if (at + (size_t)i < pos) pos = at + (size_t)i; }
        *count += bad;
        if (pos < *first) *first = pos;
    }
    free(h);
    return 0;
}

int verify_blocks(uint64_t seed, size_t n, size_t block, size_t *starts, int max)
{
    struct rng r;
    int k = 0;
    if (n == 0 || max <= 0) return 0;
    if (block > n) block = n;
    size_t slots = n - block + 1;
    starts[k++] = 0;
    if (max > 1 && slots > 1) starts[k++] = slots - 1;
    rng_seed(&r, seed, 0x5a3b);
    for (int tries = 0; k < max && tries < 8 * max; tries++) {
        size_t s = (size_t)(rng_next(&r) % slots), dup = 0;
        for (int j = 0; j < k && !dup; j++) dup = starts[j] == s;
        if (!dup) starts[k++] = s;
    }
    return k;
}

double verify_max(size_t n, double (*err)(const void *ctx, size_t i), const void *ctx)
{
    double worst = 0;
    long ln = (long)n;
#pragma omp parallel for schedule(static) num_threads(nthreads()) reduction(max : worst) if (n > 4096)
    for (long i = 0; i < ln; i++) {
        double e = err(ctx, (size_t)i);
        if (!(e <= worst)) worst = e == e ? e : INFINITY;
    }
    return worst;
}

double verify_rel(double y, double ref, double scale)
{
    double e = fabs(y - ref) / (fabs(ref) + scale);
    return e == e ? e : INFINITY;
}

void verify_describe_sampled(char *buf, size_t n, size_t elems, int blocks, size_t block)
{
    snprintf(buf, n, "%d samples (%d blocks of %zu) + NaN/Inf scan of %zu", (int)(blocks * block), blocks, block, elems);
}

uint64_t verify_hash(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, c + i, 8);
        h = (h ^ w) * 0x100000001b3ULL;
    }
    for (; i < n; i++) h = (h ^ c[i]) * 0x100000001b3ULL;
    return h;
}
