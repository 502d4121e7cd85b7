/* ab.h: `dlbench ab BASE_REV [NEW_REV]`: the baseline revision built in a git worktree, both binaries
 * run in alternation (base, new, base, new, ...) in fresh processes, the rounds compared. */
#ifndef DLBENCH_AB_H
#define DLBENCH_AB_H
int ab_main(int argc, char **argv);    /* exit code, as compare's; 2 also when a revision does not build */
/* Run i (0-based) of the 2*rounds runs: its round (1-based) and side (0 base, 1 new). */
void ab_schedule(int i, int *round, int *side);
#endif
