/* test_devstate.c: the GPU's state per row from a synthetic NVML reading: throttle reasons named
 * and flagged, readings folded, the row's columns filled by the sampler beside the timed loop, the
 * report's mark and its device-state section; NVML absent gives "n/a", never a failure. And the
 * run-time estimate: its calibration on synthetic rows, its groups, the probe's rates. */
#include "backend.h"
#include "ceilings.h"
#include "devstate.h"
#include "eltwise_cases.h"
#include "eta.h"
#include "measure.h"
#include "report.h"
#include "testutil.h"
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static struct dev_state reading(double clk, double watts, double temp, unsigned long long reasons)
{
    struct dev_state s = {clk, 2619, watts, 700, temp, reasons, 1, ""};
    return s;
}

Test(devstate, throttle_reasons_named_and_flagged)
{
    char buf[96];
    struct dev_state s = reading(1755, 690, 71, NVML_REASON_SW_POWER_CAP | NVML_REASON_GPU_IDLE);
    devstate_throttle_text(&s, buf, sizeof buf);
    cr_expect_str_eq(buf, "sw_power_cap", "idle is left out: the sampler reads between calls");
    cr_expect(devstate_text_throttled(buf));
    s = reading(1980, 300, 50, NVML_REASON_GPU_IDLE | NVML_REASON_APP_CLOCKS);
    devstate_throttle_text(&s, buf, sizeof buf);
    cr_expect_str_eq(buf, "applications_clocks");
    cr_expect(!devstate_text_throttled(buf), "an application clock setting is not a throttle");
    s = reading(1400, 650, 88, NVML_REASON_HW_THERMAL | NVML_REASON_SW_THERMAL | NVML_REASON_HW_POWER_BRAKE);
    devstate_throttle_text(&s, buf, sizeof buf);
    cr_expect_str_eq(buf, "sw_thermal_slowdown+hw_thermal_slowdown+hw_power_brake");
    cr_expect(devstate_text_throttled(buf));
    s = reading(1980, 100, 40, 0);
    devstate_throttle_text(&s, buf, sizeof buf);
    cr_expect_str_eq(buf, "none");
    s.have_reasons = 0;
    snprintf(s.why, sizeof s.why, "n/a: NVML not found (libnvidia-ml.so.1)");
    devstate_throttle_text(&s, buf, sizeof buf);
    cr_expect_str_eq(buf, "n/a: NVML not found (libnvidia-ml.so.1)");
    cr_expect(!devstate_text_throttled(buf));
}

Test(devstate, readings_fold_to_means_maxima_and_every_reason)
{
    struct dev_state_acc a;
    struct dev_state out, r1 = reading(1980, 400, 60, 0), r2 = reading(1600, 700, 75, NVML_REASON_SW_POWER_CAP);
    devstate_begin(&a);
    devstate_fold(&a, &r1);
    devstate_fold(&a, &r2);
    devstate_result(&a, &out);
    cr_expect_float_eq(out.clock_mhz, 1790, 1e-9);
    cr_expect_float_eq(out.power_w, 550, 1e-9);
    cr_expect_float_eq(out.temp_c, 75, 1e-9);
    cr_expect_eq(out.reasons, NVML_REASON_SW_POWER_CAP);
    devstate_begin(&a);
    devstate_result(&a, &out);
    cr_expect(isnan(out.clock_mhz) && !out.have_reasons && !strncmp(out.why, "n/a", 3));
}

/* A GPU-kind backend (the CPU's ops) whose device reports a power-capped reading. */
static void capped(struct dev_state *s) { *s = reading(1702, 699, 80, NVML_REASON_SW_POWER_CAP); }

static void measure_with_state(void (*state_read)(struct dev_state *), enum backend_kind kind, struct row *r)
{
    static struct backend fake;
    static struct device_ops dev;
    fake = *backend_find("cpu");
    dev = *fake.dev;
    dev.state_read = state_read;
    fake.dev = &dev;
    fake.kind = kind;
    fake.name = "cuda";
    struct eltwise_shape s = {ELT_COPY, 100000, 1, 0, 1.0f};
    struct timing_opts t = {0.05, 0.1, 0.5, 60, 1000, 0};   /* warm-up: the one call */
    struct timing_result tr;
    measure_row(&fake, workload_find("stream"), "copy", &s, DT_F32, 1, &t, 1, r, &tr);
    free(tr.samples);
}

Test(devstate, synthetic_nvml_reading_reaches_the_row_and_the_report)
{
    struct row r[2];
    measure_with_state(capped, BACKEND_GPU, &r[0]);
    cr_assert(row_measured(&r[0]), "%s", r[0].status);
    cr_expect_str_eq(r[0].throttle, "sw_power_cap");
    cr_expect_float_eq(r[0].clock_mhz, 1702, 1e-9);
    cr_expect_float_eq(r[0].power_limit_w, 700, 1e-9);
    measure_with_state(NULL, BACKEND_GPU, &r[1]);
    cr_expect(row_measured(&r[1]) && !strncmp(r[1].throttle, "n/a", 3), "no state: n/a, not a failure: %s / %s", r[1].status,
              r[1].throttle);
    struct sysinfo si = {0};
    sysinfo_put(&si, "cpu", "model", "Test CPU");
    char *md = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&md, &len);
    report_write(r, 1, &si, NULL, f);
    fclose(f);
    cr_expect(strstr(md, " ‡ |") != NULL, "the throttled row's cell is marked: %s", md);
    cr_expect(strstr(md, "## Device state while timing") && strstr(md, "| 1 ‡ |"), "%s", md);
    cr_expect(strstr(md, "- cuda stream/copy fp32: sw_power_cap (clock 1702 MHz, 699 W of 700 W, 80 °C)") != NULL, "%s", md);
    free(md);
    sysinfo_free(&si);
}

/* The budget expected of a short-call row before any is done: near --min-time on a GPU, whose
 * timings settle early, the middle of the window on a CPU; always inside the window. */
Test(devstate, budget_prior_by_kind)
{
    struct timing_opts t = {0.1, 0.4, 0.01, 60, 1000, 0.02};
    double cpu = eta_budget_prior(0, &t), gpu = eta_budget_prior(1, &t);
    cr_expect_float_eq(cpu, 0.25, 1e-12, "cpu: %g", cpu);
    cr_expect_float_eq(gpu, 0.13, 1e-12, "gpu: %g", gpu);
    t.min_time = t.max_time = 2;
    cr_expect(eta_budget_prior(1, &t) == 2 && eta_budget_prior(0, &t) == 2, "a window of one value");
}

static const void *case_params(const struct workload *w, const char *name)
{
    const struct wcase *c = wcase_find(w, name);
    return c ? c->params : NULL;
}

/* Rows calibrate by workload and the first part of the case's name: a GEMM layer's forward and
 * weight gradient together, the MLP and the CNN training steps apart, the same case on two
 * backends together. */
Test(devstate, estimate_groups_by_workload_and_case_prefix)
{
    const struct backend *cpu = backend_find("cpu"), *onednn = backend_find("onednn");
    const struct workload *g = workload_find("gemm"), *tr = workload_find("train");
    struct timing_opts t = {0.1, 0.4, 0.01, 60, 1000, 0.02};
    cr_assert(cpu && onednn && g && tr);
    const char *gn[] = {"bert-base.ffn-up", "bert-base.ffn-up.bwd-weight", "sq512", "sq1024"};
    int gg[4];
    for (int i = 0; i < 4; i++) {
        cr_assert(case_params(g, gn[i]), "%s", gn[i]);
        gg[i] = eta_row(cpu, g, gn[i], case_params(g, gn[i]), DT_F32, 1, &t, NULL).group;
    }
    cr_expect(gg[0] == gg[1], "bert-base.* share a group");
    cr_expect(gg[2] != gg[0] && gg[3] != gg[2], "sq512, sq1024, bert-base: three groups");
    const void *mlp = case_params(tr, "mlp.b128.sgd.resident"), *cnn = case_params(tr, "cnn.b128.sgd.resident");
    cr_assert(mlp && cnn);
    int m = eta_row(cpu, tr, "mlp.b128.sgd.resident", mlp, DT_F32, 1, &t, NULL).group;
    cr_expect(m != eta_row(cpu, tr, "cnn.b128.sgd.resident", cnn, DT_F32, 1, &t, NULL).group, "train/mlp and train/cnn apart");
    cr_expect(m != gg[0] && m != gg[2], "a train group is not a gemm group");
    cr_expect(m == eta_row(onednn, tr, "mlp.b128.adam.resident", case_params(tr, "mlp.b128.adam.resident"), DT_F32, 1, &t, NULL).group,
              "one group across backends and variants");
}

/* The run's first estimate probes the CPU's compute loop: a rate per thread for fp32 (and bf16 where
 * the CPU has a bf16 loop), none for fp16; the row model then uses it instead of the constant. */
Test(devstate, estimate_uses_the_probed_cpu_rate)
{
    const struct backend *cpu = backend_find("cpu");
    const struct workload *g = workload_find("gemm");
    struct timing_opts t = {0.1, 0.4, 0.01, 60, 1000, 0.02};
    double per[DT_COUNT];
    ceilings_probe_loops(cpu, 1, per);
    cr_expect(per[DT_F32] > 0.1 && isfinite(per[DT_F32]), "fp32 loop: %g GFLOP/s per thread", per[DT_F32]);
    cr_expect(isnan(per[DT_F16]), "no fp16 loop on the CPU: %g", per[DT_F16]);
    const void *sq = case_params(g, "sq2048");
    cr_assert(sq);
    double slow[DT_COUNT] = {[DT_F32] = 1.0}, fast[DT_COUNT] = {[DT_F32] = 1000.0}, none[DT_COUNT] = {0};
    eta_set_cpu_loop_rates(slow);
    struct row_estimate a = eta_row(cpu, g, "sq2048", sq, DT_F32, 2, &t, NULL);
    eta_set_cpu_loop_rates(fast);
    struct row_estimate b = eta_row(cpu, g, "sq2048", sq, DT_F32, 2, &t, NULL);
    eta_set_cpu_loop_rates(none);
    /* 17.2 GFLOP per call: at 2 GFLOP/s about 8.6 s a call (the row times calls, no budget) */
    cr_expect(!a.budget && a.work_s > 3 * 8, "at 1 GFLOP/s per thread: %g s", a.work_s);
    cr_expect(b.budget_s + b.work_s < 2, "at 1000 GFLOP/s per thread: %g s", b.budget_s + b.work_s);
}

/* Rows of short calls take the sampler's budget whatever the machine, and their work scales:
 * estimated 0.5 s of budget and 0.2 s of work, they took 0.9 s of samples and 0.4 s of work. */
Test(devstate, estimate_calibrates_on_finished_rows)
{
    struct row_estimate est[100];
    struct eta e;
    for (int i = 0; i < 100; i++) est[i] = (struct row_estimate){1, 0.5, 0.2, i % 2, 0};
    eta_init(&e);
    cr_expect_float_eq(eta_left(&e, est, 0, 100), 70.0, 1e-9, "nothing done: the model");
    for (int i = 0; i < 20; i++) eta_done(&e, &est[i], 0.9, 1.3);
    double left = eta_left(&e, est, 20, 100);
    cr_expect(left > 0.9 * 80 * 1.3 && left < 80 * 1.3, "80 rows of ~1.3 s: %g", left);
    /* a group not seen yet: its work scaled by its kind's factor (ten CPU rows took 4 s of work for
     * 2 s estimated: (4 + 2) / (2 + 2) with 2 s of prior); once seen, by its own */
    struct row_estimate other = {0, 0, 1.0, 0, 1};
    double f_new = eta_left(&e, &other, 0, 1);
    cr_expect(f_new > 1.45 && f_new < 1.55, "a new group: the kind's factor: %g", f_new);
    for (int i = 0; i < 20; i++) eta_done(&e, &other, 0, 1.0); /* group 1 runs as estimated */
    double f_seen = eta_left(&e, &other, 0, 1);
    cr_expect(f_seen < 1.1, "group 1 calibrated on its own rows: %g", f_seen);
    /* a row that never started (a group row of a one-process run: no wall time) leaves it finite */
    eta_done(&e, &(struct row_estimate){0}, NAN, NAN);
    cr_expect(isfinite(eta_left(&e, est, 20, 100)) && isfinite(eta_left(&e, &other, 0, 1)), "after a row without a time");
}
