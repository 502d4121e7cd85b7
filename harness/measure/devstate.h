/* devstate.h: a device's state over one row (struct dev_state readings, harness/backend.h folded
 * together): mean clocks and power, the highest temperature, every throttle reason seen, and the
 * text results.csv and the report use ("none", "sw_power_cap+hw_thermal_slowdown", "n/a: why"). */
#ifndef DLBENCH_DEVSTATE_H
#define DLBENCH_DEVSTATE_H
#include <stddef.h>
#include "backend.h"

/* NVML clocks-event reason bits (nvml.h: nvmlClocksEventReason*) */
#define NVML_REASON_GPU_IDLE 0x1ull
#define NVML_REASON_APP_CLOCKS 0x2ull
#define NVML_REASON_SW_POWER_CAP 0x4ull
#define NVML_REASON_HW_SLOWDOWN 0x8ull
#define NVML_REASON_SYNC_BOOST 0x10ull
#define NVML_REASON_SW_THERMAL 0x20ull
#define NVML_REASON_HW_THERMAL 0x40ull
#define NVML_REASON_HW_POWER_BRAKE 0x80ull
#define NVML_REASON_DISPLAY_CLOCKS 0x100ull
/* The reasons that lower clocks below what the work asked for: a row that saw one is throttled. */
#define NVML_REASONS_THROTTLE (NVML_REASON_SW_POWER_CAP | NVML_REASON_HW_SLOWDOWN | NVML_REASON_SW_THERMAL | \
                               NVML_REASON_HW_THERMAL | NVML_REASON_HW_POWER_BRAKE)

struct dev_state_acc {
    int n, nclk, nmclk, npw;             /* readings, and how many had each value */
    double clk, mclk, pw, limit, temp_max;
    unsigned long long reasons;          /* OR of every reading's reasons */
    int have_reasons;
    char why[96];                        /* why of the last reading that missed something */
};

void devstate_begin(struct dev_state_acc *a);
void devstate_fold(struct dev_state_acc *a, const struct dev_state *s);
/* The folded state: means of clocks and power, the last power limit, the highest temperature. */
void devstate_result(const struct dev_state_acc *a, struct dev_state *out);
/* "none", the reasons joined by '+' (GPU idle left out: the sampler reads between calls), or
 * "n/a: why" when no reading had reasons. */
void devstate_throttle_text(const struct dev_state *s, char *buf, size_t n);
/* Whether a throttle text names a reason in NVML_REASONS_THROTTLE. */
int devstate_text_throttled(const char *text);
#endif
