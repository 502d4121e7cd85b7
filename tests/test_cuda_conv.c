/* test_cuda_conv.c: convolution on the CUDA backend and its cuDNN variant, all directions, every
 * dtype (fp32, tf32, fp16, bf16: fp16/bf16 outputs converted for the check), awkward shapes, the
 * lowering cut into several chunks, the implicit GEMM forced, cuDNN's channels-last path and its
 * transposes, its graph-API paths, and the impl notes; skipped without a usable GPU. */
#include "conv_cases_test.h"
#include "cuda_ops.h"
#include <stdlib.h>
#include <string.h>

static const struct backend *cudnn_or_skip(void)
{
    cuda_or_skip();
    return backend_or_skip("cudnn", "built without cuDNN");
}

Test(cuda_conv, fp32) { check_convs(cuda_or_skip(), DT_F32); }
Test(cuda_conv, tf32) { check_convs(cuda_or_skip(), DT_TF32); }
Test(cuda_conv, fp16) { check_convs(cuda_or_skip(), DT_F16); }
Test(cuda_conv, bf16) { check_convs(cuda_or_skip(), DT_BF16); }

/* A 24000-byte lowering budget: 2 images per chunk for the 5-image shape (2, 2, 1), so the
 * backward-filter accumulates across chunks and the last chunk is smaller. The lowered ways are
 * forced: a measured choice of the implicit GEMM would leave the chunks unchecked. */
Test(cuda_conv, several_chunks)
{
    setenv("DLBENCH_CONV_WS_MAX", "24000", 1);   /* read once, by this test's own process */
    const struct backend *b = cuda_or_skip();
    conv_cuda_force_path(1);
    check_convs(b, DT_F32);
    check_convs(b, DT_BF16);
    conv_cuda_force_path(0);
}

/* The implicit GEMMs (gpu/conv_igemm.cuh, conv_igemm_f32.cuh) forced for fp32 and, on sm_80+,
 * fp16 and bf16: the forward, the backward-data (stride phases) and the backward-filter run them
 * on the awkward shapes, checked like every path; the notes say they ran. */
Test(cuda_conv, implicit_gemm_forced)
{
    const struct backend *b = cuda_or_skip();
    conv_cuda_force_path(2);
    check_convs(b, DT_F32);
    if (conv_cuda_has_igemm()) {
        check_convs(b, DT_F16);
        check_convs(b, DT_BF16);
    }
    const struct workload *w = workload_find("conv_fwd");
    const struct conv_shape s = {2, 16, 10, 10, 32, 3, 3, 1, 1, 1};
    char why[256];
    void *st = w->setup(b, &s, DT_F32, 3, why, sizeof why);
    cr_assert_not_null(st, "%s", why);
    b->impl();
    cr_assert_eq(w->call(st), 0, "%s", b->dev->error());
    const char *note = b->impl();
    cr_expect(strstr(note, "implicit GEMM") != NULL, "note: %s", note);
    w->teardown(st);
    /* a strided backward-data runs its stride phases */
    const struct workload *wd = workload_find("conv_bwd_data");
    const struct conv_shape s2 = {2, 16, 10, 10, 32, 3, 3, 2, 1, 1};
    st = wd->setup(b, &s2, DT_F32, 3, why, sizeof why);
    cr_assert_not_null(st, "%s", why);
    cr_assert_eq(wd->call(st), 0, "%s", b->dev->error());
    note = b->impl();
    cr_expect(strstr(note, "implicit GEMM") && strstr(note, "4 stride phases"), "note: %s", note);
    wd->teardown(st);
    conv_cuda_force_path(0);
}

Test(cuda_conv, cudnn_fp32) { check_convs(cudnn_or_skip(), DT_F32); }
Test(cuda_conv, cudnn_tf32) { check_convs(cudnn_or_skip(), DT_TF32); }
Test(cuda_conv, cudnn_fp16) { check_convs(cudnn_or_skip(), DT_F16); }
Test(cuda_conv, cudnn_bf16) { check_convs(cudnn_or_skip(), DT_BF16); }

#ifdef HAVE_CUDA
/* conv_layout_cuda: (rows, cols) -> (cols, rows) per batch item, bit for bit, on sizes that are
 * not multiples of the 32 x 32 tile, for 2- and 4-byte storage; and back again. */
Test(cuda_conv, layout_transpose_matches_host)
{
    const struct backend *b = cuda_or_skip();
    const int batch = 3, rows = 37, cols = 70;
    const size_t n = (size_t)batch * rows * cols;
    static const enum dtype dts[] = {DT_F32, DT_BF16};
    for (int t = 0; t < 2; t++) {
        size_t es = dtype_size(dts[t]);
        unsigned char *h = malloc(n * es), *want = malloc(n * es), *got = malloc(n * es);
        for (size_t i = 0; i < n * es; i++) h[i] = (unsigned char)(i * 2654435761u >> 13);
        for (int z = 0; z < batch; z++)
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++)
                    memcpy(want + (((size_t)z * cols + c) * rows + r) * es, h + (((size_t)z * rows + r) * cols + c) * es, es);
        void *d0 = b->dev->alloc(n * es), *d1 = b->dev->alloc(n * es);
        cr_assert(d0 && d1, "%s", b->dev->error());
        cr_assert_eq(b->dev->upload(d0, h, n * es), 0);
        cr_assert_eq(conv_layout_cuda(dts[t], batch, rows, cols, d0, d1), 0, "%s", b->dev->error());
        cr_assert_eq(b->dev->download(got, d1, n * es), 0);
        cr_expect_eq(memcmp(got, want, n * es), 0, "%s: NCHW -> NHWC differs from the host's transpose", dtype_name(dts[t]));
        cr_assert_eq(conv_layout_cuda(dts[t], batch, cols, rows, d1, d0), 0, "%s", b->dev->error());
        cr_assert_eq(b->dev->download(got, d0, n * es), 0);
        cr_expect_eq(memcmp(got, h, n * es), 0, "%s: there and back again is not the input", dtype_name(dts[t]));
        b->dev->release(d0);
        b->dev->release(d1);
        free(h); free(want); free(got);
    }
}
#endif

#ifdef HAVE_CUDNN
/* With cuDNN path `path` forced (cudnn_conv_layout), every direction on two regular layers and the
 * awkward shapes, each output checked against the reference (a shape the path cannot take falls
 * back to another path and is checked there). Returns how many calls' notes begin with `want`:
 * the path ran rather than fell back. The regular layers are there because an engine may refuse
 * every awkward shape for a reason of cuDNN's own. */
static int forced_path_runs(const struct backend *b, enum dtype dt, int path, const char *want)
{
    static const struct conv_shape regular[] = {{2, 16, 10, 10, 32, 3, 3, 1, 1, 1}, {2, 32, 8, 8, 64, 1, 1, 1, 0, 1}};
    static const char *const names[] = {"conv_fwd", "conv_bwd_data", "conv_bwd_filter"};
    const size_t shapes = 2 + sizeof awkward_convs / sizeof awkward_convs[0];
    char why[256];
    int ran = 0;
    cudnn_conv_layout = path;
    for (int d = 0; d < 3; d++) {
        const struct workload *w = workload_find(names[d]);
        for (size_t k = 0; k < shapes; k++) {
            const struct conv_shape *s = k < 2 ? &regular[k] : &awkward_convs[k - 2];
            void *st = w->setup(b, s, dt, 13 + k, why, sizeof why);
            cr_assert_not_null(st, "%s setup: %s", names[d], why);
            b->impl();
            cr_assert_eq(w->call(st), 0, "%s call: %s", names[d], b->dev->error());
            const char *note = b->impl();
            ran += strncmp(note, want, strlen(want)) == 0;
            double e = w->check(st, why, sizeof why), tol = w->tolerance(s, dt);
            cr_expect(e >= 0 && e <= tol, "%s %s shape %zu: error %g, tolerance %g (%s)", names[d], dtype_name(dt), k, e, tol, note);
            w->teardown(st);
        }
    }
    cudnn_conv_layout = -1;
    return ran;
}

/* The channels-last path (inputs transposed to NHWC, cuDNN's legacy NHWC kernels, the output
 * transposed back) in every tensor-op dtype, whether or not the search would pick it: it ran on
 * some shapes of each (all of them falling back would leave the path untested). */
Test(cuda_conv, cudnn_channels_last_path)
{
    const struct backend *b = cudnn_or_skip();
    static const enum dtype dts[] = {DT_TF32, DT_F16, DT_BF16};
    for (size_t i = 0; i < sizeof dts / sizeof dts[0]; i++)
        cr_expect_gt(forced_path_runs(b, dts[i], 1, "cuDNN find: NHWC "), 0, "%s: no shape ran the NHWC path",
                     dtype_name(dts[i]));
}

/* The graph API's paths (conv_engines_cudnn.c), forced: on NCHW operands in every dtype, on the
 * channels-last copies in the tensor-op dtypes; each ran on some shapes of every dtype. */
Test(cuda_conv, cudnn_graph_paths)
{
    const struct backend *b = cudnn_or_skip();
    static const enum dtype dts[] = {DT_F32, DT_TF32, DT_F16, DT_BF16};
    for (size_t i = 0; i < sizeof dts / sizeof dts[0]; i++) {
        cr_expect_gt(forced_path_runs(b, dts[i], 2, "cuDNN graph: engine "), 0, "%s: no shape ran the graph API's NCHW path",
                     dtype_name(dts[i]));
        if (dts[i] != DT_F32)   /* fp32 has no channels-last path */
            cr_expect_gt(forced_path_runs(b, dts[i], 3, "cuDNN graph: NHWC "), 0,
                         "%s: no shape ran the graph API's NHWC path", dtype_name(dts[i]));
    }
}
#endif

/* Each backend names what it ran; the note is handed out once. cuDNN's comes from its search and
 * stays with the cached plan for later calls of the same case. */
Test(cuda_conv, impl_notes_name_the_algorithm)
{
    const struct backend *backs[] = {cuda_or_skip(), backend_find("cudnn")};
    const struct workload *w = workload_find("conv_bwd_filter");
    const struct conv_shape s = {4, 3, 9, 9, 5, 3, 3, 1, 1, 1};
    char why[256];
    for (int i = 0; i < 2; i++) {
        const struct backend *b = backs[i];
        if (!b || !b->probe(why, sizeof why)) continue;
        void *st = w->setup(b, &s, DT_F32, 5, why, sizeof why);
        cr_assert_not_null(st, "%s", why);
        b->impl();
        for (int call = 0; call < 2; call++) {
            cr_assert_eq(w->call(st), 0, "%s", b->dev->error());
            const char *note = b->impl();
            cr_expect(strlen(note) > 10, "%s call %d left no impl note", b->name, call);
            if (i == 1) cr_expect(!strncmp(note, "cuDNN find: ", 12) || !strncmp(note, "cuDNN graph: ", 13), "%s", note);
            cr_expect_str_eq(b->impl(), "", "%s: the note is handed out once", b->name);
        }
        w->teardown(st);
    }
}
