/* baseline.h: `dlbench baseline DIR RUN...` writes DIR/noise.csv, the spread between the repeated
 * runs RUN... of one machine, for compare to judge a single new run against. */
#ifndef DLBENCH_BASELINE_H
#define DLBENCH_BASELINE_H
int baseline_main(int argc, char **argv);   /* exit code: 0 written, 2 bad input */
#endif
