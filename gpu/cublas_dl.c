/* cublas_dl.c: fills the cuBLAS function table of cublas_dl.h from libcublas, opened at run time. */
#include "cublas_dl.h"
#include <dlfcn.h>
#include <stdio.h>

struct cublas_api cublas_lib;

#define STR_(x) #x
#define STR(x) STR_(x)   /* expands first: cublasCreate is a macro for cublasCreate_v2 */

int cublas_dl_open(char *why, size_t n)
{
    static int state;   /* 0 not tried, 1 loaded, -1 failed */
    static char why_not[256];
    if (!state) {
        const char *name = "libcublas.so." STR(CUBLAS_VER_MAJOR);
        void *lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
        if (!lib) {
            snprintf(why_not, sizeof why_not, "cuBLAS not loadable: %s", dlerror());   /* the versioned name's reason */
            lib = dlopen("libcublas.so", RTLD_NOW | RTLD_LOCAL);
        }
        state = lib ? 1 : -1;
#define RESOLVE(field, f) \
    if (state > 0 && !(*(void **)&cublas_lib.field = dlsym(lib, STR(f)))) { \
        snprintf(why_not, sizeof why_not, "%s lacks %s", name, STR(f)); \
        state = -1; \
    }
        RESOLVE(Create, cublasCreate)
        RESOLVE(SetStream, cublasSetStream)
        RESOLVE(SetWorkspace, cublasSetWorkspace)
        RESOLVE(GetStatusString, cublasGetStatusString)
        RESOLVE(GetProperty, cublasGetProperty)
        RESOLVE(GemmEx, cublasGemmEx)
        RESOLVE(GemmStridedBatchedEx, cublasGemmStridedBatchedEx)
#undef RESOLVE
    }
    if (state < 0 && why) snprintf(why, n, "%s", why_not);
    return state > 0 ? 0 : -1;
}
