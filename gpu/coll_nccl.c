/* coll_nccl.c: the CUDA backend's collectives through NCCL, built with MPI and NCCL's header. libnccl
 * is loaded at run time (dlopen libnccl.so.2, like cuDNN), so the binary starts without it. Designed
 * for one process per GPU, up to 8 GPUs of one node (NVLink/NVSwitch; NCCL picks rings or trees) and
 * more nodes over its network plugins: one communicator per group of ranks, bootstrapped by
 * broadcasting ncclGetUniqueId's id over the group's MPI communicator. Timed operations run on the
 * backend's stream, so its event timer covers them; data-parallel gradient sums run on a second
 * stream that first waits for the gradient (an event on the compute stream) and that the update
 * waits for in turn, so they overlap the rest of the backward pass. */
#include "backend.h"
#include "cuda_check.h"
#include "cuda_ops.h"
#include "cuda_state.h"
#include <dlfcn.h>
#include <nccl.h>
#include <stdio.h>
#include <stdlib.h>

#define NCCL_FUNCS(X) X(ncclGetVersion) X(ncclGetUniqueId) X(ncclCommInitRank) X(ncclCommDestroy) \
    X(ncclGetErrorString) X(ncclAllReduce) X(ncclAllGather) X(ncclReduceScatter) X(ncclBroadcast)
#define DECLARE(f) static __typeof__(&f) p_##f;
NCCL_FUNCS(DECLARE)

static int state;                  /* 0 not tried, 1 loaded, -1 not loadable (why_not) */
static char why_not[256];

static int load_nccl(void)
{
    if (state) return state;
    void *lib = dlopen("libnccl.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!lib) lib = dlopen("libnccl.so", RTLD_NOW | RTLD_LOCAL);
    if (!lib) { snprintf(why_not, sizeof why_not, "NCCL library not found (libnccl.so.2)"); return state = -1; }
#define RESOLVE(f) if (!(p_##f = (__typeof__(&f))dlsym(lib, #f))) { snprintf(why_not, sizeof why_not, "NCCL lacks %s", #f); return state = -1; }
    NCCL_FUNCS(RESOLVE)
    int v = 0;
    if (p_ncclGetVersion(&v) == ncclSuccess && v < 21000) {   /* ncclBfloat16 arrived in 2.10 */
        snprintf(why_not, sizeof why_not, "NCCL %d is older than 2.10", v);
        return state = -1;
    }
    return state = 1;
}

static int nccl_available(char *why, size_t n)
{
    if (load_nccl() > 0) return 1;
    snprintf(why, n, "%s", why_not);
    return 0;
}

#define NCCL(call) do { ncclResult_t r_ = (call); \
    if (r_ != ncclSuccess) { cuda_set_error("%s: %s", #call, p_ncclGetErrorString(r_)); return -1; } } while (0)

struct nccl_comm {
    ncclComm_t comm;
    int rank, size, pending;
    cudaStream_t side;             /* gradient sums, beside the compute stream */
    cudaEvent_t ready, done;
};

static void coll_close_nccl(void *p)
{
    struct nccl_comm *c = p;
    if (!c) return;
    if (c->comm) p_ncclCommDestroy(c->comm);
    if (c->side) cudaStreamDestroy(c->side);
    if (c->ready) cudaEventDestroy(c->ready);
    if (c->done) cudaEventDestroy(c->done);
    free(c);
}

/* Collective over the group: every member calls it (dist_measure agreed that all can). */
static void *coll_open_nccl(const struct coll_group *g)
{
    struct { int ok; ncclUniqueId id; } boot = {0};
    if (load_nccl() < 0) { cuda_set_error("%s", why_not); return NULL; }
    if (g->rank == 0) boot.ok = p_ncclGetUniqueId(&boot.id) == ncclSuccess;
    if (g->bcast(g, &boot, sizeof boot) != 0 || !boot.ok) { cuda_set_error("NCCL: no unique id from the group's rank 0"); return NULL; }
    struct nccl_comm *c = calloc(1, sizeof *c);
    c->rank = g->rank;
    c->size = g->size;
    ncclResult_t r = p_ncclCommInitRank(&c->comm, g->size, boot.id, g->rank);
    if (r != ncclSuccess) {
        cuda_set_error("ncclCommInitRank: %s", p_ncclGetErrorString(r));
        c->comm = NULL;
        coll_close_nccl(c);
        return NULL;
    }
    if (cudaStreamCreateWithFlags(&c->side, cudaStreamNonBlocking) != cudaSuccess ||
        cudaEventCreateWithFlags(&c->ready, cudaEventDisableTiming) != cudaSuccess ||
        cudaEventCreateWithFlags(&c->done, cudaEventDisableTiming) != cudaSuccess) {
        cuda_set_error("cannot create the NCCL side stream or its events");
        coll_close_nccl(c);
        return NULL;
    }
    return c;
}

static int type_of(enum dtype dt, ncclDataType_t *t)
{
    if (dt != DT_F32 && dt != DT_BF16) { cuda_set_error("collectives run fp32 and bf16"); return -1; }
    *t = dt == DT_F32 ? ncclFloat32 : ncclBfloat16;
    return 0;
}

static int all_reduce_nccl(void *p, enum dtype dt, size_t count, const void *send, void *recv)
{
    struct nccl_comm *c = p;
    ncclDataType_t t;
    if (type_of(dt, &t)) return -1;
    NCCL(p_ncclAllReduce(send, recv, count, t, ncclSum, c->comm, cuda_stream));
    return 0;
}

static int all_gather_nccl(void *p, enum dtype dt, size_t count, const void *send, void *recv)
{
    struct nccl_comm *c = p;
    ncclDataType_t t;
    if (type_of(dt, &t)) return -1;
    NCCL(p_ncclAllGather(send, recv, count, t, c->comm, cuda_stream));
    return 0;
}

static int reduce_scatter_nccl(void *p, enum dtype dt, size_t count, const void *send, void *recv)
{
    struct nccl_comm *c = p;
    ncclDataType_t t;
    if (type_of(dt, &t)) return -1;
    NCCL(p_ncclReduceScatter(send, recv, count, t, ncclSum, c->comm, cuda_stream));
    return 0;
}

static int broadcast_nccl(void *p, enum dtype dt, size_t count, const void *send, void *recv)
{
    struct nccl_comm *c = p;
    ncclDataType_t t;
    if (type_of(dt, &t)) return -1;
    NCCL(p_ncclBroadcast(send, recv, count, t, 0, c->comm, cuda_stream));
    return 0;
}

/* The side stream waits for everything queued so far on the compute stream (the gradient). */
static int all_reduce_start_nccl(void *p, enum dtype dt, size_t count, void *buf)
{
    struct nccl_comm *c = p;
    ncclDataType_t t;
    if (type_of(dt, &t)) return -1;
    CUDA_CHECK(cudaEventRecord(c->ready, cuda_stream));
    CUDA_CHECK(cudaStreamWaitEvent(c->side, c->ready, 0));
    NCCL(p_ncclAllReduce(buf, buf, count, t, ncclSum, c->comm, c->side));
    c->pending = 1;
    return 0;
}

/* The compute stream waits for every sum queued on the side stream. */
static int wait_all_nccl(void *p)
{
    struct nccl_comm *c = p;
    if (!c->pending) return 0;
    CUDA_CHECK(cudaEventRecord(c->done, c->side));
    CUDA_CHECK(cudaStreamWaitEvent(cuda_stream, c->done, 0));
    c->pending = 0;
    return 0;
}

const struct collective_ops nccl_collectives = {
    .available = nccl_available, .open = coll_open_nccl, .close = coll_close_nccl,
    .all_reduce = all_reduce_nccl, .all_gather = all_gather_nccl, .reduce_scatter = reduce_scatter_nccl,
    .broadcast = broadcast_nccl, .all_reduce_start = all_reduce_start_nccl, .wait_all = wait_all_nccl,
};
