/* ceilings.h: what the hardware can do at all, measured at the start of a run on each backend in
 * use: peak bandwidth and peak FLOP/s per dtype; every row then gets its % of the roofline bound
 * min(peak FLOP/s, intensity × peak bandwidth). system.json keeps them ("ceiling.<backend>":
 * ceilings_put/ceilings_get in harness/output/sysinfo.h). */
#ifndef DLBENCH_CEILINGS_H
#define DLBENCH_CEILINGS_H
#include "backend.h"
#include "row.h"

struct ceiling {
    double bw_gbps;               /* NAN when not measured */
    double gflops[DT_COUNT];
    char bw_how[64], fl_how[DT_COUNT][64];
};

void ceiling_clear(struct ceiling *c);
void ceilings_measure(const struct backend *b, int threads, int quick, struct ceiling *c);
/* The roofline bound for a row in its headline unit (GFLOP/s or GB/s); NAN if unknown. */
double ceiling_bound(const struct ceiling *c, const struct row *r, int in_gbps);
void ceiling_apply(const struct ceiling *c, struct row *r);     /* sets r->ceiling_pct */
#endif
