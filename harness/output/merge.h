/* merge.h: `dlbench merge RUN_DIR...`: one fleet report (fleet.md, fleet.csv, fleet.json) from the
 * run folders of several machines. */
#ifndef DLBENCH_MERGE_H
#define DLBENCH_MERGE_H
/* Returns the exit code: 0, or 2 (one line "file:line: reason") for bad input. */
int merge_main(int argc, char **argv);
#endif
