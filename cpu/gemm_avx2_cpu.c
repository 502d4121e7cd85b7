/* gemm_avx2_cpu.c: the AVX2 half of dlbench's own fp32 GEMM (gemm_own_cpu.c holds the blocking,
 * packing schedule and threads; gemm_own_cpu.h the table this file fills), for CPUs with AVX2 and
 * FMA but not AVX-512 (AMD Zen 1-3, Intel before Skylake-SP and its client cores): a 6 x 16
 * register tile and the packing of A and B panels, compiled for AVX2 + FMA whatever MARCH says.
 * C = op(A)·op(B), row-major.
 *   Micro-kernel (BLIS's Haswell sgemm kernel, in assembly): 6 x 16 of C in 12 ymm accumulators;
 *   per k two aligned loads of B (streamed from L2), six broadcasts of A from L1, 12 FMAs: 6 cycles
 *   at two FMA ports, 8 loads (1.3 a cycle of the 3 a Zen 3 core has); all 16 ymm registers.
 *   KC = 384: an A panel is 6 x 384 floats (9 KiB, L1), a run of B 384 x 256 (384 KiB of a Zen 3's
 *   512 KiB L2).
 *   Packing: row-major A is transposed 8 k at a time (an 8 x 8 shuffle network over 6 rows and two
 *   zero ones), transposed B likewise per 8-column half; A stored (K, M) and B stored (K, N) are
 *   copied, B with masked loads at its edge (masked stores are slow on AMD: none are used).
 * Floor: 2·m·n·k FLOPs ÷ the FMA loop's rate (peak_cpu.c): 187-191 GFLOP/s on the 2-vCPU Zen 3
 * (EPYC, family 25 model 1) at 2 threads, 92-95 on one. Measured there (scripts/sgemm-peers.sh,
 * paired with OpenBLAS 0.3.21's Zen kernel call by call): the micro-kernel alone on packed panels
 * 83-87 GFLOP/s on one thread (~92% of the FMA loop); 2048³ 0.97-1.01x OpenBLAS at 1 and 2 threads
 * (both ~75% of the floor there: both kernels run slower inside the GEMM than alone; the GEMM's
 * loops without packing, paired sweep by sweep, lose ~5% to C's tiles coming from a 16 MiB C and
 * ~2% to the A panels coming from L3 rather than one panel in L1; neither blocking (NB 64-256,
 * KC 256-768) nor prefetching C late, to L2 or non-temporally won it back, nor BLIS's own loop
 * order, a B panel held in L1 across an L2-resident block of 8-48 A panels so that the kernel
 * streams 24 bytes of A a step from L2 rather than 64 of B: 3-8% slower, paired call by call at
 * 1 and 2 threads, KC 256 and 384; nor every slice of a run of B before the next run, so C's
 * 2 MiB under a run stays in L3 while A's 16 MiB cycles: level, 0.999-1.009x; the VM's steal time
 * during a run was 0.4%); at 2 threads the
 * shapes OpenBLAS handles worse: the MLP's weight gradient 1024x784x128 TN 1.26x, its forward
 * 128x1024x784 NT 1.04x, its input gradient 128x784x1024 NN 1.01x, GPT-2's attention scores
 * 1024x1024x64 NT 1.34x, the LSTM gates 64x4096x1024 NT 1.17x. gemm_cpu.c keeps whichever is
 * faster per shape. */
#include "gemm_own_cpu.h"
#include <immintrin.h>
#include <stdint.h>

#define TARGET __attribute__((target("avx2,fma")))
#define MR 6              /* rows of a C tile: broadcasts of A */
#define NR 16             /* columns of a C tile: two vectors of B */
#define KC_DEFAULT 384

/* One k-step in the order of BLIS's Haswell sgemm kernel: B's two vectors (ymm0, ymm1), then the
 * six rows' broadcasts into two registers taken in turn (ymm2, ymm3), each followed by its row's two
 * FMAs; C's 6 x 16 in ymm4..ymm15. o: the step within an iteration of four. */
#define K_STEP(o) \
    "vmovaps " #o "*64(%[b]), %%ymm0\n\t" "vmovaps " #o "*64+32(%[b]), %%ymm1\n\t" \
    "vbroadcastss " #o "*24(%[a]), %%ymm2\n\t" "vbroadcastss " #o "*24+4(%[a]), %%ymm3\n\t" \
    "vfmadd231ps %%ymm0, %%ymm2, %%ymm4\n\t" "vfmadd231ps %%ymm1, %%ymm2, %%ymm5\n\t" \
    "vfmadd231ps %%ymm0, %%ymm3, %%ymm6\n\t" "vfmadd231ps %%ymm1, %%ymm3, %%ymm7\n\t" \
    "vbroadcastss " #o "*24+8(%[a]), %%ymm2\n\t" "vbroadcastss " #o "*24+12(%[a]), %%ymm3\n\t" \
    "vfmadd231ps %%ymm0, %%ymm2, %%ymm8\n\t" "vfmadd231ps %%ymm1, %%ymm2, %%ymm9\n\t" \
    "vfmadd231ps %%ymm0, %%ymm3, %%ymm10\n\t" "vfmadd231ps %%ymm1, %%ymm3, %%ymm11\n\t" \
    "vbroadcastss " #o "*24+16(%[a]), %%ymm2\n\t" "vbroadcastss " #o "*24+20(%[a]), %%ymm3\n\t" \
    "vfmadd231ps %%ymm0, %%ymm2, %%ymm12\n\t" "vfmadd231ps %%ymm1, %%ymm2, %%ymm13\n\t" \
    "vfmadd231ps %%ymm0, %%ymm3, %%ymm14\n\t" "vfmadd231ps %%ymm1, %%ymm3, %%ymm15\n\t"
/* Row x, y of C: stored, or added to C's and stored (K_ADD); then the next row. */
#define K_PUT(x, y) "vmovups %%ymm" #x ", (%[c])\n\t" "vmovups %%ymm" #y ", 32(%[c])\n\t" "addq %[ld], %[c]\n\t"
#define K_ADD(x, y) "vaddps (%[c]), %%ymm" #x ", %%ymm" #x "\n\t" "vaddps 32(%[c]), %%ymm" #y ", %%ymm" #y "\n\t" K_PUT(x, y)

/* c (MR x NR at stride ldc) = (acc ? c : 0) + ap (kc x MR, in L1) · bp (kc x NR, streamed from L2);
 * an: the A panel to pull into L1 meanwhile (gemm_own_cpu.c chooses it), two lines every four
 * k-steps (the 96 bytes of A they use). The loop is written in assembly: GCC 12's from intrinsics
 * folded B's loads into the FMAs (12 loads a step instead of 2: 0.65x OpenBLAS) unless told not
 * to, and even then ran 9-17% slower than this one, paired call by call on panels in L1/L2 of the
 * 2-vCPU Zen 3 (75 against 83-87 GFLOP/s on one thread, the FMA loop 92-95). B is not prefetched
 * by hand: the hardware's stream prefetcher keeps up with a line a step, and a prefetch a step
 * cost 8-20% of the kernel. */
TARGET static void kernel(long kc, const float *restrict ap, const float *restrict bp, float *restrict c, long ldc, int acc,
                          const float *an)
{
    for (int i = 0; i < MR; i++) {      /* C's lines are fetched while the first steps run */
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * ldc + NR - 1), _MM_HINT_T0);
    }
    long quads = kc / 4, rest = kc % 4, ld = ldc * (long)sizeof(float);
    __asm__ volatile(
        "vxorps %%ymm4, %%ymm4, %%ymm4\n\t" "vxorps %%ymm5, %%ymm5, %%ymm5\n\t" "vxorps %%ymm6, %%ymm6, %%ymm6\n\t"
        "vxorps %%ymm7, %%ymm7, %%ymm7\n\t" "vxorps %%ymm8, %%ymm8, %%ymm8\n\t" "vxorps %%ymm9, %%ymm9, %%ymm9\n\t"
        "vxorps %%ymm10, %%ymm10, %%ymm10\n\t" "vxorps %%ymm11, %%ymm11, %%ymm11\n\t" "vxorps %%ymm12, %%ymm12, %%ymm12\n\t"
        "vxorps %%ymm13, %%ymm13, %%ymm13\n\t" "vxorps %%ymm14, %%ymm14, %%ymm14\n\t" "vxorps %%ymm15, %%ymm15, %%ymm15\n\t"
        "testq %[q], %[q]\n\t" "jz 2f\n\t"
        "1:\n\t"
        "prefetcht0 (%[an])\n\t" "prefetcht0 64(%[an])\n\t"
        K_STEP(0) K_STEP(1) K_STEP(2) K_STEP(3)
        "addq $96, %[a]\n\t" "addq $256, %[b]\n\t" "addq $96, %[an]\n\t"
        "decq %[q]\n\t" "jnz 1b\n\t"
        "2:\n\t"
        "testq %[r], %[r]\n\t" "jz 4f\n\t"
        "3:\n\t"
        K_STEP(0)
        "addq $24, %[a]\n\t" "addq $64, %[b]\n\t"
        "decq %[r]\n\t" "jnz 3b\n\t"
        "4:\n\t"
        "testl %[acc], %[acc]\n\t" "jnz 5f\n\t"
        K_PUT(4, 5) K_PUT(6, 7) K_PUT(8, 9) K_PUT(10, 11) K_PUT(12, 13) K_PUT(14, 15)
        "jmp 6f\n\t"
        "5:\n\t"
        K_ADD(4, 5) K_ADD(6, 7) K_ADD(8, 9) K_ADD(10, 11) K_ADD(12, 13) K_ADD(14, 15)
        "6:\n\t"
        "vzeroupper\n\t"
        : [a] "+r"(ap), [b] "+r"(bp), [c] "+r"(c), [q] "+r"(quads), [r] "+r"(rest), [an] "+r"(an)
        : [ld] "r"(ld), [acc] "r"(acc)
        : "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
          "xmm12", "xmm13", "xmm14", "xmm15");
}
#undef K_STEP
#undef K_PUT
#undef K_ADD

/* v[j][i] = s[i * lds + j] for 8 columns j and rows i < rows (zero for rows up to 8): an 8 x 8
 * transpose in three shuffle stages. */
TARGET static inline void transpose8(const float *s, long lds, int rows, __m256 v[8])
{
    __m256 r[8], t[8];
    for (int i = 0; i < 8; i++) r[i] = i < rows ? _mm256_loadu_ps(s + i * lds) : _mm256_setzero_ps();
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);       /* a0 b0 a1 b1 | a4 b4 a5 b5 */
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);   /* a2 b2 a3 b3 | a6 b6 a7 b7 */
    }
    for (int i = 0; i < 8; i += 4) {
        r[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);          /* a0 b0 c0 d0 | a4 b4 c4 d4 */
        r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);      /* column 1 | 5 */
        r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);  /* column 2 | 6 */
        r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);  /* column 3 | 7 */
    }
    for (int j = 0; j < 4; j++) {
        v[j] = _mm256_permute2f128_ps(r[j], r[j + 4], 0x20);
        v[j + 4] = _mm256_permute2f128_ps(r[j], r[j + 4], 0x31);
    }
}

/* Six floats: lanes 0-5 of v (two stores: the panel's next row must not be overwritten, as another
 * thread may be writing it). */
TARGET static inline void store6(float *d, __m256 v)
{
    _mm_storeu_ps(d, _mm256_castps256_ps128(v));
    _mm_storel_pi((__m64 *)(d + 4), _mm256_extractf128_ps(v, 1));
}

/* Panel of op(A): rows i0.. (mr of them, zero-padded to MR), k p0.. (kc): dst[p][i]. */
TARGET static void pack_a(int ta, const float *a, long lda, long i0, int mr, long p0, int kc, float *restrict dst)
{
    if (ta) {   /* A stored (K, M): MR consecutive floats per k */
        for (int p = 0; p < kc; p++) {
            const float *s = a + (p0 + p) * lda + i0;
            if (mr == MR) {
                _mm_storeu_ps(dst + p * MR, _mm_loadu_ps(s));
                _mm_storel_pi((__m64 *)(dst + p * MR + 4), _mm_loadl_pi(_mm_setzero_ps(), (const __m64 *)(s + 4)));
            } else
                for (int i = 0; i < MR; i++) dst[p * MR + i] = i < mr ? s[i] : 0;
        }
        return;
    }
    int p = 0;          /* A stored (M, K): six rows transposed 8 k at a time */
    for (; p + 8 <= kc; p += 8) {
        __m256 v[8];
        transpose8(a + i0 * lda + p0 + p, lda, mr, v);
        for (int j = 0; j < 8; j++) store6(dst + (p + j) * MR, v[j]);
    }
    for (; p < kc; p++)
        for (int i = 0; i < MR; i++) dst[p * MR + i] = i < mr ? a[(i0 + i) * lda + p0 + p] : 0;
}

/* The first n (0..8) lanes set. */
TARGET static inline __m256i lanes(int n)
{
    static const int32_t ones[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256((const __m256i *)(ones + 8 - n));
}

/* Panel of op(B): k p0.. (kc), columns j0.. (nr, zero-padded to NR): dst[p][j]. */
TARGET static void pack_b(int tb, const float *b, long ldb, long p0, int kc, long j0, int nr, float *restrict dst)
{
    if (!tb) {  /* B stored (K, N): NR consecutive floats per k */
        __m256i lo = lanes(nr >= 8 ? 8 : nr), hi = lanes(nr >= 16 ? 8 : nr <= 8 ? 0 : nr - 8);
        for (int p = 0; p < kc; p++) {
            const float *s = b + (p0 + p) * ldb + j0;
            if (nr == NR) {
                _mm256_store_ps(dst + p * NR, _mm256_loadu_ps(s));
                _mm256_store_ps(dst + p * NR + 8, _mm256_loadu_ps(s + 8));
            } else {
                _mm256_store_ps(dst + p * NR, _mm256_maskload_ps(s, lo));
                _mm256_store_ps(dst + p * NR + 8, _mm256_maskload_ps(s + 8, hi));
            }
        }
        return;
    }
    int p = 0;          /* B stored (N, K): two 8-column halves transposed 8 k at a time */
    for (; p + 8 <= kc; p += 8)
        for (int h = 0; h < 2; h++) {
            int rows = nr - 8 * h < 0 ? 0 : nr - 8 * h > 8 ? 8 : nr - 8 * h;
            __m256 v[8];
            transpose8(b + (j0 + 8 * h) * ldb + p0 + p, ldb, rows, v);
            for (int j = 0; j < 8; j++) _mm256_store_ps(dst + (p + j) * NR + 8 * h, v[j]);
        }
    for (; p < kc; p++)
        for (int j = 0; j < NR; j++) dst[p * NR + j] = j < nr ? b[(j0 + j) * ldb + p0 + p] : 0;
}

static int available(void) { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }

const struct gemm_isa_cpu gemm_isa_avx2_cpu = {"AVX2", MR, NR, KC_DEFAULT, available, kernel, pack_a, pack_b};
