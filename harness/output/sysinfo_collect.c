/* sysinfo_collect.c: gathers the machine description: host and build facts, then each backend's
 * own info() (CPU topology and OpenBLAS, GPUs and driver). */
#include "sysinfo.h"
#include "backend.h"
#include <stdio.h>
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

