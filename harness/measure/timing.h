/* timing.h: the sampler every workload and backend share: warm-up, repetitions per sample,
 * adaptive sample count until the median's 95% CI is within ±target, every sample kept. */
#ifndef DLBENCH_TIMING_H
#define DLBENCH_TIMING_H
#include "backend.h"
#include "stats.h"
#include <signal.h>

struct timing_opts {
    double min_time;       /* s of sampling before the noise rule may stop it */
    double max_time;       /* s of sampling after which the row is flagged noisy */
    double target_rel;     /* CI of the median within ±target_rel of it (0.01) */
    double case_timeout;   /* s of wall time after which the case is abandoned as "timeout" */
    int max_samples;
    double warmup;         /* s of calls before sampling, at least one call (0: that one call) */
};

enum timing_outcome { TIMING_OK, TIMING_NOISY, TIMING_FAILED, TIMING_TIMEOUT, TIMING_INTERRUPTED };

struct timing_result {
    double *samples;       /* seconds per call, one per sample; malloc'ed, caller frees */
    int n, reps;           /* samples taken; op calls inside each sample */
    struct summary s;
    enum timing_outcome outcome;
    double joules_per_call;  /* backend energy counter over the sampled calls; NAN if unreadable */
    double wall_s;           /* wall seconds time_op took: warm-up and sampling */
    struct dev_state state;  /* the device while sampling (GPU: read every 20 ms; CPU: before and
                                after); why "n/a: ..." when the backend reads none */
};

typedef int (*op_call_fn)(void *state);   /* enqueues one call; 0 ok, -1 with backend error */
extern volatile sig_atomic_t timing_interrupted; /* set by SIGINT/SIGTERM: stop sampling now */

/* Pure stopping rule (tested on synthetic streams): 1 stop, 0 go on. *noisy set when stopping
 * without meeting the CI target. */
int timing_should_stop(const struct timing_opts *o, const struct summary *s, double elapsed, int *noisy);

int time_op(const struct backend *b, op_call_fn call, void *state, const struct timing_opts *o,
            struct timing_result *r);
double wall_seconds(void);
#endif
