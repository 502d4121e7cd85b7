/* cpu_topology.c: reads the machine's shape through hwloc (caches, cores, NUMA) and /proc. */
#include "cpu_topology.h"
#include "cpu_features.h"
#include <hwloc.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static struct cpu_topology topo;
static int loaded;

static void model_from_proc(char *dst, size_t n)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    snprintf(dst, n, "unknown CPU");
    if (!f) return;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "model name", 10) == 0) {
            char *v = strchr(line, ':');
            if (v) { v += 1 + (v[1] == ' '); v[strcspn(v, "\n")] = 0; snprintf(dst, n, "%s", v); }
            break;
        }
    fclose(f);
}

static size_t cache_size(hwloc_topology_t t, hwloc_obj_type_t type, int *count)
{
    int n = hwloc_get_nbobjs_by_type(t, type);
    if (count) *count = n;
    if (n <= 0) return 0;
    return (size_t)hwloc_get_obj_by_type(t, type, 0)->attr->cache.size;
}

const struct cpu_topology *cpu_topology(void)
{
    if (loaded) return &topo;
    loaded = 1;
    hwloc_topology_t t;
    model_from_proc(topo.model, sizeof topo.model);
    if (hwloc_topology_init(&t) != 0 || hwloc_topology_load(t) != 0) return &topo;
    hwloc_obj_t pkg = hwloc_get_obj_by_type(t, HWLOC_OBJ_PACKAGE, 0);
    const char *m = pkg ? hwloc_obj_get_info_by_name(pkg, "CPUModel") : NULL;
    if (m && *m) snprintf(topo.model, sizeof topo.model, "%s", m);
    topo.packages = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PACKAGE);
    topo.cores = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_CORE);
    topo.pus = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PU);
    topo.numa_nodes = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_NUMANODE);
    topo.l1d = cache_size(t, HWLOC_OBJ_L1CACHE, NULL);
    topo.l2 = cache_size(t, HWLOC_OBJ_L2CACHE, NULL);
    topo.l3 = cache_size(t, HWLOC_OBJ_L3CACHE, &topo.l3_instances);
    topo.mem_total = (size_t)sysconf(_SC_PHYS_PAGES) * (size_t)sysconf(_SC_PAGESIZE);
    hwloc_topology_destroy(t);
    return &topo;
}

size_t cpu_llc_bytes(void)
{
    const struct cpu_topology *c = cpu_topology();
    if (c->l3) return c->l3 * (size_t)(c->l3_instances > 0 ? c->l3_instances : 1);
    return c->l2 * (size_t)(c->cores > 0 ? c->cores : 1);
}

int cpu_has_native_bf16(void)
{
    return cpu_features()->avx512_bf16;
}
