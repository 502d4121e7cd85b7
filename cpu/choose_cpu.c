/* choose_cpu.c: the fastest of a few ways to run one call, timed at a key's first call and
 * remembered (choose_cpu.h). */
#include "choose_cpu.h"
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
