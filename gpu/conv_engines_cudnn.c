/* conv_engines_cudnn.c: one convolution through cuDNN's graph API (backend descriptors), the way
 * PyTorch reaches cuDNN: the legacy cudnnFind* of backend_cudnn.c searches the fixed algorithm
 * enumerations of cuDNN 7, while the engines the graph API's heuristics propose include the newer
 * tensor-core kernels (on the H200 the legacy search's best fp16 NCHW kernels ran at 0.28-0.53x of
 * PyTorch's cuDNN on the same layers). Per case: tensors x [N,C,H,W], w [K,C,R,S], y [N,K,P,Q]
 * (dimensions always in that order, the layout in the strides: NCHW/KCRS, or NHWC/KRSC on the
 * channels-last copies), one convolution operation (forward: x, w -> y; backward-data: dy, w -> dx;
 * backward-filter: x, dy -> dw; fp32 accumulation, cross-correlation), its operation graph, the
 * heuristics' engine configurations (mode A; the fallback list when A has none), each finalized
 * into an execution plan. Engines that compile kernels at run time (NVRTC, seconds each) are left
 * out to keep the search inside the quick suite's time, unless DLBENCH_CUDNN_RTC=1 (PyTorch's
 * benchmark mode times them too: the experiment for the rows where it stays ahead). backend_cudnn.c times the plans and keeps
 * the fastest. The functions come from the libcudnn that backend_cudnn.c opened (dlsym). */
#include "conv_engines_cudnn.h"
#include "backend.h"
#include "cuda_check.h"
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GRAPH_FUNCS(X) X(cudnnBackendCreateDescriptor) X(cudnnBackendDestroyDescriptor) X(cudnnBackendFinalize) \
    X(cudnnBackendSetAttribute) X(cudnnBackendGetAttribute) X(cudnnBackendExecute) X(cudnnGetErrorString)
#define DECLARE(f) static __typeof__(&f) g_##f;
GRAPH_FUNCS(DECLARE)

int cudnn_engines_load(void *lib, char *why, size_t n)
{
#define RESOLVE(f) if (!(g_##f = (__typeof__(&f))dlsym(lib, #f))) { snprintf(why, n, "cuDNN lacks %s", #f); return -1; }
    GRAPH_FUNCS(RESOLVE)
    return 0;
}

static int fail(cudnnStatus_t s, const char *call)
{
    /* cuDNN's "not supported" family (3xxx): this case cannot run this way, a skip */
    cuda_set_error("%s%s in %s", s / 1000 == 3 ? BACKEND_UNSUPPORTED : "", g_cudnnGetErrorString(s), call);
    return -1;
}
#define G(call) do { cudnnStatus_t s_ = (call); if (s_ != CUDNN_STATUS_SUCCESS) return fail(s_, #call); } while (0)

static int set(cudnnBackendDescriptor_t d, cudnnBackendAttributeName_t a, cudnnBackendAttributeType_t t, int64_t n,
               const void *v)
{
    G(g_cudnnBackendSetAttribute(d, a, t, n, v));
    return 0;
}

enum { X, W, Y, CONV, OP, GRAPH };

/* A tensor descriptor: dimensions dims (4), strides st, unique id uid. */
static int tensor(cudnnBackendDescriptor_t *d, cudnnDataType_t t, const int64_t *dims, const int64_t *st, int64_t uid,
                  int64_t align)
{
    G(g_cudnnBackendCreateDescriptor(CUDNN_BACKEND_TENSOR_DESCRIPTOR, d));
    if (set(*d, CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &t) || set(*d, CUDNN_ATTR_TENSOR_DIMENSIONS, CUDNN_TYPE_INT64, 4, dims) ||
        set(*d, CUDNN_ATTR_TENSOR_STRIDES, CUDNN_TYPE_INT64, 4, st) || set(*d, CUDNN_ATTR_TENSOR_UNIQUE_ID, CUDNN_TYPE_INT64, 1, &uid) ||
        set(*d, CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, CUDNN_TYPE_INT64, 1, &align))
        return -1;
    G(g_cudnnBackendFinalize(*d));
    return 0;
}

/* Strides of a [n, c, h, w] tensor: NCHW, or channels last (NHWC; KRSC for filters). */
static void strides(int64_t *st, const int64_t *dim, int nhwc)
{
    if (nhwc) { st[1] = 1; st[3] = dim[1]; st[2] = dim[3] * dim[1]; st[0] = dim[2] * dim[3] * dim[1]; }
    else { st[3] = 1; st[2] = dim[3]; st[1] = dim[2] * dim[3]; st[0] = dim[1] * dim[2] * dim[3]; }
}

int cudnn_engines_graph(cudnnHandle_t h, struct cudnn_engines *g, enum conv_dir d, enum dtype dt,
                        const struct conv_shape *s, int nhwc, int align)
{
    memset(g, 0, sizeof *g);
    g->d = d;
    g->align = align;
    cudnnDataType_t t = dt == DT_F16 ? CUDNN_DATA_HALF : dt == DT_BF16 ? CUDNN_DATA_BFLOAT16 : CUDNN_DATA_FLOAT;
    const int64_t dims[3][4] = {{s->n, s->c, s->h, s->w}, {s->k, s->c, s->r, s->s}, {s->n, s->k, conv_p(s), conv_q(s)}};
    for (int i = X; i <= Y; i++) {
        int64_t st[4];
        strides(st, dims[i], nhwc);
        if (tensor(&g->desc[i], t, dims[i], st, 1 + i, align) != 0) return -1;
    }
    const int64_t two = 2, pad[2] = {s->pad, s->pad}, str[2] = {s->stride, s->stride}, dil[2] = {s->dil, s->dil};
    const cudnnDataType_t acc = CUDNN_DATA_FLOAT;
    const cudnnConvolutionMode_t mode = CUDNN_CROSS_CORRELATION;
    cudnnBackendDescriptor_t c;
    G(g_cudnnBackendCreateDescriptor(CUDNN_BACKEND_CONVOLUTION_DESCRIPTOR, &g->desc[CONV]));
    c = g->desc[CONV];
    if (set(c, CUDNN_ATTR_CONVOLUTION_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &acc) ||
        set(c, CUDNN_ATTR_CONVOLUTION_CONV_MODE, CUDNN_TYPE_CONVOLUTION_MODE, 1, &mode) ||
        set(c, CUDNN_ATTR_CONVOLUTION_SPATIAL_DIMS, CUDNN_TYPE_INT64, 1, &two) ||
        set(c, CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS, CUDNN_TYPE_INT64, 2, pad) ||
        set(c, CUDNN_ATTR_CONVOLUTION_POST_PADDINGS, CUDNN_TYPE_INT64, 2, pad) ||
        set(c, CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES, CUDNN_TYPE_INT64, 2, str) ||
        set(c, CUDNN_ATTR_CONVOLUTION_DILATIONS, CUDNN_TYPE_INT64, 2, dil))
        return -1;
    G(g_cudnnBackendFinalize(c));
    /* the operation: per direction its descriptor type and the attribute names of its tensors */
    static const cudnnBackendDescriptorType_t op_type[3] = {CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR,
        CUDNN_BACKEND_OPERATION_CONVOLUTION_BACKWARD_DATA_DESCRIPTOR, CUDNN_BACKEND_OPERATION_CONVOLUTION_BACKWARD_FILTER_DESCRIPTOR};
    static const cudnnBackendAttributeName_t attr[3][6] = {   /* x, w, y, conv, alpha, beta */
        {CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_X, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_W,
         CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_Y, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_CONV_DESC,
         CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_ALPHA, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_BETA},
        {CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_DX, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_W,
         CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_DY, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_CONV_DESC,
         CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_ALPHA, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_BETA},
        {CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_X, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_DW,
         CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_DY, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_CONV_DESC,
         CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_ALPHA, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_BETA}};
    const float one = 1.f, zero = 0.f;   /* FLOAT scaling for every data type but double */
    G(g_cudnnBackendCreateDescriptor(op_type[d], &g->desc[OP]));
    cudnnBackendDescriptor_t op = g->desc[OP];
    for (int i = X; i <= CONV; i++)
        if (set(op, attr[d][i], CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &g->desc[i])) return -1;
    if (set(op, attr[d][4], CUDNN_TYPE_FLOAT, 1, &one) || set(op, attr[d][5], CUDNN_TYPE_FLOAT, 1, &zero)) return -1;
    G(g_cudnnBackendFinalize(op));
    G(g_cudnnBackendCreateDescriptor(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR, &g->desc[GRAPH]));
    if (set(g->desc[GRAPH], CUDNN_ATTR_OPERATIONGRAPH_OPS, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &op) ||
        set(g->desc[GRAPH], CUDNN_ATTR_OPERATIONGRAPH_HANDLE, CUDNN_TYPE_HANDLE, 1, &h))
        return -1;
    G(g_cudnnBackendFinalize(g->desc[GRAPH]));
    return 0;
}

static int rtc_allowed(void)
{
    static int on = -1;
    if (on < 0) { const char *e = getenv("DLBENCH_CUDNN_RTC"); on = e && !strcmp(e, "1"); }
    return on;
}

/* Whether the engine of cfg may run a row of dtype dt (its numerical and behaviour notes); its
 * global index in *index. */
static int allowed(cudnnBackendDescriptor_t cfg, enum dtype dt, int64_t *index)
{
    cudnnBackendDescriptor_t e;
    int64_t got = 0;
    int ok = 0;
    *index = -1;
    if (g_cudnnBackendCreateDescriptor(CUDNN_BACKEND_ENGINE_DESCRIPTOR, &e) != CUDNN_STATUS_SUCCESS) return 0;
    if (g_cudnnBackendGetAttribute(cfg, CUDNN_ATTR_ENGINECFG_ENGINE, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &got, &e) == CUDNN_STATUS_SUCCESS) {
        cudnnBackendNumericalNote_t num[CUDNN_NUMERICAL_NOTE_TYPE_COUNT];
        cudnnBackendBehaviorNote_t beh[CUDNN_BEHAVIOR_NOTE_TYPE_COUNT];
        int64_t nn = 0, nb = 0;
        g_cudnnBackendGetAttribute(e, CUDNN_ATTR_ENGINE_GLOBAL_INDEX, CUDNN_TYPE_INT64, 1, &got, index);
        /* notes that cannot be read: an fp32 row cannot rule out tf32, so it leaves the engine out */
        ok = g_cudnnBackendGetAttribute(e, CUDNN_ATTR_ENGINE_NUMERICAL_NOTE, CUDNN_TYPE_NUMERICAL_NOTE,
                                        CUDNN_NUMERICAL_NOTE_TYPE_COUNT, &nn, num) == CUDNN_STATUS_SUCCESS || (nn = 0, dt != DT_F32);
        if (g_cudnnBackendGetAttribute(e, CUDNN_ATTR_ENGINE_BEHAVIOR_NOTE, CUDNN_TYPE_BEHAVIOR_NOTE,
                                       CUDNN_BEHAVIOR_NOTE_TYPE_COUNT, &nb, beh) != CUDNN_STATUS_SUCCESS)
            nb = 0;
        for (int64_t i = 0; ok && i < nn && i < CUDNN_NUMERICAL_NOTE_TYPE_COUNT; i++)
            if (num[i] == CUDNN_NUMERICAL_NOTE_REDUCED_PRECISION_REDUCTION ||
                (dt == DT_F32 && (num[i] == CUDNN_NUMERICAL_NOTE_TENSOR_CORE || num[i] == CUDNN_NUMERICAL_NOTE_DOWN_CONVERT_INPUTS)))
                ok = 0;
        for (int64_t i = 0; ok && i < nb && i < CUDNN_BEHAVIOR_NOTE_TYPE_COUNT; i++)
            if (beh[i] == CUDNN_BEHAVIOR_NOTE_RUNTIME_COMPILATION && !rtc_allowed()) ok = 0;
    }
    g_cudnnBackendDestroyDescriptor(e);
    return ok;
}

#define MAX_CFGS 32

/* The heuristics' configurations for g in mode m: count, or -1. */
static int heuristics(struct cudnn_engines *g, cudnnBackendHeurMode_t m, cudnnBackendDescriptor_t *cfg)
{
    cudnnBackendDescriptor_t heur;
    int64_t count = 0;
    int n = -1;
    if (g_cudnnBackendCreateDescriptor(CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR, &heur) != CUDNN_STATUS_SUCCESS) return -1;
    if (set(heur, CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &g->desc[GRAPH]) == 0 &&
        set(heur, CUDNN_ATTR_ENGINEHEUR_MODE, CUDNN_TYPE_HEUR_MODE, 1, &m) == 0 &&
        g_cudnnBackendFinalize(heur) == CUDNN_STATUS_SUCCESS &&
        g_cudnnBackendGetAttribute(heur, CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR, 0, &count, NULL) ==
            CUDNN_STATUS_SUCCESS) {
        if (count > MAX_CFGS) count = MAX_CFGS;
        int made = 0;
        while (made < count && g_cudnnBackendCreateDescriptor(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR, &cfg[made]) == CUDNN_STATUS_SUCCESS)
            made++;
        int64_t got = 0;
        if (made == count &&
            g_cudnnBackendGetAttribute(heur, CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR, count, &got, cfg) ==
                CUDNN_STATUS_SUCCESS)
            n = (int)(got < count ? got : count);
        for (int i = n < 0 ? 0 : n; i < made; i++) g_cudnnBackendDestroyDescriptor(cfg[i]);
    }
    g_cudnnBackendDestroyDescriptor(heur);
    return n;
}

int cudnn_engines_plans(cudnnHandle_t h, struct cudnn_engines *g, enum dtype dt, size_t ws_limit,
                        struct cudnn_engine_plan *out, int max, int *seen)
{
    cudnnBackendDescriptor_t cfg[MAX_CFGS];
    int kept = 0;
    *seen = 0;
    static const cudnnBackendHeurMode_t modes[] = {CUDNN_HEUR_MODE_A, CUDNN_HEUR_MODE_FALLBACK};
    for (int m = 0; m < 2 && kept == 0; m++) {
        int n = heuristics(g, modes[m], cfg);
        for (int i = 0; i < n; i++) {
            struct cudnn_engine_plan p = {cfg[i], NULL, 0, -1, *seen + i};
            int ok = kept < max && allowed(cfg[i], dt, &p.engine) &&
                     g_cudnnBackendCreateDescriptor(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR, &p.plan) == CUDNN_STATUS_SUCCESS;
            int64_t got = 0;
            ok = ok && g_cudnnBackendSetAttribute(p.plan, CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &cfg[i]) == CUDNN_STATUS_SUCCESS &&
                 g_cudnnBackendSetAttribute(p.plan, CUDNN_ATTR_EXECUTION_PLAN_HANDLE, CUDNN_TYPE_HANDLE, 1, &h) == CUDNN_STATUS_SUCCESS &&
                 g_cudnnBackendFinalize(p.plan) == CUDNN_STATUS_SUCCESS &&
                 g_cudnnBackendGetAttribute(p.plan, CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE, CUDNN_TYPE_INT64, 1, &got, &p.ws) == CUDNN_STATUS_SUCCESS &&
                 p.ws >= 0 && (size_t)p.ws <= ws_limit;
            if (ok) out[kept++] = p;
            else cudnn_engine_plan_free(&p);
        }
        if (n > 0) *seen += n;
    }
    return kept;
}

/* The variant pack of operands a, b, out and workspace ws, kept while the pointers stay. */
static int pack(struct cudnn_engines *g, const void *a, const void *b, void *out, void *ws)
{
    if (g->pack && g->pa == a && g->pb == b && g->pout == out && g->pws == ws) return 0;
    if (g->pack) g_cudnnBackendDestroyDescriptor(g->pack);
    g->pack = NULL;
    /* uids of a, b, out per direction: x=1, w=2, y=3 (fwd x,w->y; bwd-data dy,w->dx; bwd-filter x,dy->dw) */
    static const int64_t uids[3][3] = {{1, 2, 3}, {3, 2, 1}, {1, 3, 2}};
    void *ptr[3] = {(void *)a, (void *)b, out};
    cudnnBackendDescriptor_t vp;
    G(g_cudnnBackendCreateDescriptor(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR, &vp));
    g->pack = vp;
    if (set(vp, CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, CUDNN_TYPE_INT64, 3, uids[g->d]) ||
        set(vp, CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, CUDNN_TYPE_VOID_PTR, 3, ptr) ||
        set(vp, CUDNN_ATTR_VARIANT_PACK_WORKSPACE, CUDNN_TYPE_VOID_PTR, 1, &ws))
        return -1;
    G(g_cudnnBackendFinalize(vp));
    g->pa = a; g->pb = b; g->pout = out; g->pws = ws;
    return 0;
}

int cudnn_engines_run(cudnnHandle_t h, struct cudnn_engines *g, const struct cudnn_engine_plan *p,
                      const void *a, const void *b, void *out, void *ws)
{
    if (!p) p = &g->chosen;
    if (pack(g, a, b, out, ws) != 0) {
        if (g->pack) g_cudnnBackendDestroyDescriptor(g->pack);
        g->pack = NULL;
        return -1;
    }
    G(g_cudnnBackendExecute(h, p->plan, g->pack));
    return 0;
}

void cudnn_engine_plan_free(struct cudnn_engine_plan *p)
{
    if (p->plan) g_cudnnBackendDestroyDescriptor(p->plan);
    if (p->cfg) g_cudnnBackendDestroyDescriptor(p->cfg);
    p->plan = p->cfg = NULL;
}

void cudnn_engines_free(struct cudnn_engines *g)
{
    if (!g_cudnnBackendDestroyDescriptor) return;
    cudnn_engine_plan_free(&g->chosen);
    if (g->pack) g_cudnnBackendDestroyDescriptor(g->pack);
    for (int i = GRAPH; i >= X; i--)
        if (g->desc[i]) g_cudnnBackendDestroyDescriptor(g->desc[i]);
    memset(g, 0, sizeof *g);
}
