/* tokens.c: synthetic bigram streams (cached per vocabulary) and the --data text file. */
#include "tokens.h"
#include "dataset.h"
#include "rng.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SYNTH_TOKENS ((size_t)1 << 20)
#define SYNTH_SEED 2025

static uint64_t mix(uint64_t x)   /* splitmix64's finalizer */
{
    x ^= x >> 30; x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27; x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

void tokens_synthetic(struct token_set *s, int V, size_t n, uint64_t seed)
{
    struct rng r;
    rng_seed(&r, seed, 13);
    s->n = n;
    s->vocab = V;
    s->tok = malloc(sizeof(int32_t) * (n ? n : 1));
    int32_t a = (int32_t)(rng_next(&r) % (uint64_t)V);
    for (size_t i = 0; i < n; i++) {
        s->tok[i] = a;
        uint64_t u = rng_next(&r) & 7;          /* successor k with probability 1/2, 1/4, 1/8, 1/8 */
        int k = u < 4 ? 0 : u < 6 ? 1 : u < 7 ? 2 : 3;
        a = (int32_t)(mix(seed ^ ((uint64_t)a << 2 | (uint64_t)k)) % (uint64_t)V);
    }
    snprintf(s->source, sizeof s->source, "synthetic: %zu tokens from a random bigram table over %d tokens (4 successors "
             "each, p = 1/2, 1/4, 1/8, 1/8; loss floor 1.213 nats; seed %llu)", n, V, (unsigned long long)seed);
}

int tokens_load_text(struct token_set *s, const char *path, char *why, size_t n)
{
    FILE *f = fopen(path, "rb");
    memset(s, 0, sizeof *s);
    if (!f) { snprintf(why, n, "%s: %s", path, strerror(errno)); return -1; }
    size_t cap = 1 << 16, len = 0, got;
    unsigned char *buf = malloc(cap);
    while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) { unsigned char *nb = realloc(buf, cap *= 2); if (!nb) { free(buf); buf = NULL; } else buf = nb; }
    }
    int err = ferror(f);
    fclose(f);
    if (!buf || err) { free(buf); snprintf(why, n, "%s: %s", path, buf ? "read error" : "out of host memory"); return -1; }
    if (len == 0) { free(buf); snprintf(why, n, "%s: empty file", path); return -1; }
    s->tok = malloc(sizeof(int32_t) * len);
    if (!s->tok) { free(buf); snprintf(why, n, "%s: out of host memory", path); return -1; }
    for (size_t i = 0; i < len; i++) s->tok[i] = buf[i];
    free(buf);
    s->n = len;
    s->vocab = 256;
    snprintf(s->source, sizeof s->source, "text file %.200s: %zu bytes as tokens (vocabulary 256)", path, len);
    return 0;
}

void tokens_free(struct token_set *s)
{
    free(s->tok);
    memset(s, 0, sizeof *s);
}

static const char *last_source;

const struct token_set *tokens_get(int V, size_t min_tokens, char *why, size_t n)
{
    static struct token_set text, synth[4];
    static int text_state;                      /* 0 not loaded, 1 ok, -1 failed */
    static char text_err[512];
    if (dataset_dir_is_idx()) {
        struct stat st;
        if (stat(dataset_dir, &st) != 0) { snprintf(why, n, "%s: %s", dataset_dir, strerror(errno)); return NULL; }
    } else if (dataset_dir) {
        if (text_state == 0) text_state = tokens_load_text(&text, dataset_dir, text_err, sizeof text_err) == 0 ? 1 : -1;
        if (text_state < 0) { snprintf(why, n, "%s", text_err); return NULL; }
        if (V < text.vocab) { snprintf(why, n, "%s: byte tokens need a vocabulary of 256, the model has %d", dataset_dir, V); return NULL; }
        if (text.n < min_tokens) {
            snprintf(why, n, "%s: %zu tokens (bytes), the case needs at least %zu (B·T + 1)", dataset_dir, text.n, min_tokens);
            return NULL;
        }
        last_source = text.source;
        return &text;
    }
    size_t want = min_tokens > SYNTH_TOKENS ? min_tokens : SYNTH_TOKENS;
    int slot = -1;
    for (int i = 0; i < 4 && slot < 0; i++)
        if (synth[i].vocab == V) slot = i;
    for (int i = 0; i < 4 && slot < 0; i++)
        if (synth[i].vocab == 0) slot = i;
    if (slot < 0) { tokens_free(&synth[0]); slot = 0; }
    if (synth[slot].vocab == V && synth[slot].n < want) tokens_free(&synth[slot]);
    if (synth[slot].vocab == 0) tokens_synthetic(&synth[slot], V, want, SYNTH_SEED);
    if (!synth[slot].tok) { snprintf(why, n, "out of host memory for %zu tokens", want); tokens_free(&synth[slot]); return NULL; }
    last_source = synth[slot].source;
    return &synth[slot];
}

const char *tokens_source(void) { return last_source; }
