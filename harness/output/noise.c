/* noise.c: the baseline noise model, noise.csv (per row, the medians of the baseline's repeated
 * runs): read, written, and its spread. */
#include "noise.h"
#include "files.h"
#include "results.h"
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const noise_columns[] = {"backend", "workload", "case", "dtype", "threads", "runs",
                                            "median_s", "spread_pct", "range_pct", "run_medians_s"};
#define NOISE_NCOLS 10

double noise_spread(const double *m, int n)
{
    double mean = 0, ss = 0;
    if (n < 2) return 0;
    for (int i = 0; i < n; i++) mean += log(m[i]) / n;
    for (int i = 0; i < n; i++) ss += (log(m[i]) - mean) * (log(m[i]) - mean);
    return expm1(sqrt(ss / (n - 1)));
}

void noise_free(struct noise_row *rows, int n)
{
    for (int i = 0; i < n; i++) free(rows[i].median_s);
    free(rows);
}

/* "1.2e-05;1.3e-05": every value a positive number. */
static int parse_medians(const char *s, struct noise_row *r)
{
    r->n = 0;
    r->median_s = NULL;
    for (const char *p = s; *p;) {
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (end == p || errno || !(v > 0) || !isfinite(v) || (*end && *end != ';')) return -1;
        r->median_s = realloc(r->median_s, sizeof(double) * (r->n + 1));
        r->median_s[r->n++] = v;
        p = *end ? end + 1 : end;
    }
    return r->n > 0 ? 0 : -1;
}

int noise_read(FILE *f, const char *name, struct noise_row **rows, char *why, size_t n)
{
    char *buf = NULL, **fl = NULL, *end;
    size_t cap = 0;
    int fcap = 0, line = 0, nrows = 0, rcap = 0, nf, ret = -1, term;
    *rows = NULL;
    nf = csv_read_record(f, &buf, &cap, &fl, &fcap, &line, &term);
    int ok = nf == NOISE_NCOLS;
    for (int i = 0; ok && i < nf; i++) ok = strcmp(fl[i], noise_columns[i]) == 0;
    if (!ok) { snprintf(why, n, "%s:1: not a dlbench noise.csv of this version (header differs)", name); goto out; }
    for (;;) {
        int at = line + 1;
        nf = csv_read_record(f, &buf, &cap, &fl, &fcap, &line, &term);
        if (nf == 0) break;
        if (nf == 1 && !*fl[0]) continue;
        if (nf != NOISE_NCOLS) { snprintf(why, n, "%s:%d: wrong number of fields (%d, expected %d)", name, at, nf, NOISE_NCOLS); goto out; }
        if (nrows == rcap) *rows = realloc(*rows, sizeof **rows * (rcap = rcap ? rcap * 2 : 64));
        struct noise_row *r = &(*rows)[nrows];
        memset(r, 0, sizeof *r);
        snprintf(r->backend, sizeof r->backend, "%s", fl[0]);
        snprintf(r->workload, sizeof r->workload, "%s", fl[1]);
        snprintf(r->case_name, sizeof r->case_name, "%s", fl[2]);
        snprintf(r->dtype, sizeof r->dtype, "%s", fl[3]);
        long th = strtol(fl[4], &end, 10);
        int bad = !*fl[0] || !*fl[1] || !*fl[2] || !*fl[4] || *end || th < 0 || th > 100000;
        r->threads = (int)th;
        if (bad || parse_medians(fl[9], r) != 0) {
            free(r->median_s);
            snprintf(why, n, "%s:%d: malformed row", name, at);
            goto out;
        }
        nrows++;
    }
    ret = nrows;
out:
    if (ret < 0) { noise_free(*rows, nrows); *rows = NULL; }
    free(buf);
    free(fl);
    return ret;
}

int noise_load(const char *dir, struct noise_row **rows, char *why, size_t n)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, NOISE_FILE);
    *rows = NULL;
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT) return 0;
        snprintf(why, n, "%s: %s", path, strerror(errno));
        return -1;
    }
    int ret = noise_read(f, path, rows, why, n);
    fclose(f);
    return ret;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int noise_write(const char *dir, const struct noise_row *rows, int n)
{
    char path[4200];
    struct atomic_file af;
    snprintf(path, sizeof path, "%s/%s", dir, NOISE_FILE);
    if (!atomic_open(&af, path)) return -1;
    for (int i = 0; i < NOISE_NCOLS; i++) fprintf(af.f, "%s%s", i ? "," : "", noise_columns[i]);
    fputc('\n', af.f);
    for (int i = 0; i < n; i++) {
        const struct noise_row *r = &rows[i];
        double *s = malloc(sizeof(double) * r->n);
        memcpy(s, r->median_s, sizeof(double) * r->n);
        qsort(s, r->n, sizeof *s, cmp_double);
        double med = r->n % 2 ? s[r->n / 2] : 0.5 * (s[r->n / 2 - 1] + s[r->n / 2]);
        const char *id[] = {r->backend, r->workload, r->case_name, r->dtype};
        for (int j = 0; j < 4; j++) { csv_write_field(af.f, id[j]); fputc(',', af.f); }
        fprintf(af.f, "%d,%d,%.6e,%.2f,%.2f,", r->threads, r->n, med, 100 * noise_spread(r->median_s, r->n),
                100 * (s[r->n - 1] / s[0] - 1));
        for (int j = 0; j < r->n; j++) fprintf(af.f, "%s%.6e", j ? ";" : "", r->median_s[j]);
        fputc('\n', af.f);
        free(s);
    }
    return atomic_commit(&af);
}
