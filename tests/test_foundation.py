"""The embedded study against the published study (STUDY.md section 6): disposition, Table 1,
exposure, follow-up, medication taper rule; and the synthetic generator's guarantees."""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from analytics import open_study
from analytics.build import build_study
from analytics.published import figure_value, published_figures
from analytics.synth import DEFAULT_SEED, TS_APPROVAL, generate, write_cohort


def _pub(group, figure, arm, statistic, tp=""):
    return figure_value(group, figure, arm, statistic, tp)


def _rounds_to(value: float, published: float, decimals: int) -> bool:
    # The dashboard's value, printed at the paper's precision, is the paper's number.
    return f"{value:.{decimals}f}" == f"{published:.{decimals}f}"


def test_disposition_matches_published(study):
    d = study.disposition().set_index("arm")
    for arm in ("MSC", "MSC_IFNG"):
        for col in ("randomized", "completed", "withdrawn", "withdrawn_lack_of_efficacy",
                    "withdrawn_adverse_event", "withdrawn_other"):
            assert d.at[arm, col] == _pub("disposition", col, arm, "count"), (arm, col)
    assert d.randomized.sum() == 110 and d.completed.sum() == 97
    assert d.withdrawn_lack_of_efficacy.sum() == 7 and d.withdrawn_adverse_event.sum() == 6
    assert f"{100 * d.completed.sum() / 110:.1f}" == "88.2"


def test_person_years_round_every_published_rate(study):
    d = study.disposition().set_index("arm")
    for arm in ("MSC", "MSC_IFNG"):
        lo, hi = (_pub("safety", "person_years", arm, s) for s in ("min", "max"))
        assert lo <= d.at[arm, "person_years"] <= hi


def test_table1_reproduced_to_published_precision(study):
    table = study.baseline("completers")
    pub = published_figures()
    pub = pub[pub.group == "baseline"]
    checked = 0
    for row in pub.itertuples():
        got = table[(table.characteristic == row.figure) & (table.arm == row.arm)].iloc[0]
        value = float(row.value)
        if row.statistic in ("mean", "sd", "count", "percent"):
            assert _rounds_to(float(got[row.statistic]), value, row.decimals), (
                row.figure, row.arm, row.statistic, got[row.statistic], value)
            checked += 1
    assert checked == len(pub) == 2 * (6 * 2 + 7 * 2)
    assert set(table.attrs["n_per_arm"].values()) == {69, 28}


def test_table1_p_values_are_welch_and_fisher(study):
    from scipy import stats

    table = study.baseline("completers")
    raw = study.query("SELECT arm, age, prior_bdmard FROM subject_info WHERE status='completed'")
    a, b = (raw[raw.arm == arm] for arm in ("MSC", "MSC_IFNG"))
    welch = stats.ttest_ind(a.age, b.age, equal_var=False).pvalue
    fisher = stats.fisher_exact([[a.prior_bdmard.sum(), len(a) - a.prior_bdmard.sum()],
                                 [b.prior_bdmard.sum(), len(b) - b.prior_bdmard.sum()]]).pvalue
    p = table.drop_duplicates("characteristic").set_index("characteristic").p_value
    assert p["age"] == pytest.approx(welch, rel=1e-9)
    assert p["prior_bdmard"] == pytest.approx(fisher, rel=1e-9)


def test_follow_up_schedule(study):
    s = study.query("""
        SELECT s.subject_id, s.status, s.person_years,
            max(v.years) FILTER (WHERE v.visit IS NOT NULL) AS last_visit_years,
            min(v.study_day) AS first_day,
            string_agg(v.visit, ',' ORDER BY v.visit_order) AS visits
        FROM subject_info s JOIN visit_measures v USING (subject_id)
        GROUP BY ALL""")
    comp = s[s.status == "completed"]
    assert comp.person_years.between(4.9, 7.0).all()
    assert 5.5 <= comp.person_years.mean() <= 6.5  # mean follow-up 6 years (published)
    assert (comp.visits.str.startswith("BL,M1,M3,M6,Y1")).mean() > 0.95
    assert comp.visits.str.contains("Y5").all()
    wd = s[s.status == "withdrawn"]
    assert (wd.person_years > 1).all()  # every withdrawal happened during the LTE, after Y1
    assert (s.first_day == 0).all()


def test_medication_taper_rule(study):
    """LTE stops of prednisone and NSAIDs follow DAS28 < 3.2 at two visits >= 12 weeks apart;
    tsDMARDs start only after their 2019 approval; an NSAID stop never precedes a prednisone
    stop of the same subject."""
    meds = study.query("SELECT m.*, s.infusion_date FROM medications m JOIN subjects s "
                       "USING (subject_id)")
    das = study.query("SELECT subject_id, visit_date, das28_esr FROM visit_measures")
    y1 = study.query("SELECT subject_id, visit_date FROM visit_measures WHERE visit = 'Y1'")
    y1 = dict(zip(y1.subject_id, y1.visit_date))
    stops = meds[meds.end_date.notna() & meds.drug_class.isin(["prednisone", "NSAID"])]
    lte_stops = 0
    for row in stops.itertuples():
        if row.subject_id not in y1 or row.end_date <= y1[row.subject_id]:
            continue  # during the RCT the rule does not apply
        lte_stops += 1
        d = das[(das.subject_id == row.subject_id) & (das.visit_date <= row.end_date)]
        d = d.sort_values("visit_date")
        low = d.das28_esr < 3.2
        # the latest run of consecutive visits below 3.2 must span >= 84 days
        run = d[low[::-1].cumprod()[::-1].astype(bool)]
        assert len(run) >= 2, row
        assert (run.visit_date.max() - run.visit_date.min()).days >= 84, row
    assert lte_stops >= 13  # the published prednisone counts fall 36 -> 34 -> 23 in the LTE
    ts = meds[meds.drug_class == "tsDMARD"]
    assert (ts.start_date >= pd.Timestamp(TS_APPROVAL)).all()
    pred_stop = meds[meds.drug_class == "prednisone"].groupby("subject_id").end_date.max()
    for row in meds[(meds.drug_class == "NSAID") & meds.end_date.notna()].itertuples():
        if row.subject_id in pred_stop.index:
            assert pd.notna(pred_stop[row.subject_id])
            assert pred_stop[row.subject_id] <= row.end_date


def test_drug_free_remission_subject(study):
    """One MSC+IFN-γ subject reached remission in year 1 and stayed drug-free to year 5."""
    df = study.query("""
        WITH y5 AS (SELECT subject_id, visit_date FROM visit_measures WHERE visit = 'Y5'),
        on_drug AS (
            SELECT DISTINCT m.subject_id FROM medications m JOIN y5 USING (subject_id)
            WHERE m.drug_class IN ('csDMARD','bDMARD','tsDMARD','prednisone','NSAID')
              AND m.start_date <= y5.visit_date
              AND (m.end_date IS NULL OR m.end_date >= y5.visit_date))
        SELECT s.subject_id, s.arm FROM subject_info s JOIN y5 USING (subject_id)
        WHERE s.status = 'completed' AND s.subject_id NOT IN (SELECT subject_id FROM on_drug)""")
    assert list(df.arm) == ["MSC_IFNG"]
    rem = study.query("SELECT visit, das28_rem FROM visit_measures WHERE subject_id = ? "
                      "AND visit IN ('Y1','Y2','Y3','Y4','Y5')", [df.subject_id.iloc[0]])
    assert rem.das28_rem.all()


def test_adverse_events_inside_exposure(study):
    bad = study.query("""SELECT a.* FROM adverse_events a JOIN subject_info s USING (subject_id)
        WHERE a.onset_date < s.infusion_date OR a.onset_date > s.last_assessment_date""")
    assert bad.empty
    lymph = study.query("SELECT severity FROM adverse_events "
                        "WHERE pt = 'Lymphocyte count decreased'")
    assert len(lymph) > 0 and set(lymph.severity) <= {"mild", "moderate"}
    top = study.query("SELECT pt, count(*) n FROM adverse_events GROUP BY pt ORDER BY n DESC "
                      "LIMIT 1")
    assert top.pt.iloc[0] == "Lymphocyte count decreased"  # the most common AE (published)


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_same_seed_same_bytes(tmp_path):
    write_cohort(tmp_path / "a", seed=DEFAULT_SEED)
    write_cohort(tmp_path / "b", seed=DEFAULT_SEED)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert set(_digest(tmp_path / "a")) == {"subjects.csv", "visits.csv", "adverse_events.csv",
                                            "medications.csv", "study.json"}


def test_other_seed_still_reproduces_published(tmp_path):
    raw = tmp_path / "raw"
    write_cohort(raw, seed=7)
    out = build_study(raw, tmp_path / "s.duckdb")
    with open_study(out) as s:
        d = s.disposition().set_index("arm")
        assert list(d.completed) == [69, 28]
        y1 = s.query("""SELECT arm, sum(acr20::INT) AS k FROM visit_measures
            JOIN subjects USING (subject_id, arm) WHERE status = 'completed' AND visit = 'Y1'
            GROUP BY arm ORDER BY arm""")
        assert list(y1.k) == [35, 28]
    assert _digest(raw) != {}


def test_changing_a_raw_component_changes_the_derived_response(tmp_path):
    """Nothing is read from a stored flag: edit one raw value, rebuild, the response follows."""
    raw = tmp_path / "raw"
    write_cohort(raw)
    first = build_study(raw, tmp_path / "before.duckdb")
    con = duckdb.connect(str(first), read_only=True)
    subject, tjc_bl = con.execute("""
        SELECT v.subject_id, b.tjc28 FROM visit_measures v
        JOIN visit_measures b ON b.subject_id = v.subject_id AND b.visit = 'BL'
        WHERE v.visit = 'Y1' AND v.acr20 ORDER BY v.subject_id LIMIT 1""").fetchone()
    con.close()
    visits = pd.read_csv(raw / "visits.csv", dtype=str, keep_default_na=False)
    hit = (visits.subject_id == subject) & (visits.visit == "Y1")
    visits.loc[hit, "tjc28"] = str(int(tjc_bl))  # tender joints back to baseline: no ACR20
    visits.to_csv(raw / "visits.csv", index=False)
    second = build_study(raw, tmp_path / "after.duckdb")
    with open_study(second) as s:
        acr = s.query("SELECT acr20 FROM visit_measures WHERE subject_id = ? AND visit = 'Y1'",
                      [subject])
    assert acr.acr20.iloc[0] == False  # noqa: E712 (a SQL boolean, not None)


def test_scaled_cohort_keeps_proportions():
    tables = generate(seed=3, subjects=330)
    subjects = tables["subjects"]
    counts = subjects.groupby(["arm", "status"]).size()
    assert counts["MSC", "completed"] == 207 and counts["MSC_IFNG", "completed"] == 84
    assert len(subjects) == 330
    assert len(tables["adverse_events"]) == 3 * 223


def test_default_study_is_labelled_synthetic(study):
    assert study.synthetic
    assert study.info["seed"] == str(DEFAULT_SEED)
