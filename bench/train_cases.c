/* train_cases.c: the models (as layer lists) and the training-step cases: MLP and CNN on
 * MNIST-shaped data, batch 32, 128 and 512 (quick suite: 128), SGD and Adam, data resident, with
 * transfer, and as a CUDA graph; GPT steps (AdamW, clipping) on tokens, resident and as a graph. */
#include "train_cases.h"

const struct model_spec mlp_model = {
    "mlp", 1, 28, 28, 10, 5,
    {{LAYER_LINEAR, 1024}, {LAYER_RELU, 0}, {LAYER_LINEAR, 1024}, {LAYER_RELU, 0}, {LAYER_LINEAR, 10}},
};

const struct model_spec cnn_model = {
    "cnn", 1, 28, 28, 10, 9,
    {{LAYER_CONV3X3, 32}, {LAYER_RELU, 0}, {LAYER_MAXPOOL2, 0}, {LAYER_CONV3X3, 64}, {LAYER_RELU, 0},
     {LAYER_MAXPOOL2, 0}, {LAYER_LINEAR, 128}, {LAYER_RELU, 0}, {LAYER_LINEAR, 10}},
};

#define T(M, B, A, V) (&(const struct train_case){&M, B, A, V, NULL})
#define VARIANTS(NAME, M, B, A, Q, QT)                                                               \
    {NAME ".resident", "data already on the device", Q, T(M, B, A, TRAIN_RESIDENT)},                  \
    {NAME ".transfer", "each batch copied host->device inside the step", QT, T(M, B, A, TRAIN_TRANSFER)}, \
    {NAME ".graph", "the step replayed as a CUDA graph", Q, T(M, B, A, TRAIN_GRAPH)}
/* The quick suite measures the per-step copy once per model (with SGD): Adam's transfer rows
 * repeat that cost and cost the quick suite ~10 s on a 2-vCPU machine. */
#define OPTIMIZERS(NAME, M, B, Q) VARIANTS(NAME ".sgd", M, B, 0, Q, Q), VARIANTS(NAME ".adam", M, B, 1, Q, 0)
#define BATCHES(NAME, M) OPTIMIZERS(NAME ".b32", M, 32, 0), OPTIMIZERS(NAME ".b128", M, 128, 1), OPTIMIZERS(NAME ".b512", M, 512, 0)

/* GPT (name, L, C, H, T, V): a CPU-sized model (peers.py's gpt.tiny) and GPT-2 small (124M). */
const struct gpt_config gpt_tiny = {"gpt.tiny", 4, 256, 4, 256, 8192};
const struct gpt_config gpt2_small = {"gpt2.small", 12, 768, 12, 1024, 50257};

#define G(C, B, V) (&(const struct train_case){NULL, B, 1, V, &C})

const struct wcase train_cases[] = {
    BATCHES("mlp", mlp_model),
    BATCHES("cnn", cnn_model),
    {"gpt.tiny.b8", "GPT L4 C256 H4 T256 V8192, 8 sequences, AdamW + clipping; tokens resident", 1, G(gpt_tiny, 8, TRAIN_RESIDENT)},
    {"gpt.tiny.b8.graph", "gpt.tiny.b8 replayed as a CUDA graph", 1, G(gpt_tiny, 8, TRAIN_GRAPH)},
    {"gpt2.small.b8", "GPT-2 small (124M), 8 sequences of 1024, AdamW + clipping; tokens resident", 0, G(gpt2_small, 8, TRAIN_RESIDENT)},
    {"gpt2.small.b8.graph", "gpt2.small.b8 replayed as a CUDA graph", 0, G(gpt2_small, 8, TRAIN_GRAPH)},
    {0},
};
