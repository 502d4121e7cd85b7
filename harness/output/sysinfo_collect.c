/* sysinfo_collect.c: gathers the machine description: host and build facts, then each backend's
 * own info() (CPU topology and OpenBLAS, GPUs and driver); the measured ceilings as system.json
 * records them. */
#include "sysinfo.h"
#include "backend.h"
#include "ceilings.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#ifndef DLBENCH_CFLAGS
#define DLBENCH_CFLAGS "unknown"
#endif

static void put_cb(void *u, const char *section, const char *key, const char *value)
{
    sysinfo_put(u, section, key, value);
}

void sysinfo_collect(struct sysinfo *si)
{
    char v[256];
    struct utsname u;
    time_t now = time(NULL);
    si->items = NULL; si->n = si->cap = 0;
    snprintf(v, sizeof v, "%d", DLBENCH_FORMAT);
    sysinfo_put(si, "dlbench", "format", v);
    sysinfo_put(si, "dlbench", "version", DLBENCH_VERSION);
    sysinfo_put(si, "dlbench", "git_revision", DLBENCH_GIT_REV);
    strftime(v, sizeof v, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    sysinfo_put(si, "dlbench", "date_utc", v);
    if (gethostname(v, sizeof v) != 0) snprintf(v, sizeof v, "unknown");
    sysinfo_put(si, "host", "hostname", v);
    if (uname(&u) == 0) {
        snprintf(v, sizeof v, "%s %s %s", u.sysname, u.release, u.machine);
        sysinfo_put(si, "host", "kernel", v);
    }
    snprintf(v, sizeof v, "gcc %d.%d.%d", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
    sysinfo_put(si, "build", "compiler", v);
    sysinfo_put(si, "build", "cflags", DLBENCH_CFLAGS);
    for (int i = 0; i < backend_count; i++) {
        char why[256];
        if (backends[i]->info) backends[i]->info(put_cb, si);
        else if (!backends[i]->probe(why, sizeof why)) sysinfo_put(si, backends[i]->name, "status", why);
    }
}

void ceilings_put(const struct backend *b, const struct ceiling *c, struct sysinfo *si)
{
    char sec[32], v[128], key[48];
    snprintf(sec, sizeof sec, "ceiling.%s", b->name);
    if (!isnan(c->bw_gbps)) {
        snprintf(v, sizeof v, "%.1f", c->bw_gbps);
        sysinfo_put(si, sec, "bandwidth_gbps", v);
        sysinfo_put(si, sec, "bandwidth_how", c->bw_how);
    }
    for (int d = 0; d < DT_COUNT; d++) {
        if (isnan(c->gflops[d])) continue;
        snprintf(key, sizeof key, "%s_gflops", dtype_name((enum dtype)d));
        snprintf(v, sizeof v, "%.1f", c->gflops[d]);
        sysinfo_put(si, sec, key, v);
        snprintf(key, sizeof key, "%s_how", dtype_name((enum dtype)d));
        sysinfo_put(si, sec, key, c->fl_how[d]);
    }
}

int ceilings_get(const struct sysinfo *si, const char *backend, struct ceiling *c)
{
    char sec[32], key[48];
    const char *v;
    int found = 0;
    ceiling_clear(c);
    snprintf(sec, sizeof sec, "ceiling.%s", backend);
    if ((v = sysinfo_get(si, sec, "bandwidth_gbps"))) { c->bw_gbps = atof(v); found = 1; }
    for (int d = 0; d < DT_COUNT; d++) {
        snprintf(key, sizeof key, "%s_gflops", dtype_name((enum dtype)d));
        if ((v = sysinfo_get(si, sec, key))) { c->gflops[d] = atof(v); found = 1; }
    }
    return found ? 0 : -1;
}
