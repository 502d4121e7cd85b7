/* transfer_cases.c: host<->device copies from 4 KiB (latency-bound) to 1 GiB (bandwidth-bound),
 * pinned and pageable host memory, and device-to-device copies. */
#include "transfer_cases.h"

const char *const xfer_kind_names[] = {"h2d-pinned", "h2d-pageable", "d2h-pinned", "d2h-pageable", "d2d"};

#define X(KIND, BYTES) (&(const struct transfer_shape){KIND, BYTES})
#define SIZES(NAME, KIND, ABOUT)                                              \
    {NAME ".4K", ABOUT, 1, X(KIND, 4096)},                                    \
    {NAME ".64K", ABOUT, 0, X(KIND, 65536)},                                  \
    {NAME ".1M", ABOUT, 1, X(KIND, 1 << 20)},                                 \
    {NAME ".16M", ABOUT, 0, X(KIND, 16 << 20)},                               \
    {NAME ".256M", ABOUT, 1, X(KIND, 256 << 20)},                             \
    {NAME ".1G", ABOUT, 0, X(KIND, (size_t)1 << 30)}

const struct wcase transfer_cases[] = {
    SIZES("h2d-pinned", XFER_H2D_PINNED, "host to device, pinned (page-locked) host memory"),
    SIZES("h2d-pageable", XFER_H2D_PAGEABLE, "host to device, ordinary malloc'ed host memory"),
    SIZES("d2h-pinned", XFER_D2H_PINNED, "device to host, pinned host memory"),
    SIZES("d2h-pageable", XFER_D2H_PAGEABLE, "device to host, ordinary host memory"),
    SIZES("d2d", XFER_D2D, "device to device copy (bytes read plus bytes written, as STREAM counts)"),
    {0},
};
