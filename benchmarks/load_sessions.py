"""Many readers at once: concurrent browser sessions on one server, each changing filters and
pages. Run by hand (not a test; it loads the machine for a minute or two):

    .venv/bin/python benchmarks/load_sessions.py                 # 20 sessions, 6 rounds
    .venv/bin/python benchmarks/load_sessions.py --sessions 5 --rounds 2

Starts the dashboard with its launcher on a free loopback port (default study), warms it with one
page, opens ``--sessions`` Playwright contexts in one headless Chromium (arriving a second apart,
then all active together), and lets each run its own plan: a
population, a time point and a sex of its own per round, then a switch to the next page. After
every interaction it waits for Streamlit to finish and reads the page header (population · time
point · subgroups), which must describe this session's own choice:

* error: a Streamlit error or exception box, or a dialog, on the page;
* dropped update: the header shows another combination of this session's own choices after
  the run ended (``late`` when it is right one second later);
* cross-session leak: the header shows a filter value this session never chose;
* timed out: an interaction not finished within two minutes (the session then takes what the
  page shows as its view and goes on);
* latency: from the click to the end of the run (p50/p95), and the server's CPU time (user +
  system, its process and children) per interaction.
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from playwright.async_api import TimeoutError as PlaywrightTimeout  # noqa: E402

from analytics.annotate import comparison_label  # noqa: E402
from analytics.i18n import t  # noqa: E402
from analytics.scope import header_lines  # noqa: E402
from browser_support import (_IDLE_JS, _WATCH_RUN_JS, CHROMIUM, ERROR_SELECTORS,  # noqa: E402
                             LAUNCH_ARGS, VIEWPORT, StreamlitServer)

PAGES = ("response-rates", "trajectories", "medications", "disease-activity", "survival")
POPULATIONS = ("completers", "nri")
TIMEPOINTS = ("M6", "Y1", "Y2", "Y3", "Y5")
SEXES = ("all", "F", "M")
LANG = "en"
FOREGROUND_ARGS = ["--disable-renderer-backgrounding", "--disable-background-timer-throttling",
                   "--disable-backgrounding-occluded-windows"]
TIMEOUT_MS = 120_000  # an interaction that has not finished by then counts as a timeout
STAGGER_S = 1.0  # sessions arrive a second apart (20 first loads at once swamp 2 cores' Chromium)


def exactly(text: str) -> re.Pattern:
    """Match an option's whole label ("Male" must not pick "Female")."""
    return re.compile(rf"^\s*{re.escape(text)}\s*$")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` and its waited-for children (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def header(population: str, timepoint: str, sex: str) -> str:
    """The page header's first line for this choice (every page of PAGES applies all three;
    the comparison stays at its default)."""
    return header_lines("response_rates", LANG, population, timepoint,
                        {} if sex == "all" else {"sex": sex},
                        comparison_label(None, "all", LANG))[0]


async def wait_run(page, action, timeout_ms: int = 120_000) -> None:  # noqa: D103
    await page.evaluate(_WATCH_RUN_JS)
    await action()
    try:
        await page.wait_for_function("() => window.__stSawRun === true", timeout=5_000,
                                     polling=50)
    except Exception:  # noqa: BLE001 - a quick rerun may end between two polls
        pass
    await page.evaluate("() => { window.__stIdle = 0; }")
    await page.wait_for_function(_IDLE_JS, timeout=timeout_ms, polling=100)


async def shown_header(page) -> str:
    captions = page.locator('[data-testid="stMain"] [data-testid="stCaptionContainer"]')
    return (await captions.first.inner_text()).strip() if await captions.count() else ""


async def errors_on(page) -> list[str]:
    found = []
    for sel in ERROR_SELECTORS:
        found += [await e.inner_text() for e in await page.locator(sel).all()]
    for d in await page.locator('[role="dialog"]').all():
        if await d.is_visible():
            found.append(await d.inner_text())
    return found


async def session(index: int, browser, url: str, rounds: int, stats: dict) -> None:
    rng = random.Random(index)
    await asyncio.sleep(index * STAGGER_S)
    context = await browser.new_context(viewport=VIEWPORT)
    page = await context.new_page()
    state = ("completers", "Y1", "all")
    chosen = [{state[0]}, {state[1]}, {state[2]}]  # every value this session chose, per filter
    page_index = index % len(PAGES)

    def own_view(shown: str):
        """The combination of this session's own choices the header shows, or None."""
        for combo in itertools.product(*chosen):
            if header(*combo) == shown:
                return combo
        return None

    def choose(new_state):  # this session's new view
        nonlocal state
        state = new_state
        for values, value in zip(chosen, state):
            values.add(value)

    async def step(label: str, action) -> bool:
        """Run one interaction; a timeout is counted (and the session goes on) instead of
        ending the session."""
        t0 = time.perf_counter()
        try:
            await action()
        except PlaywrightTimeout as exc:
            stats["timeouts"].append(f"session {index} {label}: {str(exc).splitlines()[0]}")
            await resync(label)
            return False
        await check(label, t0)
        return True

    async def resync(label: str) -> None:
        """After a timeout the view is unknown: wait, then take what the page shows (one of
        this session's own combinations, else a leak)."""
        nonlocal state
        try:
            await page.wait_for_function(_IDLE_JS, timeout=TIMEOUT_MS, polling=250)
        except PlaywrightTimeout:
            return
        shown = await shown_header(page)
        combo = own_view(shown)
        if combo is not None:
            state = combo
        elif shown:
            stats["leaks"].append(f"session {index} {label} (after a timeout): shows {shown!r}")

    async def check(label: str, t0: float) -> None:
        stats["latency"].append(time.perf_counter() - t0)
        stats["interactions"] += 1
        errs = await errors_on(page)
        if errs:
            stats["errors"].append(f"session {index} {label}: {errs[0][:120]}")
        want = header(*state)
        got = await shown_header(page)
        if got == want:
            return
        await page.wait_for_timeout(1000)
        late = await shown_header(page)
        if late == want:
            stats["late"].append(f"session {index} {label}")
        elif own_view(got) is not None:
            stats["dropped"].append(f"session {index} {label}: shows {got!r}, chose {want!r}")
        else:
            stats["leaks"].append(f"session {index} {label}: shows {got!r}, chose {want!r}")

    async def open_first():
        await page.goto(f"{url}/{PAGES[page_index]}", wait_until="domcontentloaded",
                        timeout=TIMEOUT_MS)
        await page.wait_for_function(_IDLE_JS, timeout=TIMEOUT_MS, polling=250)

    await step("open", open_first)
    sidebar = page.locator('[data-testid="stSidebar"]')
    for r in range(rounds):
        population, timepoint, sex = (rng.choice(POPULATIONS), rng.choice(TIMEPOINTS),
                                      rng.choice(SEXES))
        if population != state[0]:
            option = sidebar.locator('[data-testid="stRadioOption"]').filter(
                has_text=exactly(t(f"population.{population}", LANG)))
            choose((population, *state[1:]))
            await step(f"round {r} population", lambda: wait_run(page, option.click))
        for label, value, widget, text in (
                ("time point", timepoint, t("filter.timepoint", LANG),
                 t(f"visit.{timepoint}", LANG)),
                ("sex", sex, t("filter.sex", LANG), t(f"filter.sex.{sex}", LANG))):
            current = state[1] if label == "time point" else state[2]
            if value == current:
                continue
            box = sidebar.locator('[data-testid="stSelectbox"]').filter(
                has=page.locator('[data-testid="stWidgetLabel"]', has_text=widget))
            item = page.locator('[role="option"]').filter(has_text=exactly(text)).first

            async def pick(box=box, item=item):
                await box.locator('[role="combobox"]').click(timeout=TIMEOUT_MS)
                await wait_run(page, lambda: item.click(timeout=TIMEOUT_MS))

            choose((state[0], value, state[2]) if label == "time point" else (*state[:2], value))
            await step(f"round {r} {label}", pick)
        page_index = (page_index + 1) % len(PAGES)
        link = sidebar.locator(f'a[href$="/{PAGES[page_index]}"]').first
        await step(f"round {r} page {PAGES[page_index]}",
                   lambda: wait_run(page, lambda: link.click(timeout=TIMEOUT_MS)))
    await context.close()


async def run(url: str, sessions: int, rounds: int) -> dict:
    from playwright.async_api import async_playwright
    stats = {"latency": [], "interactions": 0, "errors": [], "dropped": [], "late": [],
             "leaks": [], "timeouts": []}
    async with async_playwright() as pw:
        # every tab is "in front": background tabs would not draw their charts
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                           args=[*LAUNCH_ARGS, *FOREGROUND_ARGS])
        warm = await browser.new_page()  # the server's first session loads the modules
        await warm.goto(f"{url}/{PAGES[0]}", timeout=180_000)
        await warm.wait_for_function(_IDLE_JS, timeout=180_000, polling=250)
        await warm.close()
        results = await asyncio.gather(*(session(i, browser, url, rounds, stats)
                                         for i in range(sessions)), return_exceptions=True)
        await browser.close()
    stats["failed_sessions"] = [f"session {i}: {r!r}"[:200] for i, r in enumerate(results)
                                if isinstance(r, BaseException)]
    return stats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    from analytics import open_study
    open_study().close()
    server = StreamlitServer(name="load").start()
    try:
        cpu0, t0 = cpu_seconds(server.proc.pid), time.perf_counter()
        stats = asyncio.run(run(server.url, args.sessions, args.rounds))
        cpu, wall = cpu_seconds(server.proc.pid) - cpu0, time.perf_counter() - t0
        # the server is still running: its own CPU so far (children are added when they end)
    finally:
        server.stop()
    lat = sorted(stats["latency"])
    n = stats["interactions"]
    p = (lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000) if lat else (lambda q: 0)
    print("| sessions | interactions done | timed out | errors | dropped | late | "
          "cross-session leaks | failed sessions | p50 | p95 | server CPU per interaction | wall |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    print(f"| {args.sessions} | {n} | {len(stats['timeouts'])} | {len(stats['errors'])} | "
          f"{len(stats['dropped'])} | {len(stats['late'])} | {len(stats['leaks'])} | "
          f"{len(stats['failed_sessions'])} | "
          f"{p(0.5):.0f} ms | {p(0.95):.0f} ms | {cpu / max(n, 1) * 1000:.0f} ms | "
          f"{wall:.0f} s |")
    print(f"  server CPU {cpu:.1f} s in {wall:.0f} s wall; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs at the end")
    for kind in ("errors", "dropped", "late", "leaks", "timeouts", "failed_sessions"):
        for line in stats[kind][:10]:
            print(f"  {kind}: {line}")
    if lat:
        print(f"  mean {statistics.mean(lat) * 1000:.0f} ms, max {lat[-1] * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
