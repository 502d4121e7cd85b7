/* eltwise_cases.h: the bandwidth/elementwise ops as data (bytes and FLOPs per element) and the
 * shape record of one case. */
#ifndef DLBENCH_ELTWISE_CASES_H
#define DLBENCH_ELTWISE_CASES_H
#include "workload.h"

enum elt_op { ELT_COPY, ELT_SCALE, ELT_ADD, ELT_TRIAD, ELT_DOT, ELT_RELU_FWD, ELT_RELU_BWD, ELT_GELU_FWD,
              ELT_GELU_BWD, ELT_BIAS_ADD, ELT_SOFTMAX, ELT_LAYERNORM, ELT_SGD, ELT_ADAM, ELT_OP_COUNT };

struct elt_op_info {
    const char *name;
    int arrays_read, arrays_written;  /* STREAM convention: each array read or written once */
    double flops_per_elem;            /* 0 where FLOPs mean nothing (copies, ReLU, SGD); a
                                         transcendental (exp, tanh) counts as one */
    int row_op;                       /* works on (rows, cols) with per-column parameters */
    int param_vectors;                /* per-column vectors read (bias; gamma and beta) */
};
extern const struct elt_op_info elt_ops[ELT_OP_COUNT];

/* n = 0: "DRAM size", the larger of 4x every available backend's last-level cache and 32 Mi
 * elements, so both backends run identical sizes. offset shifts every array's start by that many
 * floats (unaligned access); magnitude scales the random inputs. */
struct eltwise_shape { enum elt_op op; long n; int cols; int offset; float magnitude; };

extern const struct wcase stream_cases[], eltwise_cases[];
#endif
