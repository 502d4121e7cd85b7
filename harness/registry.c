/* registry.c: the list of backends in this binary; the only place harness code says HAVE_CUDA
 * (or HAVE_CUDNN / HAVE_DNNL, the vendor variants of the GPU and CPU backends; HAVE_CUDA brings the
 * fused-attention variant `flash`). */
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

#ifdef HAVE_CUDA
extern const struct backend flash_backend; /* the fused-attention variant of the GPU backend */
#endif
#ifdef HAVE_CUDNN
extern const struct backend cudnn_backend; /* the vendor variant of the GPU's convolutions */
#endif
#ifdef HAVE_DNNL
extern const struct backend onednn_backend; /* the vendor variant of the CPU's GEMM and convolutions */
#endif
static const struct backend *const builtin[] = {
    &cpu_backend,
#ifdef HAVE_DNNL
    &onednn_backend,
#endif
    &cuda_backend,
#ifdef HAVE_CUDNN
    &cudnn_backend,
#endif
#ifdef HAVE_CUDA
    &flash_backend,
#endif
};
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
    const struct backend *base = b->base;
    if (!strcmp(family, "gemm")) return b->mm && (!base || b->mm != base->mm);
    if (!strcmp(family, "conv")) return b->conv && (!base || b->conv != base->conv);
    if (!strcmp(family, "bandwidth")) return b->elt && (!base || b->elt != base->elt);
    if (!strcmp(family, "transfer")) return b->xfer && (!base || b->xfer != base->xfer);
    if (!strcmp(family, "train"))
        return b->mm && b->conv && b->elt && b->train &&
               (!base || b->mm != base->mm || b->conv != base->conv || b->elt != base->elt || b->train != base->train);
    if (!strcmp(family, "attention")) return b->attn && (!base || b->attn != base->attn);
    if (!strcmp(family, "collective")) return b->coll && (!base || b->coll != base->coll);
    if (!strcmp(family, "dp-train"))   /* a variant's data-parallel step differs from its base's where its layers do */
        return b->mm && b->conv && b->elt && b->train && b->coll &&
               (!base || b->mm != base->mm || b->conv != base->conv || b->elt != base->elt || b->train != base->train);
    return 0;
}
