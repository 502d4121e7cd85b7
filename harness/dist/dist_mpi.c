/* dist_mpi.c: dist.h over MPI: MPI_Init when a launcher started 2+ ranks, the node-local rank from
 * MPI_COMM_TYPE_SHARED, groups of the first k ranks (MPI_Comm_create_group, collective over the
 * members only), agreements as nonblocking collectives polled against a deadline, and rank 0's
 * collection of every rank's rows as point-to-point messages it probes for. Only the main thread
 * calls MPI (MPI_THREAD_FUNNELED); waits poll with short sleeps so idle ranks leave the cores to the
 * ranks still measuring. */
#include "dist_impl.h"
#include "backend.h"
#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { TAG_ROWS = 7001, TAG_VERDICT = 7002 };
static MPI_Comm world = MPI_COMM_NULL;
static char (*hosts)[64];               /* rank 0: every rank's host (dist_describe) */

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
    return 0;
}

/* 0 when the request completed, -1 when the deadline passed first. Spins 2 ms, then polls every
 * 0.2 ms (a blocking MPI wait would spin on a core another rank is measuring on). */
static int wait_until(MPI_Request *req, double deadline)
{
    double spin_end = wall_seconds() + 2e-3;
    for (;;) {
        int done = 0;
        if (MPI_Test(req, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS) return -1;
        if (done) return 0;
        double now = wall_seconds();
        if (now > deadline) return -1;
        if (now > spin_end) nanosleep(&(struct timespec){0, 200000}, NULL);
    }
}

int dist_finish(int rc)
{
    if (!dist_me.mpi) { dist_comms_close(); return rc; }
    MPI_Request req;
    MPI_Ibcast(&rc, 1, MPI_INT, 0, world, &req);
    if (wait_until(&req, wall_seconds() + 3600) != 0) dist_abort(rc ? rc : 1);
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

/* What each rank tells rank 0 about itself. */
struct rank_facts { char host[64], binding[192], gpu[128]; int local_rank, local_size; };

void dist_describe(struct sysinfo *si)
{
    char v[256];
    struct rank_facts me = {0}, *all = NULL;
    snprintf(me.host, sizeof me.host, "%s", dist_me.host);
    snprintf(me.binding, sizeof me.binding, "%s", dist_me.binding);
    const struct backend *cuda = backend_find("cuda");
    char why[128] = "";
    if (cuda && cuda->probe(why, sizeof why)) snprintf(why, sizeof why, "GPU %s: %s", getenv("DLBENCH_GPU") ?: "0", cuda->dev->name());
    snprintf(me.gpu, sizeof me.gpu, "%s", why);
    me.local_rank = dist_me.local_rank;
    me.local_size = dist_me.local_size;
    if (dist_me.rank == 0) all = calloc(dist_me.size, sizeof *all);
    if (dist_me.mpi) MPI_Gather(&me, sizeof me, MPI_BYTE, all, sizeof me, MPI_BYTE, 0, world);
    else if (all) all[0] = me;
    if (dist_me.rank != 0) return;
    int nhosts = 0, gpus = 0;
    hosts = calloc(dist_me.size, sizeof *hosts);
    for (int r = 0; r < dist_me.size; r++) {
        int seen = 0;
        for (int q = 0; q < r; q++) seen |= !strcmp(all[q].host, all[r].host);
        nhosts += !seen;
        gpus += !strncmp(all[r].gpu, "GPU ", 4);
        snprintf(hosts[r], sizeof hosts[r], "%s", all[r].host);
    }
    snprintf(v, sizeof v, "%d", dist_me.size); sysinfo_put(si, "dist", "ranks", v);
    snprintf(v, sizeof v, "%d", nhosts); sysinfo_put(si, "dist", "hosts", v);
    sysinfo_put(si, "dist", "launcher", dist_me.launcher);
    int ver, sub;
    MPI_Get_version(&ver, &sub);
    char lib[MPI_MAX_LIBRARY_VERSION_STRING];
    int len;
    MPI_Get_library_version(lib, &len);
    lib[strcspn(lib, ",\n")] = 0;
    snprintf(v, sizeof v, "MPI %d.%d (%.200s)", ver, sub, lib);
    sysinfo_put(si, "dist", "transport", v);
    for (int r = 0; r < dist_me.size; r++) {
        char key[48];
        snprintf(key, sizeof key, "rank.%d", r);
        snprintf(v, sizeof v, "%.40s, local rank %d of %d; %.120s; %.60s", all[r].host, all[r].local_rank, all[r].local_size,
                 all[r].binding, all[r].gpu);
        sysinfo_put(si, "dist", key, v);
        /* When some ranks have a GPU and others not, rank 0 says which ones go without. */
        if (gpus && strncmp(all[r].gpu, "GPU ", 4))
            fprintf(stderr, "dlbench: rank %d on %s: its GPU rows are skipped: %s\n", r, all[r].host, all[r].gpu);
    }
    free(all);
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

/* A message of rows: header, then the row and its samples when it has one. */
struct rows_hdr { int item, have, ns, pad; };

static void *pack(int item, const struct row *r, int have, const double *s, int ns, int *bytes)
{
    struct rows_hdr h = {item, have, have ? ns : 0, 0};
    size_t len = sizeof h + (have ? sizeof *r + sizeof(double) * (size_t)h.ns : 0);
    char *m = malloc(len);
    memcpy(m, &h, sizeof h);
    if (have) {
        memcpy(m + sizeof h, r, sizeof *r);
        if (h.ns) memcpy(m + sizeof h + sizeof *r, s, sizeof(double) * (size_t)h.ns);
    }
    *bytes = (int)len;
    return m;
}

/* Rank 0: the message from src into out (when it has a row); -1 when it is not for this item. */
static int unpack(const char *m, int len, int item, struct dist_row *out)
{
    struct rows_hdr h;
    if (len < (int)sizeof h) return -1;
    memcpy(&h, m, sizeof h);
    if (h.item != item || (h.have && len != (int)(sizeof h + sizeof out->r + sizeof(double) * (size_t)h.ns))) return -1;
    if (!h.have) return 0;
    memcpy(&out->r, m + sizeof h, sizeof out->r);
    out->n = h.ns;
    if (h.ns) {
        out->samples = malloc(sizeof(double) * (size_t)h.ns);
        memcpy(out->samples, m + sizeof h + sizeof out->r, sizeof(double) * (size_t)h.ns);
    }
    return 1;
}

static int collect_others(int item, const struct row *mine, int have, const double *samples, int ns, double wait_s)
{
    int bytes, verdict = 1;
    MPI_Request req;
    void *m = pack(item, mine, have, samples, ns, &bytes);
    double deadline = wall_seconds() + 2 * wait_s + 2 * DIST_GRACE_S;
    int sent = MPI_Isend(m, bytes, MPI_BYTE, 0, TAG_ROWS, world, &req) == MPI_SUCCESS && wait_until(&req, deadline) == 0;
    free(m);
    if (!sent || MPI_Irecv(&verdict, 1, MPI_INT, 0, TAG_VERDICT, world, &req) != MPI_SUCCESS || wait_until(&req, deadline)) {
        fprintf(stderr, "dlbench: rank %d: rank 0 did not answer within %.0f s; giving up\n", dist_me.rank, 2 * wait_s + 2 * DIST_GRACE_S);
        dist_abort(1);
    }
    return verdict;
}

int dist_collect(int item, const struct row *mine, int have, const double *samples, int ns, double wait_s,
                 struct dist_row **got, int *ngot)
{
    int size = dist_me.size, lost = 0;
    *ngot = 0;
    *got = calloc(size, sizeof **got);
    if (dist_me.rank != 0) return collect_others(item, mine, have, samples, ns, wait_s);
    struct dist_row *by_rank = calloc(size, sizeof *by_rank);
    int *heard = calloc(size, sizeof *heard), *has = calloc(size, sizeof *has), pending = size - 1;
    if (have) {
        by_rank[0].r = *mine;
        by_rank[0].n = ns;
        if (ns) { by_rank[0].samples = malloc(sizeof(double) * ns); memcpy(by_rank[0].samples, samples, sizeof(double) * ns); }
        has[0] = 1;
    }
    heard[0] = 1;
    double start = wall_seconds(), deadline = start + wait_s, spin_end = start + 2e-3;
    while (pending > 0) {
        int flag = 0, len;
        MPI_Status st;
        MPI_Iprobe(MPI_ANY_SOURCE, TAG_ROWS, world, &flag, &st);
        if (flag) {
            MPI_Get_count(&st, MPI_BYTE, &len);
            char *m = malloc(len > 0 ? len : 1);
            MPI_Recv(m, len, MPI_BYTE, st.MPI_SOURCE, TAG_ROWS, world, MPI_STATUS_IGNORE);
            int src = st.MPI_SOURCE, u = heard[src] ? -1 : unpack(m, len, item, &by_rank[src]);
            free(m);
            if (u < 0) { fprintf(stderr, "dlbench: rank 0: a stray message from rank %d (ignored)\n", src); continue; }
            heard[src] = 1;
            has[src] = u;
            pending--;
            continue;
        }
        double now = wall_seconds();
        if (now > deadline) break;
        if (now > spin_end) nanosleep(&(struct timespec){0, 200000}, NULL);
    }
    for (int r = 1; r < size; r++) lost += !heard[r];
    /* Release every rank that answered; the lost ones are never waited for again. */
    MPI_Request *reqs = calloc(size, sizeof *reqs);
    int nreq = 0;
    for (int r = 1; r < size; r++)
        if (heard[r]) MPI_Isend(&lost, 1, MPI_INT, r, TAG_VERDICT, world, &reqs[nreq++]);
    for (int q = 0; q < nreq; q++) wait_until(&reqs[q], wall_seconds() + DIST_GRACE_S);
    free(reqs);
    for (int r = 0; r < size; r++) {
        if (!heard[r] && have) {
            dist_lost_row(&(*got)[(*ngot)++].r, mine, r, hosts ? hosts[r] : NULL, wait_s);
            fprintf(stderr, "dlbench: rank %d lost: no rows from it within %.0f s\n", r, wait_s);
        } else if (has[r]) (*got)[(*ngot)++] = by_rank[r];
    }
    free(by_rank); free(heard); free(has);
    return lost;
}
