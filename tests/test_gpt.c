/* test_gpt.c: the GPT step on the CPU: the double reference against finite differences, the
 * transformer ops against their references, a whole step's gradients against the reference, the
 * loss falling over 200 steps on the bigram task, the token streams, and --data's bad inputs. */
#include "gpt_test_util.h"
#include "tokens.h"
#include "train_cases.h"
#include "workload.h"
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct gpt_config micro = {"micro", 2, 8, 2, 5, 11};

Test(gpt, reference_matches_finite_differences)
{
    size_t size[GPT_NTENSORS], off[GPT_NTENSORS], n = gpt_layout(&micro, size, off);
    float *p = malloc(n * sizeof(float));
    double *g = malloc(n * sizeof(double));
    struct rng r;
    rng_seed(&r, 1, 1);
    rng_fill_uniform(&r, p, n, -0.5f, 0.5f);
    for (size_t i = (size_t)micro.V * micro.C; i < size[GPT_WTE]; i++) p[off[GPT_WTE] + i] = 0;
    int32_t tok[11];
    for (int i = 0; i < 11; i++) tok[i] = (int32_t)(rng_next(&r) % 11);
    gpt_ref(&micro, 2, 5, p, tok, tok + 1, NULL, g);
    for (size_t i = 0; i < n; i += 7) {   /* central differences in the fp32 parameters, evaluated in double */
        float keep = p[i];
        p[i] = keep + 1e-3f; double lp = gpt_ref(&micro, 2, 5, p, tok, tok + 1, NULL, NULL); double hp = p[i];
        p[i] = keep - 1e-3f; double lm = gpt_ref(&micro, 2, 5, p, tok, tok + 1, NULL, NULL); double hm = p[i];
        p[i] = keep;
        double fd = (lp - lm) / (hp - hm);
        cr_expect(fabs(fd - g[i]) <= 1e-5 * fmax(1, fabs(fd)), "param %zu: finite difference %g, backward %g", i, fd, g[i]);
    }
    free(p);
    free(g);
}

Test(gpt, cpu_transformer_ops_match_references) { check_transformer_ops(backend_find("cpu"), DT_F32); }

Test(gpt, cpu_step_gradients_match_reference)
{
    const struct gpt_config c = {"micro", 2, 16, 2, 7, 11};   /* T = 7: no block multiple; V = 11 padded to 128 */
    double gerr, lerr = gpt_step_error(backend_find("cpu"), DT_F32, &c, 3, &gerr);
    cr_expect(lerr <= 1e-6, "loss relative error %g", lerr);
    cr_expect(gerr <= 1e-5, "gradient error %g", gerr);
}

/* Finite differences through the CPU step itself (fp32, so only a coarse agreement). */
Test(gpt, cpu_step_matches_its_own_finite_differences)
{
    const struct gpt_config c = {"micro", 1, 16, 2, 6, 13};
    const struct backend *b = backend_find("cpu");
    struct gpt_trainer t;
    char why[256];
    cr_assert_eq(gpt_init(&t, b, &c, 2, DT_F32, 9, why, sizeof why), 0, "%s", why);
    int32_t tok[13];
    struct rng r;
    rng_seed(&r, 2, 2);
    for (int i = 0; i < 13; i++) tok[i] = (int32_t)(rng_next(&r) % 13);
    cr_assert_eq(gpt_forward_backward(&t, tok), 0);
    float *g = malloc(t.np * sizeof(float)), l0;
    memcpy(g, t.grads, t.np * sizeof(float));
    const enum gpt_tensor probe[] = {GPT_WTE, GPT_WPE, GPT_LN1W, GPT_QKVW, GPT_QKVB, GPT_PROJW, GPT_FCW, GPT_FCPB, GPT_LNFB};
    for (size_t k = 0; k < sizeof probe / sizeof probe[0]; k++) {
        size_t i = t.off[probe[k]] + 3;
        float keep = t.params[i], lp, lm, h = 1e-2f;
        t.params[i] = keep + h; gpt_forward(&t, tok); gpt_loss(&t, &lp);
        t.params[i] = keep - h; gpt_forward(&t, tok); gpt_loss(&t, &lm);
        t.params[i] = keep;
        double fd = ((double)lp - lm) / (2 * h);
        cr_expect(fabs(fd - g[i]) <= 2e-3 + 2e-2 * fabs(fd), "tensor %d: finite difference %g, backward %g", probe[k], fd, g[i]);
    }
    gpt_forward(&t, tok);
    gpt_loss(&t, &l0);
    cr_expect(isfinite(l0));
    free(g);
    gpt_free(&t);
}

Test(gpt, loss_falls_over_200_cpu_steps)
{
    const struct gpt_config c = {"small", 2, 32, 2, 32, 64};
    const int B = 8, N = B * c.T;
    const struct backend *b = backend_find("cpu");
    struct gpt_trainer t;
    char why[256];
    const struct token_set *ts = tokens_get(c.V, (size_t)N * 200 + 1, why, sizeof why);
    cr_assert(ts, "%s", why);
    b->dev->set_threads(1);   /* tiny GEMMs: forking threads per op would cost more than the work */
    cr_assert_eq(gpt_init(&t, b, &c, B, DT_F32, 1, why, sizeof why), 0, "%s", why);
    t.hp.lr = 3e-3f;   /* a tiny model learns the bigram table in 200 steps at this rate */
    float first = 0, last = 0, l;
    for (int s = 0; s < 200; s++) {
        cr_assert_eq(gpt_step(&t, ts->tok + (size_t)s * N), 0);
        gpt_loss(&t, &l);
        if (s == 0) first = l;
        if (s >= 190) last += l / 10;
    }
    cr_expect(fabs(first - logf((float)c.V)) < 0.2f, "first loss %g, expected about ln V = %g", first, logf((float)c.V));
    cr_expect(last < first - 1.5f, "loss %g -> %g over 200 steps", first, last);
    cr_expect(last > 1.0f, "loss %g is below the bigram table's entropy (1.21 nats): a leak of the targets?", last);
    gpt_free(&t);
}

Test(gpt, synthetic_tokens_follow_a_bigram_table)
{
    struct token_set s;
    tokens_synthetic(&s, 1000, 100000, 7);
    int32_t *succ = malloc(sizeof(int32_t) * 1000 * 8);
    int *ns = calloc(1000, sizeof(int));
    for (size_t i = 0; i + 1 < s.n; i++) {
        int a = s.tok[i], found = 0;
        cr_assert(a >= 0 && a < 1000);
        for (int k = 0; k < ns[a]; k++) found |= succ[a * 8 + k] == s.tok[i + 1];
        if (!found) {
            cr_assert(ns[a] < 4, "token %d has more than 4 successors", a);
            succ[a * 8 + ns[a]++] = s.tok[i + 1];
        }
    }
    struct token_set again;
    tokens_synthetic(&again, 1000, 100000, 7);
    cr_expect(memcmp(s.tok, again.tok, s.n * sizeof(int32_t)) == 0, "the stream depends only on its seed");
    tokens_free(&s);
    tokens_free(&again);
    free(succ);
    free(ns);
}

/* --data FILE for a GPT case: missing, empty or too short is one line naming the file and exit 2,
 * before any measurement (no run folder); so is a --data folder without MNIST's files, though
 * only the MLP/CNN cases would read it. */
Test(gpt, data_file_errors_exit_2)
{
    char *dir = temp_dir(), empty[300], tiny[300], out[300], err[2048];
    snprintf(empty, sizeof empty, "%s/empty.txt", dir);
    snprintf(tiny, sizeof tiny, "%s/tiny.txt", dir);
    snprintf(out, sizeof out, "%s/run", dir);
    FILE *f = fopen(empty, "w");
    fclose(f);
    f = fopen(tiny, "w");
    fputs("hello world, far fewer than 2049 bytes\n", f);
    fclose(f);
    char missing[300];
    snprintf(missing, sizeof missing, "%s/missing.txt", dir);
    /* a folder without MNIST's IDX files: read though no GPT case uses it, so a wrong one is caught */
    const char *files[] = {missing, empty, tiny, dir};
    const char *expect[] = {"No such file", "empty file", "needs at least 2049", "train-images-idx3-ubyte"};
    for (int i = 0; i < 4; i++) {
        char *args[] = {"run", "--backend", "cpu", "--workload", "train", "--filter", "gpt.tiny.b8", "--data", (char *)files[i],
                        "--out", out, "--quiet", NULL};
        int rc = run_dlbench(args, err, sizeof err, NULL, 0);
        cr_expect_eq(rc, 2, "%s: exit %d (%s)", files[i], rc, err);
        cr_expect(strstr(err, files[i]) && strstr(err, expect[i]), "%s: message '%s'", files[i], err);
        cr_expect(strchr(err, '\n') == err + strlen(err) - 1, "one line expected: '%s'", err);
        cr_expect(access(out, F_OK) != 0, "a refused run must not create %s", out);
    }
    free(dir);
}

/* The train workload's GPT path on a small model: one step verifies; a backend whose cross-entropy
 * misreports one token's loss fails the check. */
static int bad_xent(enum dtype dt, int rows, int V, int Vp, void *z, const int32_t *targets, float *losses, float *loss)
{
    int rc = backend_find("cpu")->xformer->xent(dt, rows, V, Vp, z, targets, losses, loss);
    losses[1] += 0.1f;
    return rc;
}

Test(gpt, workload_step_verifies_and_rejects_a_wrong_loss)
{
    const struct workload *w = workload_find("train");
    const struct gpt_config c = {"check", 2, 32, 2, 16, 300};
    const struct train_case tc = {NULL, 2, 1, TRAIN_RESIDENT, &c};
    const struct backend *cpu = backend_find("cpu");
    struct transformer_ops bad_ops = *cpu->xformer;
    bad_ops.xent = bad_xent;
    struct backend bad = *cpu;
    bad.xformer = &bad_ops;
    for (int corrupt = 0; corrupt < 2; corrupt++) {
        char why[256] = "";
        void *st = w->setup(corrupt ? &bad : cpu, &tc, DT_F32, 1, why, sizeof why);
        cr_assert(st, "%s", why);
        cr_assert_eq(w->call(st), 0);
        double e = w->check(st, why, sizeof why);
        if (corrupt) cr_expect(e > w->tolerance(&tc, DT_F32), "a wrong loss passed: error %g", e);
        else cr_expect(e >= 0 && e <= w->tolerance(&tc, DT_F32), "clean step: error %g (%s)", e, why);
        w->teardown(st);
    }
}
