/* sim_selftest.cc: the simulator's own tests as small kernels (see sim_selftest.h). */
#include "cuda_sim.h"
DLBENCH_SIM_KERNELS_BEGIN
#include "mma_sm80.cuh"
DLBENCH_SIM_KERNELS_END
using namespace dlbench_sim;
#include "sim_selftest.h"
#include <stdio.h>
#include <stdlib.h>

static unsigned char *const shm = reinterpret_cast<unsigned char *>(dlbench_sim::smem);

static float rnd(unsigned &s)
{
    s = s * 1664525u + 1013904223u;
    return (float)((s >> 9) & 0xff) / 64.f - 2.f;   /* exact in bf16 and fp16 */
}

double sim_selftest_mma(int bf16)
{
    float A[16][16], B[16][8], C[16][8], D[16][8];
    unsigned seed = 7;
    for (int i = 0; i < 16; i++)
        for (int k = 0; k < 16; k++) A[i][k] = rnd(seed);
    for (int k = 0; k < 16; k++)
        for (int j = 0; j < 8; j++) B[k][j] = rnd(seed);
    for (int i = 0; i < 16; i++)
        for (int j = 0; j < 8; j++) C[i][j] = rnd(seed);
    auto h = [bf16](float x) { return bf16 ? f32_to_bf16(x) : f32_to_f16(x); };
    auto body = [&] {
        int l = (int)threadIdx.x, g = l / 4, t = l % 4;
        uint32_t a[4] = {pack16(h(A[g][2 * t]), h(A[g][2 * t + 1])), pack16(h(A[g + 8][2 * t]), h(A[g + 8][2 * t + 1])),
                         pack16(h(A[g][2 * t + 8]), h(A[g][2 * t + 9])), pack16(h(A[g + 8][2 * t + 8]), h(A[g + 8][2 * t + 9]))};
        uint32_t b[2] = {pack16(h(B[2 * t][g]), h(B[2 * t + 1][g])), pack16(h(B[2 * t + 8][g]), h(B[2 * t + 9][g]))};
        float c[4] = {C[g][2 * t], C[g][2 * t + 1], C[g + 8][2 * t], C[g + 8][2 * t + 1]};
        if (bf16) mma<__nv_bfloat16>(c, a, b);
        else mma<__half>(c, a, b);
        D[g][2 * t] = c[0]; D[g][2 * t + 1] = c[1]; D[g + 8][2 * t] = c[2]; D[g + 8][2 * t + 1] = c[3];
    };
    if (sim_launch(1, 1, 32, 0, body)) return -1;
    double worst = 0;
    for (int i = 0; i < 16; i++)
        for (int j = 0; j < 8; j++) {
            double s = C[i][j];
            for (int k = 0; k < 16; k++) s += (double)A[i][k] * B[k][j];
            worst = fmax(worst, fabs(s - D[i][j]));
        }
    return worst;
}

int sim_selftest_ldmatrix(int trans)
{
    uint16_t *m = reinterpret_cast<uint16_t *>(shm);   /* four 8×8 matrices, matrix i row r at (8i + r)·8 */
    int bad = 0;
    auto body = [&] {
        int l = (int)threadIdx.x;
        for (int j = 0; j < 8; j++) m[l * 8 + j] = (uint16_t)(l * 8 + j);
        __syncthreads();
        uint32_t r[4];
        ldsm_x4(r, m + l * 8, trans != 0);
        for (int i = 0; i < 4; i++) {
            int r0 = trans ? 2 * (l % 4) : l / 4, c0 = trans ? l / 4 : 2 * (l % 4);
            int r1 = trans ? r0 + 1 : r0, c1 = trans ? c0 : c0 + 1;
            uint32_t want = (uint32_t)(i * 64 + r0 * 8 + c0) | (uint32_t)(i * 64 + r1 * 8 + c1) << 16;
            if (r[i] != want) { bad++; break; }
        }
    };
    return sim_launch(1, 1, 32, 512, body) ? -1 : bad;
}

int sim_selftest_any(int lane)
{
    int bad = 0;
    auto body = [&] {   /* two warps: only `lane` of the second votes 1 */
        const int t = (int)threadIdx.x, got = __any_sync(0xffffffffu, lane >= 0 && t == 32 + lane);
        if (got != (lane >= 0 && t >= 32)) bad++;
    };
    return sim_launch(1, 1, 64, 0, body) ? -1 : bad;
}

int sim_selftest_cp_async(unsigned *before, unsigned *after)
{
    alignas(16) static unsigned src[4] = {11, 22, 33, 44};
    auto body = [&] {
        unsigned *dst = reinterpret_cast<unsigned *>(shm);
        cp_async16(dst, src, true);
        cp_async_commit();
        *before = dst[0];
        cp_async_wait<0>();
        *after = dst[0];
    };
    return sim_launch(1, 1, 1, 64, body);
}

int sim_selftest_missing_barrier(int reverse, unsigned *seen)
{
    sim_set_reverse(reverse != 0);
    auto body = [&] {
        unsigned *w = reinterpret_cast<unsigned *>(shm);
        if (threadIdx.x == 0) w[0] = 42;
        else *seen = w[0];   /* no __syncthreads() between: a race */
        __syncthreads();
    };
    int rc = sim_launch(1, 1, 2, 64, body);
    sim_set_reverse(false);
    return rc;
}

static int expect_failure(int rc, char *why, int n)
{
    snprintf(why, (size_t)n, "%s", sim_error());
    return rc ? 0 : -1;
}

int sim_selftest_divergent(char *why, int n)
{
    auto body = [] {
        uint32_t r[2];
        if (threadIdx.x < 16) (void)__shfl_xor_sync(0xffffffffu, 1.f, 1);
        else ldsm_x2(r, reinterpret_cast<uint16_t *>(shm), false);
    };
    return expect_failure(sim_launch(1, 1, 32, 0, body), why, n);
}

int sim_selftest_deadlock(char *why, int n)
{
    auto body = [] {
        if (threadIdx.x == 0) return;   /* leaves the others at the barrier */
        __syncthreads();
    };
    return expect_failure(sim_launch(1, 1, 64, 0, body), why, n);
}

int sim_selftest_overrun(char *why, int n)
{
    auto body = [] {
        if (threadIdx.x == 0) shm[256] = 1;   /* one byte past the 256 launched */
    };
    return expect_failure(sim_launch(1, 1, 32, 256, body), why, n);
}
