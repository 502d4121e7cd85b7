/* compare.h: `dlbench compare BASE... -- NEW...`: pairs rows across run folders and judges each with
 * the between-run rule of verdict.h (per-run medians, the spread between runs, a rank test); a row
 * measured in the baseline and gone in the new runs fails too. Exit 0 none, 1 regressions or rows
 * gone, 2 bad input or different hardware. `ab` calls compare_folders on its rounds. */
#ifndef DLBENCH_COMPARE_H
#define DLBENCH_COMPARE_H
#include <getopt.h>
#include <stdio.h>

struct compare_opts {
    const char *const *base, *const *neu;   /* run folders (or their results.csv) per side */
    int nbase, nnew;
    double threshold;       /* percent (5) */
    double alpha;           /* 0.01 */
    double run_noise;       /* percent between-run spread assumed with one run per side (2) */
    int csv, allow_hardware, allow_missing;
    int paired;             /* base folder i and new folder i were measured side by side (ab's rounds) */
    const char *title;      /* the report's title ("dlbench compare" when NULL) */
    const char *preamble;   /* Markdown printed under the title (ab: revisions, rounds, order); NULL none */
};
void compare_opts_default(struct compare_opts *o);
/* Loads, checks and judges; the table goes to out. Returns the exit code. */
int compare_folders(const struct compare_opts *o, FILE *out);
int compare_main(int argc, char **argv);

/* compare's judging options for commands that pass them on (ab): getopt_long entries (NULL-ended,
 * no help/version) with codes COMPARE_OPT_FIRST..COMPARE_OPT_LAST; compare_option applies one
 * (0, or -1 after a one-line error). */
enum { COMPARE_OPT_FIRST = 1000, COMPARE_OPT_LAST = COMPARE_OPT_FIRST + 6 };
extern const struct option compare_long_options[];
int compare_option(struct compare_opts *o, int code, const char *value);
#endif
