/* train.h: the training-step engine: a model (kernels/train_ref.h layer list) instantiated on one
 * backend and stepped entirely there: forward, softmax cross-entropy, backward, SGD or Adam update,
 * composed from the backend's GEMM, conv and elementwise ops. Nothing in a step waits for the host.
 * Mixed precision (dt fp16 or bf16): fp32 master weights, activations and gradients; every GEMM and
 * convolution reads dt copies of its operands (cast by the backend), as autocast does. */
#ifndef DLBENCH_TRAIN_H
#define DLBENCH_TRAIN_H
#include "backend.h"
#include "train_ref.h"

#define TRAIN_LR_SGD 0.05f
#define TRAIN_LR_ADAM 1e-3f
#define TRAIN_TOL_F16 4e-3   /* the train workload's tolerances for mixed-precision steps */
#define TRAIN_TOL_BF16 1.5e-2

/* workload_train.c: how many double forward passes the train workload's first-step checks have
 * computed in this process; rows of one model, batch and initial weights share one. */
int train_step_refs_computed(void);

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
    enum dtype dt;                         /* fp32, or fp16/bf16 for the GEMM/conv operands */
    int batch, adam, steps;
    int dims[MAX_LAYERS][3];
    size_t nparam[MAX_LAYERS];             /* weights then bias, one buffer per layer */
    float *host_init[MAX_LAYERS];          /* initial parameters (host): same on every backend */
    float *p[MAX_LAYERS], *g[MAX_LAYERS], *m1[MAX_LAYERS], *m2[MAX_LAYERS];
    float *act[MAX_LAYERS], *grad[MAX_LAYERS];
    uint8_t *idx[MAX_LAYERS];
    float *losses, *loss;
    /* mixed precision only: dt copies of the parameters (refreshed after each update) and of each
     * linear/conv layer's input (kept for its backward); lo: a conv's dt output or gradients before
     * their cast to fp32; g16: the incoming gradient in dt */
    void *p16[MAX_LAYERS], *in16[MAX_LAYERS], *lo, *g16;
    int32_t *dstep;                        /* step count in device memory (captured steps); NULL if unused */
    struct adam_hp hp;
    const struct grad_sync *sync;          /* NULL: one process trains alone */
};

/* Allocates and initialises (PyTorch's default uniform ±1/sqrt(fan_in), from seed). dt: DT_F32,
 * DT_F16 or DT_BF16 (the backend must run its GEMM and conv in dt and have a cast op). */
int trainer_init(struct trainer *t, const struct backend *b, const struct model_spec *m, enum dtype dt, int batch,
                 int adam, uint64_t seed, char *why, size_t n);
int trainer_reset(struct trainer *t);                 /* back to the initial parameters, step 0 */
/* One step on a batch already on the device: x (batch, C·H·W), labels (batch). */
int trainer_step(struct trainer *t, const float *x, const int32_t *labels);
/* One step whose input and count advance on the device (backends with train->next_batch and
 * adam_update_dev): batch (*dstep mod nbatches) of the resident dataset xs, ys is copied into the
 * slot x, labels, and Adam's bias correction reads the count there, so a captured step replays
 * correctly. Needs t->dstep. */
int trainer_step_on_device(struct trainer *t, const float *xs, const int32_t *ys, int nbatches, float *x, int32_t *labels);
int trainer_loss(struct trainer *t, float *loss);     /* the last step's mean loss (waits) */
void trainer_free(struct trainer *t);
#endif
