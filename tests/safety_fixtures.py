"""A small hand-made study for the safety analyses, small enough to check every number by hand.

Six subjects (three per arm), all infused on 2018-01-01, with fifteen adverse events placed so
that each safety category and each year window has a known count. ``SUBJECTS`` and ``EVENTS``
are the raw rows; ``make_study(path)`` writes them to a DuckDB study file with the derived views
and returns an open :class:`analytics.study.Study`.

Exposure (days from infusion to the last assessment):
    MSC      A1 1461 (= 4.0 y), A2 500 (withdrawn, AE), A3 1000
    MSC_IFNG B1 1461 (= 4.0 y), B2 800 (withdrawn, AE), B3 300 (withdrawn, lack of efficacy)
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from analytics.integrity import content_hash
from analytics.measures import create_views
from analytics.schema import TABLES
from analytics.study import Study

INFUSION = dt.date(2018, 1, 1)


def day(n: int | None) -> dt.date | None:
    return None if n is None else INFUSION + dt.timedelta(days=n)


# subject_id, arm, sex, age, prior_bdmard, status, withdrawal_day, withdrawal_reason, last_day,
# baseline activity ('high' or 'moderate')
SUBJECT_ROWS = [
    ("A1", "MSC", "F", 40.0, 0, "completed", None, None, 1461, "high"),
    ("A2", "MSC", "M", 50.0, 1, "withdrawn", 500, "adverse_event", 500, "moderate"),
    ("A3", "MSC", "F", 60.0, 0, "completed", None, None, 1000, "high"),
    ("B1", "MSC_IFNG", "F", 42.0, 1, "completed", None, None, 1461, "high"),
    ("B2", "MSC_IFNG", "F", 47.0, 0, "withdrawn", 800, "adverse_event", 800, "high"),
    ("B3", "MSC_IFNG", "M", 58.0, 0, "withdrawn", 300, "lack_of_efficacy", 300, "moderate"),
]

INF = "Infections and infestations"
INV = "Investigations"
LCD = "Lymphocyte count decreased"
# ae_id, subject_id, pt, soc, onset day, end day, serious, severity, outcome, category
EVENT_ROWS = [
    ("a1", "A1", LCD, INV, 10, 40, 0, "mild", "recovered/resolved", None),
    ("a2", "A1", "Upper respiratory tract infection", INF, 400, 410, 0, "mild",
     "recovered/resolved", None),
    ("a3", "A1", "Pneumonia", INF, 1200, 1220, 1, "severe", "recovered/resolved", "infection"),
    ("a4", "A2", LCD, INV, 100, 130, 0, "moderate", "recovered/resolved", None),
    # The withdrawal-causing AE of A2: onset before withdrawal, not recovered.
    ("a5", "A2", "Systemic lupus erythematosus", "Musculoskeletal and connective tissue disorders",
     450, None, 0, "moderate", "not recovered/not resolved", "autoimmune disease"),
    # Later than a5 and before A2's withdrawal, but recovered: not an AE leading to withdrawal.
    ("a6", "A2", "Headache", "Nervous system disorders", 480, 481, 0, "mild",
     "recovered/resolved", None),
    ("a7", "A3", "Herpes zoster", INF, 730, 750, 0, "moderate", "recovered/resolved",
     "infection"),
    ("a8", "A3", LCD, INV, 900, 930, 0, "mild", "recovered/resolved", None),
    ("b1", "B1", LCD, INV, 5, 30, 0, "mild", "recovered/resolved", None),
    # Autoimmune, not recovered, but B1 completed: not an AE leading to withdrawal.
    ("b2", "B1", "Sjogren's syndrome", "Immune system disorders", 380, None, 0, "moderate",
     "not recovered/not resolved", "autoimmune disease"),
    ("b3", "B1", "Atrial fibrillation", "Cardiac disorders", 1400, 1405, 1, "severe",
     "recovered/resolved", None),
    ("b4", "B2", LCD, INV, 20, 50, 0, "mild", "recovered/resolved", None),
    ("b6", "B2", "Nausea", "Gastrointestinal disorders", 650, 652, 0, "mild",
     "recovered/resolved", None),
    # B2 has no 'not recovered' AE: her last AE before withdrawal (serious autoimmune disease,
    # still resolving) is the AE leading to withdrawal.
    ("b5", "B2", "Systemic lupus erythematosus", "Musculoskeletal and connective tissue disorders",
     700, None, 1, "severe", "recovering/resolving", "autoimmune disease"),
    ("b7", "B3", "Nasopharyngitis", INF, 50, 57, 0, "mild", "recovered/resolved", None),
]

# Baseline visit values giving a high (DAS28-ESR 6.50) or moderate (3.92) baseline activity.
_BASELINE = {"high": (16, 9, 40.0, 20.0, 60.0), "moderate": (4, 1, 20.0, 5.0, 30.0)}


def _subjects() -> list[dict]:
    rows = []
    for sid, arm, sex, age, bdmard, status, wd, reason, last, _ in SUBJECT_ROWS:
        rows.append(dict(
            subject_id=sid, study_id="FIXTURE", arm=arm, sex=sex, age=age,
            ra_duration_years=4.0, rf_positive=1, anti_ccp_positive=1, prior_csdmard=1,
            prior_bdmard=bdmard, prior_nsaid=1, prior_prednisone=1, infusion_date=INFUSION,
            status=status, withdrawal_date=day(wd), withdrawal_reason=reason,
            last_assessment_date=day(last)))
    return rows


def _visits() -> list[dict]:
    rows = []
    for sid, *_, activity in SUBJECT_ROWS:
        tjc, sjc, esr, crp, pg = _BASELINE[activity]
        rows.append(dict(subject_id=sid, visit="BL", visit_date=INFUSION, tjc28=tjc, sjc28=sjc,
                         esr=esr, crp=crp, patient_global=pg, physician_global=pg, pain=pg,
                         haq_di=1.5))
    return rows


def _events() -> list[dict]:
    return [dict(subject_id=sid, ae_id=aid, pt=pt, soc=soc, onset_date=day(on),
                 end_date=day(end), serious=ser, severity=sev, outcome=out, category=cat)
            for aid, sid, pt, soc, on, end, ser, sev, out, cat in EVENT_ROWS]


def write_study_file(path: str | Path, synthetic: bool = False) -> Path:
    """Write the fixture as a DuckDB study file at ``path`` (replacing it) and return the path."""
    path = Path(path)
    if path.exists():
        path.unlink()
    data = {"subjects": _subjects(), "visits": _visits(), "adverse_events": _events(),
            "medications": []}
    con = duckdb.connect(str(path))
    try:
        for name, table in TABLES.items():
            cols = ", ".join(f'"{c.name}" {c.sql_type}' for c in table.columns)
            con.execute(f"CREATE TABLE {name} ({cols})")
            placeholders = ", ".join("?" for _ in table.columns)
            rows = [[row.get(c) for c in table.column_names] for row in data[name]]
            if rows:
                con.executemany(f"INSERT INTO {name} VALUES ({placeholders})", rows)
        con.execute("CREATE TABLE study_info (key VARCHAR, value VARCHAR)")
        con.executemany("INSERT INTO study_info VALUES (?, ?)",
                        [("synthetic", "true" if synthetic else "false"),
                         ("name", "safety fixture"), ("content_hash", content_hash(con))])
        create_views(con)
    finally:
        con.close()
    return path


def make_study(path: str | Path, synthetic: bool = False) -> Study:
    """Write the fixture study to ``path`` and open it read-only."""
    path = write_study_file(path, synthetic=synthetic)
    return Study(duckdb.connect(str(path), read_only=True), path)
