/* compare.h: `dlbench compare BASE NEW`: pairs rows by key and calls a row a regression only when
 * it is slower by more than a threshold AND a Mann-Whitney U test on the two runs' samples rejects
 * equality. Exit 0 none, 1 regressions, 2 bad input or different hardware. */
#ifndef DLBENCH_COMPARE_H
#define DLBENCH_COMPARE_H

enum verdict { V_SAME, V_FASTER, V_SLOWER, V_AMBIGUOUS };
extern const char *const verdict_names[];

struct verdict_result { enum verdict v; double change; double p; };   /* change: time ratio - 1 */

/* The rule on two sample sets (seconds per call): slower/faster when |change| > threshold and
 * p < alpha; same when |change| <= threshold; ambiguous when the change is large but p >= alpha. */
void compare_classify(const double *base, int nb, const double *neu, int nn, double threshold, double alpha,
                      struct verdict_result *out);
int compare_main(int argc, char **argv);
#endif
