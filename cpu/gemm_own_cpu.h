/* gemm_own_cpu.h: what one vector instruction set gives dlbench's own sgemm (gemm_own_cpu.c, which
 * holds the blocking, the packing schedule and the threads): its register tile of C, its default
 * slice depth, and the routines that know the vectors (gemm_avx512_cpu.c, gemm_avx2_cpu.c). */
#ifndef GEMM_OWN_CPU_H
#define GEMM_OWN_CPU_H

#define GEMM_OWN_MR_MAX 12   /* the largest register tile of any set: edge tiles' scratch */
#define GEMM_OWN_NR_MAX 32

struct gemm_isa_cpu {
    const char *name;        /* in the row's impl: "AVX-512", "AVX2" */
    int mr, nr;              /* C tile: mr rows (broadcasts of A) x nr columns (vectors of B); nr divides 256 */
    int kc;                  /* default depth of a slice: an A panel (mr x kc) stays in L1 */
    int (*available)(void);  /* cpuid and the OS allow the set */
    /* c (mr x nr at stride ldc) = (acc ? c : 0) + ap (kc x mr) · bp (kc x nr, 64-byte aligned); an: a
     * panel to pull into L1 meanwhile, a line a k-step */
    void (*kernel)(long kc, const float *ap, const float *bp, float *c, long ldc, int acc, const float *an);
    /* panel of op(A): rows i0.. (mr of them, zero-padded to the set's mr), k p0.. (kc): dst[p][i] */
    void (*pack_a)(int ta, const float *a, long lda, long i0, int mr, long p0, int kc, float *dst);
    /* panel of op(B): k p0.. (kc), columns j0.. (nr, zero-padded to the set's nr): dst[p][j], aligned */
    void (*pack_b)(int tb, const float *b, long ldb, long p0, int kc, long j0, int nr, float *dst);
};

extern const struct gemm_isa_cpu gemm_isa_avx512_cpu, gemm_isa_avx2_cpu;

#endif
