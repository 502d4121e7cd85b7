/* describe.c: the ranks of a run in system.json (section "dist"): how many, on how many hosts, the
 * launcher and transport, and per rank its host, local rank, binding and GPU. Rank 0 says which
 * ranks go without a GPU when others have one. */
#include "describe.h"
#include "group.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef HAVE_MPI
#include <mpi.h>
#endif

struct rank_facts { char host[64], binding[192], gpu[128]; int local_rank, local_size; };

static void transport(char *v, size_t n)
{
#ifdef HAVE_MPI
    int ver, sub, len;
    char lib[MPI_MAX_LIBRARY_VERSION_STRING];
    if (!dist_self()->mpi) { snprintf(v, n, "none (one process)"); return; }
    MPI_Get_version(&ver, &sub);
    MPI_Get_library_version(lib, &len);
    lib[strcspn(lib, ",\n")] = 0;
    snprintf(v, n, "MPI %d.%d (%.200s)", ver, sub, lib);
#else
    snprintf(v, n, "none (built without MPI)");
#endif
}

void dist_describe(struct sysinfo *si)
{
    const struct dist_info *me = dist_self();
    struct rank_facts mine = {0}, *all = calloc(me->size, sizeof *all);
    char v[256], why[128] = "";
    snprintf(mine.host, sizeof mine.host, "%s", me->host);
    snprintf(mine.binding, sizeof mine.binding, "%s", me->binding);
    const struct backend *cuda = backend_find("cuda");
    if (cuda && cuda->probe(why, sizeof why)) snprintf(why, sizeof why, "GPU %s: %s", getenv("DLBENCH_GPU") ?: "0", cuda->dev->name());
    snprintf(mine.gpu, sizeof mine.gpu, "%s", why);
    mine.local_rank = me->local_rank;
    mine.local_size = me->local_size;
    dist_gather_records(&mine, sizeof mine, all);
    if (me->rank == 0) {
        int nhosts = 0, gpus = 0;
        for (int r = 0; r < me->size; r++) {
            int seen = 0;
            for (int q = 0; q < r; q++) seen |= !strcmp(all[q].host, all[r].host);
            nhosts += !seen;
            gpus += !strncmp(all[r].gpu, "GPU ", 4);
        }
        snprintf(v, sizeof v, "%d", me->size); sysinfo_put(si, "dist", "ranks", v);
        snprintf(v, sizeof v, "%d", nhosts); sysinfo_put(si, "dist", "hosts", v);
        sysinfo_put(si, "dist", "launcher", me->launcher);
        transport(v, sizeof v);
        sysinfo_put(si, "dist", "transport", v);
        for (int r = 0; r < me->size; r++) {
            char key[48];
            snprintf(key, sizeof key, "rank.%d", r);
            snprintf(v, sizeof v, "%.40s, local rank %d of %d; %.120s; %.60s", all[r].host, all[r].local_rank, all[r].local_size,
                     all[r].binding, all[r].gpu);
            sysinfo_put(si, "dist", key, v);
            if (gpus && strncmp(all[r].gpu, "GPU ", 4))
                fprintf(stderr, "dlbench: rank %d on %s: its GPU rows are skipped: %s\n", r, all[r].host, all[r].gpu);
        }
    }
    free(all);
}
