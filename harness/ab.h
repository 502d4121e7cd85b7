/* ab.h: `dlbench ab BASE_REV [NEW_REV]`: the baseline revision built in a git worktree; in each round
 * both binaries run side by side in fresh processes, taking turns row by row (turns.h), and the
 * rounds are compared pairwise. */
#ifndef DLBENCH_AB_H
#define DLBENCH_AB_H
int ab_main(int argc, char **argv);    /* exit code, as compare's; 2 also when a revision does not build */
/* The side (0 base, 1 new) that takes the first turn of round `round` (1-based): base in odd
 * rounds, new in even ones. */
int ab_first_side(int round);
#endif
