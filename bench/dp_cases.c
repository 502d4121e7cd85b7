/* dp_cases.c: data-parallel SGD steps of the MLP and CNN of train_cases.c, data resident: weak
 * scaling at batch 64 and 128 per rank, strong scaling at global batch 256 and 512 (split evenly).
 * Quick suite: the MLP at 128 per rank and the CNN at 256 in all. */
#include "dp_cases.h"
#include "train_cases.h"

#define D(M, B, S) (&(const struct dp_case){&M, B, S})

const struct wcase dp_cases[] = {
    {"mlp.b64.weak", "64 samples per rank (weak scaling)", 0, D(mlp_model, 64, DP_WEAK)},
    {"mlp.b128.weak", "128 samples per rank (weak scaling)", 1, D(mlp_model, 128, DP_WEAK)},
    {"mlp.b512.strong", "512 samples split over the ranks (strong scaling)", 0, D(mlp_model, 512, DP_STRONG)},
    {"cnn.b64.weak", "64 samples per rank (weak scaling)", 0, D(cnn_model, 64, DP_WEAK)},
    {"cnn.b128.weak", "128 samples per rank (weak scaling)", 0, D(cnn_model, 128, DP_WEAK)},
    {"cnn.b256.strong", "256 samples split over the ranks (strong scaling)", 1, D(cnn_model, 256, DP_STRONG)},
    {0},
};
