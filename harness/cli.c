/* cli.c: the command line: getopt_long with one-line errors and suggestions, and strict parsing
 * of option values: whole strings only, ranges checked, overflow caught. */
#include "cli.h"
#include "dtype.h"
#include "sysinfo.h"   /* DLBENCH_VERSION, DLBENCH_GIT_REV */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_quiet;

int cli_err(const char *opt, const char *fmt, ...)
{
    va_list ap;
    if (cli_quiet) return -1;
    fprintf(stderr, opt ? "dlbench: %s: " : "dlbench: ", opt);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return -1;
}

void cli_print_version(void) { printf("dlbench %s (%s)\n", DLBENCH_VERSION, DLBENCH_GIT_REV); }

/* Edit distance of a and b (insertions, deletions, substitutions), capped at 9. */
static int distance(const char *a, const char *b)
{
    int la = (int)strlen(a), lb = (int)strlen(b), d[2][65];
    if (la > 64 || lb > 64) return 9;
    for (int j = 0; j <= lb; j++) d[0][j] = j;
    for (int i = 1; i <= la; i++) {
        int *cur = d[i & 1], *prev = d[(i - 1) & 1];
        cur[0] = i;
        for (int j = 1; j <= lb; j++) {
            int sub = prev[j - 1] + (a[i - 1] != b[j - 1]), del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
    }
    return d[la & 1][lb] < 9 ? d[la & 1][lb] : 9;
}

/* The long option nearest to a mistyped "--name[=value]", when it is near enough to be meant. */
static const char *nearest_option(const char *arg, const struct option *lo)
{
    char name[65];
    const char *best = NULL;
    int best_d = 3;
    if (strncmp(arg, "--", 2) != 0) return NULL;
    snprintf(name, sizeof name, "%.*s", (int)strcspn(arg + 2, "="), arg + 2);
    for (; lo->name; lo++) {
        int d = distance(name, lo->name);
        if (d < best_d && d <= (int)strlen(lo->name) / 3 + 1) { best_d = d; best = lo->name; }
    }
    return best;
}

/* "hV" etc. from the table: every option with a one-letter val, ':' after those with a value. */
static void short_options(const struct option *lo, char *buf, size_t n)
{
    size_t k = 0;
    buf[k++] = ':'; /* report a missing value as ':' rather than '?' */
    for (; lo->name && k + 3 < n; lo++) {
        if (lo->flag || lo->val <= ' ' || lo->val > '~') continue;
        buf[k++] = (char)lo->val;
        if (lo->has_arg == required_argument) buf[k++] = ':';
    }
    buf[k] = 0;
}

int cli_next_option(int argc, char **argv, const char *cmd, const char *usage, const struct option *longopts)
{
    static char **started;
    char shorts[64], help[64];
    if (started != argv) { started = argv; optind = 0; } /* a new command line: restart getopt */
    opterr = 0;
    short_options(longopts, shorts, sizeof shorts);
    snprintf(help, sizeof help, "dlbench%s%s --help", cmd ? " " : "", cmd ? cmd : "");
    int c = getopt_long(argc, argv, shorts, longopts, NULL);
    const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
    if (c == 'h') { fputs(usage, stdout); return CLI_EXIT0; }
    if (c == 'V') { cli_print_version(); return CLI_EXIT0; }
    if (c == ':') {
        if (strncmp(arg, "--", 2) == 0) return cli_err(arg, "needs a value"), CLI_BAD;
        return cli_err(cmd, "option '-%c' needs a value", optopt), CLI_BAD;
    }
    if (c != '?') return c;
    if (optopt && strncmp(arg, "--", 2) == 0) /* a known long option that takes no value */
        return cli_err(cmd, "option '%.*s' takes no value", (int)strcspn(arg, "="), arg), CLI_BAD;
    if (optopt) return cli_err(cmd, "unknown option '-%c' (%s)", optopt, help), CLI_BAD;
    const char *near = nearest_option(arg, longopts);
    if (near) return cli_err(cmd, "unknown option '%s'; did you mean '--%s'? (%s)", arg, near, help), CLI_BAD;
    return cli_err(cmd, "unknown or ambiguous option '%s' (%s)", arg, help), CLI_BAD;
}

int cli_long(const char *opt, const char *s, long min, long max, long *out)
{
    char *end;
    if (!s || !*s) return cli_err(opt, "needs a value");
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*end || end == s || s[0] == ' ') return cli_err(opt, "'%s' is not a whole number", s);
    if (errno == ERANGE || v < min || v > max) return cli_err(opt, "'%s' is out of range %ld..%ld", s, min, max);
    *out = v;
    return 0;
}

int cli_double(const char *opt, const char *s, double min, double max, double *out)
{
    char *end;
    if (!s || !*s) return cli_err(opt, "needs a value");
    errno = 0;
    double v = strtod(s, &end);
    if (*end || end == s || s[0] == ' ' || !isfinite(v)) return cli_err(opt, "'%s' is not a number", s);
    if (v < min || v > max) return cli_err(opt, "'%s' is out of range %g..%g", s, min, max);
    *out = v;
    return 0;
}

int cli_size(const char *opt, const char *s, long *dims, int *nd)
{
    char part[32];
    double product = 1;
    *nd = 0;
    if (!s || !*s) return cli_err(opt, "needs a value such as 2048 or 1024x512x256");
    for (const char *p = s;;) {
        size_t len = strcspn(p, "x");
        if (*nd == 4) return cli_err(opt, "'%s' has more than 4 dimensions", s);
        if (len == 0 || len >= sizeof part) return cli_err(opt, "'%s' is not a size such as 2048 or 1024x512x256", s);
        memcpy(part, p, len);
        part[len] = 0;
        char *end;
        errno = 0;
        long v = strtol(part, &end, 10);
        if (*end || part[0] == '-' || part[0] == '+' || part[0] == ' ')
            return cli_err(opt, "'%s' is not a size such as 2048 or 1024x512x256", s);
        if (errno == ERANGE || v < 1 || v > (1L << 40)) return cli_err(opt, "dimension '%s' is out of range 1..2^40", part);
        product *= (double)v;
        dims[(*nd)++] = v;
        if (!p[len]) break;
        p += len + 1;
    }
    if (product > 1099511627776.0) return cli_err(opt, "'%s' has more than 2^40 elements", s);
    return 0;
}

int cli_list_long(const char *opt, const char *s, long limit, long *vals, int max, int *n)
{
    char item[32];
    *n = 0;
    if (!s || !*s) return cli_err(opt, "needs a value");
    for (const char *p = s;;) {
        size_t len = strcspn(p, ",");
        if (*n == max) return cli_err(opt, "more than %d values", max);
        if (len == 0 || len >= sizeof item) return cli_err(opt, "'%s' is not a comma-separated list of numbers", s);
        memcpy(item, p, len);
        item[len] = 0;
        if (cli_long(opt, item, 1, limit, &vals[*n]) != 0) return -1;
        (*n)++;
        if (!p[len]) break;
        p += len + 1;
    }
    return 0;
}

int cli_dtypes(const char *opt, const char *s, unsigned *mask)
{
    char item[16];
    *mask = 0;
    if (!s || !*s) return cli_err(opt, "needs a value");
    for (const char *p = s;;) {
        size_t len = strcspn(p, ",");
        enum dtype dt;
        if (len == 0 || len >= sizeof item) return cli_err(opt, "'%s' is not a list of fp32, tf32, fp16, bf16", s);
        memcpy(item, p, len);
        item[len] = 0;
        if (dtype_parse(item, &dt) != 0) return cli_err(opt, "unknown dtype '%s' (fp32, tf32, fp16, bf16)", item);
        *mask |= 1u << dt;
        if (!p[len]) break;
        p += len + 1;
    }
    return 0;
}

int cli_names(const char *opt, const char *s, const char *const *names, int nnames)
{
    char item[64];
    if (!s || !*s) return cli_err(opt, "needs a value");
    for (const char *p = s;;) {
        size_t len = strcspn(p, ",");
        int found = 0;
        if (len == 0 || len >= sizeof item) return cli_err(opt, "'%s' is not a comma-separated list of names", s);
        memcpy(item, p, len);
        item[len] = 0;
        for (int i = 0; i < nnames; i++) found |= strcmp(item, names[i]) == 0;
        if (!found && strcmp(item, "all") != 0) {
            char list[512] = "";
            for (int i = 0; i < nnames; i++) {
                strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
                strncat(list, names[i], sizeof list - strlen(list) - 1);
            }
            return cli_err(opt, "unknown name '%s' (one of: %s)", item, list);
        }
        if (!p[len]) break;
        p += len + 1;
    }
    return 0;
}
