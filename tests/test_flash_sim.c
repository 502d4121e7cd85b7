/* test_flash_sim.c: the flash variant's fused attention kernels (gpu/flash_kernels.cuh) run on the
 * CPU by the simulator (tests/sim/) against the double reference, on the awkward shapes of
 * test_cuda_attention.c, in bf16 and fp16, both fragment-load paths and both thread orders; so CI,
 * which has no GPU, checks the kernels too. Also that the simulator itself catches what it must. */
#include "attention_test_util.h"
#include "sim/flash_sim.h"
#include "sim/sim_selftest.h"

static const struct attention_ops sim_ops = {attention_workspace_flash_sim, attention_fwd_flash_sim, attention_bwd_flash_sim};

/* The CPU backend's host memory, named for the messages, with the simulator's errors. */
static const struct backend *sim_backend(void)
{
    static struct device_ops dev;
    static struct backend b;
    const struct backend *cpu = backend_find("cpu");
    cr_assert_not_null(cpu);
    dev = *cpu->dev;
    dev.error = flash_sim_error;
    b = *cpu;
    b.name = "flash (simulated)";
    b.dev = &dev;
    return &b;
}

static void sim_shapes(enum dtype dt, int ldmatrix, int reverse, int mt)
{
    const struct backend *b = sim_backend();
    flash_sim_options(ldmatrix, reverse, mt);
    expect_attention_ok(b, &sim_ops, dt, attn_shape(1, 1, 1, 64, 0, 0));
    expect_attention_ok(b, &sim_ops, dt, attn_shape(2, 3, 67, 80, 0, 0));
    expect_attention_ok(b, &sim_ops, dt, attn_shape(1, 1, 130, 64, 0, 0));
    expect_attention_ok(b, &sim_ops, dt, attn_shape(2, 2, 100, 128, 2 * 2 * 128, 0));
    expect_attention_ok(b, &sim_ops, dt, attn_shape(1, 1, 300, 128, 0, 0));   /* three key blocks of 128, the last partial */
    expect_attention_ok(b, &sim_ops, dt, attn_shape(1, 2, 200, 64, 2 * 2 * 64 + 8, 8));
}

/* Each variant (forward: 16 or 32 query rows per warp; backward: 64 or 128 keys a block, or the
 * split layout double- or single-buffered) in each dtype, both load paths and orders. */
Test(flash_sim, bf16_ldmatrix_matches_reference) { sim_shapes(DT_BF16, 1, 0, 1); }
Test(flash_sim, fp16_plain_loads_threads_reversed_match_reference) { sim_shapes(DT_F16, 0, 1, 1); }
Test(flash_sim, bf16_plain_loads_two_mtiles_threads_reversed_match_reference) { sim_shapes(DT_BF16, 0, 1, 2); }
Test(flash_sim, fp16_ldmatrix_two_mtiles_matches_reference) { sim_shapes(DT_F16, 1, 0, 2); }
Test(flash_sim, bf16_ldmatrix_two_mtiles_matches_reference) { sim_shapes(DT_BF16, 1, 0, 2); }
Test(flash_sim, bf16_ldmatrix_split_backward_matches_reference) { sim_shapes(DT_BF16, 1, 0, 3); }
Test(flash_sim, fp16_plain_loads_split_backward_threads_reversed_match_reference) { sim_shapes(DT_F16, 0, 1, 3); }
Test(flash_sim, bf16_plain_loads_split_single_buffered_threads_reversed_match_reference) { sim_shapes(DT_BF16, 0, 1, 4); }
Test(flash_sim, fp16_ldmatrix_split_single_buffered_matches_reference) { sim_shapes(DT_F16, 1, 0, 4); }

/* Which backward variants the launcher offers by the GPU's shared memory a block (opt-in bytes):
 * Hopper 227 KiB, A100 163, sm_86/89 99; 0 when unknown (all). ids: 1, 2, 3 split double-, 4
 * split single-buffered; dropped: bit v for a variant d has that does not fit. */
static void expect_offered(int d, size_t kib, int n, int a, int b, int c, int dropped)
{
    int ids[3] = {0, 0, 0}, drop = -1, want[3] = {a, b, c};
    int got = flash_sim_bwd_offered(d, kib * 1024, ids, &drop);
    cr_expect_eq(got, n, "d = %d, %zu KiB: %d variants offered, not %d", d, kib, got, n);
    for (int i = 0; i < n && i < got; i++) cr_expect_eq(ids[i], want[i], "d = %d, %zu KiB: variant %d is %d, not %d", d, kib, i, ids[i], want[i]);
    cr_expect_eq(drop, dropped, "d = %d, %zu KiB: dropped mask %#x, not %#x", d, kib, drop, dropped);
}

Test(flash_sim, backward_variants_offered_by_shared_memory)
{
    expect_offered(128, 227, 3, 1, 2, 3, 0);            /* Hopper: all, the split layout double-buffered (173 KiB) */
    expect_offered(128, 163, 3, 1, 2, 4, 0);            /* A100: the split layout single-buffered (138.5 KiB) */
    expect_offered(128, 99, 1, 1, 0, 0, 1 << 2 | 1 << 3);   /* sm_86/89: 8 warps (113 KiB) and the split layout left out */
    expect_offered(64, 99, 3, 1, 2, 4, 0);              /* d = 64 fits there: split single-buffered (92.7 KiB) */
    expect_offered(64, 163, 3, 1, 2, 3, 0);             /* double-buffered at d = 64: 111.6 KiB */
    expect_offered(80, 227, 1, 1, 0, 0, 0);             /* d = 80 has one */
    expect_offered(128, 0, 3, 1, 2, 3, 0);              /* unknown: every variant d has */
}

/* The simulator itself: the layouts it computes and the faults it catches. */
Test(flash_sim, simulator_mma_ldmatrix_and_vote_follow_the_ptx_semantics)
{
    cr_expect_eq(sim_selftest_mma(1), 0, "bf16 mma differs from A·B + C");
    cr_expect_eq(sim_selftest_mma(0), 0, "fp16 mma differs from A·B + C");
    cr_expect_eq(sim_selftest_ldmatrix(0), 0, "ldmatrix .x4: lanes off the layout");
    cr_expect_eq(sim_selftest_ldmatrix(1), 0, "ldmatrix .x4.trans: lanes off the layout");
    cr_expect_eq(sim_selftest_any(5), 0, "__any_sync: one lane's vote must reach its warp and only it");
    cr_expect_eq(sim_selftest_any(31), 0, "__any_sync: the last lane's vote");
    cr_expect_eq(sim_selftest_any(-1), 0, "__any_sync: no vote");
}

Test(flash_sim, simulator_catches_kernel_faults)
{
    unsigned before = 0, after = 0, fwd = 0, rev = 0;
    cr_assert_eq(sim_selftest_cp_async(&before, &after), 0);
    cr_expect_eq(before, 0xffffffffu, "a cp.async target read before its wait must show the old contents");
    cr_expect_eq(after, 11u);
    cr_assert_eq(sim_selftest_missing_barrier(0, &fwd), 0);
    cr_assert_eq(sim_selftest_missing_barrier(1, &rev), 0);
    cr_expect_neq(fwd, rev, "a read without a barrier must differ between the two thread orders (%u, %u)", fwd, rev);
    char why[300];
    cr_expect_eq(sim_selftest_divergent(why, sizeof why), 0, "divergent collectives not caught");
    cr_expect(strstr(why, "different collectives") != NULL, "%s", why);
    cr_expect_eq(sim_selftest_deadlock(why, sizeof why), 0, "a barrier one thread skips not caught");
    cr_expect(strstr(why, "deadlock") != NULL, "%s", why);
    cr_expect_eq(sim_selftest_overrun(why, sizeof why), 0, "a write past the launched shared memory not caught");
    cr_expect(strstr(why, "past the 256") != NULL, "%s", why);
}
