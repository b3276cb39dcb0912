"""Time the subgroup forest plot and the next-trial planner (issue 14 items 3-4). Run by hand:

    .venv/bin/python benchmarks/bench_forest_planner.py                 # the default study
    .venv/bin/python benchmarks/bench_forest_planner.py path/to/big.duckdb
    .venv/bin/python benchmarks/bench_forest_planner.py --big           # also builds a 100x cohort

Each analysis is run ``--repeat`` times after one warm-up; min / median / max in ms.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from analytics import open_study  # noqa: E402
from analytics.build import build_study  # noqa: E402
from analytics.charts.forest import forest_figure, power_figure  # noqa: E402
from analytics.forest import forest_response, forest_survival  # noqa: E402
from analytics.planner import (n_two_proportions_fisher, plan_response,  # noqa: E402
                               plan_survival)

CASES = [
    ("forest_response ACR50 Y1 completers",
     lambda s: forest_response(s, "ACR50", "Y1", "completers")),
    ("forest_response ACR20 Y3 nri", lambda s: forest_response(s, "ACR20", "Y3", "nri")),
    ("forest_survival ACR50 completers", lambda s: forest_survival(s, "ACR50", "completers")),
    ("forest figure (response)",
     lambda s: forest_figure(forest_response(s, "ACR50", "Y1", "completers"))),
    ("plan_response ACR50 Y1", lambda s: plan_response(s, "ACR50", "Y1", "completers")),
    ("plan_response + power figure",
     lambda s: power_figure(plan_response(s, "ACR50", "Y1", "completers"))),
    ("plan_survival ACR50", lambda s: plan_survival(s, "ACR50", "completers")),
    ("plan_response DAS28_LDA Y1, 2:1", lambda s: plan_response(s, "DAS28_LDA", "Y1", "completers",
                                                               ratio=2.0)),
]


def bench(path, label: str, repeat: int) -> None:
    study = open_study(path)
    print(f"\n{label}: {study.path}")
    print(f"{'analysis':<40}{'min ms':>9}{'median ms':>11}{'max ms':>9}")
    try:
        for name, fn in CASES:
            fn(study)  # warm-up
            times = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                fn(study)
                times.append((time.perf_counter() - t0) * 1000)
            print(f"{name:<40}{min(times):>9.1f}{statistics.median(times):>11.1f}"
                  f"{max(times):>9.1f}")
    finally:
        study.close()
    # the two pages as the server runs them (AppTest): population changed, every analysis
    # recomputed, then with the results memoised
    from benchmarks.bench_core import bench_page_rerun
    bench_page_rerun(None if path is None else Path(path), label, 1.0,
                     pages=("forest_plot", "trial_planner"))


def bench_fisher() -> None:
    """The exact Fisher sample-size search alone (data-independent)."""
    for p_ref, p_test in ((0.3, 0.6), (0.4, 0.55)):
        t0 = time.perf_counter()
        n = n_two_proportions_fisher(p_ref, p_test)
        print(f"exact Fisher n per arm for {p_ref} vs {p_test}: {n} "
              f"({(time.perf_counter() - t0) * 1000:.0f} ms)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("paths", nargs="*", help="further study files (e.g. a 100x cohort)")
    ap.add_argument("--big", action="store_true", help="also build and time a 100x cohort")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", type=int, default=642, help="seed of the 100x cohort")
    args = ap.parse_args()
    bench(None, "default study", args.repeat)
    bench_fisher()
    for p in args.paths:
        bench(Path(p), "study file", args.repeat)
    if args.big:
        with tempfile.TemporaryDirectory() as tmp:
            raw, out = Path(tmp) / "big", Path(tmp) / "big.duckdb"
            subprocess.run([sys.executable, "-m", "analytics", "synth", "--seed", str(args.seed),
                            "--subjects", "11000", "--out", str(raw)], check=True)
            build_study(raw, out)
            bench(out, "100x cohort (11,000 subjects)", args.repeat)


if __name__ == "__main__":
    main()
