/* dist_mpi.c: group.h over MPI: MPI_Init when a launcher started 2+ ranks, the node-local rank from
 * MPI_COMM_TYPE_SHARED, groups of the first k ranks (MPI_Comm_create_group, collective over the
 * members only), agreements as nonblocking collectives polled against a deadline, and rank 0's
 * collection of every rank's message as point-to-point sends it probes for. Only the main thread
 * calls MPI (MPI_THREAD_FUNNELED); waits poll with short sleeps so idle ranks leave the cores to the
 * ranks still measuring. */
#include "dist_impl.h"
#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static MPI_Comm world = MPI_COMM_NULL;
static char (*hosts)[64];               /* rank 0: every rank's host */

static int bcast_group(const struct coll_group *g, void *buf, size_t bytes)
{
    if (g->size == 1) return 0;
    return MPI_Bcast(buf, (int)bytes, MPI_BYTE, 0, *(MPI_Comm *)g->mpi_comm) == MPI_SUCCESS ? 0 : -1;
}

int dist_init(void)
{
    int size, rank, lr, ls, provided;
    const char *launcher;
    dist_fill_local();
    dist_env(&size, &rank, &lr, &ls, &launcher);
    if (size <= 1) return 0;
    if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "dlbench: MPI_Init failed (started as rank %d of %d by %s)\n", rank, size, launcher);
        return -1;
    }
    MPI_Comm_dup(MPI_COMM_WORLD, &world);
    MPI_Comm_set_errhandler(world, MPI_ERRORS_RETURN);
    MPI_Comm_rank(world, &dist_me.rank);
    MPI_Comm_size(world, &dist_me.size);
    MPI_Comm node;
    MPI_Comm_split_type(world, MPI_COMM_TYPE_SHARED, dist_me.rank, MPI_INFO_NULL, &node);
    MPI_Comm_rank(node, &dist_me.local_rank);
    MPI_Comm_size(node, &dist_me.local_size);
    MPI_Comm_free(&node);
    dist_me.mpi = dist_me.size > 1;
    if (dist_me.rank == 0) hosts = calloc(dist_me.size, sizeof *hosts);
    MPI_Gather(dist_me.host, sizeof dist_me.host, MPI_CHAR, hosts, sizeof *hosts, MPI_CHAR, 0, world);
    return 0;
}

const char *dist_host_of(int rank)
{
    if (!dist_me.mpi) return rank == 0 ? dist_me.host : NULL;
    return hosts && rank >= 0 && rank < dist_me.size ? hosts[rank] : NULL;
}

/* 0 when the request completed, -1 when the deadline passed first. Spins `spin` seconds, then polls
 * every 0.2 ms (a blocking MPI wait would spin on a core another rank is measuring on). */
static int wait_spin(MPI_Request *req, double deadline, double spin)
{
    double spin_end = dist_clock() + spin;
    for (;;) {
        int done = 0;
        if (MPI_Test(req, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS) return -1;
        if (done) return 0;
        double now = dist_clock();
        if (now > deadline) return -1;
        if (now > spin_end) nanosleep(&(struct timespec){0, 200000}, NULL);
    }
}

static int wait_until(MPI_Request *req, double deadline) { return wait_spin(req, deadline, 2e-3); }

int dist_finish(int rc)
{
    if (!dist_me.mpi) { dist_comms_close(); return rc; }
    MPI_Request req;
    MPI_Ibcast(&rc, 1, MPI_INT, 0, world, &req);
    if (wait_until(&req, dist_clock() + 3600) != 0) dist_abort(rc ? rc : 1);
    dist_comms_close();
    MPI_Comm_free(&world);
    MPI_Finalize();
    free(hosts);
    return rc;
}

void dist_abort(int rc)
{
    fflush(stdout);
    fflush(stderr);
    if (dist_me.mpi) MPI_Abort(world, rc);
    exit(rc);
}

int dist_share(int v)
{
    if (dist_me.mpi) MPI_Bcast(&v, 1, MPI_INT, 0, world);
    return v;
}

void dist_gather_records(const void *mine, size_t bytes, void *all)
{
    if (!dist_me.mpi) { memcpy(all, mine, bytes); return; }
    MPI_Gather(mine, (int)bytes, MPI_BYTE, all, (int)bytes, MPI_BYTE, 0, world);
}

/* Groups of the first k ranks, made once per k (collective over the members only). */
static struct gslot { int k, member; MPI_Comm comm; struct coll_group g; } slots[32];
static int nslots;

const struct coll_group *dist_group(int k)
{
    if (k < 1 || k > dist_me.size) return NULL;
    for (int i = 0; i < nslots; i++)
        if (slots[i].k == k) return slots[i].member ? &slots[i].g : NULL;
    if (nslots == 32) return NULL;
    struct gslot *s = &slots[nslots++];
    s->k = k;
    s->member = dist_me.rank < k;
    s->comm = MPI_COMM_NULL;
    if (!s->member) return NULL;
    s->g = (struct coll_group){dist_me.rank, k, &s->comm, bcast_group};
    if (!dist_me.mpi) return &s->g;       /* one process: no MPI at all */
    MPI_Group wg, sub;
    int range[1][3] = {{0, k - 1, 1}};
    MPI_Comm_group(world, &wg);
    MPI_Group_range_incl(wg, 1, range, &sub);
    MPI_Comm_create_group(world, sub, 1000 + k, &s->comm);
    MPI_Comm_set_errhandler(s->comm, MPI_ERRORS_RETURN);
    MPI_Group_free(&sub);
    MPI_Group_free(&wg);
    return &s->g;
}

static MPI_Comm comm_of(const struct coll_group *g) { return *(MPI_Comm *)g->mpi_comm; }

int dist_barrier(const struct coll_group *g, double deadline)
{
    MPI_Request req;
    if (g->size == 1) return 0;
    if (MPI_Ibarrier(comm_of(g), &req) != MPI_SUCCESS) return -1;
    return wait_spin(&req, deadline, 0.05);
}

int dist_max(const struct coll_group *g, double *v, int n, double deadline)
{
    MPI_Request req;
    if (g->size == 1) return 0;
    if (MPI_Iallreduce(MPI_IN_PLACE, v, n, MPI_DOUBLE, MPI_MAX, comm_of(g), &req) != MPI_SUCCESS) return -1;
    return wait_until(&req, deadline);
}

int dist_agree(const struct coll_group *g, int ok, char *status, size_t n, double deadline)
{
    MPI_Request req;
    int me = ok ? INT_MAX : g->rank, first = me;
    char buf[384] = "";
    if (g->size == 1) return ok ? 1 : 0;
    if (MPI_Iallreduce(&me, &first, 1, MPI_INT, MPI_MIN, comm_of(g), &req) != MPI_SUCCESS || wait_until(&req, deadline)) return -1;
    if (first == INT_MAX) return 1;
    if (g->rank == first) snprintf(buf, sizeof buf, "%s", status);
    if (MPI_Ibcast(buf, sizeof buf, MPI_CHAR, first, comm_of(g), &req) != MPI_SUCCESS || wait_until(&req, deadline)) return -1;
    buf[sizeof buf - 1] = 0;
    snprintf(status, n, "%.360s (rank %d)", buf, first);
    return 0;
}

/* Rank 0's collection: every message tagged with the item; the ranks that answered are released
 * with the count of those that did not (the lost ones are never waited for again). */
enum { TAG_MSG = 7001, TAG_VERDICT = 7002 };
struct msg_hdr { int item, len; };

static int gather_others(int item, const void *msg, int len, double wait_s)
{
    int verdict = 1;
    MPI_Request req;
    char *m = malloc(sizeof(struct msg_hdr) + (len > 0 ? len : 0));
    struct msg_hdr h = {item, len};
    memcpy(m, &h, sizeof h);
    if (len > 0) memcpy(m + sizeof h, msg, len);
    double deadline = dist_clock() + 2 * wait_s + 2 * DIST_GRACE_S;
    int sent = MPI_Isend(m, (int)(sizeof h + len), MPI_BYTE, 0, TAG_MSG, world, &req) == MPI_SUCCESS && wait_until(&req, deadline) == 0;
    free(m);
    if (!sent || MPI_Irecv(&verdict, 1, MPI_INT, 0, TAG_VERDICT, world, &req) != MPI_SUCCESS || wait_until(&req, deadline)) {
        fprintf(stderr, "dlbench: rank %d: rank 0 did not answer within %.0f s; giving up\n", dist_me.rank, 2 * wait_s + 2 * DIST_GRACE_S);
        dist_abort(1);
    }
    return verdict;
}

int dist_gather_bytes(int item, const void *msg, int len, double wait_s, void **msgs, int *lens)
{
    int size = dist_me.size, lost = 0, pending = size - 1;
    if (dist_me.rank != 0) return gather_others(item, msg, len, wait_s);
    for (int r = 0; r < size; r++) { msgs[r] = NULL; lens[r] = 0; }
    msgs[0] = malloc(len > 0 ? len : 1);
    memcpy(msgs[0], msg, len);
    lens[0] = len;
    double start = dist_clock(), deadline = start + wait_s, spin_end = start + 2e-3;
    while (pending > 0) {
        int flag = 0, n;
        MPI_Status st;
        MPI_Iprobe(MPI_ANY_SOURCE, TAG_MSG, world, &flag, &st);
        if (flag) {
            MPI_Get_count(&st, MPI_BYTE, &n);
            char *m = malloc(n > 0 ? n : 1);
            MPI_Recv(m, n, MPI_BYTE, st.MPI_SOURCE, TAG_MSG, world, MPI_STATUS_IGNORE);
            struct msg_hdr h;
            int src = st.MPI_SOURCE;
            if (n < (int)sizeof h || (memcpy(&h, m, sizeof h), h.item != item || h.len != n - (int)sizeof h) || msgs[src]) {
                fprintf(stderr, "dlbench: rank 0: a stray message from rank %d (ignored)\n", src);
                free(m);
                continue;
            }
            memmove(m, m + sizeof h, h.len);
            msgs[src] = m;
            lens[src] = h.len;
            pending--;
            continue;
        }
        double now = dist_clock();
        if (now > deadline) break;
        if (now > spin_end) nanosleep(&(struct timespec){0, 200000}, NULL);
    }
    for (int r = 1; r < size; r++) lost += !msgs[r];
    MPI_Request *reqs = calloc(size, sizeof *reqs);
    int nreq = 0;
    for (int r = 1; r < size; r++)
        if (msgs[r]) MPI_Isend(&lost, 1, MPI_INT, r, TAG_VERDICT, world, &reqs[nreq++]);
    for (int q = 0; q < nreq; q++) wait_until(&reqs[q], dist_clock() + DIST_GRACE_S);
    free(reqs);
    return lost;
}
