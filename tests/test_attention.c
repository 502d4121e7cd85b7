/* test_attention.c: causal attention on the CPU against the double reference on awkward shapes
 * (T = 1, T not a multiple of the 64-row block, d = 80, B = 1, H = 1, a packed-QKV row stride)
 * with each way of running its GEMMs,
 * the reference itself against finite differences, and the workload's verifier rejecting a
 * corrupted output. */
#include "attention_test_util.h"
#include "attention_cases.h"
#include "workload.h"
#include "cpu_ops.h"

/* Each way of running the GEMMs (-1: timed and chosen; 0 OpenBLAS; 1 the own kernel, where the
 * CPU has AVX2 + FMA or AVX-512: the test says so where it does not). */
Test(attention, cpu_forward_backward_match_reference)
{
    const struct backend *b = backend_find("cpu");
    for (int way = -1; way < 2; way++) {
        if (way == 1 && !gemm_own_cpu_available()) {
            cr_log_warn("the own GEMM kernel cannot run on this CPU: its way is not checked");
            continue;
        }
        attention_cpu_way = way;
        expect_attention_ok(b, b->attn, DT_F32, attn_shape(1, 1, 1, 16, 0, 0));
        expect_attention_ok(b, b->attn, DT_F32, attn_shape(2, 3, 67, 80, 0, 0));
        expect_attention_ok(b, b->attn, DT_F32, attn_shape(1, 1, 130, 64, 0, 0));
        expect_attention_ok(b, b->attn, DT_F32, attn_shape(2, 2, 33, 16, 2 * 2 * 16 + 8, 8));   /* like a packed QKV buffer */
    }
    attention_cpu_way = -1;
}

/* L = Σ o·g1 + Σ lse·g2 against dq, dk, dv of the reference (the lse term checks the forward's lse). */
struct fd_ctx { struct attn_shape s; double *x[3], *g; };
static double fd_loss(struct fd_ctx *c)
{
    size_t n = (size_t)c->s.B * c->s.T * c->s.ld_in;
    double *o = malloc(n * sizeof(double)), *lse = malloc(sizeof(double) * c->s.B * c->s.H * c->s.T), l = 0;
    attention_fwd_ref(&c->s, c->x[0], c->x[1], c->x[2], o, lse);
    for (size_t i = 0; i < n; i++) l += o[i] * c->g[i];
    free(o);
    free(lse);
    return l;
}

Test(attention, reference_backward_matches_finite_differences)
{
    struct fd_ctx c = {{2, 2, 9, 4, 8, 8}, {0}, NULL};
    size_t n = 2 * 9 * 8;
    double *o = malloc(n * sizeof(double)), *lse = malloc(36 * sizeof(double)), *grad[3];
    struct rng r;
    rng_seed(&r, 4, 4);
    c.g = malloc(n * sizeof(double));
    for (int i = 0; i < 3; i++) {
        c.x[i] = malloc(n * sizeof(double));
        grad[i] = malloc(n * sizeof(double));
        for (size_t j = 0; j < n; j++) c.x[i][j] = 2 * rng_uniform(&r) - 1;
    }
    for (size_t j = 0; j < n; j++) c.g[j] = 2 * rng_uniform(&r) - 1;
    attention_fwd_ref(&c.s, c.x[0], c.x[1], c.x[2], o, lse);
    attention_bwd_ref(&c.s, c.x[0], c.x[1], c.x[2], o, c.g, lse, grad[0], grad[1], grad[2]);
    for (int t = 0; t < 3; t++)
        for (size_t j = 0; j < n; j += 3) {
            double keep = c.x[t][j], h = 1e-6;
            c.x[t][j] = keep + h; double lp = fd_loss(&c);
            c.x[t][j] = keep - h; double lm = fd_loss(&c);
            c.x[t][j] = keep;
            double fd = (lp - lm) / (2 * h);
            cr_expect(fabs(fd - grad[t][j]) < 1e-6 * fmax(1, fabs(fd)), "tensor %d [%zu]: fd %g, backward %g", t, j, fd, grad[t][j]);
        }
    for (int i = 0; i < 3; i++) { free(c.x[i]); free(grad[i]); }
    free(c.g); free(o); free(lse);
}

/* The verifier must fail a wrong result: a backend whose backward adds 0.5 to one element of dK
 * (the last key of the last head, a head the check recomputes). */
static int bad_bwd(enum dtype dt, const struct attn_shape *s, const void *q, const void *k, const void *v, const void *o,
                   const void *dout, const float *lse, void *dq, void *dk, void *dv, void *ws)
{
    const struct backend *cpu = backend_find("cpu");
    int rc = cpu->attn->bwd(dt, s, q, k, v, o, dout, lse, dq, dk, dv, ws);
    ((float *)dk)[((size_t)s->B * s->T - 1) * s->ld_in + (size_t)s->H * s->d - 1] += 0.5f;
    return rc;
}

Test(attention, verifier_rejects_corrupted_output)
{
    extern const struct workload attention_fwd_bwd_workload;
    const struct workload *w = &attention_fwd_bwd_workload;
    const struct backend *cpu = backend_find("cpu");
    struct attention_ops bad_ops = *cpu->attn;
    bad_ops.bwd = bad_bwd;
    struct backend bad = *cpu;
    bad.attn = &bad_ops;
    struct attention_case c = {2, 2, 70, 16};
    char why[256];
    for (int corrupt = 0; corrupt < 2; corrupt++) {
        const struct backend *b = corrupt ? &bad : cpu;
        void *st = w->setup(b, &c, DT_F32, 1, why, sizeof why);
        cr_assert(st, "%s", why);
        cr_assert_eq(w->call(st), 0);
        double e = w->check(st, why, sizeof why);
        if (corrupt) cr_expect(e > w->tolerance(&c, DT_F32), "corrupted dK passed: error %g", e);
        else cr_expect(e >= 0 && e <= w->tolerance(&c, DT_F32), "clean result: error %g (%s)", e, why);
        w->teardown(st);
    }
}

/* Rows of one case and dtype share the heads' references (every backend gets identical input
 * bits); another seed or the forward-only workload computes its own, and a shared one still
 * catches a wrong result. */
Test(attention, rows_share_the_head_references)
{
    extern const struct workload attention_fwd_workload, attention_fwd_bwd_workload;
    const struct backend *cpu = backend_find("cpu");
    struct attention_case c = {1, 2, 40, 16};   /* heads (0,0) and (0,1): two references a row */
    char why[256];
    struct { const struct workload *w; uint64_t seed; int more; } rows[] = {
        {&attention_fwd_bwd_workload, 7, 2}, {&attention_fwd_bwd_workload, 7, 0},
        {&attention_fwd_bwd_workload, 8, 2}, {&attention_fwd_workload, 7, 2}, {&attention_fwd_workload, 7, 0}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int before = attention_head_refs_computed();
        void *st = rows[i].w->setup(cpu, &c, DT_F32, rows[i].seed, why, sizeof why);
        cr_assert(st, "%s", why);
        cr_assert_eq(rows[i].w->call(st), 0);
        double e = rows[i].w->check(st, why, sizeof why);
        cr_expect(e >= 0 && e <= rows[i].w->tolerance(&c, DT_F32), "row %zu: error %g (%s)", i, e, why);
        cr_expect_eq(attention_head_refs_computed() - before, rows[i].more, "row %zu: %d new references", i,
                     attention_head_refs_computed() - before);
        rows[i].w->teardown(st);
    }
}
