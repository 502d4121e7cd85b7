/* transfer_cases.h: host<->device copy cases (GPU backends): direction, host memory kind, size. */
#ifndef DLBENCH_TRANSFER_CASES_H
#define DLBENCH_TRANSFER_CASES_H
#include "workload.h"

enum xfer_kind { XFER_H2D_PINNED, XFER_H2D_PAGEABLE, XFER_D2H_PINNED, XFER_D2H_PAGEABLE, XFER_D2D };
struct transfer_shape { enum xfer_kind kind; size_t bytes; };
extern const char *const xfer_kind_names[];
extern const struct wcase transfer_cases[];
#endif
