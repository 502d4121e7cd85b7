/* backend_cpu.c: the CPU backend's tables: host memory, wall-clock timing, OpenMP/OpenBLAS
 * threads, machine facts (device_ops), and its operations (cpu/<op>_<pass>_cpu.c). */
#include "backend.h"
#include "cpu_ops.h"
#include "cpu_topology.h"
#include "cpu_features.h"
#include "openblas_core.h"
#include <cblas.h>
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char err[256];
static struct timespec t0;

void cpu_set_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, sizeof err, fmt, ap);
    va_end(ap);
}

/* Always usable; says once when OpenBLAS is not its OpenMP build (its own threads beside ours
 * oversubscribe the cores: measured up to 5x slower). */
static int cpu_probe(char *why, size_t n)
{
    static int warned;
    (void)why; (void)n;
    if (!warned++ && openblas_get_parallel() != 2)
        fprintf(stderr, "dlbench: warning: OpenBLAS is not its OpenMP build (%s); CPU figures will suffer\n",
                openblas_get_config());
    return 1;
}

static const char *cpu_device_name(void) { return cpu_topology()->model; }

static int cpu_set_threads(int n)
{
    omp_set_num_threads(n);
    openblas_set_num_threads(n); /* the OpenMP build also sets omp max threads: keep both equal */
    return 0;
}

static const char *cpu_unsupported(const char *family, enum dtype dt)
{
    if (strcmp(family, "transfer") == 0) return "host-device transfers are measured on GPU backends only";
    if (strcmp(family, "collective") == 0) return dt == DT_F32 || dt == DT_BF16 ? NULL : "collectives run fp32 and bf16";
    switch (dt) {
    case DT_F32: return NULL;
    case DT_TF32: return "tf32 is a GPU tensor-core format";
    case DT_F16: return "no native fp16 arithmetic on this CPU";
    case DT_BF16:
        if (!cpu_has_native_bf16()) return "no native bf16 on this CPU";
        if (strcmp(family, "gemm") != 0) return "bf16 only for gemm on the CPU";
        return gemm_bf16_cpu_available() ? NULL : "no bf16 kernel in this build";
    default: return "unknown dtype";
    }
}

static size_t cpu_mem_free(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    unsigned long long kb = 0;
    if (!f) return (size_t)1 << 40;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) break;
    fclose(f);
    return (size_t)kb * 1024;
}

/* The backend's buffers: alloc_cpu (page-aligned, huge pages from 4 MiB), the failure as a reason. */
static void *cpu_alloc(size_t bytes)
{
    void *p = alloc_cpu(bytes);
    if (!p) snprintf(err, sizeof err, "out of host memory (%.2f GiB requested)", bytes / 1073741824.0);
    return p;
}

static void cpu_release(void *p) { free(p); }

/* Copies in parallel chunks so each page is first touched by the thread that will use it. */
static int cpu_copy(void *dst, const void *src, size_t bytes)
{
    const size_t chunk = (size_t)1 << 20;
    long nchunks = (long)((bytes + chunk - 1) / chunk);
#pragma omp parallel for schedule(static)
    for (long i = 0; i < nchunks; i++) {
        size_t off = (size_t)i * chunk, len = bytes - off < chunk ? bytes - off : chunk;
        memcpy((char *)dst + off, (const char *)src + off, len);
    }
    return 0;
}

static int cpu_sync(void) { return 0; }

static int cpu_timer_start(void) { clock_gettime(CLOCK_MONOTONIC, &t0); return 0; }

static int cpu_timer_stop(double *s)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    *s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    return 0;
}

static const char *cpu_error(void) { return err; }

enum cpu_op_impl cpu_last_impl;

const char *cpu_impl(void)   /* the last note, once */
{
    enum cpu_op_impl last = cpu_last_impl;
    cpu_last_impl = CPU_IMPL_NONE;
    switch (last) {
    case CPU_IMPL_SGEMM: return gemm_cpu_note();
    case CPU_IMPL_BF16_KERNEL: return "dlbench AVX512-BF16 kernel (vdpbf16ps)";
    case CPU_IMPL_AMX_KERNEL: return "dlbench AMX-BF16 kernel (tdpbf16ps)";
    case CPU_IMPL_IM2COL_SGEMM: return conv_cpu_note();
    case CPU_IMPL_ATTENTION: return attention_cpu_note();
    default: return NULL;
    }
}

static void cpu_info(info_put_fn put, void *u)
{
    const struct cpu_topology *c = cpu_topology();
    char v[256];
    put(u, "cpu", "model", c->model);
    snprintf(v, sizeof v, "%d", c->packages); put(u, "cpu", "packages", v);
    snprintf(v, sizeof v, "%d", c->cores); put(u, "cpu", "cores", v);
    snprintf(v, sizeof v, "%d", c->pus); put(u, "cpu", "pus", v);
    snprintf(v, sizeof v, "%d", c->numa_nodes); put(u, "cpu", "numa_nodes", v);
    snprintf(v, sizeof v, "%zu", c->l1d); put(u, "cpu", "l1d_bytes", v);
    snprintf(v, sizeof v, "%zu", c->l2); put(u, "cpu", "l2_bytes", v);
    snprintf(v, sizeof v, "%zu x %d", c->l3, c->l3_instances); put(u, "cpu", "l3_bytes", v);
    snprintf(v, sizeof v, "%.1f", c->mem_total / 1073741824.0); put(u, "cpu", "memory_gib", v);
    put(u, "cpu", "native_bf16", cpu_has_native_bf16() ? "yes (avx512_bf16)" : "no");
    const struct cpu_features *f = cpu_features();
    put(u, "cpu", "vector_isa", vec_isa_name(cpu_vec_isa(f)));
    enum bf16_path bp = cpu_bf16_path(f);
    char why[160];
    if (bp == BF16_AMX && cpu_amx_enable(why, sizeof why) != 0) {
        snprintf(v, sizeof v, "AVX512-BF16 (%s)", why);
        put(u, "cpu", "bf16_path", v);
    } else put(u, "cpu", "bf16_path", bf16_path_name(bp));
    snprintf(v, sizeof v, "%d", omp_get_max_threads()); put(u, "cpu", "omp_threads", v);
    const char *pl = getenv("OMP_PLACES"), *pb = getenv("OMP_PROC_BIND");
    snprintf(v, sizeof v, "OMP_PLACES=%s OMP_PROC_BIND=%s", pl ? pl : "(unset)", pb ? pb : "(unset)");
    put(u, "cpu", "omp_binding", v);
    put(u, "cpu", "openblas_config", openblas_get_config());
    put(u, "cpu", "openblas_core", openblas_get_corename());
    put(u, "cpu", "openblas_core_why", openblas_core_why());
    int par = openblas_get_parallel();
    put(u, "cpu", "openblas_parallel", par == 2 ? "openmp" : par == 1 ? "pthreads (oversubscribes: rebuild against openblas-openmp)" : "serial");
    cpu_governor(v, sizeof v);
    put(u, "cpu", "governor", v);
    double mhz[1024];
    const char *src = "";
    int nm = cpu_core_mhz(mhz, 1024, &src);
    size_t len = 0;
    for (int i = 0; i < nm && len + 8 < sizeof v; i++) len += (size_t)snprintf(v + len, sizeof v - len, "%s%.0f", i ? " " : "", mhz[i]);
    if (nm == 0) snprintf(v, sizeof v, "n/a: no core frequency readable");
    put(u, "cpu", "core_mhz", v);
    put(u, "cpu", "core_mhz_source", nm ? src : "none");
}

const struct device_ops cpu_device = {
    .name = cpu_device_name,
    .set_threads = cpu_set_threads,
    .mem_free = cpu_mem_free,
    .cache_bytes = cpu_llc_bytes,
    .alloc = cpu_alloc,
    .release = cpu_release,
    .upload = cpu_copy,
    .download = cpu_copy,
    .sync = cpu_sync,
    .timer_start = cpu_timer_start,
    .timer_stop = cpu_timer_stop,
    .error = cpu_error,
    .energy_read = energy_read_cpu,
    .fill = fill_cpu,
    .scan_nonfinite = scan_nonfinite_cpu,
    .state_read = state_read_cpu,
};
static const struct matmul_ops cpu_matmul = {.gemm = gemm_cpu};
static const struct conv_ops cpu_conv = {
    .fwd = conv_fwd_cpu, .bwd_data = conv_bwd_data_cpu, .bwd_filter = conv_bwd_filter_cpu};
const struct eltwise_ops cpu_eltwise = {
    .copy = copy_cpu, .scale = scale_cpu, .add = add_cpu, .triad = triad_cpu, .dot = dot_cpu,
    .relu_fwd = relu_fwd_cpu, .relu_bwd = relu_bwd_cpu, .gelu_fwd = gelu_fwd_cpu, .gelu_bwd = gelu_bwd_cpu,
    .bias_add = bias_add_cpu, .softmax_fwd = softmax_fwd_cpu, .layernorm_fwd = layernorm_fwd_cpu,
    .sgd_update = sgd_update_cpu, .adam_update = adam_update_cpu, .cast = cast_cpu,
};
const struct train_ops cpu_train = {
    .bias_bwd = bias_bwd_cpu, .maxpool2_fwd = maxpool2_fwd_cpu, .maxpool2_bwd = maxpool2_bwd_cpu,
    .softmax_xent = softmax_xent_cpu,
};
static const struct attention_ops cpu_attention = {
    .workspace = attention_workspace_cpu, .fwd = attention_fwd_cpu, .bwd = attention_bwd_cpu};
static const struct transformer_ops cpu_transformer = {
    .gemm = xf_gemm_cpu, .embed_fwd = xf_embed_fwd_cpu, .embed_bwd = xf_embed_bwd_cpu,
    .layernorm_fwd = xf_layernorm_fwd_cpu, .layernorm_bwd = xf_layernorm_bwd_cpu, .bias_add = xf_bias_add_cpu,
    .bias_gelu = xf_bias_gelu_cpu, .bias_residual = xf_bias_residual_cpu, .gelu_bwd = xf_gelu_bwd_cpu,
    .bias_grad = xf_bias_grad_cpu, .xent = xf_xent_cpu, .adamw = adamw_update_cpu, .cast = xf_cast_cpu,
};
static const struct peak_ops cpu_peak = {.flops_per_iter = peak_flops_per_iter_cpu, .run = peak_cpu, .path = peak_path_cpu};

const struct backend cpu_backend = {
    .name = "cpu",
    .kind = BACKEND_CPU,
    .probe = cpu_probe,
    .info = cpu_info,
    .unsupported = cpu_unsupported,
    .impl = cpu_impl,
    .dev = &cpu_device,
    .mm = &cpu_matmul,
    .conv = &cpu_conv,
    .elt = &cpu_eltwise,
    .train = &cpu_train,
    .attn = &cpu_attention,
    .xformer = &cpu_transformer,
#ifdef HAVE_MPI
    .coll = &cpu_collectives,
#endif
    .peak = &cpu_peak,
};
