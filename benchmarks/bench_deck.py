"""Time the full slide deck (all pages, English, default filters) on the default study.
Run by hand:

    .venv/bin/python benchmarks/bench_deck.py            # default study
    .venv/bin/python benchmarks/bench_deck.py --repeat 3 --lang zh

Target: under 15 s for the first deck of a process (that includes starting Chromium); later
decks reuse the browser.
"""
from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pptx import Presentation  # noqa: E402

from analytics import open_study  # noqa: E402
from analytics.deck import build_deck  # noqa: E402

TARGET_S = 15.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", nargs="?", default=None, help="study file (default: embedded)")
    parser.add_argument("--lang", default="en", choices=("en", "zh"))
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    times = []
    with open_study(args.study) as study:
        for i in range(args.repeat):
            t0 = time.perf_counter()
            data = build_deck(study, args.lang)
            times.append(time.perf_counter() - t0)
            n_slides = len(Presentation(io.BytesIO(data)).slides)
            label = "cold (starts Chromium)" if i == 0 else "warm"
            print(f"deck {i + 1}: {times[-1]:.2f} s  [{label}]  {n_slides} slides, "
                  f"{len(data) / 1e6:.1f} MB")
    print(f"first deck {times[0]:.2f} s; target < {TARGET_S:.0f} s: "
          f"{'OK' if times[0] < TARGET_S else 'SLOW'}")
    return 0 if times[0] < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
