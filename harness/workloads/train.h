/* train.h: the training-step engine: a model (kernels/train_ref.h layer list) instantiated on one
 * backend and stepped entirely there: forward, softmax cross-entropy, backward, SGD or Adam update,
 * composed from the backend's GEMM, conv and elementwise ops. Nothing in a step waits for the host. */
#ifndef DLBENCH_TRAIN_H
#define DLBENCH_TRAIN_H
#include "backend.h"
#include "train_ref.h"

#define TRAIN_LR_SGD 0.05f
#define TRAIN_LR_ADAM 1e-3f

/* Data-parallel training (workload_dp.c): ready() runs when backward has queued layer l's whole
 * gradient g (weights then bias, n floats), before it queues the gradients of earlier layers, so
 * their sums can overlap the rest of backward; wait() runs before the update reads any gradient. */
struct grad_sync {
    int (*ready)(void *user, int layer, float *g, size_t n);
    int (*wait)(void *user);
    void *user;
};

struct trainer {
    const struct backend *b;
    const struct model_spec *m;
    int batch, adam, steps;
    int dims[MAX_LAYERS][3];
    size_t nparam[MAX_LAYERS];             /* weights then bias, one buffer per layer */
    float *host_init[MAX_LAYERS];          /* initial parameters (host): same on every backend */
    float *p[MAX_LAYERS], *g[MAX_LAYERS], *m1[MAX_LAYERS], *m2[MAX_LAYERS];
    float *act[MAX_LAYERS], *grad[MAX_LAYERS];
    uint8_t *idx[MAX_LAYERS];
    float *losses, *loss;
    struct adam_hp hp;
    const struct grad_sync *sync;          /* NULL: one process trains alone */
};

/* Allocates and initialises (PyTorch's default uniform ±1/sqrt(fan_in), from seed). */
int trainer_init(struct trainer *t, const struct backend *b, const struct model_spec *m, int batch, int adam,
                 uint64_t seed, char *why, size_t n);
int trainer_reset(struct trainer *t);                 /* back to the initial parameters, step 0 */
/* One step on a batch already on the device: x (batch, C·H·W), labels (batch). */
int trainer_step(struct trainer *t, const float *x, const int32_t *labels);
int trainer_loss(struct trainer *t, float *loss);     /* the last step's mean loss (waits) */
void trainer_free(struct trainer *t);
#endif
