/* row.c: a result row's life before it is written: blank, measured or not, its key. */
#include "row.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

void row_init(struct row *r)
{
    memset(r, 0, sizeof *r);
    r->verify_err = r->tolerance = r->median_s = r->min_s = r->mean_s = r->stddev_s = NAN;
    r->ci_lo_s = r->ci_hi_s = r->flops = r->bytes = r->gflops = r->gbytes_per_s = NAN;
    r->intensity = r->ceiling_pct = r->items_per_call = r->joules_per_call = r->busbw_gbps = NAN;
    r->clock_mhz = r->mem_clock_mhz = r->power_w = r->power_limit_w = r->temp_c = r->array_bytes = r->wall_s = NAN;
    r->ranks = 1;
}

int row_measured(const struct row *r)
{
    return strcmp(r->status, "ok") == 0 || strcmp(r->status, "noisy") == 0;
}

void row_key(const struct row *r, char *buf, size_t n)
{
    int len = snprintf(buf, n, "%s|%s|%s|%s|%d", r->backend, r->workload, r->case_name, r->dtype, r->threads);
    if (len < 0 || (size_t)len >= n) return;
    if (r->rank < 0) snprintf(buf + len, n - len, "|group%d", r->ranks);
    else if (r->ranks > 1) snprintf(buf + len, n - len, "|rank%d/%d", r->rank, r->ranks);
}
