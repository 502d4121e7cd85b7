/* devstate.c: folding device-state readings over a row and naming its throttle reasons. */
#include "devstate.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

static const struct { unsigned long long bit; const char *name; } reason_names[] = {
    {NVML_REASON_APP_CLOCKS, "applications_clocks"}, {NVML_REASON_SW_POWER_CAP, "sw_power_cap"},
    {NVML_REASON_HW_SLOWDOWN, "hw_slowdown"},         {NVML_REASON_SYNC_BOOST, "sync_boost"},
    {NVML_REASON_SW_THERMAL, "sw_thermal_slowdown"},  {NVML_REASON_HW_THERMAL, "hw_thermal_slowdown"},
    {NVML_REASON_HW_POWER_BRAKE, "hw_power_brake"},   {NVML_REASON_DISPLAY_CLOCKS, "display_clocks"},
};
#define NREASONS (sizeof reason_names / sizeof reason_names[0])

void devstate_begin(struct dev_state_acc *a)
{
    memset(a, 0, sizeof *a);
    a->limit = a->temp_max = NAN;
}

void devstate_fold(struct dev_state_acc *a, const struct dev_state *s)
{
    a->n++;
    if (!isnan(s->clock_mhz)) { a->clk += s->clock_mhz; a->nclk++; }
    if (!isnan(s->mem_clock_mhz)) { a->mclk += s->mem_clock_mhz; a->nmclk++; }
    if (!isnan(s->power_w)) { a->pw += s->power_w; a->npw++; }
    if (!isnan(s->power_limit_w)) a->limit = s->power_limit_w;
    if (!isnan(s->temp_c) && !(s->temp_c <= a->temp_max)) a->temp_max = s->temp_c;
    if (s->have_reasons) { a->reasons |= s->reasons; a->have_reasons = 1; }
    if (s->why[0]) snprintf(a->why, sizeof a->why, "%s", s->why);
}

void devstate_result(const struct dev_state_acc *a, struct dev_state *out)
{
    out->clock_mhz = a->nclk ? a->clk / a->nclk : NAN;
    out->mem_clock_mhz = a->nmclk ? a->mclk / a->nmclk : NAN;
    out->power_w = a->npw ? a->pw / a->npw : NAN;
    out->power_limit_w = a->limit;
    out->temp_c = a->temp_max;
    out->reasons = a->reasons;
    out->have_reasons = a->have_reasons;
    snprintf(out->why, sizeof out->why, "%s", a->n ? a->why : "n/a: no reading");
}

void devstate_throttle_text(const struct dev_state *s, char *buf, size_t n)
{
    size_t len = 0;
    if (!s->have_reasons) {
        if (!strncmp(s->why, "n/a", 3)) snprintf(buf, n, "%s", s->why);
        else snprintf(buf, n, "n/a: %s", s->why[0] ? s->why : "no throttle reasons on this device");
        return;
    }
    buf[0] = 0;
    for (size_t i = 0; i < NREASONS; i++)
        if (s->reasons & reason_names[i].bit && len + 1 < n)
            len += (size_t)snprintf(buf + len, n - len, "%s%s", len ? "+" : "", reason_names[i].name);
    if (!len) snprintf(buf, n, "none");
}

int devstate_text_throttled(const char *text)
{
    for (size_t i = 0; i < NREASONS; i++)
        if ((reason_names[i].bit & NVML_REASONS_THROTTLE) && strstr(text, reason_names[i].name)) return 1;
    return 0;
}
