/* workload_gemm.c: the GEMM family: C = op(A)·op(B) with seeded inputs in [-1,1] rounded to the
 * dtype (generated on the device, verify.h), fp32 output poisoned with NaN before the verified
 * call, checked by kernels/gemm_ref's Freivalds check against the same inputs made on the host. */
#include "gemm_cases.h"
#include "gemm_ref.h"
#include "cbrng.h"
#include "verify.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

struct gemm_state {
    const struct backend *b;
    struct gemm_shape s;
    enum dtype dt;
    uint64_t seed, key_a, key_b;
    void *da, *db;
    float *dc;
};

static int gemm_custom(const long *d, int nd, const void *base, void *params, char *name, size_t nn, char *why, size_t n)
{
    struct gemm_shape *s = params;
    (void)base; /* one NN case of the given size, whatever case it was derived from */
    if (nd != 1 && nd != 3) { snprintf(why, n, "gemm takes N or MxNxK"); return -1; }
    for (int i = 0; i < nd; i++)
        if (d[i] > 1000000) { snprintf(why, n, "gemm dimension %ld is larger than 1000000", d[i]); return -1; }
    *s = (struct gemm_shape){(int)d[0], (int)(nd == 3 ? d[1] : d[0]), (int)(nd == 3 ? d[2] : d[0]), 0, 0};
    snprintf(name, nn, "%dx%dx%d", s->m, s->n, s->k);
    return 0;
}

static void gemm_shape_str(const void *p, char *buf, size_t n)
{
    const struct gemm_shape *s = p;
    snprintf(buf, n, "M=%d N=%d K=%d %c%c", s->m, s->n, s->k, s->ta ? 'T' : 'N', s->tb ? 'T' : 'N');
}

static double gemm_wl_flops(const void *p, enum dtype dt)
{ (void)dt; const struct gemm_shape *s = p; return gemm_flops(s->m, s->n, s->k); }

static double gemm_wl_bytes(const void *p, enum dtype dt)
{ const struct gemm_shape *s = p; return gemm_bytes(s->m, s->n, s->k, dt); }

static size_t gemm_device_bytes(const void *p, enum dtype dt) { return (size_t)gemm_wl_bytes(p, dt); }

static double gemm_wl_tolerance(const void *p, enum dtype dt)
{ return gemm_tolerance(dt, ((const struct gemm_shape *)p)->k); }

static void gemm_teardown(void *st)
{
    struct gemm_state *g = st;
    if (!g) return;
    if (g->b->dev->release) { g->b->dev->release(g->da); g->b->dev->release(g->db); g->b->dev->release(g->dc); }
    free(g);
}

static void *gemm_setup(const struct backend *b, const void *p, enum dtype dt, uint64_t seed, char *why, size_t n)
{
    struct gemm_state *g = calloc(1, sizeof *g);
    const struct gemm_shape *s = p;
    size_t na = (size_t)s->m * s->k, nb = (size_t)s->k * s->n, nc = (size_t)s->m * s->n;
    g->b = b; g->s = *s; g->dt = dt; g->seed = seed;
    g->key_a = cbrng_key(seed, 1); g->key_b = cbrng_key(seed, 2);
    g->da = gen_device(b, dt, na, g->key_a, -1, 1);
    g->db = g->da ? gen_device(b, dt, nb, g->key_b, -1, 1) : NULL;
    g->dc = g->db ? b->dev->alloc(nc * 4) : NULL;
    if (!g->dc || gen_fill(b, g->dc, DT_F32, nc, 0, NAN, NAN) != 0) { snprintf(why, n, "%s", b->dev->error()); gemm_teardown(g); return NULL; }
    return g;
}

static int gemm_call(void *st)
{
    struct gemm_state *g = st;
    return g->b->mm->gemm(g->dt, g->s.ta, g->s.tb, g->s.m, g->s.n, g->s.k, g->da, g->db, g->dc);
}

/* The host makes the very inputs the device did (rounded to dt) only now, for the check. */
static double gemm_wl_check(void *st, char *why, size_t n)
{
    struct gemm_state *g = st;
    size_t na = (size_t)g->s.m * g->s.k, nb = (size_t)g->s.k * g->s.n, nc = (size_t)g->s.m * g->s.n;
    float *ha = malloc(na * 4), *hb = malloc(nb * 4), *hc = malloc(nc * 4);
    double err = -1;
    if (!ha || !hb || !hc) snprintf(why, n, "out of host memory");
    else if (g->b->dev->sync() != 0 || g->b->dev->download(hc, g->dc, nc * 4) != 0) snprintf(why, n, "%s", g->b->dev->error());
    else {
        gen_host(ha, 0, na, g->key_a, -1, 1, g->dt);
        gen_host(hb, 0, nb, g->key_b, -1, 1, g->dt);
        err = gemm_check(g->s.ta, g->s.tb, g->s.m, g->s.n, g->s.k, ha, hb, hc, g->seed);
        snprintf(why, n, "Freivalds (3 vectors) + 68 elements + NaN/Inf scan");
    }
    free(ha); free(hb); free(hc);
    return err;
}

const struct workload gemm_workload = {
    .name = "gemm",
    .family = "gemm",
    .what = "C = op(A)·op(B), row-major, fp32 out; square sweep and deep-learning layer shapes",
    .dtypes = 1u << DT_F32 | 1u << DT_TF32 | 1u << DT_F16 | 1u << DT_BF16,
    .cases = gemm_cases,
    .params_size = sizeof(struct gemm_shape),
    .custom = gemm_custom,
    .shape = gemm_shape_str,
    .flops = gemm_wl_flops,
    .bytes = gemm_wl_bytes,
    .device_bytes = gemm_device_bytes,
    .setup = gemm_setup,
    .call = gemm_call,
    .check = gemm_wl_check,
    .tolerance = gemm_wl_tolerance,
    .teardown = gemm_teardown,
};
