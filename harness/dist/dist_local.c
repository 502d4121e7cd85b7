/* dist_local.c: group.h without MPI (built without it): always one process, rank 0 of 1. A launcher
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
const char *dist_host_of(int rank) { return rank == 0 ? dist_me.host : NULL; }
const struct coll_group *dist_group(int k) { return k == 1 ? &one : NULL; }
int dist_barrier(const struct coll_group *g, double deadline) { (void)g; (void)deadline; return 0; }
int dist_max(const struct coll_group *g, double *v, int n, double deadline) { (void)g; (void)v; (void)n; (void)deadline; return 0; }

int dist_agree(const struct coll_group *g, int ok, char *status, size_t n, double deadline)
{
    (void)g; (void)status; (void)n; (void)deadline;
    return ok ? 1 : 0;
}

int dist_gather_bytes(int item, const void *msg, int len, double wait_s, void **msgs, int *lens)
{
    (void)item; (void)wait_s;
    msgs[0] = malloc(len > 0 ? len : 1);
    memcpy(msgs[0], msg, len);
    lens[0] = len;
    return 0;
}

void dist_gather_records(const void *mine, size_t bytes, void *all) { memcpy(all, mine, bytes); }
