#!/usr/bin/env python3
"""run-breakdown.py RUN_DIR [PROGRESS_LOG] [--on PLAN_DIR]: where a run's wall time went, per backend
and workload (from results.csv's wall_s column), and, given the run's stderr, how far each
"left ~N s" estimate was from the time the remaining rows really took (the goal: within 25% once a
tenth of the rows are done).

--on PLAN_DIR: only RUN_DIR's rows that the run in PLAN_DIR planned too (same backend, workload,
case and dtype; the thread count is RUN_DIR's), i.e. what RUN_DIR's machine spent on the rows of
PLAN_DIR's plan. PLAN_DIR may be a run whose GPU rows were all skipped (a machine without a GPU,
or CUDA_VISIBLE_DEVICES=''): skipped rows are planned rows too. It projects a baseline from a big
machine onto a changed suite; it cannot know a row's time that changed for other reasons."""
import csv
import re
import sys
from collections import OrderedDict


def main():
    args = sys.argv[1:]
    plan = None
    if "--on" in args:
        k = args.index("--on")
        if k + 1 >= len(args):
            sys.exit(__doc__)
        plan = args[k + 1]
        del args[k:k + 2]
    if not args:
        sys.exit(__doc__)
    sys.argv = [sys.argv[0]] + args
    rows = list(csv.DictReader(open(sys.argv[1] + "/results.csv")))
    if not rows or "wall_s" not in rows[0]:
        sys.exit("run-breakdown: results.csv has no wall_s column (a run from an older dlbench)")
    if plan:
        keys = {(r["backend"], r["workload"], r["case"], r["dtype"]) for r in csv.DictReader(open(plan + "/results.csv"))}
        rows = [r for r in rows if (r["backend"], r["workload"], r["case"], r["dtype"]) in keys]
        print(f"{sys.argv[1]}'s rows that {plan} planned too: {len(rows)}\n")
        if len(sys.argv) > 2:
            sys.exit("run-breakdown: --on takes no progress log (the estimates were for the whole run)")
    wall = [float(r["wall_s"] or 0) for r in rows]
    groups = OrderedDict()
    for r, w in zip(rows, wall):
        g = groups.setdefault((r["backend"], r["workload"]), [0, 0, 0.0, 0.0])
        g[0] += 1
        g[1] += r["status"] in ("ok", "noisy")
        g[2] += w
        g[3] = max(g[3], w)
    print("| backend | workload | rows | measured | wall s | slowest row s |")
    print("|---|---|---:|---:|---:|---:|")
    for (b, wl), (n, m, s, mx) in groups.items():
        print(f"| {b} | {wl} | {n} | {m} | {s:.1f} | {mx:.2f} |")
    print(f"| all | | {len(rows)} | {sum(g[1] for g in groups.values())} | {sum(wall):.1f} | {max(wall):.2f} |")
    if len(sys.argv) < 3:
        return
    left = {}
    for line in open(sys.argv[2], errors="replace"):
        m = re.match(r"\[(\d+)/(\d+)\].*\(left ~(\d+) s\)", line)
        if m:
            left[int(m.group(1))] = float(m.group(3))
    n = len(rows)
    worst, worst_at, errs = 0.0, 0, []
    for i in range(max(1, n // 10), n):
        true_left = sum(wall[i:])
        if i in left and true_left >= 5:  # the last seconds: a relative error means nothing there
            e = left[i] / true_left - 1
            errs.append(e)
            if abs(e) > abs(worst):
                worst, worst_at = e, i
    if errs:
        print(f"\nETA after the first tenth of {n} rows: {len(errs)} estimates, worst {worst:+.0%} at row {worst_at} "
              f"(said {left[worst_at]:.0f} s, took {sum(wall[worst_at:]):.0f} s); "
              f"{sum(abs(e) <= 0.25 for e in errs)} of {len(errs)} within ±25%")


main()
