/* workload_collective.c: the collective family (allreduce, allgather, reducescatter, broadcast) on a
 * group of all ranks, through the backend's collective_ops (MPI on the CPU, NCCL on GPUs). Sizes,
 * times and bandwidths as nccl-tests defines them: S is the whole array in bytes, algbw = S / time,
 * busbw = algbw × 2(n-1)/n (all-reduce), × (n-1)/n (all-gather, reduce-scatter), × 1 (broadcast).
 * Inputs are seeded random integers (fp32: ±1..1024; bf16: ±1..4) so every sum is exact in any
 * order while it fits the mantissa: the check then expects the exact result, element by element. */
#include "collective_cases.h"
#include "group.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct coll_state {
    const struct backend *b;
    struct coll_case c;
    enum dtype dt;
    const struct coll_group *g;
    void *comm, *send, *recv;
    size_t count;                /* the count argument: per rank for all-gather / reduce-scatter */
    uint64_t seed;
};

static int group_size(void) { const struct coll_group *g = dist_current_group(); return g ? g->size : dist_size(); }
static size_t elem(enum dtype dt) { return dtype_size(dt); }

/* The count passed to the operation, and the elements of its send and receive buffers. */
static size_t count_of(const struct coll_case *c, enum dtype dt, int n)
{
    size_t all = c->bytes / elem(dt);
    return c->op == COLL_ALL_GATHER || c->op == COLL_REDUCE_SCATTER ? all / (size_t)n : all;
}
static size_t send_elems(const struct coll_case *c, size_t count, int n) { return c->op == COLL_REDUCE_SCATTER ? count * n : count; }
static size_t recv_elems(const struct coll_case *c, size_t count, int n) { return c->op == COLL_ALL_GATHER ? count * n : count; }

static int coll_custom(const long *d, int nd, const void *base, void *params, char *name, size_t nn, char *why, size_t n)
{
    const struct coll_case *b = base;
    struct coll_case *c = params;
    if (nd != 1) { snprintf(why, n, "collectives take one size in bytes"); return -1; }
    *c = (struct coll_case){b->op, (size_t)d[0]};
    snprintf(name, nn, "%ldB", d[0]);
    return 0;
}

static void coll_shape(const void *p, char *buf, size_t n)
{
    const struct coll_case *c = p;
    snprintf(buf, n, "S=%zu bytes", c->bytes);
}

static double coll_flops(const void *p, enum dtype dt) { (void)p; (void)dt; return 0; }

/* S as nccl-tests counts it: the whole array (rounded down to whole elements per rank). */
static double coll_bytes(const void *p, enum dtype dt)
{
    const struct coll_case *c = p;
    int n = group_size();
    size_t count = count_of(c, dt, n);
    return (double)(count * elem(dt) * (c->op == COLL_ALL_GATHER || c->op == COLL_REDUCE_SCATTER ? (size_t)n : 1));
}

static size_t coll_device_bytes(const void *p, enum dtype dt)
{
    const struct coll_case *c = p;
    int n = group_size();
    size_t count = count_of(c, dt, n);
    return (send_elems(c, count, n) + recv_elems(c, count, n)) * elem(dt);
}

static double coll_bus_factor(const void *p, int n)
{
    switch (((const struct coll_case *)p)->op) {
    case COLL_ALL_REDUCE: return 2.0 * (n - 1) / n;
    case COLL_BROADCAST: return 1.0;
    default: return (double)(n - 1) / n;
    }
}

/* Exact while every partial sum fits the mantissa (fp32: 1024·n < 2^24; bf16: 4·n <= 256); beyond
 * that, one rounding per addition relative to Σ|x|. */
static double coll_tolerance(const void *p, enum dtype dt)
{
    const struct coll_case *c = p;
    int n = group_size();
    if (c->op == COLL_ALL_GATHER || c->op == COLL_BROADCAST) return 0;
    if (dt == DT_BF16 ? 4 * n <= 256 : 1024.0 * n < 16777216.0) return 0;
    return (n - 1) * dtype_unit_roundoff(dt);
}

/* Element i of rank r's input: a seeded nonzero integer (splitmix64 of seed, rank and index). */
static float input_value(uint64_t seed, int r, size_t i, enum dtype dt)
{
    uint64_t z = seed ^ ((uint64_t)(r + 1) * 0x9e3779b97f4a7c15ull) ^ (i * 0xbf58476d1ce4e5b9ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    int mag = dt == DT_BF16 ? 4 : 1024, v = (int)(z % (uint64_t)mag) + 1;
    return (z >> 40) & 1 ? (float)-v : (float)v;
}

static void put_elem(void *buf, enum dtype dt, size_t i, float v)
{
    if (dt == DT_BF16) ((uint16_t *)buf)[i] = f32_to_bf16(v);
    else ((float *)buf)[i] = v;
}
static float get_elem(const void *buf, enum dtype dt, size_t i)
{
    return dt == DT_BF16 ? bf16_to_f32(((const uint16_t *)buf)[i]) : ((const float *)buf)[i];
}

static void coll_teardown(void *st)
{
    struct coll_state *s = st;
    if (!s) return;
    s->b->dev->release(s->send);
    s->b->dev->release(s->recv);
    free(s);
}

static void *coll_setup(const struct backend *b, const void *p, enum dtype dt, uint64_t seed, char *why, size_t n)
{
    struct coll_state *s = calloc(1, sizeof *s);
    s->b = b; s->c = *(const struct coll_case *)p; s->dt = dt; s->seed = seed;
    s->g = dist_current_group();
    if (!s->g || !(s->comm = dist_comm(b, s->g))) { snprintf(why, n, "no communicator for this group"); free(s); return NULL; }
    int ranks = s->g->size;
    s->count = count_of(&s->c, dt, ranks);
    if (s->count == 0) {
        snprintf(why, n, "unsupported: %zu bytes is less than one %s element per rank for %d ranks", s->c.bytes, dtype_name(dt), ranks);
        free(s);
        return NULL;
    }
    size_t ns = send_elems(&s->c, s->count, ranks), nr = recv_elems(&s->c, s->count, ranks);
    void *hs = malloc(ns * elem(dt)), *hr = malloc(nr * elem(dt));
    s->send = b->dev->alloc(ns * elem(dt));
    s->recv = b->dev->alloc(nr * elem(dt));
    int fail = !hs || !hr || !s->send || !s->recv;
    if (!fail) {
        #pragma omp parallel for schedule(static)
        for (size_t i = 0; i < ns; i++) put_elem(hs, dt, i, input_value(seed, s->g->rank, i, dt));
        #pragma omp parallel for schedule(static)
        for (size_t i = 0; i < nr; i++) put_elem(hr, dt, i, NAN);   /* poisoned until the verified call */
        fail = b->dev->upload(s->send, hs, ns * elem(dt)) || b->dev->upload(s->recv, hr, nr * elem(dt));
    }
    if (fail) snprintf(why, n, "%s", hs && hr ? b->dev->error() : "out of host memory");
    free(hs);
    free(hr);
    if (fail) { coll_teardown(s); return NULL; }
    return s;
}

static int coll_call(void *st)
{
    struct coll_state *s = st;
    const struct collective_ops *c = s->b->coll;
    switch (s->c.op) {
    case COLL_ALL_REDUCE: return c->all_reduce(s->comm, s->dt, s->count, s->send, s->recv);
    case COLL_ALL_GATHER: return c->all_gather(s->comm, s->dt, s->count, s->send, s->recv);
    case COLL_REDUCE_SCATTER: return c->reduce_scatter(s->comm, s->dt, s->count, s->send, s->recv);
    default: return c->broadcast(s->comm, s->dt, s->count, s->send, s->recv);
    }
}

/* What element i of this rank's output must be, and Σ|x| of the values summed into it. */
static double expected(const struct coll_state *s, size_t i, double *mag)
{
    int n = s->g->size;
    double sum = 0;
    *mag = 0;
    switch (s->c.op) {
    case COLL_ALL_GATHER: sum = input_value(s->seed, (int)(i / s->count), i % s->count, s->dt); *mag = fabs(sum); return sum;
    case COLL_BROADCAST: sum = input_value(s->seed, 0, i, s->dt); *mag = fabs(sum); return sum;
    default: break;
    }
    size_t j = s->c.op == COLL_REDUCE_SCATTER ? (size_t)s->g->rank * s->count + i : i;
    for (int r = 0; r < n; r++) {
        double v = input_value(s->seed, r, j, s->dt);
        sum += v;
        *mag += fabs(v);
    }
    return sum;
}

/* The largest |got - expected| / Σ|x| over this rank's output (every element checked). */
static double coll_check(void *st, char *why, size_t n)
{
    struct coll_state *s = st;
    size_t nr = recv_elems(&s->c, s->count, s->g->size);
    void *h = malloc(nr * elem(s->dt));
    if (!h) { snprintf(why, n, "out of host memory"); return -1; }
    if (s->b->dev->sync() || s->b->dev->download(h, s->recv, nr * elem(s->dt))) {
        snprintf(why, n, "%s", s->b->dev->error());
        free(h);
        return -1;
    }
    double worst = 0;
    #pragma omp parallel for schedule(static) reduction(max : worst)
    for (size_t i = 0; i < nr; i++) {
        double mag, want = expected(s, i, &mag), got = get_elem(h, s->dt, i);
        double e = isfinite(got) ? fabs(got - want) / fmax(mag, 1.0) : INFINITY;
        if (e > worst) worst = e;
    }
    free(h);
    return worst;
}

#define COLLECTIVE(NAME, CASES, WHAT)                                                                   \
    const struct workload NAME##_workload = {                                                           \
        .name = #NAME, .family = "collective", .what = WHAT, .dtypes = (1u << DT_F32) | (1u << DT_BF16), \
        .cases = CASES, .params_size = sizeof(struct coll_case), .group = GROUP_ALL,                    \
        .custom = coll_custom, .shape = coll_shape, .flops = coll_flops, .bytes = coll_bytes,            \
        .device_bytes = coll_device_bytes, .bus_factor = coll_bus_factor, .setup = coll_setup,           \
        .call = coll_call, .check = coll_check, .tolerance = coll_tolerance, .teardown = coll_teardown,  \
    }

COLLECTIVE(allreduce, allreduce_cases, "all-reduce (sum) over all ranks: MPI on CPUs, NCCL on GPUs; busbw = algbw x 2(n-1)/n");
COLLECTIVE(allgather, allgather_cases, "all-gather over all ranks (S = the gathered array); busbw = algbw x (n-1)/n");
COLLECTIVE(reducescatter, reducescatter_cases, "reduce-scatter (sum) over all ranks (S = each rank's input); busbw = algbw x (n-1)/n");
COLLECTIVE(broadcast, broadcast_cases, "broadcast from rank 0 to all ranks; busbw = algbw");
