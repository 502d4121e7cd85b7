/* prices.c: reading, checking and matching the price table; what a row costs per hour and per
 * epoch (cost per epoch = epoch hours × the row's USD/hour). */
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

/* A whole positive number in range, or -1. */
static long count_of(const char *s, long max)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    return *s && !*end && !errno && v >= 0 && v <= max ? v : -1;
}

/* One data line into e; NULL, or the reason it is refused. */
static const char *parse_entry(char **fl, struct price *e)
{
    char *end;
    if (!*fl[0] || strlen(fl[0]) >= sizeof e->pattern) return "empty or overlong pattern";
    if (strcmp(fl[1], "cpu") && strcmp(fl[1], "gpu")) return "kind must be cpu or gpu";
    if (strlen(fl[2]) >= sizeof e->instance) return "overlong instance name";
    if (!*fl[6]) return "a price needs its source";
    if (!*fl[7] || strlen(fl[7]) >= sizeof e->date) return "a price needs its date (YYYY-MM)";
    snprintf(e->pattern, sizeof e->pattern, "%s", fl[0]);
    e->gpu = !strcmp(fl[1], "gpu");
    snprintf(e->instance, sizeof e->instance, "%s", fl[2]);
    snprintf(e->source, sizeof e->source, "%s", fl[6]);
    snprintf(e->date, sizeof e->date, "%s", fl[7]);
    if (!strcmp(fl[3], "n/a")) { /* a device with no list price: the source says why */
        e->usd_per_hour = NAN;
        e->vcpus = e->gpus = 0;
        return NULL;
    }
    errno = 0;
    e->usd_per_hour = strtod(fl[3], &end);
    if (!*fl[3] || *end || errno || !(e->usd_per_hour > 0) || e->usd_per_hour > 1e6) return "price is not a positive number (or n/a)";
    if (!*fl[2]) return "a price needs its instance";
    long v = count_of(fl[4], 100000), g = count_of(fl[5], 1024);
    if (v < 1) return "a price needs the instance's vCPU count (a whole number > 0)";
    if (g < 0 || (e->gpu && g < 1) || (!e->gpu && g != 0)) return "gpus must be the instance's GPU count (cpu entries: 0)";
    e->vcpus = (int)v;
    e->gpus = (int)g;
    return NULL;
}

int prices_read(FILE *f, const char *name, struct price **p, char *why, size_t n)
{
    char *buf = NULL, **fl = NULL;
    size_t cap = 0;
    int fcap = 0, line = 0, term, nf, count = 0, pcap = 0, ret = -1;
    *p = NULL;
    nf = csv_read_record(f, &buf, &cap, &fl, &fcap, &line, &term);
    int hdr = nf == 8;
    static const char *const cols[] = {"pattern", "kind", "instance", "usd_per_hour", "vcpus", "gpus", "source", "date"};
    for (int i = 0; hdr && i < 8; i++) hdr = !strcmp(fl[i], cols[i]);
    if (!hdr) { snprintf(why, n, "%s:1: header must be " PRICES_HEADER, name); goto out; }
    for (;;) {
        int at = line + 1;
        nf = csv_read_record(f, &buf, &cap, &fl, &fcap, &line, &term);
        if (nf == 0) break;
        if (nf == 1 && !*fl[0]) continue;
        if (nf != 8) { snprintf(why, n, "%s:%d: %d fields, expected 8 (" PRICES_HEADER ")", name, at, nf); goto out; }
        struct price e;
        const char *bad = parse_entry(fl, &e);
        if (bad) { snprintf(why, n, "%s:%d: %s", name, at, bad); goto out; }
        if (count == pcap) *p = realloc(*p, sizeof **p * (pcap = pcap ? pcap * 2 : 16));
        (*p)[count++] = e;
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

const struct price *price_match(const struct price *p, int n, int gpu, const char *key)
{
    for (int i = 0; i < n; i++)
        if (p[i].gpu == gpu && fnmatch(p[i].pattern, key, FNM_CASEFOLD) == 0) return &p[i];
    return NULL;
}

void price_cpu_key(const char *model, char *buf, size_t n)
{
    char line[256], fam[32] = "", mod[32] = "", impl[32] = "", part[32] = "";
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f) && !(*fam && *mod) && !(*impl && *part)) {
        char *v = strchr(line, ':');
        if (!v) continue;
        v += 1 + strspn(v + 1, " \t");
        v[strcspn(v, "\n")] = 0;
        if (!strncmp(line, "cpu family", 10)) snprintf(fam, sizeof fam, "%s", v);
        else if (!strncmp(line, "model\t", 6) || !strncmp(line, "model ", 6)) snprintf(mod, sizeof mod, "%s", v);
        else if (!strncmp(line, "CPU implementer", 15)) snprintf(impl, sizeof impl, "%s", v);
        else if (!strncmp(line, "CPU part", 8)) snprintf(part, sizeof part, "%s", v);
    }
    if (f) fclose(f);
    if (*fam && *mod) snprintf(buf, n, "%s [family %s model %s]", model, fam, mod);
    else if (*impl && *part) snprintf(buf, n, "%s [implementer %s part %s]", model, impl, part);
    else snprintf(buf, n, "%s", model);
}

double price_unit_usd(const struct price *p)
{
    if (isnan(p->usd_per_hour)) return NAN;
    return p->usd_per_hour / (p->gpu ? p->gpus : p->vcpus);
}

static double num(const struct sysinfo *si, const char *sec, const char *key)
{
    const char *v = sysinfo_get(si, sec, key);
    return v ? atof(v) : NAN;
}

double row_pus(const struct sysinfo *si, const struct row *r)
{
    double pus = num(si, "cpu", "pus"), cores = num(si, "cpu", "cores");
    double per_core = pus > 0 && cores > 0 ? pus / cores : 1, used = r->threads * per_core;
    return pus > 0 && used > pus ? pus : used;
}

double row_usd_per_hour(const struct sysinfo *si, const struct row *r, char *why, size_t n)
{
    char sec[48];
    snprintf(sec, sizeof sec, "price.%s", r->backend);
    const char *st = sysinfo_get(si, sec, "status");
    double per_vcpu = num(si, sec, "usd_per_vcpu_hour"), per_gpu = num(si, sec, "usd_per_gpu_hour");
    double whole = num(si, sec, "usd_per_hour"); /* a run folder from before per-vCPU prices */
    if (!isnan(per_gpu)) return per_gpu;
    if (!isnan(per_vcpu) && r->threads > 0) return per_vcpu * row_pus(si, r);
    if (!isnan(whole)) return whole;
    snprintf(why, n, "%s", st ? st : "n/a: no price recorded");
    return NAN;
}

double epoch_cost_usd(double step_s, int batch, int dataset_size, double usd_per_hour)
{
    double steps = (double)dataset_size / batch; /* as the issue defines it: dataset / batch × step */
    return steps * step_s / 3600.0 * usd_per_hour;
}
