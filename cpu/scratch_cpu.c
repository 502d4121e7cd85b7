/* scratch_cpu.c: the CPU side's host buffers (cpu_ops.h): alloc_cpu, the one allocator of the
 * backend's buffers and the kernels' work space, and grow-only fp32 scratch built on it. */
#include "cpu_ops.h"
#include <stdlib.h>
#include <sys/mman.h>

/* Buffers of a page or more start on a page: where a buffer starts within its page then never
 * depends on what the process allocated before (which differs between two builds being compared).
 * Buffers of 4 MiB and more are aligned to 2 MiB and ask for transparent huge pages (the kernel's
 * default mode gives them only on request): fewer TLB misses when a kernel streams through them, as
 * NumPy and PyTorch arrays get (the own sgemm's packed A is 16 MiB at 2048³: +2-4% paired against
 * OpenBLAS on the 2-vCPU Zen 3 once it had them). */
void *alloc_cpu(size_t bytes)
{
    void *p = NULL;
    int big = bytes >= ((size_t)4 << 20);
    if (posix_memalign(&p, big ? (size_t)2 << 20 : bytes >= 4096 ? 4096 : 64, bytes ? bytes : 64) != 0) return NULL;
    if (big) madvise(p, bytes, MADV_HUGEPAGE);
    return p;
}

float *scratch_grow_cpu(struct scratch_cpu *s, size_t n)
{
    if (n > s->n) {
        free(s->p);
        s->p = alloc_cpu(n * sizeof(float));
        s->n = s->p ? n : 0;
    }
    return s->p;
}
