/* dataset.h: the training data: a synthetic MNIST-shaped set (60,000 images 1x28x28, 10 classes)
 * labelled by a fixed random linear "teacher" so it is learnable, or real MNIST IDX files. */
#ifndef DLBENCH_DATASET_H
#define DLBENCH_DATASET_H
#include <stddef.h>
#include <stdint.h>

struct dataset {
    int n, c, h, w, classes;
    float *x;            /* (n, c·h·w), pixels in [0, 1] */
    int32_t *y;          /* (n) */
    char source[300];
};

void dataset_synthetic(struct dataset *d, int n, uint64_t seed);
/* DIR/train-images-idx3-ubyte and DIR/train-labels-idx1-ubyte; -1 with "file: reason". */
int dataset_load_idx(struct dataset *d, const char *dir, char *why, size_t n);
/* Validates one IDX buffer: unsigned-byte data with `ndims` dimensions, sizes and length
 * consistent. Returns the data offset, or -1 with the reason. */
long idx_parse(const unsigned char *buf, size_t len, int ndims, unsigned dims[3], char *why, size_t n);
void dataset_free(struct dataset *d);

/* The run's dataset, made or loaded once (--data DIR, else synthetic). NULL with why on error. */
const struct dataset *dataset_get(char *why, size_t n);
extern const char *dataset_dir;   /* --data */
/* --data given and not a regular file: MNIST's IDX folder, the MLP/CNN cases' data (a file is the
 * GPT cases' text). */
int dataset_dir_is_idx(void);
#endif
