/* cli.h: the command line: options through getopt_long (GNU conventions: `--threads=2` and
 * `--threads 2`, unambiguous prefixes, -h/--help and -V/--version on every command), and strict
 * parsers for their values. Each parser returns 0, or -1 after printing one line
 * "dlbench: <option>: <what is wrong>" to stderr (the caller exits 2). */
#ifndef DLBENCH_CLI_H
#define DLBENCH_CLI_H
#include <getopt.h>
#include <stddef.h>

enum { CLI_END = -1, CLI_BAD = -2, CLI_EXIT0 = -3 };
/* The next option of command `cmd` (argv[0] is the command's name; cmd NULL: the program's own). longopts must hold "help"
 * ('h') and "version" ('V'): those print usage / the version and give CLI_EXIT0. Returns the
 * option's val (its value in optarg), CLI_END after the last option (operands from optind on),
 * or CLI_BAD after one line on stderr: an unknown option (with the closest valid name when there
 * is one), a missing value, or a value given to an option that takes none. */
int cli_next_option(int argc, char **argv, const char *cmd, const char *usage, const struct option *longopts);
void cli_print_version(void);

int cli_long(const char *opt, const char *s, long min, long max, long *out);
int cli_double(const char *opt, const char *s, double min, double max, double *out);
/* "2048", "1024x512x256": 1..4 positive numbers; rejects products beyond 2^40 elements. */
int cli_size(const char *opt, const char *s, long *dims, int *ndims);
/* "1,2,4": up to max entries, each in 1..limit. */
int cli_list_long(const char *opt, const char *s, long limit, long *vals, int max, int *n);
/* "fp32,bf16" -> bit mask of enum dtype */
int cli_dtypes(const char *opt, const char *s, unsigned *mask);
/* Names a comma list must draw from; "all" allowed. */
int cli_names(const char *opt, const char *s, const char *const *names, int nnames);
extern int cli_quiet;   /* fuzzing: parse without printing */
/* "dlbench: <opt>: <message>" (opt NULL: "dlbench: <message>"); returns -1. */
int cli_err(const char *opt, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#endif
