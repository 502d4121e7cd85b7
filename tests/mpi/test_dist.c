/* test_dist.c: the MPI tests, one program run under `mpirun -n N` (tests/mpi/run-mpi-tests.sh runs it
 * at 2, 3 and 4 ranks): a backend's collectives against their exact results at awkward counts (1,
 * odd, not divisible by the ranks) on every group of the first k ranks while the others idle, sums
 * started and waited for together, the verifier rejecting a corrupted all-reduce, and group rows
 * through dist_measure. Every check is agreed over the ranks; rank 0 prints TAP. Argument: the
 * backend (cpu, or cuda with NCCL on a GPU machine; one rank per GPU). */
#include "backend.h"
#include "dist.h"
#include "workload.h"
#include "collective_cases.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tests, failures;

/* ok on every rank, or the test fails; rank 0 prints the TAP line. */
static void check(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(int ok, const char *fmt, ...)
{
    const struct coll_group *all = dist_group(dist_size());
    double bad[1] = {ok ? 0 : 1};
    if (dist_max(all, bad, 1, wall_seconds() + 120) != 0) bad[0] = 1;
    char name[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    tests++;
    failures += bad[0] > 0;
    if (dist_rank() == 0) printf("%s %d - mpi %d ranks: %s\n", bad[0] > 0 ? "not ok" : "ok", tests, dist_size(), name);
    fflush(stdout);
}

/* Rank r's element i: small exact integers, so any summation order gives the exact sum. */
static float val(int r, size_t i) { return (float)((int)((i * 7 + (size_t)r * 13) % 9) - 4 + (r + 1)); }

static void *dev_put(const struct backend *b, enum dtype dt, const float *h, size_t n)
{
    void *packed = malloc(n * dtype_size(dt) + 1), *d = b->dev->alloc(n * dtype_size(dt) + 1);
    dtype_pack(dt, h, packed, n);
    b->dev->upload(d, packed, n * dtype_size(dt));
    free(packed);
    return d;
}

static void dev_get(const struct backend *b, enum dtype dt, const void *d, float *h, size_t n)
{
    void *packed = malloc(n * dtype_size(dt) + 1);
    b->dev->sync();
    b->dev->download(packed, d, n * dtype_size(dt));
    for (size_t i = 0; i < n; i++)
        h[i] = dt == DT_BF16 ? bf16_to_f32(((uint16_t *)packed)[i]) : ((float *)packed)[i];
    free(packed);
}

/* One operation at one count on group g; returns the number of wrong elements on this rank. */
static long run_op(const struct backend *b, void *comm, const struct coll_group *g, enum coll_op op, enum dtype dt, size_t count)
{
    int n = g->size;
    size_t ns = op == COLL_REDUCE_SCATTER ? count * n : count, nr = op == COLL_ALL_GATHER ? count * n : count;
    float *in = malloc(sizeof(float) * ns), *out = malloc(sizeof(float) * nr);
    for (size_t i = 0; i < ns; i++) in[i] = val(g->rank, i);
    for (size_t i = 0; i < nr; i++) out[i] = NAN;
    void *ds = dev_put(b, dt, in, ns), *dr = dev_put(b, dt, out, nr);
    const struct collective_ops *c = b->coll;
    int rc = op == COLL_ALL_REDUCE ? c->all_reduce(comm, dt, count, ds, dr)
           : op == COLL_ALL_GATHER ? c->all_gather(comm, dt, count, ds, dr)
           : op == COLL_REDUCE_SCATTER ? c->reduce_scatter(comm, dt, count, ds, dr)
           : c->broadcast(comm, dt, count, ds, dr);
    long wrong = rc != 0 ? (long)nr + 1 : 0;
    dev_get(b, dt, dr, out, nr);
    for (size_t i = 0; i < nr && !rc; i++) {
        double want = 0;
        if (op == COLL_ALL_GATHER) want = val((int)(i / count), i % count);
        else if (op == COLL_BROADCAST) want = val(0, i);
        else for (int r = 0; r < n; r++) want += val(r, op == COLL_REDUCE_SCATTER ? (size_t)g->rank * count + i : i);
        wrong += out[i] != (float)want;
    }
    b->dev->release(ds);
    b->dev->release(dr);
    free(in);
    free(out);
    return wrong;
}

static const char *op_name(enum coll_op op)
{
    return op == COLL_ALL_REDUCE ? "all-reduce" : op == COLL_ALL_GATHER ? "all-gather" : op == COLL_REDUCE_SCATTER ? "reduce-scatter" : "broadcast";
}

/* Every operation, fp32 and bf16, at counts 1, 7 (odd, prime to 2..4 ranks), 1000 and 65537, on the
 * group of the first k ranks; the ranks outside it only wait. */
static void collectives_on(const struct backend *b, int k)
{
    const struct coll_group *g = dist_group(k);
    void *comm = g ? dist_comm(b, g) : NULL;
    static const size_t counts[] = {1, 7, 1000, 65537};
    for (int op = 0; op < 4; op++)
        for (int d = 0; d < 2; d++) {
            enum dtype dt = d ? DT_BF16 : DT_F32;
            long wrong = 0;
            for (int c = 0; c < 4 && g; c++) wrong += comm ? run_op(b, comm, g, (enum coll_op)op, dt, counts[c]) : 1;
            check(wrong == 0, "%s %s %s on the first %d ranks, counts 1, 7, 1000, 65537: %ld wrong elements", b->name,
                  op_name((enum coll_op)op), dtype_name(dt), k, wrong);
        }
}

/* Three in-place sums in flight at once, then one wait: each buffer holds its own sum. */
static void sums_in_flight(const struct backend *b)
{
    const struct coll_group *g = dist_group(dist_size());
    void *comm = dist_comm(b, g);
    size_t counts[3] = {3, 4099, 17};
    float *h[3];
    void *d[3];
    long wrong = 0;
    for (int j = 0; j < 3; j++) {
        h[j] = malloc(sizeof(float) * counts[j]);
        for (size_t i = 0; i < counts[j]; i++) h[j][i] = val(g->rank, i + j);
        d[j] = dev_put(b, DT_F32, h[j], counts[j]);
        wrong += b->coll->all_reduce_start(comm, DT_F32, counts[j], d[j]) != 0;
    }
    wrong += b->coll->wait_all(comm) != 0;
    for (int j = 0; j < 3; j++) {
        dev_get(b, DT_F32, d[j], h[j], counts[j]);
        for (size_t i = 0; i < counts[j]; i++) {
            double want = 0;
            for (int r = 0; r < g->size; r++) want += val(r, i + j);
            wrong += h[j][i] != (float)want;
        }
        b->dev->release(d[j]);
        free(h[j]);
    }
    check(wrong == 0, "%s: three in-place sums started together, one wait: %ld wrong", b->name, wrong);
}

/* A backend whose all-reduce is off by one on the last rank: the workload's check must see it. */
static const struct backend *base_backend;
static struct collective_ops broken_ops;
static struct backend broken;
static int broken_all_reduce(void *comm, enum dtype dt, size_t count, const void *send, void *recv)
{
    if (base_backend->coll->all_reduce(comm, dt, count, send, recv)) return -1;
    if (dist_rank() != dist_size() - 1) return 0;
    float *h = malloc(sizeof(float) * count);
    dev_get(base_backend, dt, recv, h, count);
    h[count / 2] += 1;
    void *packed = malloc(count * dtype_size(dt));
    dtype_pack(dt, h, packed, count);
    base_backend->dev->upload(recv, packed, count * dtype_size(dt));
    free(packed);
    free(h);
    return 0;
}

static void group_rows(const struct backend *b)
{
    extern const struct workload allreduce_workload;
    struct timing_opts t = {0.01, 0.05, 0.01, 60, 1000, 0};   /* warm-up: the one call */
    struct row r;
    struct timing_result tr;
    const struct coll_case c7 = {COLL_ALL_REDUCE, 28}, c7b = {COLL_ALL_REDUCE, 14};
    int rc = dist_measure(b, &allreduce_workload, "28B", &c7, DT_F32, 1, dist_size(), &t, 42, &r, &tr);
    free(tr.samples);
    int ok = dist_rank() == 0 ? rc == 0 && (!strcmp(r.status, "ok") || !strcmp(r.status, "noisy")) && r.verify_err == 0 && r.rank == -1 &&
                                    r.ranks == dist_size() && fabs(r.busbw_gbps / r.gbytes_per_s - 2.0 * (dist_size() - 1) / dist_size()) < 1e-9
                              : rc == 2;
    check(ok, "%s all-reduce of 7 fp32 through dist_measure: one verified row, busbw = algbw x 2(n-1)/n (rank 0: %s)", b->name,
          dist_rank() == 0 ? r.status : "-");
    base_backend = b;
    broken_ops = *b->coll;
    broken_ops.all_reduce = broken_all_reduce;
    broken = *b;
    broken.coll = &broken_ops;
    rc = dist_measure(&broken, &allreduce_workload, "14B", &c7b, DT_BF16, 1, dist_size(), &t, 42, &r, &tr);
    free(tr.samples);
    ok = dist_rank() == 0 ? rc == 0 && !strncmp(r.status, "failed: error", 13) && r.verify_err > 0 : rc == 2;
    check(ok, "%s: one wrong element on the last rank fails the row on every rank (rank 0: %s)", b->name, dist_rank() == 0 ? r.status : "-");
}

int main(int argc, char **argv)
{
    if (dist_init() != 0) return 2;
    const struct backend *b = backend_find(argc > 1 ? argv[1] : "cpu");
    char why[256];
    if (!b || !b->coll || !b->probe(why, sizeof why) || (b->coll->available && !b->coll->available(why, sizeof why))) {
        if (dist_rank() == 0) printf("1..0 # SKIP %s: %s\n", argc > 1 ? argv[1] : "cpu", !b ? "no such backend" : !b->coll ? "no collectives" : why);
        return dist_finish(0);
    }
    for (int k = 1; k <= dist_size(); k++) collectives_on(b, k);
    sums_in_flight(b);
    if (dist_size() > 1) group_rows(b);   /* one process: dist_measure skips group rows */
    if (dist_rank() == 0) printf("1..%d\n", tests);
    return dist_finish(failures ? 1 : 0);
}
