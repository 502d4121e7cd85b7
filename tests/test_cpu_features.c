/* test_cpu_features.c: cpuid words -> features -> OpenBLAS core, on CPUs this machine is not (Emerald
 * Rapids, Zen 2/4, Sandy Bridge, an OS without AVX-512 state); and the start-up re-exec end to end:
 * a user's OPENBLAS_CORETYPE is never overridden, a bad one is reported, the guard stops a second exec. */
#include "cpu_features.h"
#include "openblas_core.h"
#include "testutil.h"
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* leaf 0 vendor words (ebx, edx, ecx) */
#define INTEL 0x756e6547u, 0x6c65746eu, 0x49656e69u
#define AMD 0x68747541u, 0x444d4163u, 0x69746e65u
#define L1_ECX (1u << 0 | 1u << 9 | 1u << 12 | 1u << 19 | 1u << 27 | 1u << 28) /* sse3 ssse3 fma sse4.1 osxsave avx */
#define L7_AVX2 (1u << 5)
#define L7_AVX512 (1u << 16 | 1u << 17 | 1u << 30 | 1u << 31)                   /* F DQ BW VL */
#define L7_AMX (1u << 22 | 1u << 24 | 1u << 25)                                  /* amx-bf16 tile int8 */
#define XCR0_YMM 0x7ull
#define XCR0_ZMM 0xe7ull
#define XCR0_AMX 0x600e7ull

/* family/model packed like cpuid leaf 1 eax */
static uint32_t fms(int base_family, int ext_family, int model)
{
    return (uint32_t)(ext_family << 20 | (model >> 4) << 16 | base_family << 8 | (model & 0xf) << 4 | 2);
}

static struct cpuid_raw emerald_rapids(uint64_t xcr0)
{
    return (struct cpuid_raw){{0x20, INTEL}, {fms(6, 0, 0xcf), 0, L1_ECX, 0}, {1, L7_AVX2 | L7_AVX512, 0, L7_AMX},
                              {1u << 5, 0, 0, 0}, xcr0};
}

static const unsigned all_built = (1u << OB_NCORES) - 1;

static const char *choose(const struct cpuid_raw *r, const char *ver, unsigned built, const char *running)
{
    struct cpu_features f;
    static char why[256];
    cpu_features_decode(r, &f);
    return openblas_core_choose(&f, ver, 1, built, running, why, sizeof why);
}

Test(cpu_features, emerald_rapids_decodes_and_gets_cooperlake)
{
    struct cpuid_raw r = emerald_rapids(XCR0_AMX);
    struct cpu_features f;
    char why[256];
    cpu_features_decode(&r, &f);
    cr_expect_str_eq(f.vendor, "GenuineIntel");
    cr_expect_eq(f.family, 6);
    cr_expect_eq(f.model, 207);
    cr_expect(f.avx2 && f.fma && f.avx512 && f.avx512_bf16 && f.amx_tile && f.amx_bf16);
    cr_expect_eq(cpu_vec_isa(&f), ISA_AVX512);
    cr_expect_eq(cpu_bf16_path(&f), BF16_AMX);
    const char *core = openblas_core_choose(&f, "0.3.21", 1, all_built, "Prescott", why, sizeof why);
    cr_assert_not_null(core, "%s", why);
    cr_expect_str_eq(core, "Cooperlake");
    cr_expect(strstr(why, "fell back to Prescott on family 6 model 207") != NULL, "%s", why);
}

Test(cpu_features, os_state_limits_what_is_usable)
{
    struct cpuid_raw r = emerald_rapids(XCR0_ZMM); /* no tile state: AVX512-BF16 is the bf16 path */
    struct cpu_features f;
    cpu_features_decode(&r, &f);
    cr_expect(!f.amx_tile && f.avx512_bf16);
    cr_expect_eq(cpu_bf16_path(&f), BF16_AVX512);
    r = emerald_rapids(XCR0_YMM);                  /* no zmm state: AVX2 only */
    cpu_features_decode(&r, &f);
    cr_expect(!f.avx512 && !f.avx512_bf16 && f.avx2);
    cr_expect_eq(cpu_vec_isa(&f), ISA_AVX2);
    cr_expect_eq(cpu_bf16_path(&f), BF16_NONE);
    cr_expect_str_eq(choose(&r, "0.3.21", all_built, "Prescott"), "Haswell");
    r.leaf1[2] &= ~(1u << 27);                      /* no OSXSAVE: XCR0 means nothing, SSE only */
    cpu_features_decode(&r, &f);
    cr_expect_eq(cpu_vec_isa(&f), ISA_SSE);
    cr_expect_null(choose(&r, "0.3.21", all_built, "Prescott"));
}

Test(cpu_features, core_depends_on_the_openblas_version_and_build)
{
    struct cpuid_raw r = emerald_rapids(XCR0_AMX);
    cr_expect_str_eq(choose(&r, "0.3.10", all_built, "Prescott"), "SkylakeX", "Cooperlake is forceable from 0.3.11");
    cr_expect_str_eq(choose(&r, "0.3.0", all_built, "Prescott"), "Haswell", "SkylakeX from 0.3.1");
    cr_expect_str_eq(choose(&r, "0.3.21", all_built & ~(1u << OB_COOPERLAKE), "Nehalem"), "SkylakeX");
    cr_expect_null(choose(&r, "0.3.21", all_built, "Cooperlake"), "already the best");
    cr_expect_null(choose(&r, "0.3.26", all_built, "SapphireRapids"), "never narrower than what runs");
    cr_expect_null(choose(&r, "0.4.0", all_built, "GraniteRapids"), "a core newer than the table is left alone");
    struct cpu_features f;
    char why[256];
    cpu_features_decode(&r, &f);
    cr_expect_null(openblas_core_choose(&f, "0.3.21", 0, all_built, "Prescott", why, sizeof why));
    cr_expect(strstr(why, "DYNAMIC_ARCH") != NULL, "%s", why);
}

Test(cpu_features, amd_and_older_intel)
{
    /* Zen 4: family 0x19 (0xf + 0xa), AVX-512 with bf16, no AMX */
    struct cpuid_raw zen4 = {{0x10, AMD}, {fms(0xf, 0xa, 0x11), 0, L1_ECX, 0}, {1, L7_AVX2 | L7_AVX512, 0, 0},
                             {1u << 5, 0, 0, 0}, XCR0_ZMM};
    struct cpu_features f;
    cpu_features_decode(&zen4, &f);
    cr_expect_eq(f.family, 0x19);
    cr_expect_eq(f.model, 0x11);
    cr_expect_eq(cpu_bf16_path(&f), BF16_AVX512);
    cr_expect_str_eq(choose(&zen4, "0.3.21", all_built, "Prescott"), "Cooperlake");
    cr_expect_str_eq(choose(&zen4, "0.3.21", all_built, "Zen"), "Cooperlake", "Zen kernels are AVX2 only");
    /* Zen 2: family 0x17, AVX2 */
    struct cpuid_raw zen2 = {{0x10, AMD}, {fms(0xf, 0x8, 0x31), 0, L1_ECX, 0}, {0, L7_AVX2, 0, 0}, {0}, XCR0_YMM};
    cr_expect_str_eq(choose(&zen2, "0.3.21", all_built, "Barcelona"), "Zen");
    cr_expect_null(choose(&zen2, "0.3.21", all_built, "Zen"));
    cr_expect_str_eq(choose(&zen2, "0.2.19", all_built, "Barcelona"), "Haswell", "ZEN is forceable from 0.2.20");
    /* Sandy Bridge: AVX without AVX2/FMA */
    struct cpuid_raw snb = {{0xd, INTEL}, {fms(6, 0, 0x2a), 0, L1_ECX & ~(1u << 12), 0}, {0}, {0}, XCR0_YMM};
    cr_expect_str_eq(choose(&snb, "0.3.21", all_built, "Nehalem"), "Sandybridge");
    cr_expect_null(choose(&snb, "0.3.21", all_built, "Sandybridge"));
}

Test(cpu_features, this_machine_is_consistent)
{
    const struct cpu_features *f = cpu_features();
    cr_expect(!f->avx512_bf16 || f->avx512);
    cr_expect(!f->amx_bf16 || f->amx_tile);
    cr_expect_str_neq(vec_isa_name(cpu_vec_isa(f)), "");
    char ver[32];
    int dyn;
    unsigned built;
    openblas_library(ver, sizeof ver, &dyn, &built);
    cr_expect(ver[0] >= '0' && ver[0] <= '9', "OpenBLAS version '%s'", ver);
    if (dyn) cr_expect_neq(built, 0u, "a DYNAMIC_ARCH OpenBLAS has gotoblas_<CORE> tables");
}

/* What `dlbench info` says about OpenBLAS's core and thread binding when started from `sh -c "SETUP exec dlbench"`. */
struct started { char core[400], why[400], binding[400]; };

static void info_after(const char *setup, struct started *st)
{
    char cmd[4096], line[512];
    const char *bin = getenv("DLBENCH_BIN") ? getenv("DLBENCH_BIN") : DLBENCH_BIN;
    snprintf(cmd, sizeof cmd, "%s exec '%s' info --no-ceilings 2>&1", setup, bin);
    memset(st, 0, sizeof *st);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    while (fgets(line, sizeof line, p)) {
        char key[64], val[400];
        if (sscanf(line, " %63s %399[^\n]", key, val) != 2) continue;
        if (!strcmp(key, "openblas_core")) snprintf(st->core, sizeof st->core, "%s", val);
        if (!strcmp(key, "openblas_core_why")) snprintf(st->why, sizeof st->why, "%s", val);
        if (!strcmp(key, "omp_binding")) snprintf(st->binding, sizeof st->binding, "%s", val);
    }
    cr_expect_eq(pclose(p), 0, "%s", cmd);
}

Test(openblas_core, user_setting_is_never_overridden)
{
    struct started st;
    info_after("export OPENBLAS_CORETYPE=Haswell;", &st);
    cr_expect_str_eq(st.core, "Haswell");
    cr_expect(strstr(st.why, "set by the user") != NULL, "%s", st.why);
    info_after("export OPENBLAS_CORETYPE=NoSuchCore;", &st);
    cr_expect(st.core[0] != 0, "OpenBLAS runs its own fallback, no crash");
    cr_expect(strstr(st.why, "did not take OPENBLAS_CORETYPE=NoSuchCore") != NULL, "%s", st.why);
}

Test(openblas_core, reexec_guard_stops_a_second_start)
{
    struct started st;
    /* sh's $$ is its pid, which exec keeps: dlbench then sees itself as already re-executed */
    info_after("export DLBENCH_REEXEC=$$; unset OMP_PLACES OMP_PROC_BIND OPENBLAS_CORETYPE;", &st);
    cr_expect_str_eq(st.binding, "OMP_PLACES=(unset) OMP_PROC_BIND=(unset)", "no re-exec, so nothing was pinned");
    cr_expect(strstr(st.why, "chosen by dlbench") == NULL, "%s", st.why);
    /* a guard left by another process does not stop the one re-exec */
    info_after("export DLBENCH_REEXEC=1; unset OMP_PLACES OMP_PROC_BIND OPENBLAS_CORETYPE;", &st);
    cr_expect_str_eq(st.binding, "OMP_PLACES=cores OMP_PROC_BIND=close");
    cr_expect(st.core[0] != 0 && st.why[0] != 0);
}
