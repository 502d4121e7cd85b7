/* train_ops_cpu.c: the training-step layers on the CPU (bias gradient, 2x2 max-pool, softmax
 * cross-entropy) and the CPU's energy counter (Linux powercap / RAPL, where readable). */
#include "cpu_ops.h"
#include "vecmath.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Dense layers (inner = 1, dy (outer, ch)): the rows are streamed and summed into a strip of
 * columns at a time. Walking one column down the rows, as the general loop does, reads at a stride of
 * ch floats: at ch = 1024 that is 4 KiB, so every read of a column falls into one L1 set, the lines
 * evict each other and each read goes to L2 (the MLP step's three calls took ~1 ms of its 19 on the
 * 2-vCPU Zen 3, by perf). */
#define BIAS_STRIP 64
static void bias_bwd_rows(int outer, int ch, const float *restrict dy, float *restrict db)
{
#pragma omp parallel for schedule(static) if ((long)outer * ch >= 32768)
    for (int c0 = 0; c0 < ch; c0 += BIAS_STRIP) {
        int w = ch - c0 < BIAS_STRIP ? ch - c0 : BIAS_STRIP;
        double s[BIAS_STRIP] = {0};
        for (int o = 0; o < outer; o++) {
            const float *d = dy + (size_t)o * ch + c0;
#pragma omp simd
            for (int i = 0; i < w; i++) s[i] += d[i];
        }
        for (int i = 0; i < w; i++) db[c0 + i] = (float)s[i];
    }
}

int bias_bwd_cpu(int outer, int ch, int inner, const float *restrict dy, float *restrict db)
{
    if (inner == 1) {
        bias_bwd_rows(outer, ch, dy, db);
        return 0;
    }
#pragma omp parallel for schedule(static) if ((long)outer * ch * inner >= 32768)
    for (int c = 0; c < ch; c++) {
        double s = 0;
        for (int o = 0; o < outer; o++) {
            const float *d = dy + ((size_t)o * ch + c) * inner;
            float part = 0;
#pragma omp simd reduction(+ : part)
            for (int i = 0; i < inner; i++) part += d[i];
            s += part;
        }
        db[c] = (float)s;
    }
    return 0;
}

/* Branch-free, so that GCC vectorises a row (stride-2 loads split into even and odd columns): the
 * branchy loop mispredicted on about every other window of random data (the MNIST CNN step's
 * 128 x 32 x 28 x 28 pooling, 6% of its samples). isgreater is `>` without the trap on a NaN,
 * which GCC would otherwise keep as branches. Same choice as the branches: the first of equal
 * maxima, a NaN only where it comes first. */
int maxpool2_fwd_cpu(int planes, int h, int w, const float *restrict x, float *restrict y, uint8_t *restrict idx)
{
    int ho = h / 2, wo = w / 2;
#pragma omp parallel for schedule(static) if ((long)planes * h * w >= 32768)
    for (int p = 0; p < planes; p++)
        for (int i = 0; i < ho; i++) {
            const float *r0 = x + (size_t)p * h * w + (size_t)2 * i * w, *r1 = r0 + w;
            float *yo = y + ((size_t)p * ho + i) * wo;
            uint8_t *io = idx + ((size_t)p * ho + i) * wo;
            for (int j = 0; j < wo; j++) {
                float m = r0[2 * j], v;
                int k = 0, gt;
                v = r0[2 * j + 1], gt = __builtin_isgreater(v, m), k = gt ? 1 : k, m = gt ? v : m;
                v = r1[2 * j], gt = __builtin_isgreater(v, m), k = gt ? 2 : k, m = gt ? v : m;
                v = r1[2 * j + 1], gt = __builtin_isgreater(v, m), k = gt ? 3 : k, m = gt ? v : m;
                yo[j] = m;
                io[j] = (uint8_t)k;
            }
        }
    return 0;
}

int maxpool2_bwd_cpu(int planes, int h, int w, const float *restrict dy, const uint8_t *restrict idx, float *restrict dx)
{
    int ho = h / 2, wo = w / 2;
#pragma omp parallel for schedule(static) if ((long)planes * h * w >= 32768)
    for (int p = 0; p < planes; p++) {
        float *dp = dx + (size_t)p * h * w;
        memset(dp, 0, sizeof(float) * h * w); /* odd trailing rows/columns get no gradient */
        for (int i = 0; i < ho; i++)
            for (int j = 0; j < wo; j++) {
                size_t o = ((size_t)p * ho + i) * wo + j;
                int k = idx[o];
                dp[(size_t)(2 * i + (k >> 1)) * w + 2 * j + (k & 1)] = dy[o];
            }
    }
    return 0;
}

int softmax_xent_cpu(int rows, int cols, const float *restrict z, const int32_t *restrict labels, float *restrict losses,
                     float *restrict loss, float *restrict dz)
{
    double total = 0;
#pragma omp parallel for schedule(static) reduction(+ : total) if ((long)rows * cols >= 32768)
    for (int r = 0; r < rows; r++) {
        const float *zr = z + (size_t)r * cols;
        float *dr = dz + (size_t)r * cols, mx = zr[0], s = 0;
        for (int j = 1; j < cols; j++) mx = zr[j] > mx ? zr[j] : mx;
#pragma omp simd reduction(+ : s)
        for (int j = 0; j < cols; j++) { dr[j] = expf(zr[j] - mx); s += dr[j]; }
        float inv = 1.0f / s, scale = 1.0f / (float)rows;
        for (int j = 0; j < cols; j++) dr[j] = (dr[j] * inv - (j == labels[r])) * scale;
        losses[r] = logf(s) + mx - zr[labels[r]];
        total += losses[r];
    }
    loss[0] = (float)(total / rows);
    return 0;
}

/* Sum of the package energy counters under /sys/class/powercap (intel-rapl:N, also on AMD). */
int energy_read_cpu(double *joules, char *why, size_t n)
{
    double total = 0;
    int found = 0;
    for (int pkg = 0; pkg < 16; pkg++) {
        char path[128];
        unsigned long long uj;
        snprintf(path, sizeof path, "/sys/class/powercap/intel-rapl:%d/energy_uj", pkg);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        int ok = fscanf(f, "%llu", &uj) == 1;
        fclose(f);
        if (!ok) continue;
        total += uj * 1e-6;
        found++;
    }
    if (!found) {
        snprintf(why, n, "RAPL not readable (no /sys/class/powercap/intel-rapl:*/energy_uj; a VM or no permission)");
        return -1;
    }
    *joules = total;
    return 0;
}
