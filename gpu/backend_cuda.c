/* backend_cuda.c: the CUDA backend's tables: probing (driver, device, compute mode), device memory,
 * event timing on one stream, machine facts, and the sticky-error rule that disables the backend. */
#include "backend.h"
#include "cuda_check.h"
#include "cuda_ops.h"
#include "cuda_state.h"
#include <dlfcn.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

cudaStream_t cuda_stream;
cublasHandle_t cublas_handle;
int cuda_sm_count = 1;
int cuda_cc;
static cudaEvent_t ev_start, ev_stop;
static int state;                  /* 0 unprobed, 1 usable, -1 unusable/disabled (see why_not) */
static char why_not[256], err[320];
static struct cudaDeviceProp prop;

static int is_sticky(cudaError_t e)
{
    switch (e) {
    case cudaErrorIllegalAddress: case cudaErrorLaunchFailure: case cudaErrorHardwareStackError:
    case cudaErrorIllegalInstruction: case cudaErrorMisalignedAddress: case cudaErrorInvalidAddressSpace:
    case cudaErrorInvalidPc: case cudaErrorAssert: case cudaErrorECCUncorrectable:
    case cudaErrorLaunchTimeout: case cudaErrorUnknown:
        return 1;
    default:
        return 0;
    }
}

void cuda_fail(cudaError_t e, const char *call, const char *file, int line)
{
    snprintf(err, sizeof err, "%s in %s at %s:%d", cudaGetErrorString(e), call, file, line);
    if (e == cudaErrorMemoryAllocation)
        snprintf(err, sizeof err, "out of device memory (%s)", call);
    cudaGetLastError(); /* clear non-sticky errors so the next case starts clean */
    if (is_sticky(e)) {
        state = -1;
        snprintf(why_not, sizeof why_not, "disabled after a sticky CUDA error: %s", cudaGetErrorString(e));
    }
}

void cublas_fail(cublasStatus_t s, const char *call, const char *file, int line)
{
    snprintf(err, sizeof err, "%s in %s at %s:%d", cublas_lib.GetStatusString(s), call, file, line);
    cudaError_t e = cudaGetLastError(); /* a kernel fault inside cuBLAS is sticky too */
    if (is_sticky(e)) cuda_fail(e, call, file, line);
}

void cuda_set_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, sizeof err, fmt, ap);
    va_end(ap);
}

/* The impl note (backend.h): left by an op, handed out and forgotten by cuda_impl(). */
static char impl_note[160], impl_out[160];

void cuda_set_impl(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(impl_note, sizeof impl_note, fmt, ap);
    va_end(ap);
}

static const char *cuda_impl(void)
{
    snprintf(impl_out, sizeof impl_out, "%s", impl_note);
    impl_note[0] = 0;
    return impl_out;
}

static int open_device(void)
{
    int count = 0, mode = 0;
    /* Multi-process runs give each rank its GPU (harness/dist: DLBENCH_GPU = the local rank). */
    const char *env = getenv("DLBENCH_GPU"), *lr = getenv("DLBENCH_LOCAL_RANK");
    int dev = env ? atoi(env) : 0;
    cudaError_t e = cudaGetDeviceCount(&count); /* leaves count unwritten without a driver */
    if (e == cudaErrorInsufficientDriver) {
        int rt = 0; cudaRuntimeGetVersion(&rt);
        snprintf(why_not, sizeof why_not, "no CUDA driver, or one older than runtime %d.%d", rt / 1000, rt % 1000 / 10);
        return -1;
    }
    if (e == cudaErrorNoDevice || (e == cudaSuccess && count == 0)) { snprintf(why_not, sizeof why_not, "no GPU"); return -1; }
    if (e != cudaSuccess) { snprintf(why_not, sizeof why_not, "no usable GPU: %s", cudaGetErrorString(e)); return -1; }
    if (dev < 0 || dev >= count) {
        snprintf(why_not, sizeof why_not, "no GPU for local rank %s (%d GPUs on this node)", lr ? lr : env, count);
        return -1;
    }
    if (cudaGetDeviceProperties(&prop, dev) != cudaSuccess) { snprintf(why_not, sizeof why_not, "cannot query GPU %d", dev); return -1; }
    if (cudaDeviceGetAttribute(&mode, cudaDevAttrComputeMode, dev) == cudaSuccess && mode == cudaComputeModeProhibited) {
        snprintf(why_not, sizeof why_not, "GPU %d is in prohibited compute mode", dev); return -1;
    }
    cuda_sm_count = prop.multiProcessorCount > 0 ? prop.multiProcessorCount : 1;
    cuda_cc = prop.major * 10 + prop.minor;
    if (prop.major * 10 + prop.minor < 75) {
        snprintf(why_not, sizeof why_not, "GPU %d is sm_%d%d; this build targets sm_75 and newer", dev, prop.major, prop.minor);
        return -1;
    }
    if ((e = cudaSetDevice(dev)) != cudaSuccess || (e = cudaFree(0)) != cudaSuccess) {
        snprintf(why_not, sizeof why_not, "GPU %d busy or unavailable: %s", dev, cudaGetErrorString(e)); return -1;
    }
    if (cudaStreamCreateWithFlags(&cuda_stream, cudaStreamNonBlocking) != cudaSuccess ||
        cudaEventCreate(&ev_start) != cudaSuccess || cudaEventCreate(&ev_stop) != cudaSuccess) {
        snprintf(why_not, sizeof why_not, "cannot create a stream or events on GPU %d", dev); return -1;
    }
    if (cublas_dl_open(why_not, sizeof why_not)) return -1;
    cublasStatus_t s = cublas_lib.Create(&cublas_handle);
    if (s != CUBLAS_STATUS_SUCCESS) { snprintf(why_not, sizeof why_not, "cuBLAS: %s", cublas_lib.GetStatusString(s)); return -1; }
    cublas_lib.SetStream(cublas_handle, cuda_stream);
    /* A user-provided workspace keeps cuBLAS from allocating while a graph is being captured. */
    static void *cublas_ws;
    if (cudaMalloc(&cublas_ws, (size_t)32 << 20) == cudaSuccess) cublas_lib.SetWorkspace(cublas_handle, cublas_ws, (size_t)32 << 20);
    return 0;
}

static int cuda_probe(char *why, size_t n)
{
    if (state == 0) state = open_device() == 0 ? 1 : -1;
    if (state < 0 && why) snprintf(why, n, "%s", why_not);
    return state > 0;
}

static const char *cuda_device_name(void) { return cuda_probe(NULL, 0) ? prop.name : "no GPU"; }

/* gemm and conv: every dtype; bandwidth ops, attention and the training step: fp32, fp16, bf16
 * (storage, fp32 arithmetic; the GPT step refuses fp16 itself); transfers move bytes (fp32 rows only). */
static const char *cuda_unsupported(const char *family, enum dtype dt)
{
    if (dt == DT_F32) return NULL;
    if (strcmp(family, "collective") == 0) return dt == DT_BF16 ? NULL : "collectives run fp32 and bf16";
    if (!strcmp(family, "transfer")) return "transfers move bytes: fp32 rows only";
    if (dt == DT_TF32 && strcmp(family, "gemm") && strcmp(family, "conv")) return "tf32 is a GEMM/conv math mode";
    if (dt == DT_BF16 && prop.major < 8) return "no native bf16 before sm_80";
    if (dt == DT_TF32 && prop.major < 8) return "no tf32 before sm_80";
    return NULL;
}

static size_t cuda_mem_free(void)
{
    size_t fr = 0, total = 0;
    if (!cuda_probe(NULL, 0) || cudaMemGetInfo(&fr, &total) != cudaSuccess) return 0;
    return fr;
}

static void *cuda_alloc(size_t bytes)
{
    void *p = NULL;
    cudaError_t e = cudaMalloc(&p, bytes ? bytes : 256);
    if (e != cudaSuccess) { cuda_fail(e, "cudaMalloc", __FILE__, __LINE__); return NULL; }
    return p;
}

static void cuda_release(void *p) { if (p) cudaFree(p); }

static int cuda_upload(void *dst, const void *src, size_t bytes)
{
    CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, cuda_stream));
    CUDA_CHECK(cudaStreamSynchronize(cuda_stream));
    return 0;
}

static int cuda_download(void *dst, const void *src, size_t bytes)
{
    CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, cuda_stream));
    CUDA_CHECK(cudaStreamSynchronize(cuda_stream));
    return 0;
}

static int cuda_sync(void) { CUDA_CHECK(cudaStreamSynchronize(cuda_stream)); return 0; }

static int cuda_timer_start(void) { CUDA_CHECK(cudaEventRecord(ev_start, cuda_stream)); return 0; }

static int cuda_timer_stop(double *s)
{
    float ms = 0;
    CUDA_CHECK(cudaEventRecord(ev_stop, cuda_stream));
    CUDA_CHECK(cudaEventSynchronize(ev_stop));
    CUDA_CHECK(cudaEventElapsedTime(&ms, ev_start, ev_stop));
    *s = ms * 1e-3;
    return 0;
}

static const char *cuda_error(void) { return err; }

/* CUDA graphs: the training step is captured once on the stream and replayed. */
static cudaGraph_t graph;
static cudaGraphExec_t graph_exec;

static int graph_begin_cuda(void)
{
    if (graph_exec) { cudaGraphExecDestroy(graph_exec); graph_exec = NULL; }
    if (graph) { cudaGraphDestroy(graph); graph = NULL; }
    CUDA_CHECK(cudaStreamBeginCapture(cuda_stream, cudaStreamCaptureModeThreadLocal));
    return 0;
}

static int graph_end_cuda(void)
{
    CUDA_CHECK(cudaStreamEndCapture(cuda_stream, &graph));
    CUDA_CHECK(cudaGraphInstantiate(&graph_exec, graph, 0));
    return 0;
}

static int graph_launch_cuda(void)
{
    if (!graph_exec) { snprintf(err, sizeof err, "no captured graph"); return -1; }
    CUDA_CHECK(cudaGraphLaunch(graph_exec, cuda_stream));
    return 0;
}

/* NVML, loaded at run time (the toolkit has no nvml.h): the few functions used, declared here.
 * Every query may be refused (not supported, no permission): each one fails alone. */
typedef int (*nvml_init_fn)(void);
typedef int (*nvml_handle_idx_fn)(unsigned, void **);
typedef int (*nvml_handle_pci_fn)(const char *, void **);
typedef int (*nvml_ull_fn)(void *, unsigned long long *);
typedef int (*nvml_uint_fn)(void *, unsigned *);
typedef int (*nvml_typed_fn)(void *, int, unsigned *);
enum { NVML_CLOCK_SM = 1, NVML_CLOCK_MEM = 2, NVML_TEMPERATURE_GPU = 0 };
static struct {
    void *dev;
    char why[80];
    nvml_ull_fn energy, reasons;
    nvml_uint_fn power, limit;
    nvml_typed_fn clock, temp;
} nv;

/* The NVML device of CUDA device 0: by its PCI bus id (CUDA and NVML may number GPUs differently),
 * else NVML's index 0. */
static int nvml_open(void)
{
    static int tried, ok;
    if (tried) return ok ? 0 : -1;
    tried = 1;
    void *lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) { snprintf(nv.why, sizeof nv.why, "NVML not found (libnvidia-ml.so.1)"); return -1; }
    nvml_init_fn init = (nvml_init_fn)dlsym(lib, "nvmlInit_v2");
    nvml_handle_idx_fn by_idx = (nvml_handle_idx_fn)dlsym(lib, "nvmlDeviceGetHandleByIndex_v2");
    nvml_handle_pci_fn by_pci = (nvml_handle_pci_fn)dlsym(lib, "nvmlDeviceGetHandleByPciBusId_v2");
    char bus[32];
    if (!init || !by_idx || init() != 0) { snprintf(nv.why, sizeof nv.why, "NVML present but unusable"); return -1; }
    if (!(cuda_probe(NULL, 0) && by_pci && cudaDeviceGetPCIBusId(bus, sizeof bus, 0) == cudaSuccess && by_pci(bus, &nv.dev) == 0) &&
        by_idx(0, &nv.dev) != 0) {
        snprintf(nv.why, sizeof nv.why, "NVML has no handle for GPU 0");
        return -1;
    }
    nv.energy = (nvml_ull_fn)dlsym(lib, "nvmlDeviceGetTotalEnergyConsumption");
    nv.reasons = (nvml_ull_fn)dlsym(lib, "nvmlDeviceGetCurrentClocksEventReasons"); /* driver 535+ */
    if (!nv.reasons) nv.reasons = (nvml_ull_fn)dlsym(lib, "nvmlDeviceGetCurrentClocksThrottleReasons");
    nv.power = (nvml_uint_fn)dlsym(lib, "nvmlDeviceGetPowerUsage");
    nv.limit = (nvml_uint_fn)dlsym(lib, "nvmlDeviceGetEnforcedPowerLimit");
    nv.clock = (nvml_typed_fn)dlsym(lib, "nvmlDeviceGetClockInfo");
    nv.temp = (nvml_typed_fn)dlsym(lib, "nvmlDeviceGetTemperature");
    ok = 1;
    return 0;
}

static int energy_read_cuda(double *joules, char *why, size_t n)
{
    unsigned long long mj;
    if (nvml_open() != 0) { snprintf(why, n, "%s", nv.why); return -1; }
    if (!nv.energy || nv.energy(nv.dev, &mj) != 0) { snprintf(why, n, "this GPU has no NVML energy counter"); return -1; }
    *joules = mj * 1e-3;
    return 0;
}

static void missing(char *buf, size_t n, const char *what)
{
    size_t len = strlen(buf);
    snprintf(buf + len, n - len, "%s%s", len ? ", " : "n/a: NVML refused ", what);
}

/* SM and memory clocks, power draw and limit, temperature, throttle reasons: one NVML reading. */
static void state_read_cuda(struct dev_state *s)
{
    unsigned v;
    unsigned long long r;
    s->clock_mhz = s->mem_clock_mhz = s->power_w = s->power_limit_w = s->temp_c = NAN;
    s->reasons = 0;
    s->have_reasons = 0;
    s->why[0] = 0;
    if (nvml_open() != 0) { snprintf(s->why, sizeof s->why, "n/a: %s", nv.why); return; }
    if (nv.clock && nv.clock(nv.dev, NVML_CLOCK_SM, &v) == 0) s->clock_mhz = v; else missing(s->why, sizeof s->why, "SM clock");
    if (nv.clock && nv.clock(nv.dev, NVML_CLOCK_MEM, &v) == 0) s->mem_clock_mhz = v; else missing(s->why, sizeof s->why, "memory clock");
    if (nv.power && nv.power(nv.dev, &v) == 0) s->power_w = v * 1e-3; else missing(s->why, sizeof s->why, "power");
    if (nv.limit && nv.limit(nv.dev, &v) == 0) s->power_limit_w = v * 1e-3; else missing(s->why, sizeof s->why, "power limit");
    if (nv.temp && nv.temp(nv.dev, NVML_TEMPERATURE_GPU, &v) == 0) s->temp_c = v; else missing(s->why, sizeof s->why, "temperature");
    if (nv.reasons && nv.reasons(nv.dev, &r) == 0) { s->reasons = r; s->have_reasons = 1; }
    else missing(s->why, sizeof s->why, "throttle reasons");
}

/* DRAM (HBM, GDDR) transfers twice per memory clock on each bus bit. */
static double stated_bandwidth_cuda(char *how, size_t n)
{
    int mclk = 0, bus = 0;
    if (!cuda_probe(how, n)) return NAN;
    if (cudaDeviceGetAttribute(&mclk, cudaDevAttrMemoryClockRate, 0) != cudaSuccess ||
        cudaDeviceGetAttribute(&bus, cudaDevAttrGlobalMemoryBusWidth, 0) != cudaSuccess || mclk <= 0 || bus <= 0) {
        snprintf(how, n, "n/a: the device properties give no memory clock or bus width");
        return NAN;
    }
    snprintf(how, n, "memory clock %d MHz x %d-bit bus x 2 (device properties)", mclk / 1000, bus);
    return mclk * 1e3 * (bus / 8.0) * 2 * 1e-9;
}

static size_t cuda_cache_bytes(void) { return cuda_probe(NULL, 0) ? (size_t)prop.l2CacheSize : 0; }

static void *host_alloc_pinned_cuda(size_t bytes)
{
    void *p = NULL;
    cudaError_t e = cudaMallocHost(&p, bytes ? bytes : 64);
    if (e != cudaSuccess) { cuda_fail(e, "cudaMallocHost", __FILE__, __LINE__); return NULL; }
    return p;
}

static void host_free_pinned_cuda(void *p) { if (p) cudaFreeHost(p); }

/* Timed copies: enqueued only; the timer's stop event waits for them. Pageable host memory makes
 * the runtime stage through its own pinned buffer, which is what a plain malloc'ed batch pays. */
static int memcpy_h2d_cuda(void *dst, const void *src, size_t bytes)
{
    CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, cuda_stream));
    return 0;
}

static int memcpy_d2h_cuda(void *dst, const void *src, size_t bytes)
{
    CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, cuda_stream));
    return 0;
}

static int memcpy_d2d_cuda(void *dst, const void *src, size_t bytes)
{
    CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, cuda_stream));
    return 0;
}

static void cuda_info(info_put_fn put, void *u)
{
    char v[256];
    int rt = 0, drv = 0;
    cudaRuntimeGetVersion(&rt);
    snprintf(v, sizeof v, "%d.%d", rt / 1000, rt % 1000 / 10); put(u, "cuda", "runtime", v);
    if (cudaDriverGetVersion(&drv) == cudaSuccess && drv > 0) {
        snprintf(v, sizeof v, "%d.%d", drv / 1000, drv % 1000 / 10); put(u, "cuda", "driver", v);
    } else put(u, "cuda", "driver", "none");
    int cb = 0, cmi = 0;
    if (cublas_dl_open(v, sizeof v) == 0) {
        cublas_lib.GetProperty(MAJOR_VERSION, &cb);
        cublas_lib.GetProperty(MINOR_VERSION, &cmi);
        snprintf(v, sizeof v, "%d.%d", cb, cmi);
    }
    put(u, "cuda", "cublas", v);
    if (!cuda_probe(v, sizeof v)) { put(u, "cuda", "status", v); return; }
    put(u, "cuda", "status", "available");
    int count = 0; cudaGetDeviceCount(&count);
    for (int d = 0; d < count; d++) {
        struct cudaDeviceProp p; int clk = 0, mclk = 0, bus = 0;
        char sec[32]; snprintf(sec, sizeof sec, "gpu%d", d);
        if (cudaGetDeviceProperties(&p, d) != cudaSuccess) continue;
        cudaDeviceGetAttribute(&clk, cudaDevAttrClockRate, d);
        cudaDeviceGetAttribute(&mclk, cudaDevAttrMemoryClockRate, d);
        cudaDeviceGetAttribute(&bus, cudaDevAttrGlobalMemoryBusWidth, d);
        put(u, sec, "name", p.name);
        snprintf(v, sizeof v, "%d.%d", p.major, p.minor); put(u, sec, "compute_capability", v);
        snprintf(v, sizeof v, "%d", p.multiProcessorCount); put(u, sec, "sms", v);
        snprintf(v, sizeof v, "%.1f", p.totalGlobalMem / 1073741824.0); put(u, sec, "memory_gib", v);
        snprintf(v, sizeof v, "%d", clk / 1000); put(u, sec, "sm_clock_mhz", v);
        snprintf(v, sizeof v, "%d", mclk / 1000); put(u, sec, "mem_clock_mhz", v);
        snprintf(v, sizeof v, "%d", bus); put(u, sec, "mem_bus_bits", v);
        snprintf(v, sizeof v, "%d", p.l2CacheSize); put(u, sec, "l2_bytes", v);
    }
}

const struct device_ops cuda_device = {
    .name = cuda_device_name,
    .set_threads = NULL,
    .mem_free = cuda_mem_free,
    .cache_bytes = cuda_cache_bytes,
    .alloc = cuda_alloc,
    .release = cuda_release,
    .upload = cuda_upload,
    .download = cuda_download,
    .sync = cuda_sync,
    .timer_start = cuda_timer_start,
    .timer_stop = cuda_timer_stop,
    .error = cuda_error,
    .energy_read = energy_read_cuda,
    .fill = fill_cuda,
    .scan_nonfinite = scan_nonfinite_cuda,
    .state_read = state_read_cuda,
    .stated_bandwidth = stated_bandwidth_cuda,
};
/* Exported: the cudnn variant runs the training step with these beside its own convolutions. */
const struct matmul_ops cuda_matmul = {.gemm = gemm_cuda};
static const struct conv_ops cuda_conv = {
    .fwd = conv_fwd_cuda, .bwd_data = conv_bwd_data_cuda, .bwd_filter = conv_bwd_filter_cuda};
const struct eltwise_ops cuda_eltwise = {
    .copy = copy_cuda, .scale = scale_cuda, .add = add_cuda, .triad = triad_cuda, .dot = dot_cuda,
    .relu_fwd = relu_fwd_cuda, .relu_bwd = relu_bwd_cuda, .gelu_fwd = gelu_fwd_cuda, .gelu_bwd = gelu_bwd_cuda,
    .bias_add = bias_add_cuda, .softmax_fwd = softmax_fwd_cuda, .layernorm_fwd = layernorm_fwd_cuda,
    .sgd_update = sgd_update_cuda, .adam_update = adam_update_cuda, .cast = cast_cuda,
};
const struct train_ops cuda_train = {
    .bias_bwd = bias_bwd_cuda, .maxpool2_fwd = maxpool2_fwd_cuda, .maxpool2_bwd = maxpool2_bwd_cuda,
    .softmax_xent = softmax_xent_cuda, .next_batch = next_batch_cuda, .adam_update_dev = adam_update_dev_cuda,
};
static const struct attention_ops cuda_attention = {
    .workspace = attention_workspace_cuda, .fwd = attention_fwd_cuda, .bwd = attention_bwd_cuda};
static const struct transformer_ops cuda_transformer = {
    .gemm = xf_gemm_cuda, .embed_fwd = xf_embed_fwd_cuda, .embed_bwd = xf_embed_bwd_cuda,
    .layernorm_fwd = xf_layernorm_fwd_cuda, .layernorm_bwd = xf_layernorm_bwd_cuda, .bias_add = xf_bias_add_cuda,
    .bias_gelu = xf_bias_gelu_cuda, .bias_residual = xf_bias_residual_cuda, .gelu_bwd = xf_gelu_bwd_cuda,
    .bias_grad = xf_bias_grad_cuda, .xent = xf_xent_cuda, .adamw = adamw_update_cuda, .cast = xf_cast_cuda,
};
const struct graph_ops cuda_graph = {.begin = graph_begin_cuda, .end = graph_end_cuda, .launch = graph_launch_cuda};
const struct transfer_ops cuda_transfer = {
    .host_alloc_pinned = host_alloc_pinned_cuda, .host_free_pinned = host_free_pinned_cuda,
    .h2d = memcpy_h2d_cuda, .d2h = memcpy_d2h_cuda, .d2d = memcpy_d2d_cuda,
};

const struct backend cuda_backend = {
    .name = "cuda",
    .kind = BACKEND_GPU,
    .probe = cuda_probe,
    .info = cuda_info,
    .unsupported = cuda_unsupported,
    .dev = &cuda_device,
    .mm = &cuda_matmul,
    .conv = &cuda_conv,
    .elt = &cuda_eltwise,
    .train = &cuda_train,
    .attn = &cuda_attention,
    .xformer = &cuda_transformer,
#ifdef HAVE_NCCL
    .coll = &nccl_collectives,
#endif
    .graph = &cuda_graph,
    .xfer = &cuda_transfer,
    .impl = cuda_impl,
};
