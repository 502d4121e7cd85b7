/* dist_common.c: the parts of dist.h both transports share: who this process is, the group sizes a
 * workload runs at, the cache of backend communicators, and the fault-injection hook the MPI tests
 * use to make a rank fail, hang or die on purpose. */
#include "dist_impl.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct dist_info dist_me = {.rank = 0, .size = 1, .local_rank = 0, .local_size = 1, .launcher = "none"};

const struct dist_info *dist_self(void) { return &dist_me; }
int dist_rank(void) { return dist_me.rank; }
int dist_size(void) { return dist_me.size; }

double dist_clock(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static const struct coll_group *current;
const struct coll_group *dist_current_group(void) { return current; }
void dist_set_current_group(const struct coll_group *g) { current = g; }

void dist_fill_local(void)
{
    int size, rank, lr, ls;
    const char *launcher, *b = getenv("DLBENCH_BINDING");
    dist_env(&size, &rank, &lr, &ls, &launcher);
    if (gethostname(dist_me.host, sizeof dist_me.host) != 0) snprintf(dist_me.host, sizeof dist_me.host, "unknown");
    dist_me.host[sizeof dist_me.host - 1] = 0;
    snprintf(dist_me.launcher, sizeof dist_me.launcher, "%s", launcher);
    snprintf(dist_me.binding, sizeof dist_me.binding, "%s", b ? b : "none: not bound");
}

int dist_group_sizes(enum group_mode m, int *ks, int max)
{
    int n = 0, world = dist_me.size;
    if (m == GROUP_NONE || max < 1) return 0;
    if (m == GROUP_ALL) { ks[0] = world; return 1; }
    for (int k = 1; k < world && n < max - 1; k *= 2) ks[n++] = k;
    ks[n++] = world;
    return n;
}

/* Backend communicators, one per backend and group, opened on first use. */
struct comm_slot { const struct backend *b; const struct coll_group *g; void *comm; };
static struct comm_slot comms[64];
static int ncomms;

void *dist_comm(const struct backend *b, const struct coll_group *g)
{
    for (int i = 0; i < ncomms; i++)
        if (comms[i].b == b && comms[i].g == g) return comms[i].comm;
    if (ncomms == 64 || !b->coll || !b->coll->open) return NULL;
    void *c = b->coll->open(g);
    if (c) comms[ncomms++] = (struct comm_slot){b, g, c};
    return c;
}

void dist_comms_close(void)
{
    for (int i = ncomms - 1; i >= 0; i--) comms[i].b->coll->close(comms[i].comm);
    ncomms = 0;
}

/* DLBENCH_TEST_FAULT=<what>:<rank>[:<case substring>] */
int dist_fault(const char *what, const char *case_name)
{
    const char *f = getenv("DLBENCH_TEST_FAULT");
    size_t wl = strlen(what);
    if (!f || strncmp(f, what, wl) || f[wl] != ':') return 0;
    char *end;
    long rank = strtol(f + wl + 1, &end, 10);
    if (end == f + wl + 1 || rank != dist_me.rank) return 0;
    return *end != ':' || !case_name || strstr(case_name, end + 1) != NULL;
}

int dist_fault_before(const char *case_name)
{
    if (dist_fault("hang", case_name)) {
        fprintf(stderr, "dlbench: rank %d hangs on purpose (DLBENCH_TEST_FAULT)\n", dist_me.rank);
        for (;;) sleep(60);
    }
    if (dist_fault("exit", case_name)) {
        fprintf(stderr, "dlbench: rank %d dies on purpose (DLBENCH_TEST_FAULT)\n", dist_me.rank);
        _exit(3);
    }
    return dist_fault("fail", case_name);
}

void dist_await_abort(void)
{
    for (int s = 0; s < 300; s++) sleep(1);
    fprintf(stderr, "dlbench: rank %d: rank 0 did not end the run; giving up\n", dist_me.rank);
    dist_abort(1);
}
