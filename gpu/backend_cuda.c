/* backend_cuda.c: the CUDA backend's tables: probing (driver, device, compute mode), device memory,
 * event timing on one stream, machine facts, and the sticky-error rule that disables the backend. */
#include "backend.h"
#include "cuda_check.h"
#include "cuda_ops.h"
#include "cuda_state.h"
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

cudaStream_t cuda_stream;
cublasHandle_t cublas_handle;
int cuda_sm_count = 1;
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
    snprintf(err, sizeof err, "%s in %s at %s:%d", cublasGetStatusString(s), call, file, line);
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
    cublasStatus_t s = cublasCreate(&cublas_handle);
    if (s != CUBLAS_STATUS_SUCCESS) { snprintf(why_not, sizeof why_not, "cuBLAS: %s", cublasGetStatusString(s)); return -1; }
    cublasSetStream(cublas_handle, cuda_stream);
    /* A user-provided workspace keeps cuBLAS from allocating while a graph is being captured. */
    static void *cublas_ws;
    if (cudaMalloc(&cublas_ws, (size_t)32 << 20) == cudaSuccess) cublasSetWorkspace(cublas_handle, cublas_ws, (size_t)32 << 20);
    return 0;
}

static int cuda_probe(char *why, size_t n)
{
    if (state == 0) state = open_device() == 0 ? 1 : -1;
    if (state < 0 && why) snprintf(why, n, "%s", why_not);
    return state > 0;
}

static const char *cuda_device_name(void) { return cuda_probe(NULL, 0) ? prop.name : "no GPU"; }

static const char *cuda_unsupported(const char *family, enum dtype dt)
{
    if (dt == DT_F32) return NULL;
    if (strcmp(family, "collective") == 0) return dt == DT_BF16 ? NULL : "collectives run fp32 and bf16";
    if (strcmp(family, "gemm") != 0 && strcmp(family, "conv") != 0) return "reduced precision only for gemm and conv on the GPU";
    if (strcmp(family, "conv") == 0 && dt == DT_TF32) return "conv runs fp32, fp16 and bf16";
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

/* NVML, loaded at run time (the toolkit has no nvml.h): the few functions used, declared here. */
typedef int (*nvml_init_fn)(void);
typedef int (*nvml_handle_fn)(unsigned, void **);
typedef int (*nvml_energy_fn)(void *, unsigned long long *);
static nvml_energy_fn nvml_energy;
static void *nvml_dev;
static char nvml_why[160];

static int nvml_open(void)
{
    static int tried;
    if (tried) return nvml_energy ? 0 : -1;
    tried = 1;
    void *lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) { snprintf(nvml_why, sizeof nvml_why, "NVML not found (libnvidia-ml.so.1)"); return -1; }
    nvml_init_fn init = (nvml_init_fn)dlsym(lib, "nvmlInit_v2");
    nvml_handle_fn handle = (nvml_handle_fn)dlsym(lib, "nvmlDeviceGetHandleByIndex_v2");
    nvml_energy_fn energy = (nvml_energy_fn)dlsym(lib, "nvmlDeviceGetTotalEnergyConsumption");
    if (!init || !handle || !energy || init() != 0 || handle(0, &nvml_dev) != 0) {
        snprintf(nvml_why, sizeof nvml_why, "NVML present but unusable");
        return -1;
    }
    unsigned long long mj;
    if (energy(nvml_dev, &mj) != 0) { snprintf(nvml_why, sizeof nvml_why, "this GPU has no NVML energy counter"); return -1; }
    nvml_energy = energy;
    return 0;
}

static int energy_read_cuda(double *joules, char *why, size_t n)
{
    unsigned long long mj;
    if (nvml_open() != 0) { snprintf(why, n, "%s", nvml_why); return -1; }
    if (nvml_energy(nvml_dev, &mj) != 0) { snprintf(why, n, "NVML energy read failed"); return -1; }
    *joules = mj * 1e-3;
    return 0;
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
    int cb = 0; cublasGetProperty(MAJOR_VERSION, &cb); snprintf(v, sizeof v, "%d", cb);
    int cmi = 0; cublasGetProperty(MINOR_VERSION, &cmi);
    snprintf(v, sizeof v, "%d.%d", cb, cmi); put(u, "cuda", "cublas", v);
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
};
static const struct matmul_ops cuda_matmul = {.gemm = gemm_cuda};
static const struct conv_ops cuda_conv = {
    .fwd = conv_fwd_cuda, .bwd_data = conv_bwd_data_cuda, .bwd_filter = conv_bwd_filter_cuda};
const struct eltwise_ops cuda_eltwise = {
    .copy = copy_cuda, .scale = scale_cuda, .add = add_cuda, .triad = triad_cuda, .dot = dot_cuda,
    .relu_fwd = relu_fwd_cuda, .relu_bwd = relu_bwd_cuda, .gelu_fwd = gelu_fwd_cuda, .gelu_bwd = gelu_bwd_cuda,
    .bias_add = bias_add_cuda, .softmax_fwd = softmax_fwd_cuda, .layernorm_fwd = layernorm_fwd_cuda,
    .sgd_update = sgd_update_cuda, .adam_update = adam_update_cuda,
};
const struct train_ops cuda_train = {
    .bias_bwd = bias_bwd_cuda, .maxpool2_fwd = maxpool2_fwd_cuda, .maxpool2_bwd = maxpool2_bwd_cuda,
    .softmax_xent = softmax_xent_cuda,
};
const struct graph_ops cuda_graph = {.begin = graph_begin_cuda, .end = graph_end_cuda, .launch = graph_launch_cuda};
static const struct transfer_ops cuda_transfer = {
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
#ifdef HAVE_NCCL
    .coll = &nccl_collectives,
#endif
    .graph = &cuda_graph,
    .xfer = &cuda_transfer,
};
