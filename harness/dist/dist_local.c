/* dist_local.c: dist.h without MPI (built without it): always one process, rank 0 of 1. A launcher
 * that starts several copies gets several independent runs, and each says so. */
#include "dist_impl.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bcast_one(const struct coll_group *g, void *buf, size_t bytes) { (void)g; (void)buf; (void)bytes; return 0; }
static const struct coll_group one = {0, 1, NULL, bcast_one};

int dist_init(void)
{
    int size, rank, lr, ls;
    const char *launcher;
    dist_fill_local();
    dist_env(&size, &rank, &lr, &ls, &launcher);
    if (size > 1 && rank == 0)
        fprintf(stderr, "dlbench: started as %d ranks by %s, but built without MPI: each rank runs alone\n", size, launcher);
    return 0;
}

int dist_finish(int rc) { dist_comms_close(); return rc; }
void dist_abort(int rc) { exit(rc); }
int dist_share(int v) { return v; }

void dist_describe(struct sysinfo *si)
{
    sysinfo_put(si, "dist", "ranks", "1");
    sysinfo_put(si, "dist", "transport", "none (built without MPI)");
    sysinfo_put(si, "dist", "rank.0", dist_me.host);
}

const struct coll_group *dist_group(int k) { return k == 1 ? &one : NULL; }

int dist_max(const struct coll_group *g, double *v, int n, double deadline) { (void)g; (void)v; (void)n; (void)deadline; return 0; }

int dist_agree(const struct coll_group *g, int ok, char *status, size_t n, double deadline)
{
    (void)g; (void)status; (void)n; (void)deadline;
    return ok ? 1 : 0;
}

int dist_collect(int item, const struct row *mine, int have, const double *samples, int ns, double wait_s,
                 struct dist_row **got, int *ngot)
{
    (void)item; (void)wait_s;
    *ngot = 0;
    *got = calloc(1, sizeof **got);
    if (!have) return 0;
    (*got)[0].r = *mine;
    if (ns > 0) {
        (*got)[0].samples = malloc(sizeof(double) * ns);
        memcpy((*got)[0].samples, samples, sizeof(double) * ns);
        (*got)[0].n = ns;
    }
    *ngot = 1;
    return 0;
}
