/* scratch_cpu.c: grow-only, 64-byte-aligned fp32 work buffers (cpu_ops.h) for the CPU kernels'
 * packing and column tiles. */
#include "cpu_ops.h"
#include <stdlib.h>

float *scratch_grow_cpu(struct scratch_cpu *s, size_t n)
{
    if (n > s->n) {
        free(s->p);
        s->p = aligned_alloc(64, ((n * sizeof(float) + 63) / 64) * 64);
        s->n = s->p ? n : 0;
    }
    return s->p;
}
