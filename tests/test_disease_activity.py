"""Disease-activity categories, transitions and flows on the default study (synthetic cohort).

* counts per arm and time point sum to n; under NRI n is the whole arm at every time point;
* completers reproduce the paper's Table 3 (remission at Y3, LDA at Y1 and Y5);
* transitions BL → Y5 agree with a brute-force pandas count from the raw tables (DAS28-ESR
  computed here, independently of the SQL views);
* flows between consecutive time points equal the transitions of each pair;
* the Sankey draws each ribbon as a closed outline in one trace per source-category colour;
* every message the analyses and charts use exists in both languages.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analytics.charts.disease_activity import (activity_bars_figure, category_color, sankey_figure,
                                               sankey_links, transition_matrix_figure)
from analytics.disease_activity import CATEGORIES, OBSERVED_CATEGORIES, disease_activity
from analytics.i18n import LANGUAGES, t
from analytics.schema import ARMS, VISIT_DAYS, VISITS
from analytics.transitions import flows, transitions

ARM_N = {"MSC": 79, "MSC_IFNG": 31}
COMPLETERS_N = {"MSC": 69, "MSC_IFNG": 28}


# -- brute force from the raw tables ----------------------------------------------------------------

def _category(das: float) -> str | None:
    if das is None or (isinstance(das, float) and math.isnan(das)):
        return None
    if das < 2.6:
        return "remission"
    if das <= 3.2:
        return "low"
    if das <= 5.1:
        return "moderate"
    return "high"


@pytest.fixture(scope="module")
def raw(study):
    subjects = study.query("SELECT * FROM subjects")
    visits = study.query("SELECT * FROM visits")
    das = (0.56 * np.sqrt(visits["tjc28"].astype(float))
           + 0.28 * np.sqrt(visits["sjc28"].astype(float))
           + 0.70 * np.log(visits["esr"].astype(float))
           + 0.014 * visits["patient_global"].astype(float))
    visits = visits.assign(das28=das, cat=[_category(d) for d in das])
    return subjects, visits


def _brute_category(subjects, visits, population, timepoint, sex=None) -> dict:
    """subject_id -> category at the time point (completers: observed only)."""
    obs = visits[(visits["visit"] == timepoint) & visits["cat"].notna()]
    obs = dict(zip(obs["subject_id"], obs["cat"]))
    out = {}
    for s in subjects.itertuples(index=False):
        if sex is not None and s.sex != sex:
            continue
        if population == "completers" and s.status != "completed":
            continue
        if s.subject_id in obs:
            out[s.subject_id] = obs[s.subject_id]
        elif population == "nri":
            withdrawn = (s.status == "withdrawn" and not pd.isna(s.withdrawal_date)
                         and (pd.Timestamp(s.withdrawal_date)
                              - pd.Timestamp(s.infusion_date)).days < VISIT_DAYS[timepoint])
            had_visit = ((visits["subject_id"] == s.subject_id)
                         & (visits["visit"] == timepoint)).any()
            ended = (s.status == "completed" and not had_visit
                     and (pd.Timestamp(s.last_assessment_date)
                          - pd.Timestamp(s.infusion_date)).days < VISIT_DAYS[timepoint])
            out[s.subject_id] = "withdrawn" if withdrawn else "ended" if ended else "missing"
    return out


def _cell(df, **where) -> pd.Series:
    mask = pd.Series(True, index=df.index)
    for k, v in where.items():
        mask &= df[k] == v
    hit = df[mask]
    assert len(hit) == 1, where
    return hit.iloc[0]


# -- cross-sectional counts -------------------------------------------------------------------------

@pytest.mark.parametrize("population", ("completers", "nri"))
def test_counts_sum_to_n(study, population):
    df = disease_activity(study, population)
    assert list(df.columns) == ["arm", "timepoint", "years", "category", "count", "n", "percent"]
    expected_cats = set(CATEGORIES if population == "nri" else OBSERVED_CATEGORIES)
    assert set(df["category"]) == expected_cats
    assert set(df["timepoint"]) == set(VISITS)
    for (arm, tp), g in df.groupby(["arm", "timepoint"]):
        assert g["count"].sum() == g["n"].iloc[0], (arm, tp)
        assert g["n"].nunique() == 1
        assert g["percent"].sum() == pytest.approx(100.0)
    if population == "nri":
        for arm in ARMS:
            assert set(df.loc[df["arm"] == arm, "n"]) == {ARM_N[arm]}
    else:
        for arm in ARMS:
            assert df.loc[df["arm"] == arm, "n"].max() <= COMPLETERS_N[arm]
            bl = _cell(df, arm=arm, timepoint="BL", category="high")
            assert bl["n"] == COMPLETERS_N[arm]
    assert df.attrs["n_per_arm"] == (ARM_N if population == "nri" else COMPLETERS_N)
    assert df.attrs["population"] == population and df.attrs["method"]


def _count(df, arm, tp, cats) -> int:
    return int(df[(df["arm"] == arm) & (df["timepoint"] == tp)
                  & df["category"].isin(cats)]["count"].sum())


def test_table3_completers(study):
    df = disease_activity(study, "completers")
    assert _count(df, "MSC", "Y3", ["remission"]) == 1
    assert _count(df, "MSC_IFNG", "Y3", ["remission"]) == 7
    assert _count(df, "MSC", "Y1", ["remission", "low"]) == 6
    assert _count(df, "MSC_IFNG", "Y1", ["remission", "low"]) == 11
    assert _count(df, "MSC", "Y5", ["remission", "low"]) == 6
    assert _count(df, "MSC_IFNG", "Y5", ["remission", "low"]) == 12
    assert _count(df, "MSC", "Y5", ["remission"]) == 2
    assert _count(df, "MSC_IFNG", "Y5", ["remission"]) == 7
    for arm in ARMS:  # every completer is observed at Y1, Y3 and Y5: the paper's denominators
        for tp in ("Y1", "Y3", "Y5"):
            assert _cell(df, arm=arm, timepoint=tp, category="low")["n"] == COMPLETERS_N[arm]


@pytest.mark.parametrize("population", ("completers", "nri"))
@pytest.mark.parametrize("timepoint", ("BL", "Y1", "M54", "Y5", "Y7"))
def test_counts_match_brute_force(study, raw, population, timepoint):
    subjects, visits = raw
    df = disease_activity(study, population)
    brute = _brute_category(subjects, visits, population, timepoint)
    arm_of = dict(zip(subjects["subject_id"], subjects["arm"]))
    for arm in ARMS:
        for cat in df.attrs["categories"]:
            expected = sum(1 for sid, c in brute.items() if c == cat and arm_of[sid] == arm)
            assert _count(df, arm, timepoint, [cat]) == expected, (arm, cat)


def test_nri_equals_completers_plus_others(study):
    comp = disease_activity(study, "completers")
    nri = disease_activity(study, "nri")
    for arm in ARMS:
        for tp in VISITS:
            for cat in OBSERVED_CATEGORIES:
                assert _count(nri, arm, tp, [cat]) >= _count(comp, arm, tp, [cat])
    # Before any withdrawal nobody is withdrawn or missing under NRI.
    assert _count(nri, "MSC", "Y1", ["withdrawn", "missing"]) == 0
    # After year 5 every withdrawn subject is 'withdrawn' (10 and 3).
    assert _count(nri, "MSC", "Y6", ["withdrawn"]) == 10
    assert _count(nri, "MSC_IFNG", "Y6", ["withdrawn"]) == 3
    # Follow-up that ended is its own category, not 'missing' (49 and 21 at Year 7)
    assert _count(nri, "MSC", "Y5", ["ended"]) == 0
    assert (_count(nri, "MSC", "Y7", ["ended"]), _count(nri, "MSC_IFNG", "Y7", ["ended"])) == \
        (49, 21)


def test_subgroup(study, raw):
    subjects, visits = raw
    df = disease_activity(study, "nri", sex="M")
    n_male = subjects[subjects["sex"] == "M"].groupby("arm").size().to_dict()
    for arm in ARMS:
        assert set(df.loc[df["arm"] == arm, "n"]) == {n_male.get(arm, 0)}
    brute = _brute_category(subjects, visits, "nri", "Y3", sex="M")
    arm_of = dict(zip(subjects["subject_id"], subjects["arm"]))
    for arm in ARMS:
        for cat in CATEGORIES:
            expected = sum(1 for sid, c in brute.items() if c == cat and arm_of[sid] == arm)
            assert _count(df, arm, "Y3", [cat]) == expected


def test_bad_arguments(study):
    with pytest.raises(ValueError):
        disease_activity(study, "safety")
    with pytest.raises(ValueError):
        transitions(study, "nri", "BL", "Y9")
    with pytest.raises(ValueError):
        transitions(study, "nri", "Y5", "Y1")
    with pytest.raises(ValueError):
        flows(study, "nri", ["Y1"])
    with pytest.raises(ValueError):
        disease_activity(study, "nri", sex="X")


# -- transitions ----------------------------------------------------------------------------------

@pytest.mark.parametrize("population", ("completers", "nri"))
@pytest.mark.parametrize("pair", (("BL", "Y5"), ("Y1", "Y3"), ("M6", "Y7")))
def test_transitions_brute_force(study, raw, population, pair):
    subjects, visits = raw
    start, end = pair
    df = transitions(study, population, start, end)
    a = _brute_category(subjects, visits, population, start)
    b = _brute_category(subjects, visits, population, end)
    both = set(a) & set(b)
    arm_of = dict(zip(subjects["subject_id"], subjects["arm"]))
    for arm in ARMS:
        sub = df[df["arm"] == arm]
        n_both = sum(1 for sid in both if arm_of[sid] == arm)
        assert sub["count"].sum() == n_both
        assert set(sub["n"]) == {n_both}
        if population == "nri":
            assert n_both == ARM_N[arm]
        brute = pd.Series([(a[s], b[s]) for s in both if arm_of[s] == arm]).value_counts()
        for r in sub.itertuples(index=False):
            assert r.count == brute.get((r.from_category, r.to_category), 0), r
    # The margins are the cross-sectional counts (completers: of those observed at both).
    if population == "nri":
        da = disease_activity(study, population)
        for arm in ARMS:
            sub = df[df["arm"] == arm]
            for cat in df.attrs["categories"]:
                assert sub.loc[sub["from_category"] == cat, "count"].sum() == \
                    _count(da, arm, start, [cat])
                assert sub.loc[sub["to_category"] == cat, "count"].sum() == \
                    _count(da, arm, end, [cat])


def test_transitions_bl_y5_completers(study):
    df = transitions(study, "completers", "BL", "Y5")
    for arm in ARMS:
        sub = df[df["arm"] == arm]
        assert sub["count"].sum() == COMPLETERS_N[arm]
        assert sub.loc[sub["to_category"] == "remission", "count"].sum() == \
            {"MSC": 2, "MSC_IFNG": 7}[arm]
        # row_percent sums to 100 within each occupied row
        for cat, g in sub.groupby("from_category"):
            if g["count"].sum():
                assert g["row_percent"].sum() == pytest.approx(100.0)
    assert set(df["to_category"]) == set(OBSERVED_CATEGORIES)


# -- flows ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("population", ("completers", "nri"))
@pytest.mark.parametrize("timepoints", (["BL", "Y1", "Y3", "Y5"], ["Y5", "M6", "BL", "Y7"]))
def test_flows_consistent_with_transitions(study, population, timepoints):
    f = flows(study, population, timepoints)
    ordered = [v for v in VISITS if v in timepoints]
    assert f.attrs["timepoints"] == ordered
    assert (f["count"] > 0).all()
    steps = list(zip(ordered[:-1], ordered[1:]))
    assert sorted(f["step"].unique()) == list(range(len(steps)))
    for step, (a, b) in enumerate(steps):
        tr = transitions(study, population, a, b)
        tr = tr[tr["count"] > 0]
        link = f[f["step"] == step]
        assert (link["from_timepoint"] == a).all() and (link["to_timepoint"] == b).all()
        key = ["arm", "from_category", "to_category"]
        left = link.set_index(key)["count"].sort_index()
        right = tr.set_index(key)["count"].sort_index()
        pd.testing.assert_series_equal(left, right, check_names=False)
    if population == "nri":  # every subject flows through every step: node in = node out
        for arm in ARMS:
            for step in range(len(steps)):
                assert f[(f["arm"] == arm) & (f["step"] == step)]["count"].sum() == ARM_N[arm]
            for step in range(1, len(steps)):
                inflow = f[(f["arm"] == arm) & (f["step"] == step - 1)].groupby(
                    "to_category")["count"].sum()
                outflow = f[(f["arm"] == arm) & (f["step"] == step)].groupby(
                    "from_category")["count"].sum()
                pd.testing.assert_series_equal(inflow.sort_index(), outflow.sort_index(),
                                               check_names=False)


# -- figures and messages ---------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("population", ("completers", "nri"))
def test_figures(study, lang, population):
    f = flows(study, population, ["BL", "Y1", "Y3", "Y5"], lang=lang)
    for arm in ARMS:
        fig = sankey_figure(f, arm)
        links = sankey_links(fig)
        assert sum(map(int, links.text)) == f.loc[f["arm"] == arm, "count"].sum()
        assert len(links.x) == ((f["arm"] == arm) & (f["count"] > 0)).sum()
        assert all(s.fillcolor.startswith("#") for s in fig.layout.shapes)
    tr = transitions(study, population, "BL", "Y3", lang=lang)
    fig = transition_matrix_figure(tr)
    heat = [d for d in fig.data if d.type == "heatmap"]
    assert len(heat) == len(ARMS)
    for arm, h in zip(ARMS, heat):
        assert sum(map(sum, h.z)) == tr.loc[tr["arm"] == arm, "count"].sum()
    da = disease_activity(study, population, lang=lang)
    fig = activity_bars_figure(da)
    bars = [d for d in fig.data if d.type == "bar"]
    assert len(bars) == len(ARMS) * len(da.attrs["categories"])
    assert fig.layout.barmode == "stack"
    assert fig.layout.title.text == t("da.bars.title", lang)
    squash = lambda text: text.replace("<br>", "").replace(" ", "")  # noqa: E731
    assert squash(t(f"population.{population}", lang)) in squash(fig.layout.annotations[-1].text)


@pytest.mark.parametrize("population", ("completers", "nri"))
def test_sankey_ribbons_one_trace_per_colour(study, population):
    # every ribbon is one closed outline (two edges) in the trace of its source category's
    # colour, the traces in category order (painted as the ribbons were one by one)
    f = flows(study, population, ["BL", "M6", "Y1", "Y3", "Y5", "Y7"], lang="en")
    for arm in ARMS:
        links = f[(f["arm"] == arm) & (f["count"] > 0)]
        fig = sankey_figure(f, arm)
        ribbons = fig.data[:-2]
        sources = [c for c in CATEGORIES if c in set(links["from_category"])]
        assert [r.fillcolor for r in ribbons] == [
            "rgba({},{},{},0.45)".format(*(int(category_color(c)[i:i + 2], 16) for i in (1, 3, 5)))
            for c in sources]
        for category, ribbon in zip(sources, ribbons):
            assert ribbon.fill == "toself"
            x, y = np.asarray(ribbon.x, dtype=float), np.asarray(ribbon.y, dtype=float)
            gaps = np.flatnonzero(np.isnan(x))
            assert (gaps == np.flatnonzero(np.isnan(y))).all()
            edges = np.split(x, gaps)
            assert len(edges) == (links["from_category"] == category).sum()
            for outline in edges:
                outline = outline[~np.isnan(outline)]
                assert len(outline) % 2 == 0   # there and back: a closed outline
                np.testing.assert_allclose(outline[:len(outline) // 2],
                                           outline[len(outline) // 2:][::-1])


def test_messages_both_languages():
    keys = ["nav.disease_activity", "da.distribution.title", "da.bars.title", "da.sankey.header",
            "da.matrix.header", "da.sankey.timepoints", "da.sankey.need_two", "da.matrix.from",
            "da.matrix.to", "da.no_subjects", "da.tables.expander", "da.axis.percent",
            "da.axis.timepoint", "da.hover.count", "da.footnote.categories"]
    keys += [f"category.{c}" for c in CATEGORIES] + [f"da.short.{c}" for c in CATEGORIES]
    keys += [f"da.{kind}.{p}" for kind in ("method", "footnote", "footnote.transitions",
                                           "footnote.flows") for p in ("completers", "nri")]
    keys += [f"da.col.{c}" for c in ("arm", "timepoint", "years", "category", "count", "n",
                                     "percent", "from_timepoint", "to_timepoint",
                                     "from_category", "to_category", "row_percent")]
    for key in keys:
        for lang in LANGUAGES:
            assert t(key, lang)
    zh = {c: t(f"category.{c}", "zh") for c in CATEGORIES}
    assert zh == {"remission": "缓解", "low": "低疾病活动度", "moderate": "中度疾病活动度",
                  "high": "高度疾病活动度", "withdrawn": "退出", "missing": "缺失",
                  "ended": "随访已结束"}
    assert t("da.transitions.title", "zh", start="a", end="b")
    assert t("da.flows.title", "en", timepoints="a → b")
