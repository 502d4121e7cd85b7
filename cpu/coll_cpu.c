/* coll_cpu.c: the CPU backend's collectives, through MPI on the group's communicator (built with
 * MPI only): fp32 as MPI_FLOAT with MPI_SUM; bf16 as 16-bit words with a user-defined sum in fp32,
 * rounded to nearest even (MPI has no bf16). In-place sums for data-parallel gradients start as
 * MPI_Iallreduce and complete together in wait_all. A group of one needs no MPI at all. */
#include "backend.h"
#include "cpu_ops.h"
#include <limits.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PENDING 64

struct cpu_comm {
    MPI_Comm comm;
    int rank, size, npending;
    MPI_Request pending[MAX_PENDING];
};

static MPI_Op bf16_sum = MPI_OP_NULL;

static inline float bf16_f32(uint16_t h) { uint32_t u = (uint32_t)h << 16; float f; memcpy(&f, &u, 4); return f; }
static inline uint16_t f32_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);   /* NaN stays NaN */
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1)) >> 16);
}

static void bf16_sum_fn(void *in, void *inout, int *len, MPI_Datatype *type)
{
    const uint16_t *a = in;
    uint16_t *b = inout;
    (void)type;
    for (int i = 0; i < *len; i++) b[i] = f32_bf16(bf16_f32(a[i]) + bf16_f32(b[i]));
}

static int fail(int rc, const char *call)
{
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    cpu_set_error("%s: %s", call, msg);
    return -1;
}

static int type_of(enum dtype dt, size_t count, MPI_Datatype *t, MPI_Op *op)
{
    if (count > INT_MAX) { cpu_set_error("%zu elements exceed MPI's int count", count); return -1; }
    if (dt != DT_F32 && dt != DT_BF16) { cpu_set_error("collectives run fp32 and bf16"); return -1; }
    *t = dt == DT_F32 ? MPI_FLOAT : MPI_UINT16_T;
    *op = dt == DT_F32 ? MPI_SUM : bf16_sum;
    return 0;
}

static void *coll_open_cpu(const struct coll_group *g)
{
    struct cpu_comm *c = calloc(1, sizeof *c);
    c->rank = g->rank;
    c->size = g->size;
    c->comm = g->size > 1 ? *(MPI_Comm *)g->mpi_comm : MPI_COMM_NULL;
    if (g->size > 1 && bf16_sum == MPI_OP_NULL) {
        int rc = MPI_Op_create(bf16_sum_fn, 1, &bf16_sum);
        if (rc != MPI_SUCCESS) { free(c); fail(rc, "MPI_Op_create"); return NULL; }
    }
    return c;
}

static void coll_close_cpu(void *comm) { free(comm); }

/* One rank: every collective is a copy (in place: nothing). */
static int local_copy(enum dtype dt, size_t count, const void *send, void *recv)
{
    if (send != recv) memcpy(recv, send, count * dtype_size(dt));
    return 0;
}

static int all_reduce_cpu(void *comm, enum dtype dt, size_t count, const void *send, void *recv)
{
    struct cpu_comm *c = comm;
    MPI_Datatype t;
    MPI_Op op;
    if (type_of(dt, count, &t, &op)) return -1;
    if (c->size == 1) return local_copy(dt, count, send, recv);
    int rc = MPI_Allreduce(send == recv ? MPI_IN_PLACE : send, recv, (int)count, t, op, c->comm);
    return rc == MPI_SUCCESS ? 0 : fail(rc, "MPI_Allreduce");
}

static int all_gather_cpu(void *comm, enum dtype dt, size_t count, const void *send, void *recv)
{
    struct cpu_comm *c = comm;
    MPI_Datatype t;
    MPI_Op op;
    if (type_of(dt, count * (size_t)c->size, &t, &op)) return -1;
    if (c->size == 1) return local_copy(dt, count, send, recv);
    int rc = MPI_Allgather(send, (int)count, t, recv, (int)count, t, c->comm);
    return rc == MPI_SUCCESS ? 0 : fail(rc, "MPI_Allgather");
}

static int reduce_scatter_cpu(void *comm, enum dtype dt, size_t count, const void *send, void *recv)
{
    struct cpu_comm *c = comm;
    MPI_Datatype t;
    MPI_Op op;
    if (type_of(dt, count * (size_t)c->size, &t, &op)) return -1;
    if (c->size == 1) return local_copy(dt, count, send, recv);
    int rc = MPI_Reduce_scatter_block(send, recv, (int)count, t, op, c->comm);
    return rc == MPI_SUCCESS ? 0 : fail(rc, "MPI_Reduce_scatter_block");
}

static int broadcast_cpu(void *comm, enum dtype dt, size_t count, const void *send, void *recv)
{
    struct cpu_comm *c = comm;
    MPI_Datatype t;
    MPI_Op op;
    if (type_of(dt, count, &t, &op)) return -1;
    if (c->rank == 0 && send != recv) memcpy(recv, send, count * dtype_size(dt));
    if (c->size == 1) return 0;
    int rc = MPI_Bcast(recv, (int)count, t, 0, c->comm);
    return rc == MPI_SUCCESS ? 0 : fail(rc, "MPI_Bcast");
}

/* Nonblocking collectives progress only inside MPI calls here (no progress thread): each start
 * also tests the ones already started, so earlier buckets move while the backward pass goes on. */
static int all_reduce_start_cpu(void *comm, enum dtype dt, size_t count, void *buf)
{
    struct cpu_comm *c = comm;
    MPI_Datatype t;
    MPI_Op op;
    int flag;
    if (type_of(dt, count, &t, &op)) return -1;
    if (c->size == 1) return 0;
    if (c->npending == MAX_PENDING) { cpu_set_error("more than %d sums in flight", MAX_PENDING); return -1; }
    int rc = MPI_Iallreduce(MPI_IN_PLACE, buf, (int)count, t, op, c->comm, &c->pending[c->npending++]);
    if (rc != MPI_SUCCESS) return fail(rc, "MPI_Iallreduce");
    MPI_Testall(c->npending, c->pending, &flag, MPI_STATUSES_IGNORE);
    return 0;
}

static int wait_all_cpu(void *comm)
{
    struct cpu_comm *c = comm;
    if (c->npending == 0) return 0;
    int rc = MPI_Waitall(c->npending, c->pending, MPI_STATUSES_IGNORE);
    c->npending = 0;
    return rc == MPI_SUCCESS ? 0 : fail(rc, "MPI_Waitall");
}

const struct collective_ops cpu_collectives = {
    .open = coll_open_cpu, .close = coll_close_cpu,
    .all_reduce = all_reduce_cpu, .all_gather = all_gather_cpu, .reduce_scatter = reduce_scatter_cpu,
    .broadcast = broadcast_cpu, .all_reduce_start = all_reduce_start_cpu, .wait_all = wait_all_cpu,
};
