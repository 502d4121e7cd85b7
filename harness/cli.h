/* cli.h: parsers for command-line values. Each returns 0, or -1 after printing one line
 * "dlbench: <option>: <what is wrong>" to stderr (the caller exits 2). */
#ifndef DLBENCH_CLI_H
#define DLBENCH_CLI_H
#include <stddef.h>

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
int cli_err(const char *opt, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#endif
