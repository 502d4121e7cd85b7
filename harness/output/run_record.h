/* run_record.h: what a run folder says about the run itself, so that a result can be reproduced
 * from its folder: the command line, every effective setting, the environment variables that
 * change results, start and end time, and how it ended. Kept in system.json (sections "run" and
 * "env") next to the machine; report.md shows it and `dlbench report` says how the run ended.
 * A run writes state "running" first and its end last: a folder still saying "running" when read
 * back never recorded its end (killed, crashed, or still going) and reads as incomplete. */
#ifndef DLBENCH_RUN_RECORD_H
#define DLBENCH_RUN_RECORD_H
#include "sysinfo.h"
#include <stddef.h>
#include <stdio.h>

/* run.command_line: argv as typed, shell-quoted (argc 0: "not recorded (library call)"). */
void run_record_command(struct sysinfo *si, int argc, char *const *argv);
/* env.<NAME> for each variable set that changes results (OpenMP, OpenBLAS, oneDNN, CUDA device
 * selection and libraries); run.env_recorded lists the prefixes looked at. */
void run_record_env(struct sysinfo *si);
/* run.reproduce: the env assignments recorded, then prog and args shell-quoted. */
void run_record_reproduce(struct sysinfo *si, const char *prog, const char *const *args, int nargs);
void run_record_start(struct sysinfo *si);   /* run.start_utc, run.state = running */
/* run.end_utc, run.duration_s, run.rows_done, run.exit_code, run.state (completed, or
 * "interrupted (SIGINT)" and the like). */
void run_record_end(struct sysinfo *si, const char *state, int rows_done, double seconds, int exit_code);

enum run_state { RUN_COMPLETED, RUN_INTERRUPTED, RUN_INCOMPLETE, RUN_UNRECORDED };
/* How the run ended, as read back, with a sentence for humans in buf. */
enum run_state run_record_state(const struct sysinfo *si, char *buf, size_t n);

/* s quoted for a POSIX shell where it needs it ('a b' -> 'a b', it's -> 'it'\''s'). */
void shell_quote(const char *s, char *buf, size_t n);

/* report.md's "Run" section: state, times, settings, environment, the command to reproduce. */
void run_record_write_md(const struct sysinfo *si, FILE *f);
#endif
