/* turns.h: lockstep between two dlbench runs (ab's paired rounds). With DLBENCH_TURNS=R,W in the
 * environment (file descriptors set up by `dlbench ab`), a run takes the turn (one byte read from
 * R) before each phase that uses the CPUs (start-up, every row, the final report) and gives it back
 * (one byte written to W) after, and while it samples a row it hands the turn over every
 * TURN_WINDOW_S. Two runs started side by side then never work at the same time, and the samples
 * of a row of one interleave with those of the same row of the other, under the same machine
 * state (README, How dlbench measures: on a shared VM that state changes within a second). Without
 * the variable, or once the other end is gone, these calls do nothing. */
#ifndef DLBENCH_TURNS_H
#define DLBENCH_TURNS_H

/* Inside a row's sampling: once the turn has been held TURN_WINDOW_S, hands it over and waits for it
 * back, so the two runs' samples of the same row alternate in short windows and see the same
 * spells of a shared machine (README: they last 20 ms to seconds). Returns the seconds spent
 * waiting (0 when it kept the turn), which the sampler leaves out of its time budget. 0.1 s: the
 * other run's OpenMP threads spin for some milliseconds after it hands the turn over (libgomp's
 * default), which a window of 25 ms felt in most of its samples. */
#define TURN_WINDOW_S 0.1
double turn_share(void);

/* Parses "R,W" (two file descriptor numbers >= 3, different): 0 with *r, *w set, or -1. */
int turns_parse(const char *spec, int *r, int *w);
void turn_take(void);
void turn_give(void);
#endif
