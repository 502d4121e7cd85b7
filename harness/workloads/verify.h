/* verify.h: inputs and checks every workload family shares. Inputs come from the counter-based
 * generator (kernels/cbrng.h), made on the device when the backend can (no host upload) and on
 * the host, in parallel, wherever a check needs them. Outputs up to VERIFY_FULL_MAX elements are
 * checked element by element in parallel; a larger output gets a full check of a smaller instance
 * of the same kernel (measure.c runs it first, workload.small), VERIFY_BLOCKS sampled blocks of
 * VERIFY_BLOCK consecutive elements (any fault repeating at most every VERIFY_BLOCK elements
 * lands in every block), and a NaN/Inf scan of every element. */
#ifndef DLBENCH_VERIFY_H
#define DLBENCH_VERIFY_H
#include <stddef.h>
#include <stdint.h>
#include "backend.h"

#define VERIFY_FULL_MAX ((size_t)1 << 22)  /* elements checked one by one at the timed size */
#define VERIFY_BLOCK 64                    /* consecutive elements per sampled block */
#define VERIFY_BLOCKS 64                   /* blocks: 4096 sampled elements per output */

/* n elements of dt's storage at dst from stream key, uniform in [lo, hi) rounded to dt: on the
 * device (dev->fill), else generated on the host and uploaded. 0, or -1 with the backend's error. */
int gen_fill(const struct backend *b, void *dst, enum dtype dt, size_t n, uint64_t key, float lo, float hi);
/* A new device buffer so filled; NULL with the backend's error. */
void *gen_device(const struct backend *b, enum dtype dt, size_t n, uint64_t key, float lo, float hi);
/* Host copy of elements [first, first + n) of that stream, rounded to dt, as floats (parallel). */
void gen_host(float *dst, size_t first, size_t n, uint64_t key, float lo, float hi, enum dtype dt);

/* NaN/Inf among n elements of dt's storage in backend memory: *count of them and the *first index
 * (n: none), on the device when it can, else downloaded in chunks and scanned in parallel. 0, or -1
 * with why. */
int verify_scan(const struct backend *b, const void *src, enum dtype dt, size_t n, size_t *count, size_t *first, char *why,
                size_t wn);
/* Start indices of up to max blocks of `block` elements in [0, n): the first and the last block,
 * the rest seeded-random and distinct where n allows. Returns the count. */
int verify_blocks(uint64_t seed, size_t n, size_t block, size_t *starts, int max);
/* FNV-1a over n bytes (64-bit words, then the tail), continuing from h (start: VERIFY_HASH_SEED):
 * the key of a reference that rows share when every byte it reads is equal. */
#define VERIFY_HASH_SEED 0xcbf29ce484222325ULL
uint64_t verify_hash(uint64_t h, const void *p, size_t n);
/* max over i < n of err(ctx, i), in parallel; a NaN error counts as infinite. */
double verify_max(size_t n, double (*err)(const void *ctx, size_t i), const void *ctx);
/* |y - ref| / (|ref| + scale); NaN (a NaN output) becomes infinite. */
double verify_rel(double y, double ref, double scale);
/* The words a sampled check leaves in its `why` on success (the row's check column). */
void verify_describe_sampled(char *buf, size_t n, size_t elems, int blocks, size_t block);
#endif
