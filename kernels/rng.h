/* rng.h: seeded, reproducible random inputs (splitmix64 stream), identical on every backend:
 * the host fills arrays once and each backend receives the same values. */
#ifndef DLBENCH_RNG_H
#define DLBENCH_RNG_H
#include <stddef.h>
#include <stdint.h>

struct rng { uint64_t s; };
void rng_seed(struct rng *r, uint64_t seed, uint64_t stream);
uint64_t rng_next(struct rng *r);
double rng_uniform(struct rng *r);                        /* [0, 1) */
double rng_normal(struct rng *r);
void rng_fill_uniform(struct rng *r, float *x, size_t n, float lo, float hi);
#endif
