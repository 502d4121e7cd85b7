/* train_cases.h: the training-step cases: model, batch, optimizer and how the batch arrives. */
#ifndef DLBENCH_TRAIN_CASES_H
#define DLBENCH_TRAIN_CASES_H
#include "workload.h"
#include "train_ref.h"
#include "gpt_ref.h"

/* resident: batches already on the device; transfer: each batch copied host->device inside the
 * step; graph: the step replayed as a captured CUDA graph (data resident). */
enum train_variant { TRAIN_RESIDENT, TRAIN_TRANSFER, TRAIN_GRAPH };
/* gpt: a GPT step (harness/workloads/workload_train_gpt.c; model unused, AdamW), else an MLP/CNN */
struct train_case { const struct model_spec *model; int batch, adam; enum train_variant variant; const struct gpt_config *gpt; };

extern const struct model_spec mlp_model, cnn_model;
extern const struct gpt_config gpt_tiny, gpt2_small;
extern const struct wcase train_cases[];
#endif
