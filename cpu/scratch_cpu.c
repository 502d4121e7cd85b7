/* scratch_cpu.c: grow-only, 64-byte-aligned fp32 work buffers (cpu_ops.h) for the CPU kernels'
 * packing and column tiles; from 4 MiB 2 MiB-aligned with transparent huge pages asked for, as
 * dlbench's own CPU buffers are (the own sgemm's packed A is 16 MiB at 2048³: +2-4% paired against
 * OpenBLAS on the 2-vCPU Zen 3, whose kernel default gives huge pages only on request). */
#include "cpu_ops.h"
#include <stdlib.h>
#include <sys/mman.h>

float *scratch_grow_cpu(struct scratch_cpu *s, size_t n)
{
    if (n > s->n) {
        size_t bytes = n * sizeof(float), huge = (size_t)2 << 20;
        int big = bytes >= 2 * huge;
        free(s->p);
        s->p = aligned_alloc(big ? huge : 64, big ? (bytes + huge - 1) / huge * huge : (bytes + 63) / 64 * 64);
        if (s->p && big) madvise(s->p, bytes, MADV_HUGEPAGE);
        s->n = s->p ? n : 0;
    }
    return s->p;
}
