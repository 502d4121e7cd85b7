/* eltwise_cases.c: bandwidth and elementwise cases as data. STREAM ops run at DRAM size and, in
 * the full suite, in a sweep from L1-sized to DRAM-sized arrays; deep-learning ops at DRAM size
 * with rows of 1024 (a transformer's hidden size) where the op has rows. */
#include "eltwise_cases.h"

const struct elt_op_info elt_ops[ELT_OP_COUNT] = {
    [ELT_COPY] = {"copy", 1, 1, 0, 0, 0},
    [ELT_SCALE] = {"scale", 1, 1, 0, 0, 0},
    [ELT_ADD] = {"add", 2, 1, 0, 0, 0},
    [ELT_TRIAD] = {"triad", 2, 1, 0, 0, 0},
    [ELT_DOT] = {"dot", 2, 0, 2, 0, 0},
    [ELT_RELU_FWD] = {"relu_fwd", 1, 1, 0, 0, 0},
    [ELT_RELU_BWD] = {"relu_bwd", 2, 1, 0, 0, 0},
    [ELT_GELU_FWD] = {"gelu_fwd", 1, 1, 9, 0, 0},
    [ELT_GELU_BWD] = {"gelu_bwd", 2, 1, 18, 0, 0},
    [ELT_BIAS_ADD] = {"bias_add", 1, 1, 1, 1, 1},
    [ELT_SOFTMAX] = {"softmax_fwd", 1, 1, 5, 1, 0},
    [ELT_LAYERNORM] = {"layernorm_fwd", 1, 1, 8, 1, 2},
    [ELT_SGD] = {"sgd_update", 2, 1, 0, 0, 0},     /* reads w, g; writes w */
    [ELT_ADAM] = {"adam_update", 4, 3, 14, 0, 0},  /* reads w, g, m, v; writes w, m, v */
};

#define DRAM(OP, COLS) (&(const struct eltwise_shape){OP, 0, COLS, 0, 1.0f})
#define SIZED(OP, N) (&(const struct eltwise_shape){OP, N, 1, 0, 1.0f})

const struct wcase stream_cases[] = {
    {"copy", "STREAM copy b = a, DRAM-sized", 1, DRAM(ELT_COPY, 1)},
    {"scale", "STREAM scale b = s·a", 1, DRAM(ELT_SCALE, 1)},
    {"add", "STREAM add c = a + b", 1, DRAM(ELT_ADD, 1)},
    {"triad", "STREAM triad a = b + s·c", 1, DRAM(ELT_TRIAD, 1)},
    {"dot", "dot product (a reduction)", 1, DRAM(ELT_DOT, 1)},
    /* size sweep: 8 KiB (L1) .. 512 MiB per array */
    {"copy.2K", "sweep", 0, SIZED(ELT_COPY, 2048)},
    {"copy.16K", "sweep", 0, SIZED(ELT_COPY, 16384)},
    {"copy.128K", "sweep", 0, SIZED(ELT_COPY, 131072)},
    {"copy.1M", "sweep", 0, SIZED(ELT_COPY, 1048576)},
    {"copy.8M", "sweep", 0, SIZED(ELT_COPY, 8388608)},
    {"copy.64M", "sweep", 0, SIZED(ELT_COPY, 67108864)},
    {"copy.128M", "sweep", 0, SIZED(ELT_COPY, 134217728)},
    {"triad.2K", "sweep", 0, SIZED(ELT_TRIAD, 2048)},
    {"triad.16K", "sweep", 0, SIZED(ELT_TRIAD, 16384)},
    {"triad.128K", "sweep", 0, SIZED(ELT_TRIAD, 131072)},
    {"triad.1M", "sweep", 0, SIZED(ELT_TRIAD, 1048576)},
    {"triad.8M", "sweep", 0, SIZED(ELT_TRIAD, 8388608)},
    {"triad.64M", "sweep", 0, SIZED(ELT_TRIAD, 67108864)},
    {"triad.128M", "sweep", 0, SIZED(ELT_TRIAD, 134217728)},
    {0},
};

const struct wcase eltwise_cases[] = {
    {"relu_fwd", "ReLU forward", 1, DRAM(ELT_RELU_FWD, 1)},
    {"relu_bwd", "ReLU backward: dx = dy·[x > 0]", 1, DRAM(ELT_RELU_BWD, 1)},
    {"gelu_fwd", "GELU forward, tanh form", 1, DRAM(ELT_GELU_FWD, 1)},
    {"gelu_bwd", "GELU backward", 1, DRAM(ELT_GELU_BWD, 1)},
    {"bias_add", "bias added to every row of 1024", 1, DRAM(ELT_BIAS_ADD, 1024)},
    {"softmax", "row softmax over 1024 columns", 1, DRAM(ELT_SOFTMAX, 1024)},
    {"layernorm", "row layer-norm over 1024 columns (gamma, beta)", 1, DRAM(ELT_LAYERNORM, 1024)},
    {"sgd", "SGD update w -= lr·g", 1, DRAM(ELT_SGD, 1)},
    {"adam", "Adam update of w, m, v in one pass", 1, DRAM(ELT_ADAM, 1)},
    {0},
};
