/* choose_cpu.c: the fastest of a few ways to run one call, timed at a key's first call and
 * remembered (choose_cpu.h); and struct gemm_way_cpu's calls and GEMMs, OpenBLAS or the own kernel. */
#include "choose_cpu.h"
#include "cpu_ops.h"
#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

const struct way_choice *choose_way_cpu(struct way_cache *c, const int *key, int nkey, int nways, const int *can,
                                        int (*run)(int way, void *ctx), void *ctx, int *rc)
{
    int k[CHOOSE_KEY] = {0};
    memcpy(k, key, sizeof(int) * (size_t)(nkey < CHOOSE_KEY ? nkey : CHOOSE_KEY));
    *rc = 0;
    for (int i = 0; i < c->n && i < CHOOSE_SLOTS; i++)
        if (!memcmp(c->slots[i].key, k, sizeof k)) return &c->slots[i];
    double best[CHOOSE_WAYS] = {0};
    for (int r = 0; r < 4; r++)
        for (int w = 0; w < nways && w < CHOOSE_WAYS; w++) {
            if (!can[w]) continue;
            double t0 = omp_get_wtime();
            if ((*rc = run(w, ctx)) != 0) return NULL;
            double dt = omp_get_wtime() - t0;
            if (r > 0 && (best[w] == 0 || dt < best[w])) best[w] = dt;
        }
    struct way_choice *h = &c->slots[c->n++ % CHOOSE_SLOTS];
    memcpy(h->key, k, sizeof k);
    h->way = 0;
    for (int w = 0; w < CHOOSE_WAYS; w++) {
        h->best[w] = best[w];
        if (best[w] > 0 && (h->best[h->way] == 0 || best[w] < h->best[h->way])) h->way = w;
    }
    return h;
}

int choose_note_cpu(char *buf, size_t n, int len, const struct way_choice *h, const char *const *names)
{
    if (len < 0 || len >= (int)n) return len;
    len += snprintf(buf + len, n - len, " (first calls:");
    for (int w = 0, any = 0; w < CHOOSE_WAYS && len < (int)n; w++)
        if (h->best[w] > 0) len += snprintf(buf + len, n - len, "%s%.3g ms %s", any++ ? ", " : " ", 1e3 * h->best[w], names[w]);
    if (len < (int)n) len += snprintf(buf + len, n - len, ")");
    return len;
}

/* choose_way_cpu's run: the way into the op's state, then the op. */
struct way_run { struct gemm_way_cpu *g; int (*run)(void *ctx); void *ctx; };
static int run_way(int way, void *p)
{
    struct way_run *r = p;
    r->g->use_own = way;
    return r->run(r->ctx);
}

int gemm_way_call_cpu(struct gemm_way_cpu *g, int forced, const int *key, int nkey, int (*run)(void *ctx), void *ctx)
{
    int own = gemm_own_cpu_available() && !omp_in_parallel(), rc = 0;
    const struct way_choice *h = NULL;
    if (own && forced < 0) {
        struct way_run r = {g, run, ctx};
        int can[2] = {1, 1};
        if (!(h = choose_way_cpu(&g->choices, key, nkey, 2, can, run_way, &r, &rc))) return rc;
    }
    g->use_own = own && (h ? h->way == 1 : forced == 1);
    g->ran_own = g->use_own;
    g->last_timed = h != NULL;
    if (h) g->last_times = *h;
    rc = run(ctx);
    g->last_own = g->ran_own;
    return rc;
}

void gemm_way_sgemm_cpu(struct gemm_way_cpu *g, int ta, int tb, int m, int n, int k, const float *a, int lda,
                        const float *b, int ldb, int acc, float *c, int ldc)
{
    if (g->use_own && gemm_own_cpu_ld(0, ta, tb, m, n, k, a, lda, b, ldb, acc, c, ldc) == 0) return;
    __atomic_store_n(&g->ran_own, 0, __ATOMIC_RELAXED);   /* any thread of the team */
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, a, lda, b,
                ldb, acc ? 1.0f : 0.0f, c, ldc);
}

const char *gemm_way_note_cpu(const struct gemm_way_cpu *g, const char *prefix, char *buf, size_t n)
{
    static const char *const names[] = {"OpenBLAS", "own", "", ""};
    int len = g->last_own ? snprintf(buf, n, "%sdlbench %s", prefix, gemm_own_cpu_name())
                          : snprintf(buf, n, "%sOpenBLAS sgemm (%s)", prefix, openblas_get_corename());
    if (g->last_timed) choose_note_cpu(buf, n, len, &g->last_times, names);
    return buf;
}
