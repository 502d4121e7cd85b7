/* attention_cases.c: causal attention problems as data: the attention of the GPT cases and of
 * GPT-2 small/medium and a Llama-style head (peers_gpu.py measures the same three), plus CPU-sized
 * ones for the quick suite (peers.py measures gpt.tiny and gpt2.small.b1). */
#include "attention_cases.h"

#define SHAPE(B, H, T, D) (&(const struct attention_case){B, H, T, D})

const struct wcase attention_cases[] = {
    {"gpt.tiny", "attention of the gpt.tiny training case (batch 8, 4 heads, 256 tokens)", 1, SHAPE(8, 4, 256, 64)},
    {"gpt2.small.b1", "GPT-2 small attention of one 1024-token sequence", 1, SHAPE(1, 12, 1024, 64)},
    {"gpt2.small", "GPT-2 small (124M) attention, batch 8", 0, SHAPE(8, 12, 1024, 64)},
    {"gpt2.medium", "GPT-2 medium (350M) attention, batch 4", 0, SHAPE(4, 16, 1024, 64)},
    {"llama.t4096", "Llama-style heads: 32 heads of 128, 4096 tokens", 0, SHAPE(1, 32, 4096, 128)},
    {0},
};
