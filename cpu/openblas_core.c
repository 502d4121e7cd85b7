/* openblas_core.c: OpenBLAS core selection. A DYNAMIC_ARCH OpenBLAS picks its kernels from cpuid
 * when it loads; on a CPU newer than the library (0.3.21 on family 6 model 207) it falls back to
 * Prescott (SSE3): sgemm 2048^3 198 GFLOP/s instead of 1124 on 16 cores. We pick the best core
 * this library has for the CPU's features and re-execute once with OPENBLAS_CORETYPE set. */
#include "openblas_core.h"
#include <cblas.h>
#include <ctype.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

const char *const ob_core_names[OB_NCORES] = {"Cooperlake", "SkylakeX", "Haswell", "Zen", "Sandybridge"};
/* First OpenBLAS release whose OPENBLAS_CORETYPE accepts the name (its Changelog: the variable
 * came in 0.2.10, ZEN in 0.2.20, SKYLAKEX in 0.3.1, COOPERLAKE in 0.3.11). SapphireRapids is
 * absent: up to 0.3.2x force_coretype() stops one entry short of it. */
static const int ob_core_since[OB_NCORES] = {311, 301, 210, 220, 210};

/* ISA rank of every core name OpenBLAS reports (gotoblas_corename); higher = wider kernels. A name
 * not listed (a core newer than this table) ranks above all: dlbench never overrides it. */
static int core_rank(const char *name)
{
    static const struct { const char *name; int rank; } t[] = {
        {"Unknown", 0}, {"Katmai", 0}, {"Coppermine", 0}, {"Northwood", 0}, {"Banias", 0}, {"Athlon", 0},
        {"Prescott", 1}, {"Core2", 1}, {"Penryn", 1}, {"Dunnington", 1}, {"Nehalem", 1}, {"Atom", 1},
        {"Nano", 1}, {"Opteron", 1}, {"Opteron_SSE3", 1}, {"Barcelona", 1}, {"Bobcat", 1},
        {"Sandybridge", 2}, {"Bulldozer", 2}, {"Piledriver", 2}, {"Steamroller", 2}, {"Excavator", 2},
        {"Haswell", 3}, {"Zen", 3}, {"SkylakeX", 4}, {"Cooperlake", 5}, {"SapphireRapids", 6}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (name && strcasecmp(name, t[i].name) == 0) return t[i].rank;
    return 99;
}

static int parse_version(const char *v)
{
    int a = 0, b = 0, c = 0;
    if (!v || sscanf(v, "%d.%d.%d", &a, &b, &c) < 2) return 0;
    return a * 10000 + b * 100 + c;
}

/* Cores in order of preference for the features: the widest first, then narrower ones in case the
 * library lacks it. AMD's AVX2 parts run OpenBLAS's Zen kernels; its AVX-512 parts (Zen 4) the
 * Intel AVX-512 ones, as OpenBLAS's own detection does from 0.3.22 on. */
static int preferences(const struct cpu_features *f, int *order)
{
    int amd = !strcmp(f->vendor, "AuthenticAMD") || !strcmp(f->vendor, "HygonGenuine"), n = 0;
    if (f->avx512_bf16) order[n++] = OB_COOPERLAKE;
    if (f->avx512) order[n++] = OB_SKYLAKEX;
    if (f->avx2 && f->fma) order[n++] = amd ? OB_ZEN : OB_HASWELL;
    if (f->avx2 && f->fma && amd) order[n++] = OB_HASWELL;
    if (f->avx && !amd) order[n++] = OB_SANDYBRIDGE;
    return n;
}

const char *openblas_core_choose(const struct cpu_features *f, const char *version, int dynamic,
                                 unsigned built, const char *running, char *why, size_t n)
{
    int ver = parse_version(version), order[OB_NCORES], np = preferences(f, order);
    if (!dynamic) { snprintf(why, n, "this OpenBLAS is built for one core (no DYNAMIC_ARCH)"); return NULL; }
    for (int i = 0; i < np; i++) {
        int c = order[i];
        if (!(built & 1u << c) || ver < ob_core_since[c]) continue;
        if (core_rank(ob_core_names[c]) <= core_rank(running)) {
            snprintf(why, n, "detected by OpenBLAS %s", version ? version : "?");
            return NULL;
        }
        snprintf(why, n, "chosen by dlbench: OpenBLAS %s fell back to %s on family %d model %d",
                 version ? version : "?", running ? running : "?", f->family, f->model);
        return ob_core_names[c];
    }
    snprintf(why, n, "detected by OpenBLAS %s (it has no wider core for this CPU)", version ? version : "?");
    return NULL;
}

void openblas_library(char *version, size_t n, int *dynamic, unsigned *built)
{
    const char *cfg = openblas_get_config(), *v = strchr(cfg, ' ');
    snprintf(version, n, "%.*s", v ? (int)strcspn(v + 1, " ") : 1, v ? v + 1 : "?");
    *dynamic = strstr(cfg, "DYNAMIC_ARCH") != NULL;
    *built = 0;
    for (int c = 0; c < OB_NCORES; c++) {
        char sym[48] = "gotoblas_";
        for (const char *p = ob_core_names[c]; *p; p++) { size_t l = strlen(sym); sym[l] = (char)toupper(*p); sym[l + 1] = 0; }
        if (dlsym(RTLD_DEFAULT, sym)) *built |= 1u << c;
    }
}

static char why_core[256];

void cpu_startup_reexec(char **argv)
{
    char version[32], why[200];
    int dynamic, change = 0;
    unsigned built;
    const char *running = openblas_get_corename(), *user = getenv("OPENBLAS_CORETYPE");
    const char *guard = getenv("DLBENCH_REEXEC");
    char pid[24];
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    if (guard && strcmp(guard, pid) == 0) return; /* exec keeps the pid: this is the second start, never a third */
    if (!getenv("OMP_PLACES") && !getenv("OMP_PROC_BIND")) {
        setenv("OMP_PLACES", "cores", 1);   /* libgomp reads these before main */
        setenv("OMP_PROC_BIND", "close", 1);
        change = 1;
    }
    if (!user) {
        openblas_library(version, sizeof version, &dynamic, &built);
        const char *core = openblas_core_choose(cpu_features(), version, dynamic, built, running, why, sizeof why);
        if (core) {
            setenv("OPENBLAS_CORETYPE", core, 1);
            setenv("DLBENCH_OPENBLAS_WHY", why, 1);
            change = 1;
        }
    }
    if (!change) return;
    setenv("DLBENCH_REEXEC", pid, 1);
    /* the binary's own path, not /proc/self/exe, so the process keeps its name (ps, top, OOM logs) */
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len > 0) { self[len] = 0; execv(self, argv); }
    execv("/proc/self/exe", argv);
    /* exec failed: carry on as loaded; info shows the binding and core actually in force */
    unsetenv("OPENBLAS_CORETYPE");
    snprintf(why_core, sizeof why_core, "detected by OpenBLAS (dlbench's re-exec failed)");
}

const char *openblas_core_why(void)
{
    char version[32], why[200];
    int dynamic;
    unsigned built;
    const char *better, *running = openblas_get_corename(), *set = getenv("OPENBLAS_CORETYPE"), *ours = getenv("DLBENCH_OPENBLAS_WHY");
    if (why_core[0]) return why_core;
    openblas_library(version, sizeof version, &dynamic, &built);
    if (set && strcasecmp(set, running) != 0)
        snprintf(why_core, sizeof why_core, "OpenBLAS %s did not take OPENBLAS_CORETYPE=%s%s (not a core it can force, "
                 "or not built in) and chose %s itself", version, set, ours ? " (set by dlbench)" : "", running);
    else if (set && ours)
        snprintf(why_core, sizeof why_core, "%s", ours);
    else if (set)
        snprintf(why_core, sizeof why_core, "set by the user (OPENBLAS_CORETYPE=%s)", set);
    else if ((better = openblas_core_choose(cpu_features(), version, dynamic, built, running, why, sizeof why)))
        snprintf(why_core, sizeof why_core, "OpenBLAS %s fell back to %s; dlbench did not re-execute to set %s "
                 "(it had re-executed once already)", version, running, better);
    else
        snprintf(why_core, sizeof why_core, "%s", why);
    return why_core;
}
