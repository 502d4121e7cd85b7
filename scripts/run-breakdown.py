#!/usr/bin/env python3
"""run-breakdown.py RUN_DIR [PROGRESS_LOG]: where a run's wall time went, per backend and workload
(from results.csv's wall_s column), and, given the run's stderr, how far each "left ~N s" estimate
was from the time the remaining rows really took (the goal: within 25% once a tenth of the rows
are done)."""
import csv
import re
import sys
from collections import OrderedDict


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    rows = list(csv.DictReader(open(sys.argv[1] + "/results.csv")))
    if not rows or "wall_s" not in rows[0]:
        sys.exit("run-breakdown: results.csv has no wall_s column (a run from an older dlbench)")
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
