"""How close each page's filter click is to the cost of its charts alone. Run by hand:

    .venv/bin/python benchmarks/bench_charts_alone.py                 # every page, 14 clicks
    .venv/bin/python benchmarks/bench_charts_alone.py --pages disease_activity --clicks 20

For each page, in one run and measured alike (benchmarks/run_all.py's recorder: click to every
chart drawn, p50 and p90 over ``--clicks`` clicks of a sidebar radio):

* **page**: the dashboard's page, its population filter clicked back and forth;
* **charts alone**: the page's plotly figures (default view, English) drawn by a bare Streamlit
  app (benchmarks/charts_alone_app.py) exactly as the page draws them, every figure new on each
  click, as after a filter change;
* **floor**: the same bare app with no chart.

"charts alone" minus "floor" is what Streamlit and plotly.js take to replace those charts; the
page's own work (the server's run, its tables, text and buttons) is "page" minus "charts alone".
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]

import run_all  # noqa: E402

APP = ROOT / "benchmarks" / "charts_alone_app.py"
DIR_ENV = "BENCH_CHARTS_DIR"


def page_figures(study, view_key: str, filters: dict | None = None) -> list:
    """The page's figure items, default state (English) under the subgroup ``filters``."""
    from analytics.views import registry
    from dashboard.study_source import CachedStudy

    state = registry.default_state(view_key, study, filters=filters)
    return [i for i in registry.items(registry.blocks(CachedStudy(study), state))
            if i.kind == "figure"]


def write_figure(item, path: Path) -> None:
    """The item's figure as the JSON st.plotly_chart is given (the dashboard's plain dict)."""
    import plotly.io as pio

    from analytics.charts.theme import plain_dict

    path.write_text(pio.to_json(plain_dict(item.figure), validate=False), encoding="utf-8")


def write_charts(study, view_key: str, folder: Path) -> int:
    """The page's figures (default state, English) as JSON files and their list; how many."""
    charts = []
    for n, item in enumerate(page_figures(study, view_key)):
        name = f"{n:02d}.json"
        write_figure(item, folder / name)
        charts.append({"file": name, "key": f"fig_{item.key}", "selection": list(item.selection)})
    (folder / "charts.json").write_text(json.dumps(charts), encoding="utf-8")
    return len(charts)


def bare_app_clicks(browser, folder: Path, clicks: int) -> list[float]:
    os.environ[DIR_ENV] = str(folder)
    try:
        return run_all.trivial_clicks(browser, clicks,
                                      lambda: run_all.TrivialServer("charts-alone", APP))
    finally:
        os.environ.pop(DIR_ENV, None)


def page_clicks(browser, server, study, view_key: str, clicks: int) -> list[float]:
    control, default, other = next((c, d, o) for c, d, o in run_all.global_filter_changes(study)
                                   if c.url == "pop")
    context, page = run_all.new_page(browser)
    try:
        run_all.open_drawn(page, run_all.view_url(server, view_key))
        return [run_all.choose(page, control, other if i % 2 == 0 else default, "en", study)
                for i in range(clicks)]
    finally:
        context.close()


def summary(times: list[float]) -> str:
    ms = sorted(t * 1000 for t in times)
    return f"{statistics.median(ms):.0f} / {ms[max(0, round(0.9 * len(ms)) - 1)]:.0f}"


def main(argv: list[str] | None = None) -> int:
    from analytics import open_study
    from analytics.views import VIEWS
    from browser_support import launch_chromium

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", default=",".join(VIEWS), help="view keys, comma-separated")
    parser.add_argument("--clicks", type=int, default=14)
    args = parser.parse_args(argv)
    keys = args.pages.split(",")
    browser = launch_chromium()
    server = run_all.app_server("charts-alone-page").start()
    rows = []
    try:
        with open_study() as study, tempfile.TemporaryDirectory() as tmp:
            empty = Path(tmp) / "none"
            empty.mkdir()
            (empty / "charts.json").write_text("[]", encoding="utf-8")
            floor = summary(bare_app_clicks(browser, empty, args.clicks))
            for key in keys:
                folder = Path(tmp) / key
                folder.mkdir()
                n = write_charts(study, key, folder)
                alone = summary(bare_app_clicks(browser, folder, args.clicks))
                page = summary(page_clicks(browser, server, study, key, args.clicks))
                rows.append(f"| {key} | {n} | {page} | {alone} | {floor} |")
                print(rows[-1], flush=True)
    finally:
        server.stop()
        browser.close()
    print_table(["page", "charts", "page", "its charts alone", "floor (no chart)"], rows,
                args.clicks)
    return 0


def print_table(columns: list[str], rows: list[str], clicks: int) -> None:
    """The rows under their columns, after the clicks and the load they were measured at."""
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nclick to drawn, p50 / p90 ms over {clicks} clicks; load average {load}\n"
          f"| {' | '.join(columns)} |\n|{'---|' * len(columns)}")
    print("\n".join(rows))


if __name__ == "__main__":
    raise SystemExit(main())
