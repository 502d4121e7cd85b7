/* workload_transfer.c: host<->device copies on GPU backends: seeded random bytes (generated in
 * parallel, verify.h), destination poisoned, byte-exact check after the verified copy. Bytes: a
 * host<->device copy counts each byte crossing the bus once; a device-to-device copy counts bytes
 * read plus bytes written (STREAM's convention, as every bandwidth row and ceiling). */
#include "transfer_cases.h"
#include "cbrng.h"
#include "verify.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct xfer_state {
    const struct backend *b;
    struct transfer_shape s;
    unsigned char *host, *expect;    /* host side of the copy; the bytes that must arrive */
    void *dev, *dev2;
    int pinned;
};

static int xfer_custom(const long *d, int nd, const void *base, void *params, char *name, size_t nn, char *why, size_t n)
{
    const struct transfer_shape *b = base;
    struct transfer_shape *s = params;
    if (nd != 1) { snprintf(why, n, "transfers take one size in bytes"); return -1; }
    *s = (struct transfer_shape){b->kind, (size_t)d[0]};
    snprintf(name, nn, "%s.%ld", xfer_kind_names[b->kind], d[0]);
    return 0;
}

static void xfer_shape(const void *p, char *buf, size_t n)
{
    const struct transfer_shape *s = p;
    snprintf(buf, n, "%s %zu bytes%s", xfer_kind_names[s->kind], s->bytes,
             s->kind == XFER_D2D ? " (counted read + written)" : " (counted once, on the bus)");
}

static double xfer_flops(const void *p, enum dtype dt) { (void)p; (void)dt; return 0; }
static double xfer_bytes(const void *p, enum dtype dt)
{
    const struct transfer_shape *s = p;
    (void)dt;
    return (double)s->bytes * (s->kind == XFER_D2D ? 2 : 1);
}
/* Only a device-to-device copy streams through the device's caches; bus copies are not flagged. */
static double xfer_array_bytes(const void *p)
{
    const struct transfer_shape *s = p;
    return s->kind == XFER_D2D ? (double)s->bytes : 0;
}
static size_t xfer_device_bytes(const void *p, enum dtype dt)
{
    const struct transfer_shape *s = p;
    (void)dt;
    return s->bytes * (s->kind == XFER_D2D ? 2 : 1);
}
static double xfer_tolerance(const void *p, enum dtype dt) { (void)p; (void)dt; return 0; }

static void xfer_teardown(void *st)
{
    struct xfer_state *x = st;
    if (!x) return;
    if (x->pinned && x->b->xfer->host_free_pinned) x->b->xfer->host_free_pinned(x->host);
    else free(x->host);
    free(x->expect);
    x->b->dev->release(x->dev);
    x->b->dev->release(x->dev2);
    free(x);
}

static void *xfer_setup(const struct backend *b, const void *p, enum dtype dt, uint64_t seed, char *why, size_t n)
{
    (void)dt;
    struct xfer_state *x = calloc(1, sizeof *x);
    const struct transfer_shape *s = p;
    x->b = b; x->s = *s;
    x->pinned = s->kind == XFER_H2D_PINNED || s->kind == XFER_D2H_PINNED;
    if (!b->xfer->h2d || !b->xfer->d2h || !b->xfer->d2d || !b->xfer->host_alloc_pinned) {
        snprintf(why, n, "backend has no host-device copies");
        free(x);
        return NULL;
    }
    x->host = x->pinned ? b->xfer->host_alloc_pinned(s->bytes) : malloc(s->bytes);
    x->expect = malloc(s->bytes);
    x->dev = b->dev->alloc(s->bytes);
    if (s->kind == XFER_D2D) x->dev2 = b->dev->alloc(s->bytes);
    if (!x->host || !x->expect || !x->dev || (s->kind == XFER_D2D && !x->dev2)) {
        snprintf(why, n, "%s", x->expect && x->host ? b->dev->error() : "out of host memory");
        xfer_teardown(x);
        return NULL;
    }
    uint64_t key = cbrng_key(seed, 3);
    long words = (long)((s->bytes + 7) / 8);
#pragma omp parallel for schedule(static)
    for (long i = 0; i < words; i++) {
        uint64_t v = cbrng_bits(key, (uint64_t)i);
        size_t at = (size_t)i * 8;
        memcpy(x->expect + at, &v, s->bytes - at < 8 ? s->bytes - at : 8);
    }
    int rc = 0;
    if (s->kind == XFER_H2D_PINNED || s->kind == XFER_H2D_PAGEABLE) {
        memcpy(x->host, x->expect, s->bytes);
    } else { /* the source is on the device; the destination is poisoned */
        rc = b->dev->upload(x->dev, x->expect, s->bytes);
        memset(x->host, 0xa5, s->bytes);
        if (s->kind == XFER_D2D && rc == 0) rc = b->dev->upload(x->dev2, x->host, s->bytes);
    }
    if (rc != 0) { snprintf(why, n, "%s", b->dev->error()); xfer_teardown(x); return NULL; }
    return x;
}

static int xfer_call(void *st)
{
    struct xfer_state *x = st;
    switch (x->s.kind) {
    case XFER_H2D_PINNED: case XFER_H2D_PAGEABLE: return x->b->xfer->h2d(x->dev, x->host, x->s.bytes);
    case XFER_D2H_PINNED: case XFER_D2H_PAGEABLE: return x->b->xfer->d2h(x->host, x->dev, x->s.bytes);
    default: return x->b->xfer->d2d(x->dev2, x->dev, x->s.bytes);
    }
}

/* The error is the fraction of bytes that differ from what was sent. */
static double xfer_check(void *st, char *why, size_t n)
{
    struct xfer_state *x = st;
    const unsigned char *got = x->host;
    unsigned char *tmp = NULL;
    if (x->b->dev->sync() != 0) { snprintf(why, n, "%s", x->b->dev->error()); return -1; }
    if (x->s.kind == XFER_H2D_PINNED || x->s.kind == XFER_H2D_PAGEABLE || x->s.kind == XFER_D2D) {
        tmp = malloc(x->s.bytes);
        if (!tmp || x->b->dev->download(tmp, x->s.kind == XFER_D2D ? x->dev2 : x->dev, x->s.bytes) != 0) {
            snprintf(why, n, "%s", tmp ? x->b->dev->error() : "out of host memory");
            free(tmp);
            return -1;
        }
        got = tmp;
    }
    size_t bad = 0;
    long nb = (long)x->s.bytes;
#pragma omp parallel for schedule(static) reduction(+ : bad)
    for (long i = 0; i < nb; i++) bad += got[i] != x->expect[i];
    free(tmp);
    return (double)bad / (double)x->s.bytes;
}

const struct workload transfer_workload = {
    .name = "transfer",
    .family = "transfer",
    .what = "host<->device copies (pinned, pageable) and device-to-device copies, GB/s",
    .dtypes = 1u << DT_F32,
    .cases = transfer_cases,
    .params_size = sizeof(struct transfer_shape),
    .custom = xfer_custom,
    .shape = xfer_shape,
    .flops = xfer_flops,
    .bytes = xfer_bytes,
    .device_bytes = xfer_device_bytes,
    .setup = xfer_setup,
    .call = xfer_call,
    .check = xfer_check,
    .tolerance = xfer_tolerance,
    .teardown = xfer_teardown,
    .array_bytes = xfer_array_bytes,
};
