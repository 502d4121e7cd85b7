/* cpu_topology.h: what hwloc and OpenBLAS say about this CPU, loaded once per process. */
#ifndef DLBENCH_CPU_TOPOLOGY_H
#define DLBENCH_CPU_TOPOLOGY_H
#include <stddef.h>

struct cpu_topology {
    char model[128];
    int packages, cores, pus, numa_nodes;
    size_t l1d, l2, l3;                 /* bytes per cache instance; 0 when unknown */
    int l3_instances;
    size_t mem_total;                   /* bytes */
};
const struct cpu_topology *cpu_topology(void);
size_t cpu_llc_bytes(void);             /* total last-level cache, all instances */
int cpu_has_native_bf16(void);          /* AVX512-BF16 (vdpbf16ps), which every AMX-BF16 CPU also has */
#endif
