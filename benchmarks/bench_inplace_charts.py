"""Would a chart updated in place make a filter click faster? Run by hand (issue 13):

    .venv/bin/python benchmarks/bench_inplace_charts.py
    .venv/bin/python benchmarks/bench_inplace_charts.py --pages disease_activity --clicks 20

Streamlit 1.67 names a plotly chart by a hash of its figure, so after a filter change every
changed chart is a new element: unmounted, mounted and drawn anew by plotly.js (``newPlot``), and
its chart component keeps the figure it was mounted with. A chart component of the project's own
could keep one plot and update it (``Plotly.react``). This measures the difference before anyone
builds that: a page's figures (default view, English; all subjects, then women only: every figure
changes its data) drawn by a bare app (benchmarks/inplace_charts_app.py) with ``st.plotly_chart``
and with an in-place element, click to drawn as benchmarks/run_all.py times it, p50 / p90.

The in-place element is a sketch: no selection, no Streamlit theme, plotly.js loaded by itself.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]

import run_all  # noqa: E402
from bench_charts_alone import page_figures, print_table, summary, write_figure  # noqa: E402

APP = ROOT / "benchmarks" / "inplace_charts_app.py"
SUBGROUPS = ({}, {"sex": "F"})


def write_charts(study, view_key: str, folder: Path) -> int:
    """The page's figures for each subgroup as JSON files, the app beside them with plotly.js
    in its static folder; how many figures."""
    import plotly

    charts: dict[str, dict] = {}
    for n, filters in enumerate(SUBGROUPS):
        for item in page_figures(study, view_key, filters):
            name = f"{item.key}-{n}.json"
            write_figure(item, folder / name)
            charts.setdefault(item.key, {"key": f"fig_{item.key}", "files": []})
            charts[item.key]["files"].append(name)
    both = [c for c in charts.values() if len(c["files"]) == len(SUBGROUPS)]
    (folder / "charts.json").write_text(json.dumps(both), encoding="utf-8")
    shutil.copy(APP, folder / APP.name)
    (folder / "static").mkdir()
    shutil.copy(Path(plotly.__file__).parent / "package_data" / "plotly.min.js",
                folder / "static" / "plotly.min.js")
    return len(both)


def clicks(browser, folder: Path, mode: str, n: int) -> list[float]:
    from dashboard import launcher

    options = launcher.server_options
    os.environ.update(BENCH_CHARTS_DIR=str(folder), BENCH_CHART_MODE=mode)
    # the dashboard serves no static files; this experiment reads plotly.js from them
    launcher.server_options = lambda *a, **k: {**options(*a, **k),
                                               "server.enableStaticServing": True}
    try:
        return run_all.trivial_clicks(
            browser, n, lambda: run_all.TrivialServer("inplace", folder / APP.name))
    finally:
        launcher.server_options = options
        for name in ("BENCH_CHARTS_DIR", "BENCH_CHART_MODE"):
            os.environ.pop(name, None)


def main(argv: list[str] | None = None) -> int:
    from analytics import open_study
    from browser_support import launch_chromium

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", default="disease_activity,clusters,patient_profile,survival",
                        help="view keys, comma-separated")
    parser.add_argument("--clicks", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    browser = launch_chromium()
    rows = []
    try:
        with open_study() as study, tempfile.TemporaryDirectory() as tmp:
            for key in args.pages.split(","):
                folder = Path(tmp) / key
                folder.mkdir()
                n = write_charts(study, key, folder)
                for _ in range(args.rounds):
                    anew = summary(clicks(browser, folder, "streamlit", args.clicks))
                    kept = summary(clicks(browser, folder, "inplace", args.clicks))
                    rows.append(f"| {key} | {n} | {anew} | {kept} |")
                    print(rows[-1], flush=True)
    finally:
        browser.close()
    print_table(["page", "charts", "st.plotly_chart (drawn anew)", "updated in place"], rows,
                args.clicks)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
