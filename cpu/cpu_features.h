/* cpu_features.h: what this x86-64 processor and its OS allow, decoded from raw cpuid/xgetbv words
 * (a pure function, so tests feed it any CPU), and the widest vector and bf16 paths that follow. */
#ifndef DLBENCH_CPU_FEATURES_H
#define DLBENCH_CPU_FEATURES_H
#include <stddef.h>
#include <stdint.h>

/* The cpuid leaves used, as {eax, ebx, ecx, edx}, and XCR0 (0 when the OS has no XSAVE). */
struct cpuid_raw {
    uint32_t leaf0[4], leaf1[4], leaf7[4], leaf7_1[4];
    uint64_t xcr0;
};

enum vec_isa { ISA_SSE, ISA_AVX2, ISA_AVX512 };      /* FMA-loop ceiling paths, in order */
enum bf16_path { BF16_NONE, BF16_AVX512, BF16_AMX };  /* vdpbf16ps; tdpbf16ps on AMX tiles */

struct cpu_features {
    char vendor[13];                  /* "GenuineIntel", "AuthenticAMD" */
    int family, model;                /* display family and model (6, 207) */
    /* instruction sets the CPU reports AND the OS saves the registers of */
    unsigned avx : 1, fma : 1, avx2 : 1, avx512 : 1 /* F+DQ+BW+VL */, avx512_bf16 : 1;
    unsigned amx_tile : 1, amx_bf16 : 1;  /* XCR0 enables tile state; the process still asks (ARCH_REQ_XCOMP_PERM) */
};

void cpu_features_decode(const struct cpuid_raw *raw, struct cpu_features *f);
void cpuid_read(struct cpuid_raw *raw);                  /* this machine */
const struct cpu_features *cpu_features(void);           /* this machine, decoded once */

enum vec_isa cpu_vec_isa(const struct cpu_features *f);
enum bf16_path cpu_bf16_path(const struct cpu_features *f);
const char *vec_isa_name(enum vec_isa i);                /* "AVX-512", "AVX2+FMA", "SSE" */
const char *bf16_path_name(enum bf16_path p);            /* "AMX-BF16", "AVX512-BF16", "none" */
/* Asks Linux for the AMX tile state (arch_prctl ARCH_REQ_XCOMP_PERM), once per process. 0 when
 * tiles may be used; -1 with why (no AMX, kernel older than 5.16, refused). */
int cpu_amx_enable(char *why, size_t n);
#endif
