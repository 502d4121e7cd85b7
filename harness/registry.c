/* registry.c: the list of backends in this binary; the only place harness code says HAVE_CUDA
 * (or HAVE_CUDNN, the vendor-convolution variant of the GPU backend). */
#include "backend.h"
#include <stdio.h>
#include <string.h>

extern const struct backend cpu_backend;
#ifdef HAVE_CUDA
extern const struct backend cuda_backend;
#else
static int no_cuda_probe(char *why, size_t n)
{
    snprintf(why, n, "built without CUDA (nvcc not found, or NO_CUDA=1)");
    return 0;
}
static const struct backend cuda_backend = {.name = "cuda", .kind = BACKEND_GPU, .probe = no_cuda_probe};
#endif

#ifdef HAVE_CUDNN
extern const struct backend cudnn_backend; /* the vendor variant of the GPU's convolutions */
static const struct backend *const builtin[] = {&cpu_backend, &cuda_backend, &cudnn_backend};
#else
static const struct backend *const builtin[] = {&cpu_backend, &cuda_backend};
#endif
const struct backend *const *backends = builtin;
int backend_count = sizeof builtin / sizeof builtin[0];

void backends_replace(const struct backend *const *list, int n)
{
    backends = list ? list : builtin;
    backend_count = list ? n : (int)(sizeof builtin / sizeof builtin[0]);
}

const struct backend *backend_find(const char *name)
{
    for (int i = 0; i < backend_count; i++)
        if (strcmp(backends[i]->name, name) == 0) return backends[i];
    return NULL;
}

int backend_runs(const struct backend *b, const char *family)
{
    if (!strcmp(family, "gemm")) return b->mm != NULL;
    if (!strcmp(family, "conv")) return b->conv != NULL;
    if (!strcmp(family, "bandwidth")) return b->elt != NULL;
    if (!strcmp(family, "transfer")) return b->xfer != NULL;
    if (!strcmp(family, "train")) return b->mm && b->conv && b->elt && b->train;
    if (!strcmp(family, "collective")) return b->coll != NULL;
    if (!strcmp(family, "dp-train")) return b->mm && b->conv && b->elt && b->train && b->coll;
    return 0;
}
