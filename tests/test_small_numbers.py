"""Filters and small numbers in the overview and the safety comparisons (issue 10, items 5 and 6).

* The flow of subjects (disposition) under a subgroup equals a count of the raw subjects table
  (pandas), and its footnote names the subgroup.
* Table 1 prints no p-value when an arm has fewer than 3 subjects (NaN and the reason), and a
  caution below 10.
* Safety rate ratios: no ratio or CI when an arm has fewer than 3 subjects, when both arms have no
  event, or when the reference arm has none (NaN and the reason, never inf or a zero-width CI).
"""
from __future__ import annotations

import itertools
import math

import pandas as pd
import pytest

from analytics import safety
from analytics.baseline import baseline_display
from analytics.caution import MIN_ARM_FOR_TEST, NOT_ESTIMABLE_REASONS, not_estimable
from analytics.i18n import t
from analytics.population import AGE_BANDS, SEXES
from analytics.schema import ARMS
from safety_fixtures import make_study


def _age_band(age: float) -> str:
    return "lt45" if age < 45 else "45to54" if age < 55 else "ge55"


def _raw_subjects(study) -> pd.DataFrame:
    raw = study.query("SELECT * FROM subjects")
    raw["age_band"] = raw["age"].map(_age_band)
    return raw


SUBGROUPS = [{}, {"sex": "F"}, {"sex": "M"}, {"prior_bdmard": 1},
             {"sex": "M", "age_band": "ge55"}, {"age_band": "lt45", "prior_bdmard": 0}]


@pytest.mark.parametrize("filters", SUBGROUPS)
def test_flow_follows_the_subgroup(study, filters):
    raw = _raw_subjects(study)
    for name, value in filters.items():
        raw = raw[raw[name] == value]
    got = study.disposition(**filters).set_index("arm")
    for arm in ARMS:
        sub = raw[raw.arm == arm]
        assert got.at[arm, "randomized"] == len(sub)
        assert got.at[arm, "completed"] == (sub.status == "completed").sum()
        assert got.at[arm, "withdrawn"] == (sub.status == "withdrawn").sum()
        for reason in ("lack_of_efficacy", "adverse_event", "other"):
            assert got.at[arm, f"withdrawn_{reason}"] == (sub.withdrawal_reason == reason).sum()
    attrs = study.disposition(lang="zh", **filters).attrs
    assert attrs["filters"] == filters
    from analytics.annotate import caption
    for name, value in filters.items():  # named once, by the caption's filters
        assert caption(attrs).count(t(f"filter.{name}.{value}", "zh")) == 1
    assert attrs["footnote"] == ""


def test_flow_figure_names_the_subgroup(study):
    from analytics.charts.consort import consort_figure
    fig = consort_figure(study.disposition(sex="F"))
    assert t("filter.sex.F", "en") in fig.layout.title.text


def _small_arm_subgroup(study) -> dict:
    """A subgroup of completers where each arm has 1 or 2 subjects (the smallest such)."""
    raw = _raw_subjects(study)
    raw = raw[raw.status == "completed"]
    found = []
    for sex, band, bio in itertools.product(SEXES, AGE_BANDS, (0, 1)):
        sub = raw[(raw.sex == sex) & (raw.age_band == band) & (raw.prior_bdmard == bio)]
        counts = [int((sub.arm == arm).sum()) for arm in ARMS]
        if 0 < min(counts) and max(counts) < MIN_ARM_FOR_TEST:
            found.append((min(counts), {"sex": sex, "age_band": band, "prior_bdmard": bio}))
    if not found:
        pytest.fail("no completers' subgroup with arms of 1 or 2 subjects")
    return min(found, key=lambda f: f[0])[1]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_table1_prints_no_p_when_an_arm_is_below_three(study, lang):
    filters = _small_arm_subgroup(study)
    table = study.baseline("completers", lang=lang, **filters)
    assert min(table.attrs["n_per_arm"].values()) < MIN_ARM_FOR_TEST
    assert table["p_value"].isna().all()
    assert (table["p_reason"] == "arm_too_small").all()
    assert not_estimable("arm_too_small", lang) in table.attrs["footnote"]
    assert table.attrs["caution"] and table.attrs["caution"] in table.attrs["footnote"]
    shown = baseline_display(table, lang)
    assert (shown.iloc[:, -1] == t("not_estimable.short", lang)).all()
    assert "nan" not in shown.to_string()


def test_table1_small_but_testable_arm_has_p_and_caution(study):
    table = study.baseline("completers", sex="M")
    n = table.attrs["n_per_arm"]
    assert MIN_ARM_FOR_TEST <= min(n.values()) < 10
    assert table["p_value"].notna().all() and (table["p_reason"] == "").all()
    assert table.attrs["caution"]


def test_table1_whole_population_has_no_caution(study):
    table = study.baseline("completers")
    assert table["p_value"].notna().all()
    assert table.attrs["caution"] == ""


# -- safety rate ratios ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fixture_study(tmp_path_factory):
    s = make_study(tmp_path_factory.mktemp("small") / "study.duckdb")
    yield s
    s.close()


def _ratio_row(df, key, col):
    rows = df[df[col] == key]
    assert len(rows) == 2
    return rows.iloc[0]


def _assert_not_estimable(row, reason):
    assert reason in NOT_ESTIMABLE_REASONS
    assert row["rr_reason"] == reason
    assert all(math.isnan(row[c]) for c in ("rate_ratio", "rr_low", "rr_high"))


def test_rate_ratio_needs_three_subjects_per_arm(fixture_study):
    df = safety.ae_summary(fixture_study, sex="M")  # one subject per arm
    assert df.attrs["n_per_arm"] == {"MSC": 1, "MSC_IFNG": 1}
    for category in safety.CATEGORIES:
        _assert_not_estimable(_ratio_row(df, category, "category"), "arm_too_small")
    assert df.attrs["caution"] and df.attrs["caution"] in df.attrs["footnote"]
    shown = safety.summary_display(df)
    assert (shown[t("safety.col.rate_ratio", "en")]
            == not_estimable("arm_too_small", "en")).all()


def test_rate_ratio_without_reference_events_is_not_estimable(fixture_study):
    df = safety.ae_rates(fixture_study, by="pt")
    _assert_not_estimable(_ratio_row(df, "Atrial fibrillation", "term"), "no_reference_events")
    shown = safety.terms_display(df)
    assert not_estimable("no_reference_events", "en") in shown.to_string()
    # no events in the numerator arm: ratio 0 with a finite, non-degenerate interval
    pneumonia = _ratio_row(df, "Pneumonia", "term")
    assert pneumonia["rr_reason"] == "" and pneumonia["rate_ratio"] == 0
    assert 0 < pneumonia["rr_high"] < math.inf


def test_rate_ratio_without_events_is_not_estimable(fixture_study):
    df = safety.ae_summary(fixture_study)
    _assert_not_estimable(_ratio_row(df, "gvhd", "category"), "no_events")
    assert df.attrs["caution"]  # three subjects per arm


@pytest.mark.parametrize("filters", [{}, {"sex": "M"}, {"sex": "F", "age_band": "ge55"},
                                     {"prior_bdmard": 1, "age_band": "lt45"}])
def test_no_infinite_or_zero_width_rate_ratio_on_the_study(study, filters):
    frames = [study.ae_summary(**filters), study.ae_rates_by_year(**filters),
              study.ae_rates(by="pt", **filters)]
    for df in frames:
        for row in df.itertuples():  # both arms' rows carry the ratio
            values = (row.rate_ratio, row.rr_low, row.rr_high)
            if row.rr_reason:
                assert all(math.isnan(v) for v in values)
            else:
                assert all(math.isfinite(v) for v in values)
                assert row.rr_low < row.rr_high


@pytest.mark.parametrize("n,en", [(1, "only 1 subject ("), (4, "only 4 subjects (")])
def test_small_arm_caution_agrees_in_number(n, en):
    from analytics.caution import small_arm_caution
    assert en in small_arm_caution({"MSC": 30, "MSC_IFNG": n}, "en")
    assert f"仅 {n} 例受试者" in small_arm_caution({"MSC": 30, "MSC_IFNG": n}, "zh")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_disposition_names_its_subgroup_once(study, lang):
    from analytics.annotate import caption
    text = caption(study.disposition(lang=lang, sex="F").attrs)
    assert text.count(t("filter.sex.F", lang)) == 1, text
