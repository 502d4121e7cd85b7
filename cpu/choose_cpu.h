/* choose_cpu.h: the fastest of a few ways to run one call, timed at a key's first call and
 * remembered (choose_cpu.c); gemm_cpu.c's fp32 GEMM and conv_cpu.c's GEMMs use it. */
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
#endif
