/* results.c: writing and reading results.csv / samples.csv. Writers flush and fsync each case;
 * readers report file and line for anything malformed. */
#include "results.h"
#include "files.h"
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *const results_columns[RESULTS_NCOLS] = {
    "backend", "device", "workload", "family", "case", "shape", "dtype", "threads", "status",
    "verify_err", "tolerance", "samples", "reps", "median_s", "min_s", "mean_s", "stddev_s",
    "ci_lo_s", "ci_hi_s", "flops", "bytes", "gflops", "gbytes_per_s", "intensity_flop_per_byte",
    "ceiling_pct", "items_per_call", "joules_per_call", "impl", "check", "flags", "clock_mhz", "mem_clock_mhz",
    "power_w", "power_limit_w", "temp_c", "throttle", "wall_s", "rank", "ranks", "host", "busbw_gbps"};
/* New columns go last: readers that index the first columns by position keep working. */
static const char *const sample_columns[] = {"backend", "workload", "case", "dtype", "threads", "sample", "seconds", "rank", "ranks"};
#define SAMPLE_NCOLS 9
#define SAMPLE_NCOLS_V1 7

int mkdir_p(const char *dir)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') { *p = 0; if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1; *p = '/'; }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
    return 0;
}

void csv_write_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) { fputs(s, f); return; }
    fputc('"', f);
    for (; *s; s++) { if (*s == '"') fputc('"', f); fputc(*s, f); }
    fputc('"', f);
}

static void put_num(FILE *f, double v, const char *fmt)
{
    if (isnan(v)) return;           /* empty field: not applicable / not measured */
    fprintf(f, fmt, v);
}

static FILE *open_csv(const char *dir, const char *name, const char *const *cols, int ncols, char *why, size_t n)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) { snprintf(why, n, "cannot write %s: %s", path, strerror(errno)); return NULL; }
    for (int i = 0; i < ncols; i++) fprintf(f, "%s%s", i ? "," : "", cols[i]);
    fputc('\n', f);
    fflush(f);
    return f;
}

int results_open(struct results_out *o, const char *dir, char *why, size_t n)
{
    o->csv = o->samples = NULL;
    if (mkdir_p(dir) != 0) { snprintf(why, n, "cannot create output folder %s: %s", dir, strerror(errno)); return -1; }
    o->csv = open_csv(dir, "results.csv", results_columns, RESULTS_NCOLS, why, n);
    if (o->csv) o->samples = open_csv(dir, "samples.csv", sample_columns, SAMPLE_NCOLS, why, n);
    if (!o->samples) { results_close(o); return -1; }
    return 0;
}

static int flush_sync(FILE *f) { return fflush(f) == 0 && fsync(fileno(f)) == 0 ? 0 : -1; }

static void write_row(FILE *f, const struct row *r)
{
    const char *str[] = {r->backend, r->device, r->workload, r->family, r->case_name, r->shape, r->dtype};
    for (int i = 0; i < 7; i++) { csv_write_field(f, str[i]); fputc(',', f); }
    fprintf(f, "%d,", r->threads);
    csv_write_field(f, r->status);
    const double num[] = {r->verify_err, r->tolerance};
    for (int i = 0; i < 2; i++) { fputc(',', f); put_num(f, num[i], "%.3e"); }
    fprintf(f, ",%d,%d", r->samples, r->reps);
    const double t[] = {r->median_s, r->min_s, r->mean_s, r->stddev_s, r->ci_lo_s, r->ci_hi_s};
    for (int i = 0; i < 6; i++) { fputc(',', f); put_num(f, t[i], "%.6e"); }
    const double rest[] = {r->flops, r->bytes, r->gflops, r->gbytes_per_s, r->intensity, r->ceiling_pct,
                           r->items_per_call, r->joules_per_call};
    for (int i = 0; i < 8; i++) { fputc(',', f); put_num(f, rest[i], i < 2 || i == 6 ? "%.0f" : "%.4g"); }
    fputc(',', f); csv_write_field(f, r->impl);
    fputc(',', f); csv_write_field(f, r->check);
    fputc(',', f); csv_write_field(f, r->flags);
    const double st[] = {r->clock_mhz, r->mem_clock_mhz, r->power_w, r->power_limit_w, r->temp_c};
    for (int i = 0; i < 5; i++) { fputc(',', f); put_num(f, st[i], "%.4g"); }
    fputc(',', f); csv_write_field(f, r->throttle);
    fputc(',', f); put_num(f, r->wall_s, "%.3f");
    char rank[16] = "";
    if (r->rank >= 0) snprintf(rank, sizeof rank, "%d", r->rank);   /* empty: the group's row */
    fprintf(f, ",%s,%d,", rank, r->ranks);
    csv_write_field(f, r->host);
    fputc(',', f);
    put_num(f, r->busbw_gbps, "%.4g");
    fputc('\n', f);
}

int results_append(struct results_out *o, const struct row *r, const double *s, int ns)
{
    write_row(o->csv, r);
    char rank[16] = "";
    if (r->rank >= 0) snprintf(rank, sizeof rank, "%d", r->rank);   /* empty: the group's row */
    for (int i = 0; i < ns; i++) {
        const char *k[] = {r->backend, r->workload, r->case_name, r->dtype};
        for (int j = 0; j < 4; j++) { csv_write_field(o->samples, k[j]); fputc(',', o->samples); }
        fprintf(o->samples, "%d,%d,%.6e,%s,%d\n", r->threads, i, s[i], rank, r->ranks);
    }
    return flush_sync(o->csv) == 0 && flush_sync(o->samples) == 0 ? 0 : -1;
}

int results_rewrite(const char *dir, const struct row *rows, int n)
{
    char path[4200];
    struct atomic_file af;
    snprintf(path, sizeof path, "%s/results.csv", dir);
    if (!atomic_open(&af, path)) return -1;
    for (int i = 0; i < RESULTS_NCOLS; i++) fprintf(af.f, "%s%s", i ? "," : "", results_columns[i]);
    fputc('\n', af.f);
    for (int i = 0; i < n; i++) write_row(af.f, &rows[i]);
    return atomic_commit(&af);
}

void results_close(struct results_out *o)
{
    if (o->csv) fclose(o->csv);
    if (o->samples) fclose(o->samples);
    o->csv = o->samples = NULL;
}

int csv_read_record(FILE *f, char **buf, size_t *cap, char ***fields, int *fcap, int *line, int *terminated)
{
    size_t len = 0;
    int nf = 0, c, quoted = 0, at_start = 1, any = 0;
    *terminated = 0;
    size_t *starts = NULL;
    int scap = 0;
    for (;;) {
        c = fgetc(f);
        if (c == EOF) { /* an open quote here is a record cut short: *terminated stays 0 */
            if (!any) { free(starts); return 0; }
            break;
        }
        any = 1;
        if (len + 2 >= *cap) { *cap = *cap ? *cap * 2 : 256; *buf = realloc(*buf, *cap); }
        if (at_start) {
            if (nf == scap) starts = realloc(starts, sizeof *starts * (scap = scap ? scap * 2 : 32));
            starts[nf++] = len;
            at_start = 0;
            if (c == '"') { quoted = 1; continue; }
        }
        if (quoted) {
            if (c == '"') {
                int d = fgetc(f);
                if (d == '"') { (*buf)[len++] = '"'; continue; }
                quoted = 0;
                if (d == EOF) break;
                c = d;
            } else {
                if (c == '\n') (*line)++;
                (*buf)[len++] = (char)c;
                continue;
            }
        }
        if (c == '\r') continue;
        if (c == '\n') { (*line)++; *terminated = 1; break; }
        if (c == ',') { (*buf)[len++] = 0; at_start = 1; continue; }
        (*buf)[len++] = (char)c;
    }
    if (at_start) { /* trailing comma: one more empty field */
        if (nf == scap) starts = realloc(starts, sizeof *starts * (scap = scap + 1));
        starts[nf++] = len;
    }
    if (len + 1 >= *cap) { *cap = len + 2; *buf = realloc(*buf, *cap); }
    (*buf)[len] = 0;
    if (nf > *fcap) { *fcap = nf; *fields = realloc(*fields, sizeof(char *) * nf); }
    for (int i = 0; i < nf; i++) (*fields)[i] = *buf + starts[i];
    free(starts);
    return nf;
}

static int parse_num(const char *s, double *out)
{
    char *end;
    if (!*s) { *out = NAN; return 0; }
    errno = 0;
    *out = strtod(s, &end);
    return *end || errno == ERANGE ? -1 : 0;
}

static int parse_int_field(const char *s, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < 0 || v > 1000000000) return -1;
    *out = (int)v;
    return 0;
}

#define COPY(dst, src) snprintf(dst, sizeof dst, "%s", src)

/* rank: empty for a group's row (-1); ranks: at least 1 */
static int parse_rank(const char *rank, const char *ranks, struct row *r)
{
    if (!*rank) r->rank = -1;
    else if (parse_int_field(rank, &r->rank)) return -1;
    return parse_int_field(ranks, &r->ranks) || r->ranks < 1 || r->rank >= r->ranks ? -1 : 0;
}

static int row_from_fields(struct row *r, char **fl, int ncols)
{
    row_init(r);
    COPY(r->backend, fl[0]); COPY(r->device, fl[1]); COPY(r->workload, fl[2]); COPY(r->family, fl[3]);
    COPY(r->case_name, fl[4]); COPY(r->shape, fl[5]); COPY(r->dtype, fl[6]);
    if (parse_int_field(fl[7], &r->threads) || !*fl[0] || !*fl[2] || !*fl[4]) return -1;
    COPY(r->status, fl[8]);
    double *num[] = {&r->verify_err, &r->tolerance};
    for (int i = 0; i < 2; i++) if (parse_num(fl[9 + i], num[i])) return -1;
    if (parse_int_field(fl[11], &r->samples) || parse_int_field(fl[12], &r->reps)) return -1;
    double *rest[] = {&r->median_s, &r->min_s, &r->mean_s, &r->stddev_s, &r->ci_lo_s, &r->ci_hi_s,
                      &r->flops, &r->bytes, &r->gflops, &r->gbytes_per_s, &r->intensity, &r->ceiling_pct,
                      &r->items_per_call, &r->joules_per_call};
    for (int i = 0; i < 14; i++) if (parse_num(fl[13 + i], rest[i])) return -1;
    if (ncols <= RESULTS_NCOLS_V1) return 0;   /* the first version's columns */
    COPY(r->impl, fl[27]);
    if (ncols <= RESULTS_NCOLS_V2) return 0;   /* impl, before check, flags and the device state */
    COPY(r->check, fl[28]); COPY(r->flags, fl[29]);
    double *st[] = {&r->clock_mhz, &r->mem_clock_mhz, &r->power_w, &r->power_limit_w, &r->temp_c};
    for (int i = 0; i < 5; i++) if (parse_num(fl[30 + i], st[i])) return -1;
    COPY(r->throttle, fl[35]);
    if (parse_num(fl[36], &r->wall_s)) return -1;
    if (ncols <= RESULTS_NCOLS_V3) return 0;   /* a one-process run from before the rank columns */
    if (parse_rank(fl[37], fl[38], r)) return -1;
    COPY(r->host, fl[39]);
    return parse_num(fl[40], &r->busbw_gbps);
}

int results_load(const char *path, struct row **rows, char *why, size_t n)
{
    FILE *f = fopen(path, "r");
    if (!f) { snprintf(why, n, "%s: %s", path, strerror(errno)); *rows = NULL; return -1; }
    int ret = results_read(f, path, rows, why, n);
    fclose(f);
    return ret;
}

int results_read(FILE *f, const char *path, struct row **rows, char *why, size_t n)
{
    char *buf = NULL, **fl = NULL;
    size_t cap = 0;
    int fcap = 0, line = 0, nrows = 0, rcap = 0, nf, ret = -1, term;
    *rows = NULL;
    nf = csv_read_record(f, &buf, &cap, &fl, &fcap, &line, &term);
    /* this version's header, or an earlier version's (a prefix of it) */
    int ncols = nf, hdr_ok = nf == RESULTS_NCOLS || nf == RESULTS_NCOLS_V1 || nf == RESULTS_NCOLS_V2 || nf == RESULTS_NCOLS_V3;
    for (int i = 0; hdr_ok && i < nf; i++) hdr_ok = strcmp(fl[i], results_columns[i]) == 0;
    if (!hdr_ok) { snprintf(why, n, "%s:1: not a dlbench results.csv of this version (header differs)", path); goto out; }
    for (;;) {
        int at = line + 1;
        nf = csv_read_record(f, &buf, &cap, &fl, &fcap, &line, &term);
        if (nf == 0) break;
        if (nf == 1 && !*fl[0]) continue; /* blank line */
        if (!term && feof(f)) break;       /* a row cut short by a crash: every complete row counts */
        if (nf != ncols) {
            snprintf(why, n, "%s:%d: wrong number of fields (%d, expected %d)", path, at, nf, ncols);
            goto out;
        }
        if (nrows == rcap) *rows = realloc(*rows, sizeof **rows * (rcap = rcap ? rcap * 2 : 64));
        if (row_from_fields(&(*rows)[nrows], fl, ncols) != 0) { snprintf(why, n, "%s:%d: malformed field", path, at); goto out; }
        nrows++;
    }
    ret = nrows;
out:
    if (ret < 0) { free(*rows); *rows = NULL; }
    free(buf); free(fl);
    return ret;
}

void samples_free(struct sample_set *s, int n)
{
    for (int i = 0; i < n; i++) free(s[i].v);
    free(s);
}

int samples_load(const char *path, struct sample_set **sets, char *why, size_t n)
{
    FILE *f = fopen(path, "r");
    if (!f) { snprintf(why, n, "%s: %s", path, strerror(errno)); *sets = NULL; return -1; }
    int ret = samples_read(f, path, sets, why, n);
    fclose(f);
    return ret;
}

int samples_read(FILE *f, const char *path, struct sample_set **sets, char *why, size_t n)
{
    char *buf = NULL, **fl = NULL, key[192];
    size_t cap = 0;
    int fcap = 0, line = 0, nsets = 0, scap = 0, nf, ret = -1, vcap = 0, term;
    struct row id;
    *sets = NULL;
    nf = csv_read_record(f, &buf, &cap, &fl, &fcap, &line, &term);
    int ncols = nf, hdr_ok = nf == SAMPLE_NCOLS || nf == SAMPLE_NCOLS_V1;
    for (int i = 0; hdr_ok && i < nf; i++) hdr_ok = strcmp(fl[i], sample_columns[i]) == 0;
    if (!hdr_ok) { snprintf(why, n, "%s:1: not a dlbench samples.csv of this version", path); goto out; }
    for (;;) {
        int at = line + 1;
        double v;
        nf = csv_read_record(f, &buf, &cap, &fl, &fcap, &line, &term);
        if (nf == 0) break;
        if (nf == 1 && !*fl[0]) continue;
        if (!term && feof(f)) break;       /* cut short by a crash */
        row_init(&id);
        if (nf != ncols || parse_int_field(fl[4], &id.threads) || parse_num(fl[6], &v) || !(v > 0) ||
            (nf == SAMPLE_NCOLS && parse_rank(fl[7], fl[8], &id))) {
            snprintf(why, n, "%s:%d: malformed sample line", path, at); goto out;
        }
        COPY(id.backend, fl[0]); COPY(id.workload, fl[1]); COPY(id.case_name, fl[2]); COPY(id.dtype, fl[3]);
        row_key(&id, key, sizeof key);
        /* Samples of one row are contiguous: a new key starts a new set. */
        if (nsets == 0 || strcmp((*sets)[nsets - 1].key, key) != 0) {
            if (nsets == scap) *sets = realloc(*sets, sizeof **sets * (scap = scap ? scap * 2 : 64));
            struct sample_set *s = &(*sets)[nsets++];
            snprintf(s->key, sizeof s->key, "%s", key);
            s->v = NULL; s->n = 0; vcap = 0;
        }
        struct sample_set *s = &(*sets)[nsets - 1];
        if (s->n == vcap) s->v = realloc(s->v, sizeof(double) * (vcap = vcap ? vcap * 2 : 64));
        s->v[s->n++] = v;
    }
    ret = nsets;
out:
    if (ret < 0) { samples_free(*sets, nsets); *sets = NULL; }
    free(buf); free(fl);
    return ret;
}
