/* backend_onednn.c: the CPU's vendor variant, as cudnn is the GPU's: the CPU backend's device,
 * threads and elementwise/training ops with oneDNN's GEMM (matmul) and convolutions in its place,
 * so a report shows dlbench's own lowering beside what PyTorch's CPU path runs. fp32, and bf16
 * where the CPU has native bf16 (AVX512-BF16, AMX: oneDNN 2.6 dispatches AMX by default): GEMM
 * with fp32 output, convolutions writing bf16 (fp32 accumulation), as the conv contract says. libdnnl.so.2 is loaded at run time (dlopen): the binary starts without it.
 * Primitives, reorders and scratchpads are made by the first (verified, untimed) call of a shape
 * and kept in a small cache keyed by op, dtype, shape and thread count. */
#include "backend.h"
#include "cpu_ops.h"
#include "cpu_features.h"
#include "cpu_topology.h"
#include <dlfcn.h>
#include <dnnl.h>
#include <dnnl_debug.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The oneDNN functions used, resolved from libdnnl.so.2 by the probe; prototypes from dnnl.h. */
#define DNNL_FUNCS(X)                                                                                      \
    X(dnnl_version) X(dnnl_status2str) X(dnnl_get_effective_cpu_isa) X(dnnl_engine_create) X(dnnl_stream_create) \
    X(dnnl_stream_wait) X(dnnl_memory_desc_init_by_tag) X(dnnl_memory_desc_init_by_strides)                       \
    X(dnnl_memory_desc_equal) X(dnnl_memory_desc_get_size) X(dnnl_memory_create) X(dnnl_memory_set_data_handle)    \
    X(dnnl_memory_destroy) X(dnnl_matmul_desc_init) X(dnnl_dilated_convolution_forward_desc_init)                  \
    X(dnnl_dilated_convolution_backward_data_desc_init) X(dnnl_dilated_convolution_backward_weights_desc_init)     \
    X(dnnl_primitive_attr_create) X(dnnl_primitive_attr_destroy) X(dnnl_primitive_attr_set_scratchpad_mode)        \
    X(dnnl_primitive_desc_create) X(dnnl_primitive_desc_destroy) X(dnnl_primitive_desc_query)                      \
    X(dnnl_primitive_desc_query_md) X(dnnl_reorder_primitive_desc_create) X(dnnl_primitive_create)                 \
    X(dnnl_primitive_destroy) X(dnnl_primitive_execute)
#define DECLARE(f) static __typeof__(&f) p_##f;
DNNL_FUNCS(DECLARE)

static int load_dnnl(char *why, size_t n)
{
    const char *name = getenv("DLBENCH_LIBDNNL") ? getenv("DLBENCH_LIBDNNL") : "libdnnl.so.2"; /* tests point it away */
    void *lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (!lib) { snprintf(why, n, "oneDNN library not found (%s; apt-get install libdnnl2)", name); return -1; }
#define RESOLVE(f) if (!(p_##f = (__typeof__(&f))dlsym(lib, #f))) { snprintf(why, n, "oneDNN too old: lacks %s", #f); return -1; }
    DNNL_FUNCS(RESOLVE)
    const dnnl_version_t *v = p_dnnl_version();
    if (v->major != 2) { snprintf(why, n, "oneDNN %d.%d is not the 2.x API dlbench uses", v->major, v->minor); return -1; }
    return 0;
}

extern const struct backend cpu_backend;
static dnnl_engine_t engine;
static dnnl_stream_t stream;
static int state;                 /* 0 unprobed, 1 usable, -1 not */
static char why_not[256];

static int onednn_probe(char *why, size_t n)
{
    if (!cpu_backend.probe(why, n)) return 0;
    if (state == 0) {
        dnnl_status_t s;
        cpu_amx_enable(NULL, 0);  /* tile state for this process, before oneDNN's AMX kernels run */
        if (load_dnnl(why_not, sizeof why_not) != 0) state = -1;
        else if ((s = p_dnnl_engine_create(&engine, dnnl_cpu, 0)) != dnnl_success ||
                 (s = p_dnnl_stream_create(&stream, engine, dnnl_stream_default_flags)) != dnnl_success) {
            snprintf(why_not, sizeof why_not, "oneDNN: %s creating the CPU engine", p_dnnl_status2str(s));
            state = -1;
        } else state = 1;
    }
    if (state < 0 && why) snprintf(why, n, "%s", why_not);
    return state > 0;
}

static const char *isa_name(dnnl_cpu_isa_t isa)
{
    switch ((int)isa) {
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_sse41: return "sse41";
    default: return "other";
    }
}

static void onednn_info(info_put_fn put, void *u)
{
    char v[64];
    if (!onednn_probe(NULL, 0)) { put(u, "onednn", "status", why_not); return; }
    const dnnl_version_t *ver = p_dnnl_version();
    snprintf(v, sizeof v, "%d.%d.%d", ver->major, ver->minor, ver->patch);
    put(u, "onednn", "version", v);
    put(u, "onednn", "max_isa", isa_name(p_dnnl_get_effective_cpu_isa()));
}

static const char *onednn_unsupported(const char *family, enum dtype dt)
{
    if (strcmp(family, "gemm") && strcmp(family, "conv") && strcmp(family, "train"))
        return "the onednn variant runs GEMM, convolutions and the training step";
    if (dt == DT_F32) return NULL;
    if (dt == DT_BF16) return cpu_has_native_bf16() ? NULL : "no native bf16 on this CPU";
    return dt == DT_TF32 ? "tf32 is a GPU tensor-core format" : "no native fp16 arithmetic on this CPU";
}

/* ---- plans: one primitive per op, dtype, shape and thread count ---- */

enum op { OP_GEMM, OP_FWD, OP_BWD_DATA, OP_BWD_FILTER };

struct key {
    int op, dt, threads, ta, tb, m, n, k;
    struct conv_shape s;
};

/* Per call: user-layout memories get the caller's pointers; an input whose layout the primitive
 * wants different goes through a reorder into `inner`, and the output comes back the same way. */
struct plan {
    struct key key;
    unsigned long used;
    dnnl_primitive_t prim, reorder[3];     /* reorder[0..1]: inputs in, reorder[2]: output out */
    dnnl_memory_t user[3], inner[3], scratch;
    void *buf[3], *scratch_buf;
    int arg[3];                            /* DNNL_ARG_* of inputs a, b and the output */
    char impl[96];
};

#define NPLANS 32
static struct plan plans[NPLANS];
static unsigned long clock_;
static char last_impl[96];

static void plan_free(struct plan *p)
{
    if (p->prim) p_dnnl_primitive_destroy(p->prim);
    for (int i = 0; i < 3; i++) {
        if (p->reorder[i]) p_dnnl_primitive_destroy(p->reorder[i]);
        if (p->user[i]) p_dnnl_memory_destroy(p->user[i]);
        if (p->inner[i]) p_dnnl_memory_destroy(p->inner[i]);
        free(p->buf[i]);
    }
    if (p->scratch) p_dnnl_memory_destroy(p->scratch);
    free(p->scratch_buf);
    memset(p, 0, sizeof *p);
}

/* A failed call: unimplemented (oneDNN has no kernel for the shape/dtype) reads "unsupported: …",
 * which makes the row skipped rather than failed. */
static int dnnl_fail(dnnl_status_t s, const char *what)
{
    if (s == dnnl_unimplemented) cpu_set_error("unsupported: oneDNN has no implementation of %s for this shape and dtype", what);
    else cpu_set_error("oneDNN: %s in %s", p_dnnl_status2str(s), what);
    return -1;
}
#define DNN(call, what) do { dnnl_status_t s_ = (call); if (s_ != dnnl_success) return dnnl_fail(s_, what); } while (0)

/* Binds slot i: the user's layout `user_md` and the primitive's `want`; a reorder when they differ. */
static int bind(struct plan *p, int i, const dnnl_memory_desc_t *user_md, const dnnl_memory_desc_t *want, int out)
{
    DNN(p_dnnl_memory_create(&p->user[i], user_md, engine, DNNL_MEMORY_NONE), "memory_create");
    if (p_dnnl_memory_desc_equal(user_md, want)) return 0;
    dnnl_primitive_desc_t rpd;
    if (!(p->buf[i] = alloc_cpu(p_dnnl_memory_desc_get_size(want)))) { cpu_set_error("out of host memory"); return -1; }
    DNN(p_dnnl_memory_create(&p->inner[i], want, engine, p->buf[i]), "memory_create");
    DNN(p_dnnl_reorder_primitive_desc_create(&rpd, out ? want : user_md, engine, out ? user_md : want, engine, NULL), "reorder");
    dnnl_status_t s = p_dnnl_primitive_create(&p->reorder[i], rpd);
    p_dnnl_primitive_desc_destroy(rpd);
    DNN(s, "reorder");
    return 0;
}

/* Makes the primitive from op descriptor `od` (hint: a forward pd for backward ones), its
 * scratchpad (user mode: allocated here, never inside a timed call) and the three bindings. */
static int finish(struct plan *p, const void *od, const_dnnl_primitive_desc_t hint, const dnnl_memory_desc_t *user_md[3],
                  const dnnl_query_t q[3], const char *what)
{
    dnnl_primitive_attr_t attr;
    dnnl_primitive_desc_t pd;
    const char *impl = NULL;
    DNN(p_dnnl_primitive_attr_create(&attr), "attr");
    p_dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    dnnl_status_t s = p_dnnl_primitive_desc_create(&pd, od, attr, engine, hint);
    p_dnnl_primitive_attr_destroy(attr);
    DNN(s, what);
    int rc = 0;
    for (int i = 0; i < 3 && !rc; i++) rc = bind(p, i, user_md[i], p_dnnl_primitive_desc_query_md(pd, q[i], 0), i == 2);
    const dnnl_memory_desc_t *smd = p_dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    size_t sbytes = smd ? p_dnnl_memory_desc_get_size(smd) : 0;
    if (!rc && sbytes) {
        if (!(p->scratch_buf = alloc_cpu(sbytes))) { cpu_set_error("out of host memory"); rc = -1; }
        else if ((s = p_dnnl_memory_create(&p->scratch, smd, engine, p->scratch_buf)) != dnnl_success) rc = dnnl_fail(s, "scratchpad");
    }
    p_dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
    snprintf(p->impl, sizeof p->impl, "%s%s", impl ? impl : "?", p->reorder[0] || p->reorder[1] || p->reorder[2] ? " +reorder" : "");
    if (!rc && (s = p_dnnl_primitive_create(&p->prim, pd)) != dnnl_success) rc = dnnl_fail(s, what);
    p_dnnl_primitive_desc_destroy(pd);
    return rc;
}

static dnnl_data_type_t dnnl_dt(int dt) { return dt == DT_BF16 ? dnnl_bf16 : dnnl_f32; }

/* C (M,N) = op(A) (M,K) · op(B) (K,N), row-major; a transposed operand is the same memory read
 * through swapped strides, so no copy is made. */
static int make_gemm(struct plan *p)
{
    const struct key *k = &p->key;
    dnnl_memory_desc_t a, b, c;
    dnnl_matmul_desc_t md;
    dnnl_dims_t da = {k->m, k->k}, db = {k->k, k->n}, dc = {k->m, k->n};
    dnnl_dims_t sa = {k->ta ? 1 : k->k, k->ta ? k->m : 1}, sb = {k->tb ? 1 : k->n, k->tb ? k->k : 1}, sc = {k->n, 1};
    DNN(p_dnnl_memory_desc_init_by_strides(&a, 2, da, dnnl_dt(k->dt), sa), "matmul src");
    DNN(p_dnnl_memory_desc_init_by_strides(&b, 2, db, dnnl_dt(k->dt), sb), "matmul weights");
    DNN(p_dnnl_memory_desc_init_by_strides(&c, 2, dc, dnnl_f32, sc), "matmul dst");
    DNN(p_dnnl_matmul_desc_init(&md, &a, &b, NULL, &c), "matmul");
    const dnnl_memory_desc_t *user[3] = {&a, &b, &c};
    const dnnl_query_t q[3] = {dnnl_query_src_md, dnnl_query_weights_md, dnnl_query_dst_md};
    p->arg[0] = DNNL_ARG_SRC; p->arg[1] = DNNL_ARG_WEIGHTS; p->arg[2] = DNNL_ARG_DST;
    return finish(p, &md, NULL, user, q, "matmul");
}

/* Convolutions on NCHW/OIHW user tensors; the primitive picks its own layouts (format `any`) and
 * the reorders to and from them are part of every call, as in a framework fed NCHW tensors. */
static int make_conv(struct plan *p)
{
    const struct key *k = &p->key;
    const struct conv_shape *s = &k->s;
    int P = conv_p(s), Q = conv_q(s);
    dnnl_dims_t dx = {s->n, s->c, s->h, s->w}, dw = {s->k, s->c, s->r, s->s}, dy = {s->n, s->k, P, Q};
    dnnl_dims_t st = {s->stride, s->stride}, dil = {s->dil - 1, s->dil - 1}, pl = {s->pad, s->pad};
    /* right padding that makes oneDNN's output size P x Q exactly */
    dnnl_dims_t pr = {(P - 1) * s->stride + (s->r - 1) * s->dil + 1 - s->h - s->pad,
                      (Q - 1) * s->stride + (s->s - 1) * s->dil + 1 - s->w - s->pad};
    dnnl_data_type_t in = dnnl_dt(k->dt);
    dnnl_data_type_t tx = in, tw = in, ty = in;   /* a convolution writes its dtype (struct conv_ops) */
    dnnl_memory_desc_t ux, uw, uy, ax, aw, ay;
    DNN(p_dnnl_memory_desc_init_by_tag(&ux, 4, dx, tx, dnnl_nchw), "conv src");
    DNN(p_dnnl_memory_desc_init_by_tag(&uw, 4, dw, tw, dnnl_oihw), "conv weights");
    DNN(p_dnnl_memory_desc_init_by_tag(&uy, 4, dy, ty, dnnl_nchw), "conv dst");
    DNN(p_dnnl_memory_desc_init_by_tag(&ax, 4, dx, tx, dnnl_format_tag_any), "conv src");
    DNN(p_dnnl_memory_desc_init_by_tag(&aw, 4, dw, tw, dnnl_format_tag_any), "conv weights");
    DNN(p_dnnl_memory_desc_init_by_tag(&ay, 4, dy, ty, dnnl_format_tag_any), "conv dst");
    dnnl_convolution_desc_t fwd, cd;
    DNN(p_dnnl_dilated_convolution_forward_desc_init(&fwd, dnnl_forward_training, dnnl_convolution_direct, &ax, &aw, NULL,
                                                     &ay, st, dil, pl, pr), "convolution forward");
    if (k->op == OP_FWD) {
        const dnnl_memory_desc_t *user[3] = {&ux, &uw, &uy};
        const dnnl_query_t q[3] = {dnnl_query_src_md, dnnl_query_weights_md, dnnl_query_dst_md};
        p->arg[0] = DNNL_ARG_SRC; p->arg[1] = DNNL_ARG_WEIGHTS; p->arg[2] = DNNL_ARG_DST;
        return finish(p, &fwd, NULL, user, q, "convolution forward");
    }
    /* The backward primitives want a forward one as a hint: all tensors in the input dtype, as a
     * bf16 training step's forward pass has them. */
    dnnl_memory_desc_t hx, hw, hy;
    dnnl_convolution_desc_t hd;
    dnnl_primitive_desc_t hint;
    DNN(p_dnnl_memory_desc_init_by_tag(&hx, 4, dx, in, dnnl_format_tag_any), "conv src");
    DNN(p_dnnl_memory_desc_init_by_tag(&hw, 4, dw, in, dnnl_format_tag_any), "conv weights");
    DNN(p_dnnl_memory_desc_init_by_tag(&hy, 4, dy, in, dnnl_format_tag_any), "conv dst");
    DNN(p_dnnl_dilated_convolution_forward_desc_init(&hd, dnnl_forward_training, dnnl_convolution_direct, &hx, &hw, NULL,
                                                     &hy, st, dil, pl, pr), "convolution forward");
    DNN(p_dnnl_primitive_desc_create(&hint, &hd, NULL, engine, NULL), "convolution forward (the backward's hint)");
    int rc;
    if (k->op == OP_BWD_DATA) { /* (dy, w) -> dx */
        dnnl_status_t s2 = p_dnnl_dilated_convolution_backward_data_desc_init(&cd, dnnl_convolution_direct, &ax, &aw, &ay, st, dil, pl, pr);
        const dnnl_memory_desc_t *user[3] = {&uy, &uw, &ux};
        const dnnl_query_t q[3] = {dnnl_query_diff_dst_md, dnnl_query_weights_md, dnnl_query_diff_src_md};
        p->arg[0] = DNNL_ARG_DIFF_DST; p->arg[1] = DNNL_ARG_WEIGHTS; p->arg[2] = DNNL_ARG_DIFF_SRC;
        rc = s2 != dnnl_success ? dnnl_fail(s2, "convolution backward-data") : finish(p, &cd, hint, user, q, "convolution backward-data");
    } else {                    /* (x, dy) -> dw */
        dnnl_status_t s2 = p_dnnl_dilated_convolution_backward_weights_desc_init(&cd, dnnl_convolution_direct, &ax, &aw, NULL, &ay, st, dil, pl, pr);
        const dnnl_memory_desc_t *user[3] = {&ux, &uy, &uw};
        const dnnl_query_t q[3] = {dnnl_query_src_md, dnnl_query_diff_dst_md, dnnl_query_diff_weights_md};
        p->arg[0] = DNNL_ARG_SRC; p->arg[1] = DNNL_ARG_DIFF_DST; p->arg[2] = DNNL_ARG_DIFF_WEIGHTS;
        rc = s2 != dnnl_success ? dnnl_fail(s2, "convolution backward-filter") : finish(p, &cd, hint, user, q, "convolution backward-filter");
    }
    p_dnnl_primitive_desc_destroy(hint);
    return rc;
}

/* The cached plan for key, made on first use (the least recently used one gives way). */
static struct plan *get_plan(const struct key *k)
{
    struct plan *victim = &plans[0];
    for (int i = 0; i < NPLANS; i++) {
        if (plans[i].prim && !memcmp(&plans[i].key, k, sizeof *k)) { plans[i].used = ++clock_; return &plans[i]; }
        if (plans[i].used < victim->used) victim = &plans[i];
    }
    plan_free(victim);
    victim->key = *k;
    if ((k->op == OP_GEMM ? make_gemm(victim) : make_conv(victim)) != 0) { plan_free(victim); return NULL; }
    victim->used = ++clock_;
    return victim;
}

static int run_plan(struct plan *p, const void *a, const void *b, void *out)
{
    void *ptr[3] = {(void *)a, (void *)b, out};
    dnnl_exec_arg_t args[4];
    for (int i = 0; i < 3; i++) {
        DNN(p_dnnl_memory_set_data_handle(p->user[i], ptr[i]), "set_data_handle");
        if (i < 2 && p->reorder[i]) {
            dnnl_exec_arg_t r[2] = {{DNNL_ARG_FROM, p->user[i]}, {DNNL_ARG_TO, p->inner[i]}};
            DNN(p_dnnl_primitive_execute(p->reorder[i], stream, 2, r), "reorder");
        }
        args[i] = (dnnl_exec_arg_t){p->arg[i], p->inner[i] ? p->inner[i] : p->user[i]};
    }
    int nargs = 3;
    if (p->scratch) args[nargs++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, p->scratch};
    DNN(p_dnnl_primitive_execute(p->prim, stream, nargs, args), "execute");
    if (p->reorder[2]) {
        dnnl_exec_arg_t r[2] = {{DNNL_ARG_FROM, p->inner[2]}, {DNNL_ARG_TO, p->user[2]}};
        DNN(p_dnnl_primitive_execute(p->reorder[2], stream, 2, r), "reorder");
    }
    DNN(p_dnnl_stream_wait(stream), "stream_wait");
    snprintf(last_impl, sizeof last_impl, "%s", p->impl);
    return 0;
}

/* 0 when oneDNN is loaded and dt runs natively; else -1 with the error set. */
static int ready(enum dtype dt)
{
    if (!onednn_probe(NULL, 0)) { cpu_set_error("%s", why_not); return -1; }
    if (dt == DT_F32 || (dt == DT_BF16 && cpu_has_native_bf16())) return 0;
    cpu_set_error("unsupported: %s on the onednn variant", dtype_name(dt));
    return -1;
}

static int gemm_onednn(enum dtype dt, int ta, int tb, int m, int n, int k, const void *a, const void *b, float *c)
{
    struct key key;
    memset(&key, 0, sizeof key);  /* compared with memcmp: padding included */
    key.op = OP_GEMM; key.dt = dt; key.threads = omp_get_max_threads();
    key.ta = ta; key.tb = tb; key.m = m; key.n = n; key.k = k;
    if (ready(dt)) return -1;
    struct plan *p = get_plan(&key);
    return p ? run_plan(p, a, b, c) : -1;
}

static int conv_onednn(int op, enum dtype dt, const struct conv_shape *s, const void *a, const void *b, void *out)
{
    struct key key;
    memset(&key, 0, sizeof key);
    key.op = op; key.dt = dt; key.threads = omp_get_max_threads(); key.s = *s;
    if (ready(dt)) return -1;
    struct plan *p = get_plan(&key);
    return p ? run_plan(p, a, b, out) : -1;
}

static int conv_fwd_onednn(enum dtype dt, const struct conv_shape *s, const void *x, const void *w, void *y)
{ return conv_onednn(OP_FWD, dt, s, x, w, y); }
static int conv_bwd_data_onednn(enum dtype dt, const struct conv_shape *s, const void *dy, const void *w, void *dx)
{ return conv_onednn(OP_BWD_DATA, dt, s, dy, w, dx); }
static int conv_bwd_filter_onednn(enum dtype dt, const struct conv_shape *s, const void *x, const void *dy, void *dw)
{ return conv_onednn(OP_BWD_FILTER, dt, s, x, dy, dw); }

static const char *onednn_impl(void)   /* the last note, once */
{
    static char out[96];
    if (!last_impl[0]) return NULL;
    snprintf(out, sizeof out, "%s", last_impl);
    last_impl[0] = 0;
    return out;
}

static const struct matmul_ops onednn_matmul = {.gemm = gemm_onednn};
static const struct conv_ops onednn_conv = {
    .fwd = conv_fwd_onednn, .bwd_data = conv_bwd_data_onednn, .bwd_filter = conv_bwd_filter_onednn};

const struct backend onednn_backend = {
    .name = "onednn",
    .kind = BACKEND_CPU,
    .base = &cpu_backend,
    .probe = onednn_probe,
    .info = onednn_info,
    .unsupported = onednn_unsupported,
    .impl = onednn_impl,
    .dev = &cpu_device,
    .mm = &onednn_matmul,
    .conv = &onednn_conv,
    .elt = &cpu_eltwise,
    .train = &cpu_train,
};
