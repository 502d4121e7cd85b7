/* train_cases.h: the training-step cases: model, batch, optimizer and how the batch arrives. */
#ifndef DLBENCH_TRAIN_CASES_H
#define DLBENCH_TRAIN_CASES_H
#include "workload.h"
#include "train_ref.h"

/* resident: batches already on the device; transfer: each batch copied host->device inside the
 * step; graph: the step replayed as a captured CUDA graph (data resident). */
enum train_variant { TRAIN_RESIDENT, TRAIN_TRANSFER, TRAIN_GRAPH };
struct train_case { const struct model_spec *model; int batch, adam; enum train_variant variant; };

extern const struct model_spec mlp_model, cnn_model;
extern const struct wcase train_cases[];
#endif
