/* prices.c: reading and matching the price table; cost per epoch = epoch hours × USD/hour. */
#include "prices.h"
#include "results.h"
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef DLBENCH_PRICES
#define DLBENCH_PRICES "bench/prices.csv"   /* the source tree's table (the Makefile gives its path) */
#endif

const char *prices_find(char *buf, size_t n)
{
    char exe[4096], share[4200];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    share[0] = 0;
    if (len > 0) { /* <prefix>/bin/dlbench -> <prefix>/share/dlbench/prices.csv */
        exe[len] = 0;
        for (int up = 0; up < 2; up++) { char *slash = strrchr(exe, '/'); if (slash) *slash = 0; }
        snprintf(share, sizeof share, "%s/share/dlbench/prices.csv", exe);
    }
    const char *candidates[] = {getenv("DLBENCH_PRICES"), share, DLBENCH_PRICES, "bench/prices.csv"};
    for (int i = 0; i < 4; i++)
        if (candidates[i] && *candidates[i] && access(candidates[i], R_OK) == 0) {
            snprintf(buf, n, "%s", candidates[i]);
            return buf;
        }
    return NULL;
}

int prices_read(FILE *f, const char *name, struct price **p, char *why, size_t n)
{
    char *buf = NULL, **fl = NULL, *end;
    size_t cap = 0;
    int fcap = 0, line = 0, term, nf, count = 0, pcap = 0, ret = -1;
    *p = NULL;
    nf = csv_read_record(f, &buf, &cap, &fl, &fcap, &line, &term);
    if (nf != 5 || strcmp(fl[0], "pattern") || strcmp(fl[1], "usd_per_hour") || strcmp(fl[2], "covers")) {
        snprintf(why, n, "%s:1: header must be pattern,usd_per_hour,covers,source,date", name);
        goto out;
    }
    for (;;) {
        int at = line + 1;
        nf = csv_read_record(f, &buf, &cap, &fl, &fcap, &line, &term);
        if (nf == 0) break;
        if (nf == 1 && !*fl[0]) continue;
        if (nf != 5) { snprintf(why, n, "%s:%d: %d fields, expected 5 (pattern,usd_per_hour,covers,source,date)", name, at, nf); goto out; }
        errno = 0;
        double usd = strtod(fl[1], &end);
        if (!*fl[1] || *end || errno || !(usd > 0) || usd > 1e6) { snprintf(why, n, "%s:%d: price '%s' is not a positive number", name, at, fl[1]); goto out; }
        if (!*fl[0] || strlen(fl[0]) >= sizeof((*p)->pattern)) { snprintf(why, n, "%s:%d: empty or overlong pattern", name, at); goto out; }
        if (strcmp(fl[2], "per GPU") && strcmp(fl[2], "whole instance")) {
            snprintf(why, n, "%s:%d: covers '%s' must be 'per GPU' or 'whole instance'", name, at, fl[2]);
            goto out;
        }
        if (!*fl[3]) { snprintf(why, n, "%s:%d: a price needs its source", name, at); goto out; }
        if (count == pcap) *p = realloc(*p, sizeof **p * (pcap = pcap ? pcap * 2 : 16));
        struct price *e = &(*p)[count++];
        snprintf(e->pattern, sizeof e->pattern, "%s", fl[0]);
        e->usd_per_hour = usd;
        snprintf(e->covers, sizeof e->covers, "%s", fl[2]);
        snprintf(e->source, sizeof e->source, "%s", fl[3]);
        snprintf(e->date, sizeof e->date, "%.15s", fl[4]);
    }
    ret = count;
out:
    if (ret < 0) { free(*p); *p = NULL; }
    free(buf);
    free(fl);
    return ret;
}

int prices_load(const char *path, struct price **p, char *why, size_t n)
{
    FILE *f = fopen(path, "r");
    if (!f) { snprintf(why, n, "%s: %s", path, strerror(errno)); *p = NULL; return -1; }
    int ret = prices_read(f, path, p, why, n);
    fclose(f);
    return ret;
}

const struct price *price_match(const struct price *p, int n, const char *device)
{
    for (int i = 0; i < n; i++)
        if (fnmatch(p[i].pattern, device, FNM_CASEFOLD) == 0) return &p[i];
    return NULL;
}

double epoch_cost_usd(double step_s, int batch, int dataset_size, double usd_per_hour)
{
    double steps = (double)dataset_size / batch; /* as the issue defines it: dataset / batch × step */
    return steps * step_s / 3600.0 * usd_per_hour;
}
