"""Derived measures (STUDY.md section 3) against worked examples computed by hand.

A small raw cohort goes through the real import path; each subject is a case: ordinary values,
a baseline of 0, missing components, a missing baseline visit, threshold edges.
"""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from analytics import open_study
from analytics.build import build_study

SUBJECT = dict(study_id="T", sex="F", age="50", ra_duration_years="4", rf_positive="1",
               anti_ccp_positive="1", prior_csdmard="1", prior_bdmard="0", prior_nsaid="1",
               prior_prednisone="1", infusion_date="2018-01-01", status="completed",
               withdrawal_date="", withdrawal_reason="", last_assessment_date="2023-01-01")
BASE = dict(tjc28=10, sjc28=8, esr=40, crp=20, patient_global=60, physician_global=60, pain=60,
            haq_di=2.0)


def visit(subject, name, date, **values):
    row = {**BASE, **values}
    return {"subject_id": subject, "visit": name, "visit_date": date,
            **{k: "" if v is None else str(v) for k, v in row.items()}}


# subject -> list of (visit, values); baseline first unless the case is a missing baseline
CASES = {
    # ACR70 responder: joints -80 %/-75 %, PG/phys/pain -75 %, HAQ -50 %, CRP -80 %
    "A": [("BL", {}), ("Y1", dict(tjc28=2, sjc28=2, esr=10, crp=4, patient_global=15,
                                  physician_global=15, pain=15, haq_di=1.0))],
    # exactly 20 %: TJC 10 -> 8, SJC 8 -> 6.4 is impossible, so SJC 10 -> 8 from its own baseline
    "B": [("BL", dict(sjc28=10)), ("Y1", dict(tjc28=8, sjc28=8, patient_global=48,
                                               physician_global=48, pain=48, crp=16))],
    # just under 20 % on tender joints: no ACR20 whatever the rest does
    "C": [("BL", dict(tjc28=11)), ("Y1", dict(tjc28=9, sjc28=2, patient_global=10,
                                               physician_global=10, pain=10, crp=1, haq_di=0))],
    # baseline SJC of 0 cannot improve by a percentage: no ACR20
    "D": [("BL", dict(sjc28=0)), ("Y1", dict(tjc28=1, sjc28=0, patient_global=10,
                                              physician_global=10, pain=10, crp=1, haq_di=0))],
    # two core components missing, the three observed all improved: ACR20 met
    "E": [("BL", {}), ("Y1", dict(tjc28=2, sjc28=2, pain=None, haq_di=None,
                                  patient_global=10, physician_global=10, crp=2))],
    # two missing, two of three observed improved: undecidable -> NULL
    "F": [("BL", {}), ("Y1", dict(tjc28=2, sjc28=2, pain=None, haq_di=None,
                                  patient_global=10, physician_global=60, crp=2))],
    # one missing, one of four observed improved: cannot reach 3 of 5 -> FALSE
    "G": [("BL", {}), ("Y1", dict(tjc28=2, sjc28=2, pain=None, crp=2,
                                  patient_global=60, physician_global=60))],
    # three missing, two observed not improved: the missing three could still make it -> NULL
    "J": [("BL", {}), ("Y1", dict(tjc28=2, sjc28=2, pain=None, haq_di=None, crp=None,
                                  patient_global=60, physician_global=60))],
    # no baseline visit: no ACR, EULAR or change from baseline, but DAS28 at the visit
    "H": [("Y1", dict(tjc28=2, sjc28=2))],
    # ESR missing: no DAS28-ESR (nor category, EULAR), DAS28-CRP still computed
    "I": [("BL", {}), ("Y1", dict(esr=None))],
}


@pytest.fixture(scope="module")
def measures(tmp_path_factory) -> pd.DataFrame:
    raw = tmp_path_factory.mktemp("raw")
    subjects = [dict(subject_id=s, arm="MSC" if i % 2 else "MSC_IFNG", **SUBJECT)
                for i, s in enumerate(CASES)]
    visits = [visit(s, name, "2018-01-01" if name == "BL" else "2018-12-03", **values)
              for s, rows in CASES.items() for name, values in rows]
    pd.DataFrame(subjects).to_csv(raw / "subjects.csv", index=False)
    pd.DataFrame(visits).to_csv(raw / "visits.csv", index=False)
    pd.DataFrame([dict(subject_id="A", ae_id="1", pt="Headache", soc="Nervous system disorders",
                       onset_date="2018-02-01", end_date="", serious="0", severity="mild",
                       outcome="recovered/resolved", category="")]).to_csv(
        raw / "adverse_events.csv", index=False)
    pd.DataFrame([dict(subject_id="A", drug_class="csDMARD", drug_name="methotrexate",
                       start_date="2016-01-01", end_date="")]).to_csv(
        raw / "medications.csv", index=False)
    path = build_study(raw, raw.parent / "m.duckdb")
    with open_study(path) as study:
        df = study.query("SELECT * FROM visit_measures")
    return df.set_index(["subject_id", "visit"])


def das28_esr(t, s, esr, pg):
    return 0.56 * math.sqrt(t) + 0.28 * math.sqrt(s) + 0.70 * math.log(esr) + 0.014 * pg


def test_das28_esr_worked_example(measures):
    # By hand: 0.56·√10 + 0.28·√8 + 0.70·ln 40 + 0.014·60
    #        = 1.77088 + 0.79196 + 2.58222 + 0.84 = 5.98506
    assert measures.loc[("A", "BL"), "das28_esr"] == pytest.approx(5.98506, abs=5e-5)
    assert measures.loc[("A", "BL"), "das28_esr"] == pytest.approx(das28_esr(10, 8, 40, 60))
    # Y1: 0.56·√2 + 0.28·√2 + 0.70·ln 10 + 0.014·15 = 0.79196 + 0.39598 + 1.61181 + 0.21
    assert measures.loc[("A", "Y1"), "das28_esr"] == pytest.approx(3.00975, abs=5e-5)


def test_das28_crp_worked_example(measures):
    # 0.56·√10 + 0.28·√8 + 0.36·ln(21) + 0.014·60 + 0.96 = 1.77088 + 0.79196 + 1.09604 + 0.84 + 0.96
    assert measures.loc[("A", "BL"), "das28_crp"] == pytest.approx(5.45888, abs=5e-5)


def test_categories_and_eular(measures):
    a_bl, a_y1 = measures.loc[("A", "BL")], measures.loc[("A", "Y1")]
    assert a_bl.das28_category == "high"  # 5.99 > 5.1
    assert a_y1.das28_category == "low"  # 2.6 <= 3.01 <= 3.2
    assert bool(a_y1.das28_lda) and not bool(a_y1.das28_rem)
    # improvement 2.98 > 1.2 and current <= 3.2: good response
    assert a_y1.eular == "good"
    assert pd.isna(a_bl.eular)


def test_acr_levels(measures):
    a = measures.loc[("A", "Y1")]
    assert (bool(a.acr20), bool(a.acr50), bool(a.acr70)) == (True, True, True)
    b = measures.loc[("B", "Y1")]
    # exactly 20 % on every component counts as improved (10 -> 8, 60 -> 48, 20 -> 16)
    assert bool(b.acr20) and not bool(b.acr50)
    c = measures.loc[("C", "Y1")]
    assert c.acr20 == False  # noqa: E712 -- 11 -> 9 is 18.2 %
    d = measures.loc[("D", "Y1")]
    assert d.acr20 == False  # noqa: E712 -- a baseline of 0 counts as not improved


def test_acr_with_missing_components(measures):
    assert measures.loc[("E", "Y1"), "acr20"] == True  # noqa: E712 -- 3 observed, 3 improved
    assert pd.isna(measures.loc[("F", "Y1"), "acr20"])  # 2 of 3 improved, 2 missing
    assert measures.loc[("G", "Y1"), "acr20"] == False  # noqa: E712 -- at most 2 of 5
    assert pd.isna(measures.loc[("J", "Y1"), "acr20"])


def test_missing_baseline_visit(measures):
    h = measures.loc[("H", "Y1")]
    assert h.das28_esr == pytest.approx(das28_esr(2, 2, 40, 60))
    assert pd.isna(h.acr20) and pd.isna(h.eular) and pd.isna(h.das28_esr_change)
    assert pd.isna(h.haq_mcid)


def test_missing_esr(measures):
    i = measures.loc[("I", "Y1")]
    assert pd.isna(i.das28_esr) and pd.isna(i.das28_category) and pd.isna(i.eular)
    assert not pd.isna(i.das28_crp)


def test_haq_mcid(measures):
    assert bool(measures.loc[("A", "Y1"), "haq_mcid"])  # 2.0 -> 1.0
    assert not bool(measures.loc[("B", "Y1"), "haq_mcid"])  # unchanged
    assert measures.loc[("A", "Y1"), "haq_di_change"] == pytest.approx(-1.0)
