/* gemm_cases.c: GEMM problems as data: a square sweep and shapes from real deep-learning layers.
 * Add a shape with one line. Layers store weights (out,in) and compute y = x·Wᵀ (ta=0, tb=1);
 * "bwd-data" is dx = dy·W (NN) and "bwd-weight" is dW = dyᵀ·x (TN). */
#include "gemm_cases.h"

#define SHAPE(M, N, K, TA, TB) (&(const struct gemm_shape){M, N, K, TA, TB})

const struct wcase gemm_cases[] = {
    {"sq128", "square sweep", 1, SHAPE(128, 128, 128, 0, 0)},
    {"sq256", "square sweep", 1, SHAPE(256, 256, 256, 0, 0)},
    {"sq512", "square sweep", 1, SHAPE(512, 512, 512, 0, 0)},
    {"sq1024", "square sweep", 1, SHAPE(1024, 1024, 1024, 0, 0)},
    {"sq2048", "square sweep", 1, SHAPE(2048, 2048, 2048, 0, 0)},
    {"sq4096", "square sweep", 0, SHAPE(4096, 4096, 4096, 0, 0)},
    {"sq8192", "square sweep", 0, SHAPE(8192, 8192, 8192, 0, 0)},
    /* BERT-base, batch 32 x sequence 128 = 4096 tokens, hidden 768, FFN 3072 */
    {"bert-base.qkv", "BERT-base attention Q,K,V projection (fused), 4096 tokens", 0, SHAPE(4096, 2304, 768, 0, 1)},
    {"bert-base.attn-out", "BERT-base attention output projection", 0, SHAPE(4096, 768, 768, 0, 1)},
    {"bert-base.ffn-up", "BERT-base feed-forward 768->3072", 1, SHAPE(4096, 3072, 768, 0, 1)},
    {"bert-base.ffn-down", "BERT-base feed-forward 3072->768", 0, SHAPE(4096, 768, 3072, 0, 1)},
    {"bert-base.ffn-up.bwd-data", "BERT-base feed-forward 768->3072, gradient of the input", 0, SHAPE(4096, 768, 3072, 0, 0)},
    {"bert-base.ffn-up.bwd-weight", "BERT-base feed-forward 768->3072, gradient of the weight", 1, SHAPE(3072, 768, 4096, 1, 0)},
    /* GPT-2 small: 1024-token context, 12 heads of 64 */
    {"gpt2.attn-scores", "GPT-2 small, one head: Q·Kᵀ over a 1024-token context", 1, SHAPE(1024, 1024, 64, 0, 1)},
    {"gpt2.attn-values", "GPT-2 small, one head: softmax(QKᵀ)·V", 0, SHAPE(1024, 64, 1024, 0, 0)},
    {"gpt2.lm-head", "GPT-2 small vocabulary projection (50257 tokens), 1024 positions", 0, SHAPE(1024, 50257, 768, 0, 1)},
    /* Recurrent layers (DeepBench-style): 4 gates x hidden */
    {"lstm1024.b64", "LSTM hidden 1024, batch 64: gate pre-activations", 1, SHAPE(64, 4096, 1024, 0, 1)},
    {"lstm512.b16", "LSTM hidden 512, batch 16: gate pre-activations", 0, SHAPE(16, 2048, 512, 0, 1)},
    /* Vision classifier heads and our training-step MLP */
    {"resnet50.fc.b256", "ResNet-50 classifier 2048->1000, batch 256", 1, SHAPE(256, 1000, 2048, 0, 1)},
    {"alexnet.fc6.b128", "AlexNet fc6 9216->4096, batch 128", 0, SHAPE(128, 4096, 9216, 0, 1)},
    {"mlp.fc1.b128", "dlbench MNIST MLP 784->1024, batch 128", 1, SHAPE(128, 1024, 784, 0, 1)},
    {"mlp.fc2.b128", "dlbench MNIST MLP 1024->1024, batch 128", 1, SHAPE(128, 1024, 1024, 0, 1)},
    {"llama7b.mlp-up", "Llama-7B MLP 4096->11008, 2048 tokens", 0, SHAPE(2048, 11008, 4096, 0, 1)},
    {0},
};
