/* cpu_features.c: decodes cpuid/xgetbv into the instruction sets usable here (CPU has them and the
 * OS saves their registers), and asks Linux for AMX tile state. */
#include "cpu_features.h"
#include <cpuid.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BIT(w, b) (((w) >> (b)) & 1u)

void cpu_features_decode(const struct cpuid_raw *r, struct cpu_features *f)
{
    memset(f, 0, sizeof *f);
    memcpy(f->vendor, &r->leaf0[1], 4);       /* ebx, edx, ecx spell the vendor */
    memcpy(f->vendor + 4, &r->leaf0[3], 4);
    memcpy(f->vendor + 8, &r->leaf0[2], 4);
    uint32_t a = r->leaf1[0], base = (a >> 8) & 0xf;
    f->family = (int)(base == 0xf ? base + ((a >> 20) & 0xff) : base);
    f->model = (int)((a >> 4) & 0xf);
    if (base == 0x6 || base == 0xf) f->model |= (int)((a >> 16) & 0xf) << 4;
    uint32_t max_leaf = r->leaf0[0], c1 = r->leaf1[2];
    uint64_t x = BIT(c1, 27) ? r->xcr0 : 0;   /* OSXSAVE: XCR0 is meaningful */
    int os_ymm = (x & 0x6) == 0x6, os_zmm = os_ymm && (x & 0xe0) == 0xe0, os_tile = (x & 0x60000) == 0x60000;
    uint32_t b7 = max_leaf >= 7 ? r->leaf7[1] : 0, d7 = max_leaf >= 7 ? r->leaf7[3] : 0;
    uint32_t a71 = max_leaf >= 7 && r->leaf7[0] >= 1 ? r->leaf7_1[0] : 0;
    f->avx = BIT(c1, 28) && os_ymm;
    f->fma = BIT(c1, 12) && os_ymm;
    f->avx2 = BIT(b7, 5) && os_ymm;
    f->avx512 = BIT(b7, 16) && BIT(b7, 17) && BIT(b7, 30) && BIT(b7, 31) && os_zmm;
    f->avx512_bf16 = f->avx512 && BIT(a71, 5);
    f->amx_tile = BIT(d7, 24) && os_tile;
    f->amx_bf16 = f->amx_tile && BIT(d7, 22);
}

static uint64_t xgetbv0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (uint64_t)hi << 32 | lo;
}

void cpuid_read(struct cpuid_raw *r)
{
    memset(r, 0, sizeof *r);
    __cpuid(0, r->leaf0[0], r->leaf0[1], r->leaf0[2], r->leaf0[3]);
    __cpuid(1, r->leaf1[0], r->leaf1[1], r->leaf1[2], r->leaf1[3]);
    if (r->leaf0[0] >= 7) {
        __cpuid_count(7, 0, r->leaf7[0], r->leaf7[1], r->leaf7[2], r->leaf7[3]);
        __cpuid_count(7, 1, r->leaf7_1[0], r->leaf7_1[1], r->leaf7_1[2], r->leaf7_1[3]);
    }
    if (BIT(r->leaf1[2], 27)) r->xcr0 = xgetbv0();
}

const struct cpu_features *cpu_features(void)
{
    static struct cpu_features f;
    static int done;
    if (!done) {
        struct cpuid_raw r;
        cpuid_read(&r);
        cpu_features_decode(&r, &f);
        done = 1;
    }
    return &f;
}

enum vec_isa cpu_vec_isa(const struct cpu_features *f)
{
    return f->avx512 ? ISA_AVX512 : f->avx2 && f->fma ? ISA_AVX2 : ISA_SSE;
}

enum bf16_path cpu_bf16_path(const struct cpu_features *f)
{
    return f->amx_bf16 && f->avx512 ? BF16_AMX : f->avx512_bf16 ? BF16_AVX512 : BF16_NONE;
}

const char *vec_isa_name(enum vec_isa i)
{
    return i == ISA_AVX512 ? "AVX-512" : i == ISA_AVX2 ? "AVX2+FMA" : "SSE";
}

const char *bf16_path_name(enum bf16_path p)
{
    return p == BF16_AMX ? "AMX-BF16" : p == BF16_AVX512 ? "AVX512-BF16" : "none";
}

#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18

int cpu_amx_enable(char *why, size_t n)
{
    static int state;   /* 0 not asked, 1 granted, -1 refused */
    static char reason[128];
    if (state == 0) {
        if (!cpu_features()->amx_tile) {
            snprintf(reason, sizeof reason, "no AMX tiles on this CPU (or the OS does not enable them)");
            state = -1;
        } else if (syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) != 0) {
            snprintf(reason, sizeof reason, "Linux refused AMX tile state (arch_prctl: %s; needs 5.16 or newer)",
                     strerror(errno));
            state = -1;
        } else state = 1;
    }
    if (state < 0 && why) snprintf(why, n, "%s", reason);
    return state > 0 ? 0 : -1;
}
