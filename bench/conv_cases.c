/* conv_cases.c: convolution layers of ResNet-50 (torchvision v1.5: stride on the 3x3) and VGG-16 at
 * 224x224 input, and of dlbench's MNIST CNN, each at batch 1, 16 and 64 (quick suite: four ResNet
 * layers at 16; the MNIST layers, at their training batch of 128, run in the quick suite inside the
 * CNN training step and alone in the full suite). Shape: N, C, H, W, K, R, S, stride, pad, dilation. */
#include "conv_cases.h"

#define L(N, C, H, K, R, ST, PAD) (&(const struct conv_shape){N, C, H, H, K, R, R, ST, PAD, 1})
#define BATCHES(NAME, ABOUT, Q, C, H, K, R, ST, PAD)      \
    {NAME ".b1", ABOUT, 0, L(1, C, H, K, R, ST, PAD)},    \
    {NAME ".b16", ABOUT, Q, L(16, C, H, K, R, ST, PAD)},  \
    {NAME ".b64", ABOUT, 0, L(64, C, H, K, R, ST, PAD)}

const struct wcase conv_cases[] = {
    BATCHES("resnet50.conv1", "ResNet-50 stem 7x7/2, 3->64, 224x224", 0, 3, 224, 64, 7, 2, 3),
    BATCHES("resnet50.res2.3x3", "ResNet-50 stage 2 3x3, 64->64, 56x56", 1, 64, 56, 64, 3, 1, 1),
    BATCHES("resnet50.res2.1x1-expand", "ResNet-50 stage 2 1x1, 64->256, 56x56", 1, 64, 56, 256, 1, 1, 0),
    BATCHES("resnet50.res2.1x1-reduce", "ResNet-50 stage 2 1x1, 256->64, 56x56", 0, 256, 56, 64, 1, 1, 0),
    BATCHES("resnet50.res3.3x3-stride2", "ResNet-50 stage 3 first 3x3/2, 128->128, 56->28", 0, 128, 56, 128, 3, 2, 1),
    BATCHES("resnet50.res3.3x3", "ResNet-50 stage 3 3x3, 128->128, 28x28", 1, 128, 28, 128, 3, 1, 1),
    BATCHES("resnet50.res3.downsample", "ResNet-50 stage 3 projection 1x1/2, 256->512, 56->28", 0, 256, 56, 512, 1, 2, 0),
    BATCHES("resnet50.res4.3x3", "ResNet-50 stage 4 3x3, 256->256, 14x14", 1, 256, 14, 256, 3, 1, 1),
    BATCHES("resnet50.res4.1x1-reduce", "ResNet-50 stage 4 1x1, 1024->256, 14x14", 0, 1024, 14, 256, 1, 1, 0),
    BATCHES("resnet50.res5.3x3", "ResNet-50 stage 5 3x3, 512->512, 7x7", 0, 512, 7, 512, 3, 1, 1),
    BATCHES("resnet50.res5.1x1-expand", "ResNet-50 stage 5 1x1, 512->2048, 7x7", 0, 512, 7, 2048, 1, 1, 0),
    BATCHES("vgg16.conv1_2", "VGG-16 conv1_2 3x3, 64->64, 224x224", 0, 64, 224, 64, 3, 1, 1),
    BATCHES("vgg16.conv3_2", "VGG-16 conv3_2 3x3, 256->256, 56x56", 0, 256, 56, 256, 3, 1, 1),
    BATCHES("vgg16.conv5_2", "VGG-16 conv5_2 3x3, 512->512, 14x14", 0, 512, 14, 512, 3, 1, 1),
    {"mnist-cnn.conv1.b128", "dlbench MNIST CNN conv1 3x3, 1->32, 28x28, batch 128", 0, L(128, 1, 28, 32, 3, 1, 1)},
    {"mnist-cnn.conv2.b128", "dlbench MNIST CNN conv2 3x3, 32->64, 14x14, batch 128", 0, L(128, 32, 14, 64, 3, 1, 1)},
    {0},
};
