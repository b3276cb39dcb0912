"""Time ``survival()`` (SQL + lifelines) per endpoint and population. Run by hand:

    .venv/bin/python benchmarks/bench_survival.py                  # the default study
    .venv/bin/python benchmarks/bench_survival.py path/to/big.duckdb
    .venv/bin/python benchmarks/bench_survival.py --random 7900 3100   # a random 100x cohort

Targets: < 100 ms per call on the default study, < 1 s on a 100x cohort.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from analytics import open_study  # noqa: E402
from analytics.survival import ENDPOINTS, survival  # noqa: E402

CASES = [(e, p, h) for e in ENDPOINTS for p in ("completers", "nri") for h in (None, 1.0)]


def bench(study, label: str, repeat: int) -> float:
    survival(study, "ACR20", "nri")  # warm-up: imports, DuckDB plan cache
    worst = 0.0
    print(f"\n{label}: {study.path}")
    print(f"{'endpoint':<16}{'population':<12}{'horizon':>8}{'min ms':>9}{'median ms':>11}"
          f"{'max ms':>9}")
    for endpoint, population, horizon in CASES:
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            survival(study, endpoint, population, horizon_years=horizon)
            times.append((time.perf_counter() - t0) * 1000)
        med = statistics.median(times)
        worst = max(worst, med)
        print(f"{endpoint:<16}{population:<12}{str(horizon):>8}{min(times):>9.1f}{med:>11.1f}"
              f"{max(times):>9.1f}")
    print(f"slowest median: {worst:.1f} ms")
    return worst


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("paths", nargs="*", help="further study files (e.g. a 100x cohort)")
    ap.add_argument("--random", nargs=2, type=int, metavar=("N_MSC", "N_IFNG"),
                    help="also build and time a random cohort of this size (test fixture)")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    try:
        study = open_study()
    except Exception as exc:  # noqa: BLE001
        print(f"default study not available: {exc!r}")
    else:
        w = bench(study, "default study (target < 100 ms)", args.repeat)
        print("OK" if w < 100 else "SLOWER THAN TARGET")
    for p in args.paths:
        w = bench(open_study(p), "study file (100x target < 1000 ms)", args.repeat)
        print("OK" if w < 1000 else "SLOWER THAN TARGET")
    if args.random:
        from survival_fixtures import random_study
        path = Path(tempfile.mkdtemp()) / "random.duckdb"
        t0 = time.perf_counter()
        study = random_study(path, n_per_arm=tuple(args.random), seed=11)
        print(f"\nbuilt random cohort {tuple(args.random)} in {time.perf_counter() - t0:.1f} s")
        bench(study, f"random cohort {tuple(args.random)}", args.repeat)


if __name__ == "__main__":
    main()
