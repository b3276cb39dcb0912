"""The patient profile and the disease-activity clusters (issue 14 items 1-2). Run by hand:

    .venv/bin/python benchmarks/bench_clusters_profile.py                  # default study
    .venv/bin/python benchmarks/bench_clusters_profile.py --big            # also a 100x cohort
    .venv/bin/python benchmarks/bench_clusters_profile.py --study BIG.duckdb   # a study file

Times the analyses (DuckDB query + model fit) and the figures, not the page.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analytics import open_study  # noqa: E402
from analytics.build import build_study  # noqa: E402
from analytics.clusters import forget_fits  # noqa: E402
from analytics.charts.clusters import cluster_courses_figure, cluster_sankey_figure  # noqa: E402
from analytics.charts.profile import profile_figure  # noqa: E402
from benchmarks.bench_core import bench_page_rerun, report, timed  # noqa: E402


def bench(path: Path | None, label: str, repeat: int) -> None:
    with open_study(path) as study:
        subject = study.query("SELECT min(subject_id) AS s FROM subjects")["s"].iloc[0]
        report(f"[{label}] patient_profile() one subject",
               timed(lambda: study.patient_profile(subject, "nri"), 10))
        report(f"[{label}] patient_profile() + profile_figure()",
               timed(lambda: profile_figure(study.patient_profile(subject, "nri")), 5))
        # every mixture fitted afresh in each run (none kept from the run before)
        report(f"[{label}] clusters() whole course, completers",
               timed(lambda: (forget_fits(), study.clusters("completers")), repeat))
        report(f"[{label}] clusters() + courses figure",
               timed(lambda: (forget_fits(),
                              cluster_courses_figure(study.clusters("completers").profiles)),
                     repeat))
        report(f"[{label}] cluster_transitions() three periods + Sankey",
               timed(lambda: (forget_fits(),
                              cluster_sankey_figure(study.cluster_transitions("completers"))),
                     repeat))
        report(f"[{label}] clusters() years 4-5, 3 clusters fixed",
               timed(lambda: (forget_fits(),
                              study.clusters("nri", period="years4to5", n_clusters=3)), repeat))
    # the clusters page as the server runs it (AppTest): population changed, every analysis
    # recomputed, then with the results memoised
    bench_page_rerun(path, label, 1.0 if label == "default" else 5.0, pages=("clusters",))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--big", action="store_true", help="also build and time a 100x cohort")
    ap.add_argument("--study", type=Path, help="time on this study file (instead of --big)")
    args = ap.parse_args()
    bench(None, "default", 5)
    if args.study:
        bench(args.study, args.study.name, 3)
    elif args.big:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            subprocess.run([sys.executable, "-m", "analytics", "synth",
                            "--subjects", "11000", "--out", str(tmp / "big")], check=True)
            build_study(tmp / "big", tmp / "big.duckdb")
            bench(tmp / "big.duckdb", "100x", 3)


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"total {time.perf_counter() - t0:.1f} s")
