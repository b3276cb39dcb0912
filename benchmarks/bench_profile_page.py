"""The patient profile page (issue 14 item 1), as the server runs it. Run by hand:

    .venv/bin/python benchmarks/bench_profile_page.py          # default study
    .venv/bin/python benchmarks/bench_profile_page.py --big    # also a 100x cohort

Times a re-run of the profile page after a population change (its subject list and the
profile recomputed, then with results memoised), on the default study and a 100× cohort.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analytics.build import build_study  # noqa: E402
from benchmarks.bench_core import bench_page_rerun  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--big", action="store_true", help="also build and time a 100x cohort")
    args = ap.parse_args()
    bench_page_rerun(None, "default", 0.3, pages=("patient_profile",))
    if args.big:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            subprocess.run([sys.executable, "-m", "analytics", "synth", "--subjects", "11000",
                            "--out", str(tmp / "big")], check=True)
            build_study(tmp / "big", tmp / "big.duckdb")
            bench_page_rerun(tmp / "big.duckdb", "100x", 1.0, pages=("patient_profile",))


if __name__ == "__main__":
    main()
