/* cuda_sim.cc: the fibers, the scheduler and the warp collectives behind cuda_sim.h. A block's
 * threads are fibers on one OS thread (their own stacks; an x86-64 switch of the callee-saved
 * registers, ucontext elsewhere); the scheduler resumes every thread whose wait is over until all
 * have returned. A collective is computed by the last thread of the group to arrive, from what
 * every thread deposited, into one output slot per thread. */
#include "cuda_sim.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <vector>
#if !defined(__x86_64__)
#include <ucontext.h>
#endif
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

namespace {
constexpr size_t STACK = 256 * 1024;
constexpr unsigned char CANARY = 0xa5;

struct copy16 { unsigned char *dst; unsigned char data[16]; int bytes; unsigned group; };

/* A barrier with a generation: waiters resume when gen moves on. op names the collective, so two
 * threads of a group in different ones (divergent code) are caught. */
struct group { unsigned arrived = 0, gen = 0; int op = 0; };

enum { OP_SYNC = 1, OP_SHFL, OP_MMA_BF16, OP_MMA_F16, OP_LDSM, OP_VOTE };

struct warp_state {
    group g;
    alignas(16) unsigned char in[32][48];
    alignas(16) unsigned char out[32][16];
};
}

struct sim_fiber {
    void *sp;
#if !defined(__x86_64__)
    ucontext_t uc;
#endif
    char *stack;
    sim_dim3 tid;
    int lane, warp;
    const unsigned *wait_gen;   /* waiting until *wait_gen != wait_val */
    unsigned wait_val;
    bool done;
    std::vector<copy16> pending;
    unsigned open_group;        /* cp.async groups committed so far */
};

namespace dlbench_sim {
alignas(16) uint16_t smem[SIM_SMEM_BYTES / 2];
}
sim_fiber *sim_current;
sim_dim3 sim_block_idx, sim_grid_dim, sim_block_dim;

namespace {
std::vector<sim_fiber> fibers;
char *stacks;   /* 1024 stacks, mapped once, touched as used */
std::vector<warp_state> warps;
group block_group;
const std::function<void()> *body_fn;
void *sched_sp;
#if !defined(__x86_64__)
ucontext_t sched_uc;
#endif
bool reverse_order, eager_copies, failed;
char err[256];

void fail(const char *fmt, ...)
{
    if (failed) return;
    failed = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, sizeof err, fmt, ap);
    va_end(ap);
}
}

/* AddressSanitizer is told of every switch of stacks (its fiber interface), and a fiber's stack
 * is unpoisoned before reuse: a fiber parked for good (a deadlock test) leaves its frames'
 * redzones behind. */
#if defined(__SANITIZE_ADDRESS__)
static void *sched_bottom;
static size_t sched_size;
static void asan_leave(void **fake, const void *bottom, size_t size) { __sanitizer_start_switch_fiber(fake, bottom, size); }
static void asan_enter(void *fake, const void **bottom, size_t *size) { __sanitizer_finish_switch_fiber(fake, bottom, size); }
#else
static void *sched_bottom;
static size_t sched_size;
static void asan_leave(void **, const void *, size_t) {}
static void asan_enter(void *, const void **, size_t *) {}
#endif

#if defined(__x86_64__)
/* sim_switch(&save, load): push the callee-saved registers, save rsp, load the other stack, pop. */
extern "C" void sim_switch(void **save_sp, void *load_sp);
asm(".text\n.p2align 4\n.globl sim_switch\n.type sim_switch,@function\nsim_switch:\n"
    "pushq %rbp\npushq %rbx\npushq %r12\npushq %r13\npushq %r14\npushq %r15\n"
    "movq %rsp, (%rdi)\nmovq %rsi, %rsp\n"
    "popq %r15\npopq %r14\npopq %r13\npopq %r12\npopq %rbx\npopq %rbp\nret\n"
    ".size sim_switch,.-sim_switch\n");
static void switch_to_scheduler(void) { sim_switch(&sim_current->sp, sched_sp); }
static void switch_to_fiber(sim_fiber *f) { sim_switch(&sched_sp, f->sp); }
#else
static void switch_to_scheduler(void) { swapcontext(&sim_current->uc, &sched_uc); }
static void switch_to_fiber(sim_fiber *f) { swapcontext(&sched_uc, &f->uc); }
#endif

static void to_scheduler(void)
{
    void *fake = nullptr;
    sim_fiber *self = sim_current;
    asan_leave(self->done ? nullptr : &fake, sched_bottom, sched_size);
    switch_to_scheduler();
    asan_enter(fake, nullptr, nullptr);
}

static void to_fiber(sim_fiber *f)
{
    void *fake = nullptr;
    asan_leave(&fake, f->stack, STACK);
    switch_to_fiber(f);
    asan_enter(fake, nullptr, nullptr);
}

static void flush_copies(sim_fiber *f, unsigned below_group)
{
    size_t keep = 0;
    for (size_t i = 0; i < f->pending.size(); i++) {
        copy16 &c = f->pending[i];
        if (c.group < below_group) memcpy(c.dst, c.data, (size_t)c.bytes);
        else f->pending[keep++] = c;
    }
    f->pending.resize(keep);
}

/* A fiber's first frame: run the kernel, land what it left in flight, and never come back. */
static void fiber_main(void)
{
    asan_enter(nullptr, (const void **)&sched_bottom, &sched_size);
    (*body_fn)();
    flush_copies(sim_current, ~0u);
    sim_current->done = true;
    to_scheduler();
    abort();   /* a finished fiber is never resumed */
}

static void wait_on(const unsigned *gen, unsigned val)
{
    sim_current->wait_gen = gen;
    sim_current->wait_val = val;
    to_scheduler();
    sim_current->wait_gen = nullptr;
}

/* Arrive at g (n members) for collective op; the last to arrive runs compute, then all go on. */
template <class F> static void arrive(group &g, unsigned n, int op, F compute)
{
    if (g.arrived == 0) g.op = op;
    else if (g.op != op) fail("threads of one group in different collectives (%d and %d): divergent code", g.op, op);
    if (failed) { static const unsigned never = 0; wait_on(&never, 0); }   /* parks for good; the launch reports */
    unsigned gen = g.gen;
    if (++g.arrived == n) {
        compute();
        g.arrived = 0;
        g.gen++;
        return;
    }
    wait_on(&g.gen, gen);
}

const sim_dim3 &sim_thread_idx(void) { return sim_current->tid; }
const char *sim_error(void) { return err; }
void sim_set_reverse(bool on) { reverse_order = on; }
void sim_set_eager_copies(bool on) { eager_copies = on; }

void sim_syncthreads(void) { arrive(block_group, sim_block_dim.x, OP_SYNC, [] {}); }

static unsigned warp_size(int w) { return std::min(32u, sim_block_dim.x - 32u * (unsigned)w); }

/* Deposit nin bytes, let the last lane compute every lane's output, take nout bytes back. */
template <class F> static void warp_op(int op, const void *in, size_t nin, void *out, size_t nout, F compute)
{
    sim_fiber *f = sim_current;
    warp_state &w = warps[(size_t)f->warp];
    memcpy(w.in[f->lane], in, nin);
    arrive(w.g, warp_size(f->warp), op, [&] { compute(w); });
    memcpy(out, w.out[sim_current->lane], nout);
}

float sim_shfl_xor(float v, int lane_mask)
{
    float r;
    warp_op(OP_SHFL, &v, 4, &r, 4, [lane_mask](warp_state &w) {
        for (int l = 0; l < 32; l++) memcpy(w.out[l], w.in[(l ^ lane_mask) & 31], 4);
    });
    return r;
}

int sim_any(int pred)
{
    int r;
    const unsigned n = warp_size(sim_current->warp);
    warp_op(OP_VOTE, &pred, 4, &r, 4, [n](warp_state &w) {
        int any = 0;
        for (unsigned l = 0; l < n; l++) {
            int p;
            memcpy(&p, w.in[l], 4);
            any |= p != 0;
        }
        for (int l = 0; l < 32; l++) memcpy(w.out[l], &any, 4);
    });
    return r;
}

static float half16(uint32_t reg, int hi, bool bf16)
{
    uint16_t h = (uint16_t)(hi ? reg >> 16 : reg);
    return bf16 ? bf16_to_f32(h) : f16_to_f32(h);
}

/* Fragments (lane l, g = l/4, t = l%4): a[0] A[g][2t..2t+1], a[1] A[g+8][2t..], a[2] A[g][2t+8..],
 * a[3] A[g+8][2t+8..]; b[0] B[2t..2t+1][g], b[1] B[2t+8..][g]; c[0..1] C[g][2t..], c[2..3] C[g+8][2t..]. */
void sim_mma_m16n8k16(float (&c)[4], const uint32_t (&a)[4], const uint32_t (&b)[2], bool bf16)
{
    uint32_t in[10];
    memcpy(in, a, 16);
    memcpy(in + 4, b, 8);
    memcpy(in + 6, c, 16);
    warp_op(bf16 ? OP_MMA_BF16 : OP_MMA_F16, in, sizeof in, c, 16, [bf16](warp_state &w) {
        float A[16][16], B[16][8], C[16][8];
        for (int l = 0; l < 32; l++) {
            const uint32_t *r = reinterpret_cast<const uint32_t *>(w.in[l]);
            int g = l / 4, t = l % 4;
            for (int j = 0; j < 2; j++) {
                A[g][2 * t + j] = half16(r[0], j, bf16);
                A[g + 8][2 * t + j] = half16(r[1], j, bf16);
                A[g][2 * t + 8 + j] = half16(r[2], j, bf16);
                A[g + 8][2 * t + 8 + j] = half16(r[3], j, bf16);
                B[2 * t + j][g] = half16(r[4], j, bf16);
                B[2 * t + 8 + j][g] = half16(r[5], j, bf16);
                float cc[4];
                memcpy(cc, r + 6, 16);
                C[g][2 * t + j] = cc[j];
                C[g + 8][2 * t + j] = cc[2 + j];
            }
        }
        for (int l = 0; l < 32; l++) {
            int g = l / 4, t = l % 4;
            float d[4];
            for (int e = 0; e < 4; e++) {
                int row = g + 8 * (e >> 1), col = 2 * t + (e & 1);
                double s = C[row][col];
                for (int k = 0; k < 16; k++) s += (double)A[row][k] * B[k][col];
                d[e] = (float)s;
            }
            memcpy(w.out[l], d, 16);
        }
    });
}

/* Register i of lane l: row l/4, columns 2(l%4)..+1 of matrix i (.trans: rows 2(l%4)..+1, column
 * l/4); the rows of matrix i are 16 bytes at the addresses lanes 8i..8i+7 gave. */
void sim_ldmatrix(uint32_t *r, int nmat, const void *row, bool trans)
{
    warp_op(OP_LDSM, &row, sizeof row, r, 4 * (size_t)nmat, [nmat, trans](warp_state &w) {
        for (int l = 0; l < 32; l++) {
            uint32_t v[4];
            for (int i = 0; i < nmat; i++) {
                uint16_t e[2];
                for (int j = 0; j < 2; j++) {
                    int rr = trans ? 2 * (l % 4) + j : l / 4, cc = trans ? l / 4 : 2 * (l % 4) + j;
                    const uint16_t *p;
                    memcpy(&p, w.in[8 * i + rr], sizeof p);
                    if ((uintptr_t)p & 15) fail("ldmatrix: row address %p of lane %d is not 16-byte aligned", (const void *)p, 8 * i + rr);
                    e[j] = p[cc];
                }
                v[i] = (uint32_t)e[0] | (uint32_t)e[1] << 16;
            }
            memcpy(w.out[l], v, 4 * (size_t)nmat);
        }
    });
}

void sim_cp_async(void *dst, const void *src, int bytes, int src_bytes)
{
    if ((bytes != 4 && bytes != 8 && bytes != 16) || src_bytes < 0 || src_bytes > bytes ||
        (((uintptr_t)dst | (uintptr_t)src) & (uintptr_t)(bytes - 1)))
        fail("cp.async of %d bytes (%d read) between %p and %p: a size or alignment PTX refuses", bytes, src_bytes, dst, src);
    copy16 c{static_cast<unsigned char *>(dst), {0}, bytes, sim_current->open_group};
    if (src_bytes > 0) memcpy(c.data, src, (size_t)src_bytes);
    if (eager_copies) memcpy(c.dst, c.data, (size_t)bytes);
    else sim_current->pending.push_back(c);
}

void sim_red_add4(float *p, float a, float b, float c, float d)
{
    if ((uintptr_t)p & 15) fail("red.global.add.v4.f32 at %p, not 16-byte aligned", (void *)p);
    p[0] += a;
    p[1] += b;
    p[2] += c;
    p[3] += d;
}

void sim_cp_async_commit(void) { sim_current->open_group++; }

void sim_cp_async_wait(int n)
{
    sim_fiber *f = sim_current;
    flush_copies(f, f->open_group >= (unsigned)n ? f->open_group - (unsigned)n : 0);
}

static void fiber_init(sim_fiber &f, char *stack)
{
    f.done = false;
    f.wait_gen = nullptr;
    f.pending.clear();
    f.open_group = 0;
    f.stack = stack;
#if defined(__SANITIZE_ADDRESS__)
    ASAN_UNPOISON_MEMORY_REGION(stack, STACK);
#endif
#if defined(__x86_64__)
    /* Six zeroed registers, then fiber_main as the return address at a 16-byte boundary, so it is
     * entered with the stack aligned as after a call. */
    uintptr_t top = ((uintptr_t)stack + STACK) & ~(uintptr_t)15;
    void **sp = reinterpret_cast<void **>(top - 64);
    for (int i = 0; i < 6; i++) sp[i] = nullptr;
    sp[6] = reinterpret_cast<void *>(&fiber_main);
    sp[7] = nullptr;
    f.sp = sp;
#else
    getcontext(&f.uc);
    f.uc.uc_stack.ss_sp = stack;
    f.uc.uc_stack.ss_size = STACK;
    f.uc.uc_link = nullptr;
    makecontext(&f.uc, fiber_main, 0);
#endif
}

/* One block: resume every runnable thread in turn until all are done; none runnable is a deadlock. */
static int run_block(unsigned threads)
{
    for (;;) {
        bool progress = false, all_done = true;
        for (unsigned i = 0; i < threads; i++) {
            sim_fiber &f = fibers[reverse_order ? threads - 1 - i : i];
            if (f.done) continue;
            all_done = false;
            if (f.wait_gen && *f.wait_gen == f.wait_val) continue;
            sim_current = &f;
            to_fiber(&f);
            progress = true;
        }
        if (all_done) return 0;
        if (!progress || failed) {
            fail("deadlock in block (%u, %u, %u): a thread waits at a barrier or collective others never reach", sim_block_idx.x,
                 sim_block_idx.y, sim_block_idx.z);
            return -1;
        }
    }
}

int sim_launch(unsigned grid_x, unsigned grid_y, unsigned threads, size_t smem_bytes, const std::function<void()> &body)
{
    return sim_launch3(grid_x, grid_y, 1, threads, smem_bytes, body);
}

int sim_launch3(unsigned grid_x, unsigned grid_y, unsigned grid_z, unsigned threads, size_t smem_bytes, const std::function<void()> &body)
{
    failed = false;
    err[0] = 0;
    const size_t smem_cap = SIM_SMEM_BYTES;
    if (threads == 0 || threads > 1024 || smem_bytes > smem_cap) {
        fail("launch of %u threads with %zu bytes of shared memory (%zu available)", threads, smem_bytes, smem_cap);
        return -1;
    }
    if (!stacks) {
        void *m = mmap(nullptr, 1024 * STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED) {
            fail("no memory for the threads' stacks");
            return -1;
        }
        stacks = static_cast<char *>(m);
    }
    fibers.resize(threads);
    warps.assign((threads + 31) / 32, warp_state());
    body_fn = &body;
    sim_grid_dim = {grid_x, grid_y, grid_z};
    sim_block_dim = {threads, 1, 1};
    unsigned char *sm = reinterpret_cast<unsigned char *>(dlbench_sim::smem);
    for (unsigned b = 0; b < grid_x * grid_y * grid_z; b++) {
        unsigned bx = b % grid_x, by = b / grid_x % grid_y, bz = b / (grid_x * grid_y);
        sim_block_idx = {bx, by, bz};
        memset(sm, 0xff, smem_bytes);
        memset(sm + smem_bytes, CANARY, smem_cap - smem_bytes);
        block_group = group();
        for (unsigned t = 0; t < threads; t++) {
            fibers[t].tid = {t, 0, 0};
            fibers[t].lane = (int)(t % 32);
            fibers[t].warp = (int)(t / 32);
            fiber_init(fibers[t], stacks + (size_t)t * STACK);
        }
        if (run_block(threads)) return -1;
        for (size_t i = smem_bytes; i < smem_cap; i++)
            if (sm[i] != CANARY) {
                fail("block (%u, %u, %u) wrote shared memory at byte %zu, past the %zu it was launched with", bx, by, bz, i, smem_bytes);
                return -1;
            }
    }
    return 0;
}
