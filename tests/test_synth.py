"""The synthetic cohort for any seed and size (issue 15, item 6).

At the published size (110 subjects) every seed must reproduce every published figure exactly:
each cohort goes through the importer into a DuckDB file and through the reconciliation page's
own comparison. At other sizes the generator must succeed and keep the published proportions;
what it cannot meet exactly it must say, as a warning naming the figure.
"""
from __future__ import annotations

import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics import open_study
from analytics.build import build_study
from analytics.i18n import t
from analytics.published import figure_value, published_figures
from analytics.reconciliation import SOURCES_SHOWN, reconcile
from analytics.synth import (DEFAULT_SEED, MAX_SUBJECTS, MIN_SUBJECTS, SynthRelaxed,
                             _finish_mean_sd, write_cohort)

ROOT = Path(__file__).resolve().parent.parent

# At 1,100 subjects and more, every proportion the paper reports stays within this many
# percentage points of it: counts are the published proportion of their own denominator
# (rounding moves a rate by < 0.4 points with >= 280 completers per arm) and a few missed
# interim visits move the denominators by about 1 %.
PERCENT_POINTS = 2.0
# Exposure-adjusted rates per 100 patient-years stay within this fraction of the published rate.
RATE_RELATIVE = 0.05


def _build(tmp_path: Path, seed: int, subjects: int | None) -> tuple[Path, list[str]]:
    raw = tmp_path / "raw"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SynthRelaxed)
        write_cohort(raw, seed=seed, subjects=subjects)
    relaxed = [str(w.message) for w in caught if issubclass(w.category, SynthRelaxed)]
    return build_study(raw, tmp_path / "study.duckdb"), relaxed


def _compared(study) -> pd.DataFrame:
    """The reconciliation table beside the published rows it compares (same order)."""
    pub = published_figures()
    rows = pub[pub.source.isin(SOURCES_SHOWN) & (pub.statistic != "max")].reset_index(drop=True)
    table = reconcile(study)
    figures = table[table.source != t("reconcile.source.limit", "en")]
    assert len(figures) == len(rows)
    return pd.concat([rows, figures[["dashboard", "match"]].reset_index(drop=True)], axis=1)


@pytest.mark.parametrize("seed", range(1, 51))
def test_every_seed_reproduces_every_published_figure(tmp_path, seed):
    path, relaxed = _build(tmp_path, seed, None)
    assert relaxed == [], f"seed {seed} relaxed a figure at the published size: {relaxed}"
    with open_study(path) as study:
        table = reconcile(study)
    assert table.match.all(), f"seed {seed}:\n" + table[~table.match].to_string()


# seed 1 at 11,000: an ACR70 'moderate' visit of a subject with 3 baseline joints once found no
# components (its DAS28 range needed an ESR above 110 mm/h)
@pytest.mark.parametrize("seed, subjects", [(7, 1100), (3, 1100), (11, 1100), (3, 11000),
                                            (8, 11000), (1, 11000), (2, MAX_SUBJECTS)])
def test_other_sizes_keep_the_published_proportions(tmp_path, seed, subjects):
    """Every published percentage, mean, SD, rate and person-years range, at scale; counts and
    p-values change with the size by design and are not compared."""
    path, relaxed = _build(tmp_path, seed, subjects)
    with open_study(path) as study:
        randomized = study.disposition().set_index("arm").randomized
        cmp = _compared(study)
    assert randomized.sum() == subjects
    pub = published_figures()
    for row in cmp.itertuples():
        if row.figure == "person_years" and row.statistic == "min":
            ratio = randomized[row.arm] / figure_value("disposition", "randomized", row.arm,
                                                       "count")
            top = pub[(pub.figure == "person_years") & (pub.arm == row.arm)
                      & (pub.statistic == "max")].value.astype(float).iloc[0]
            assert float(row.value) * ratio <= float(row.dashboard) <= top * ratio, row
        elif row.statistic == "percent":
            assert abs(float(row.dashboard) - float(row.value)) <= PERCENT_POINTS, row
        elif row.statistic in ("mean", "sd"):  # baseline means and SDs, mean follow-up
            assert row.match, row
        elif row.figure.endswith("_rate"):
            assert abs(float(row.dashboard) - float(row.value)) <= RATE_RELATIVE * float(
                row.value), row  # a published zero stays zero
    assert relaxed == [], relaxed


def test_the_smallest_cohort_builds_and_says_what_it_relaxed(tmp_path):
    """20 subjects: one subject is 7 to 17 points of a rate, and a mean of six values on a
    one-year grid cannot always round to a published mean and SD: built all the same, with a
    warning naming each such figure."""
    path, relaxed = _build(tmp_path, 1, MIN_SUBJECTS)
    with open_study(path) as study:
        per_arm = study.disposition().set_index("arm").randomized
    assert per_arm.sum() == MIN_SUBJECTS and (per_arm > 0).all()
    for message in relaxed:
        assert re.match(r"^(baseline \w+|\w+ responders|\w+_events), (MSC|MSC_IFNG)\b", message), \
            message
        assert "not met exactly" in message


def test_the_command_line_prints_relaxations_and_refuses_sizes_it_cannot_build(tmp_path):
    run = subprocess.run([sys.executable, "-m", "analytics", "synth", "--seed", "1",
                          "--subjects", str(MIN_SUBJECTS), "--out", str(tmp_path / "raw")],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert (tmp_path / "raw" / "subjects.csv").is_file()
    for line in run.stderr.splitlines():
        assert line.startswith("warning: "), line
    for bad in (["--subjects", str(MIN_SUBJECTS - 1)], ["--subjects", str(MAX_SUBJECTS + 1)],
                ["--seed", "-1"]):
        run = subprocess.run([sys.executable, "-m", "analytics", "synth", *bad,
                              "--out", str(tmp_path / "bad")], cwd=ROOT, capture_output=True,
                             text=True, timeout=60)
        assert run.returncode == 2, bad
        assert "Traceback" not in run.stderr and "error:" in run.stderr, run.stderr
        assert not (tmp_path / "bad").exists()


def test_the_default_cohort_is_unchanged(tmp_path):
    """Same seed, same bytes -- and the same bytes as before any seed and size were allowed
    (digests of the default cohort as committed before issue 15)."""
    write_cohort(tmp_path, seed=DEFAULT_SEED)
    import hashlib
    digests = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:16]
               for p in sorted(tmp_path.iterdir()) if p.suffix == ".csv"}
    assert digests == DEFAULT_DIGESTS


DEFAULT_DIGESTS = {
    "adverse_events.csv": "c129cdd8712a84a3",
    "medications.csv": "e051d56e9f692eb7",
    "subjects.csv": "fb40ee583fd4dbf2",
    "visits.csv": "142862089fcd32a4",
}


def test_the_finish_moves_two_values_at_once():
    """1, 2, 3 to mean 2.0 and SD 2.0: any single step moves the mean off target; stepping 1
    down and 3 up together gives 0, 2, 4 (mean 2, SD 2 exactly), the finish's first move."""
    y = _finish_mean_sd(np.array([1.0, 2.0, 3.0]), 1, 0, 10, 0.0, 1.0, (2.0, 2.0), (1, 1), "x")
    assert sorted(y) == [0.0, 2.0, 4.0]


def test_an_unreachable_mean_is_relaxed_with_a_warning_naming_the_figure():
    """Two whole numbers have a mean on a half-unit grid: 1.3 cannot be met."""
    with pytest.warns(SynthRelaxed, match=r"^baseline age, MSC: mean 1\.3 and SD 0\.7 not met"):
        y = _finish_mean_sd(np.array([1.0, 2.0]), 1, 0, 10, 0.0, 1.0, (1.3, 0.7), (1, 1),
                            "baseline age, MSC")
    assert abs(y.mean() - 1.3) <= 0.5 and y.min() >= 0 and y.max() <= 10
