/* choose_cpu.h: the fastest of a few ways to run one call, timed at a key's first call and
 * remembered (choose_cpu.c); gemm_cpu.c's fp32 GEMM uses it, and conv_cpu.c's and attention_cpu.c's
 * GEMMs through struct gemm_way_cpu. */
#ifndef DLBENCH_CHOOSE_CPU_H
#define DLBENCH_CHOOSE_CPU_H
#include <stddef.h>

#define CHOOSE_WAYS 4
#define CHOOSE_KEY 12      /* ints of a key: the call's shape, direction, thread count */
#define CHOOSE_SLOTS 256   /* keys remembered; one that falls out is timed again, never run wrong */

struct way_choice { int key[CHOOSE_KEY]; int way; double best[CHOOSE_WAYS]; };   /* best[w] 0: not timed */
struct way_cache { struct way_choice slots[CHOOSE_SLOTS]; int n; };

/* The choice for key (nkey ints): remembered, or made now by running each way w with can[w] four
 * times, alternating (a warm call, then the best of three), through run(w, ctx), which returns 0 or
 * an error; on an error, NULL with it in *rc. Not for calls from inside a parallel region (the
 * cache is shared). */
const struct way_choice *choose_way_cpu(struct way_cache *c, const int *key, int nkey, int nways, const int *can,
                                        int (*run)(int way, void *ctx), void *ctx, int *rc);
/* Appends " (first calls: 1.2 ms name, ...)" for the timed ways to buf (size n, used len); the new length. */
int choose_note_cpu(char *buf, size_t n, int len, const struct way_choice *h, const char *const *names);

/* An op whose GEMMs all run one way per call: OpenBLAS (way 0) or dlbench's own kernel (way 1),
 * the faster for the whole call chosen per key at its first call (conv_cpu.c, attention_cpu.c:
 * inside their parallel loops no single GEMM could be timed). One static instance per op. */
struct gemm_way_cpu {
    int use_own, ran_own;                /* this call's way; ran_own 0 once a GEMM fell back */
    int last_own, last_timed;            /* the last call, for its note */
    struct way_choice last_times;
    struct way_cache choices;
};
/* run(ctx) with the way set: forced (0 or 1) or, forced = -1, chosen by timing run for this key;
 * the own kernel only where the CPU has it, and outside parallel regions (nothing timed there).
 * run's error code. */
int gemm_way_call_cpu(struct gemm_way_cpu *g, int forced, const int *key, int nkey, int (*run)(void *ctx), void *ctx);
/* c (m x n, stride ldc) = (acc ? c : 0) + op(a)·op(b), row-major, the call's way, on the calling
 * thread's team. */
void gemm_way_sgemm_cpu(struct gemm_way_cpu *g, int ta, int tb, int m, int n, int k, const float *a, int lda,
                        const float *b, int ldb, int acc, float *c, int ldc);
/* "<prefix>dlbench AVX2 sgemm kernel (6x16)" or "<prefix>OpenBLAS sgemm (Zen)" for the last call,
 * with the first calls' times; in buf (size n). */
const char *gemm_way_note_cpu(const struct gemm_way_cpu *g, const char *prefix, char *buf, size_t n);
#endif
