/* ceilings.h: what the hardware can do at all, measured at the start of a run on each backend in
 * use: peak bandwidth (bytes read plus written, STREAM's convention, like every bandwidth row) and
 * peak FLOP/s per dtype, with the bandwidth the hardware states beside the measured one; every row
 * then gets its % of the roofline bound min(peak FLOP/s, intensity × peak bandwidth). system.json
 * keeps them ("ceiling.<backend>": ceilings_put/ceilings_get in harness/output/sysinfo.h). */
#ifndef DLBENCH_CEILINGS_H
#define DLBENCH_CEILINGS_H
#include "backend.h"
#include "row.h"
#include "timing.h"

struct ceiling {
    double bw_gbps;               /* NAN when not measured */
    double bw_array_bytes;        /* bytes per array it was measured with */
    int bw_cache_assisted;        /* those arrays are below 4x the device's last-level cache */
    double bw_stated_gbps;        /* what the hardware states (NAN: it does not) */
    double gflops[DT_COUNT];
    char bw_how[160], bw_stated_how[128], fl_how[DT_COUNT][64];
};

const struct timing_opts *ceiling_timing(int quick);   /* the sampler's options for the ceilings of a quick or full suite */
void ceiling_clear(struct ceiling *c);
void ceilings_measure(const struct backend *b, int threads, int quick, struct ceiling *c);
/* Before the ceilings, for the run's first estimate: the backend's compute loop (peak_ops) for ~20
 * ms per dtype at `threads` threads, in GFLOP/s per thread (NAN where it has no loop for the dtype
 * or no loop at all). */
void ceilings_probe_loops(const struct backend *b, int threads, double per_thread[DT_COUNT]);
/* The GEMM case whose FLOP/s is a ceiling: the largest of the suite. */
const char *ceilings_peak_gemm(int gpu, int quick);
/* The roofline bound for a row in its headline unit (GFLOP/s or GB/s); NAN if unknown. */
double ceiling_bound(const struct ceiling *c, const struct row *r, int in_gbps);
void ceiling_apply(const struct ceiling *c, struct row *r);     /* sets r->ceiling_pct */
/* A measured row faster than its backend's ceiling raises it, since a ceiling is the best this
 * machine did in the run: a GEMM row its dtype's FLOP/s, a streaming row that is not an in-place
 * update the bandwidth, when the two compare (a cache-assisted row only a cache-assisted ceiling
 * on arrays as large; such a row gets no % of a DRAM ceiling either). Returns 1 when it raised one; the how
 * then names the row. */
int ceiling_raise(struct ceiling *c, const struct row *r);
#endif
