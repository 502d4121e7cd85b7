/* tokens.h: the GPT step's training tokens: a synthetic stream drawn from a fixed random bigram
 * table (learnable: its entropy is 1.75 bits per token), or a text file given with --data, one
 * token per byte (vocabulary 256, so any GPT vocabulary of at least 256 holds it). */
#ifndef DLBENCH_TOKENS_H
#define DLBENCH_TOKENS_H
#include <stddef.h>
#include <stdint.h>

struct token_set {
    size_t n;
    int32_t *tok;        /* n tokens in [0, vocab) */
    int vocab;           /* 256 for text */
    char source[300];
};

/* Each token a is followed by one of 4 successors (hashes of a and seed) with probabilities
 * 1/2, 1/4, 1/8, 1/8: a model can learn the table; the loss floor is 1.213 nats. */
void tokens_synthetic(struct token_set *s, int V, size_t n, uint64_t seed);
/* Bytes of a file as tokens; -1 with "PATH: reason" (missing, unreadable, empty). */
int tokens_load_text(struct token_set *s, const char *path, char *why, size_t n);
void tokens_free(struct token_set *s);
/* The run's stream for a model of vocabulary V needing at least min_tokens (B·T + 1): the --data
 * file when --data names a regular file (a directory holds MNIST files for the MLP/CNN cases), else
 * synthetic. NULL with a one-line reason naming the file. */
const struct token_set *tokens_get(int V, size_t min_tokens, char *why, size_t n);
/* Where the last stream tokens_get returned came from; NULL before the first. */
const char *tokens_source(void);
#endif
