/* bind.c: where this rank sits before MPI starts: its local rank from the launcher's environment
 * (Open MPI, MPICH/Hydra, Slurm), its share of the node's cores and memory (hwloc_distrib), and its
 * GPU. Needs no MPI: it runs before the re-exec that lets libgomp see the binding. */
#include "group.h"
#include "cpu_topology.h"
#include <hwloc.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int env_int(const char *name, int dflt)
{
    const char *v = getenv(name);
    char *end;
    if (!v || !*v) return dflt;
    long l = strtol(v, &end, 10);
    return *end || l < 0 || l > 1 << 24 ? dflt : (int)l;
}

/* Slurm's tasks per node, "4(x2),3": entry `node` of the expanded list, or 0. */
static int slurm_tasks_on_node(const char *spec, int node)
{
    int seen = 0;
    for (const char *p = spec; p && *p;) {
        char *end;
        long tasks = strtol(p, &end, 10), reps = 1;
        if (end == p) return 0;
        if (*end == '(' && end[1] == 'x') reps = strtol(end + 2, &end, 10), end += *end == ')';
        if (node < seen + reps) return (int)tasks;
        seen += (int)reps;
        p = *end == ',' ? end + 1 : NULL;
    }
    return 0;
}

/* World size, rank, local rank and local size as the launcher announces them; -1 when absent. */
void dist_env(int *size, int *rank, int *local_rank, int *local_size, const char **launcher)
{
    *size = *rank = *local_rank = *local_size = -1;
    *launcher = "none";
    if (getenv("OMPI_COMM_WORLD_SIZE")) {
        *launcher = "mpirun (Open MPI)";
        *size = env_int("OMPI_COMM_WORLD_SIZE", -1); *rank = env_int("OMPI_COMM_WORLD_RANK", -1);
        *local_rank = env_int("OMPI_COMM_WORLD_LOCAL_RANK", -1); *local_size = env_int("OMPI_COMM_WORLD_LOCAL_SIZE", -1);
    } else if (getenv("SLURM_STEP_ID") && getenv("SLURM_PROCID")) {
        *launcher = "srun";
        *size = env_int("SLURM_STEP_NUM_TASKS", env_int("SLURM_NTASKS", -1)); *rank = env_int("SLURM_PROCID", -1);
        *local_rank = env_int("SLURM_LOCALID", -1);
        const char *tpn = getenv("SLURM_STEP_TASKS_PER_NODE");
        *local_size = tpn ? slurm_tasks_on_node(tpn, env_int("SLURM_NODEID", 0)) : -1;
    } else if (getenv("PMI_SIZE") || getenv("PMI_RANK")) {
        *launcher = "mpiexec (PMI)";
        *size = env_int("PMI_SIZE", -1); *rank = env_int("PMI_RANK", -1);
        *local_rank = env_int("MPI_LOCALRANKID", -1); *local_size = env_int("MPI_LOCALNRANKS", -1);
    }
}

/* "0-3" style list of the PUs (or cores) in set. */
static void list_of(hwloc_bitmap_t set, char *buf, size_t n)
{
    if (hwloc_bitmap_list_snprintf(buf, n, set) < 0) snprintf(buf, n, "?");
}

/* The CUDA backend opens GPU $DLBENCH_GPU: the local rank, or 0 when the launcher left one GPU
 * visible to each rank (CUDA_VISIBLE_DEVICES with one entry, e.g. srun --gpus-per-task=1). */
static void choose_gpu(int local_rank, int local_size)
{
    char v[32];
    const char *vis = getenv("CUDA_VISIBLE_DEVICES");
    if (getenv("DLBENCH_GPU") || local_rank < 0) return;
    int one_visible = vis && *vis && !strchr(vis, ',');
    snprintf(v, sizeof v, "%d", one_visible && local_size > 1 ? 0 : local_rank);
    setenv("DLBENCH_GPU", v, 1);
    snprintf(v, sizeof v, "%d", local_rank);
    setenv("DLBENCH_LOCAL_RANK", v, 1);
}

static void bind_share(int local_rank, int local_size, char *why, size_t n)
{
    hwloc_topology_t t;
    if (hwloc_topology_init(&t) != 0 || hwloc_topology_load(t) != 0) { snprintf(why, n, "none: hwloc cannot read the topology"); return; }
    hwloc_bitmap_t cur = hwloc_bitmap_alloc(), *sets = calloc(local_size, sizeof *sets);
    hwloc_const_cpuset_t all = hwloc_topology_get_allowed_cpuset(t);
    char list[96];
    if (hwloc_get_cpubind(t, cur, HWLOC_CPUBIND_PROCESS) == 0 && !hwloc_bitmap_iszero(cur) && hwloc_bitmap_isincluded(cur, all) &&
        !hwloc_bitmap_isequal(cur, all)) {
        list_of(cur, list, sizeof list);
        snprintf(why, n, "launcher: PUs %s", list);
    } else {
        /* Split the node into local_size shares along the topology: a rank alone on a NUMA node or
         * package gets all of it; more ranks than cores share PUs. */
        hwloc_obj_t root = hwloc_get_root_obj(t);
        for (int i = 0; i < local_size; i++) sets[i] = hwloc_bitmap_alloc();
        if (hwloc_distrib(t, &root, 1, sets, (unsigned)local_size, INT_MAX, 0) != 0) {
            snprintf(why, n, "none: hwloc_distrib failed");
        } else if (hwloc_set_cpubind(t, sets[local_rank], HWLOC_CPUBIND_PROCESS) != 0) {
            snprintf(why, n, "none: binding refused (hwloc_set_cpubind)");
        } else {
            hwloc_bitmap_t nodes = hwloc_bitmap_alloc();
            hwloc_cpuset_to_nodeset(t, sets[local_rank], nodes);
            int mem = hwloc_set_membind(t, nodes, HWLOC_MEMBIND_BIND, HWLOC_MEMBIND_PROCESS | HWLOC_MEMBIND_BYNODESET) == 0;
            char nl[32];
            list_of(sets[local_rank], list, sizeof list);
            list_of(nodes, nl, sizeof nl);
            snprintf(why, n, "hwloc: PUs %s, memory %s NUMA %s", list, mem ? "bound to" : "first-touch near", nl);
            hwloc_bitmap_free(nodes);
        }
        for (int i = 0; i < local_size; i++) hwloc_bitmap_free(sets[i]);
    }
    free(sets);
    hwloc_bitmap_free(cur);
    hwloc_topology_destroy(t);
}

void dist_bind_early(void)
{
    int size, rank, lr, ls;
    const char *launcher;
    char why[192];
    if (getenv("DLBENCH_BINDING")) return;           /* done before the re-exec */
    dist_env(&size, &rank, &lr, &ls, &launcher);
    choose_gpu(lr, ls);
    if (size <= 1) snprintf(why, sizeof why, "none: one process");
    else if (lr < 0 || ls < 1 || lr >= ls) snprintf(why, sizeof why, "none: %s gives no local rank", launcher);
    else if (getenv("DLBENCH_BIND") && !strcmp(getenv("DLBENCH_BIND"), "none")) snprintf(why, sizeof why, "none: DLBENCH_BIND=none");
    else if (ls == 1) snprintf(why, sizeof why, "none: the only rank on its node uses all of it");
    else bind_share(lr, ls, why, sizeof why);
    setenv("DLBENCH_BINDING", why, 1);
}

/* Physical cores whose PUs all lie in this process's binding; at least 1. */
int dist_default_threads(void)
{
    hwloc_topology_t t;
    int cores = 0;
    if (hwloc_topology_init(&t) != 0 || hwloc_topology_load(t) != 0) return cpu_topology()->cores > 0 ? cpu_topology()->cores : 1;
    hwloc_bitmap_t cur = hwloc_bitmap_alloc();
    if (hwloc_get_cpubind(t, cur, HWLOC_CPUBIND_PROCESS) != 0) hwloc_bitmap_copy(cur, hwloc_topology_get_allowed_cpuset(t));
    for (hwloc_obj_t c = NULL; (c = hwloc_get_next_obj_by_type(t, HWLOC_OBJ_CORE, c));)
        cores += hwloc_bitmap_isincluded(c->cpuset, cur);
    hwloc_bitmap_free(cur);
    hwloc_topology_destroy(t);
    return cores > 0 ? cores : 1;
}
