/* cli.c: strict parsing of option values: whole strings only, ranges checked, overflow caught. */
#include "cli.h"
#include "dtype.h"
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
    fprintf(stderr, "dlbench: %s: ", opt);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return -1;
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
