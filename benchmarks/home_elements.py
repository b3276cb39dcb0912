"""What each kind of element costs the home page: the trivial app (benchmarks/trivial_app.py)
alone and with one element added (benchmarks/element_app.py), each served and opened on a fresh
server exactly as ``run_all.py``'s home-page section does (cold: the server's first session;
warm: a later one), interleaved so that all see the same load. Run by hand:

    .venv/bin/python benchmarks/home_elements.py [--reps 3] [--out FILE]

It shows why issue 13's "home page ≤ 1.3× a trivial app" is out of reach for any page that
has a select box, a table or a chart: each of these alone loads code of its own in the browser.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent)]

from run_all import (ROOT, TARGET_HOME_RATIO, TrivialServer, home_times, load,  # noqa: E402
                     machine, median, secs)

ELEMENT_APP = ROOT / "benchmarks" / "element_app.py"
VARIANTS = {  # name: the elements added to the trivial app
    "trivial app": "",
    "+ a select box (sidebar)": "selectbox",
    "+ a metric": "metric",
    "+ a static table (st.table)": "static_table",
    "+ a data grid (st.dataframe)": "data_grid",
    "+ code (st.code)": "code",
    "+ a plotly chart": "plotly_chart",
    "+ a select box, a metric and a static table": "selectbox,metric,static_table",
}


def variant_server(elements: str):
    return lambda: TrivialServer(f"elements-{elements.replace(',', '+') or 'none'}",
                                 ELEMENT_APP, env={"BENCH_ELEMENTS": elements})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    from browser_support import launch_chromium

    header = (f"# Home page floor by element, {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M}"
              f" UTC\n\n{machine()}; {load()} at the start")
    print(header, flush=True)
    cold = {name: [] for name in VARIANTS}
    warm = {name: [] for name in VARIANTS}
    browser = launch_chromium()
    try:
        for _ in range(args.reps):
            for name, elements in VARIANTS.items():
                c, w = home_times(browser, variant_server(elements), 1)
                cold[name] += c
                warm[name] += w
                print(f"  {name}: {c[0]:.2f} / {w[0]:.2f} s", flush=True)
    finally:
        browser.close()
    base_cold, base_warm = median(cold["trivial app"]), median(warm["trivial app"])
    lines = [header, "",
             f"| page | cold, median of {args.reps} | warm | ≤ {TARGET_HOME_RATIO}× trivial |",
             "|---|---|---|---|"]
    for name in VARIANTS:
        c, w = median(cold[name]), median(warm[name])
        ok = c <= TARGET_HOME_RATIO * base_cold and w <= TARGET_HOME_RATIO * base_warm
        lines.append(f"| {name} | {secs(c)} ({c / base_cold:.2f}×) | {secs(w)} "
                     f"({w / base_warm:.2f}×) | {'✓' if ok else '✗'} |")
    lines.append(f"\n{load()} at the end")
    text = "\n".join(lines) + "\n"
    print("\n" + text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
