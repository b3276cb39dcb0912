"""Hand-made study files for the survival tests (no dependency on the default synthetic cohort).

``build_study(path, subjects, visits)`` writes the four raw tables with the contract's types,
the derived-measure views and ``study_info``, and opens the file read-only as a ``Study``.
Missing subject columns are filled with harmless defaults.
"""
from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import duckdb
import pandas as pd

from analytics.integrity import content_hash
from analytics.measures import create_views
from analytics.schema import TABLES, VISIT_DAYS
from analytics.study import Study

INFUSION = dt.date(2017, 1, 2)
SUBJECT_DEFAULTS = dict(
    study_id="T", sex="F", age=47.0, ra_duration_years=4.0, rf_positive=1, anti_ccp_positive=1,
    prior_csdmard=1, prior_bdmard=0, prior_nsaid=1, prior_prednisone=1, infusion_date=INFUSION,
    status="completed", withdrawal_date=None, withdrawal_reason=None, last_assessment_date=None,
)
# Visit components giving a high DAS28-ESR (about 6.3) and a remission one (about 2.1).
HIGH = dict(tjc28=12, sjc28=8, esr=50.0, crp=25.0, patient_global=70.0, physician_global=70.0,
            pain=70.0, haq_di=1.6)
LOW = dict(tjc28=0, sjc28=0, esr=10.0, crp=2.0, patient_global=10.0, physician_global=10.0,
           pain=10.0, haq_di=0.5)


def day(n: float) -> dt.date:
    return INFUSION + dt.timedelta(days=int(n))


def build_study(path: str | Path, subjects: list[dict], visits: list[dict],
                adverse_events: list[dict] = (), medications: list[dict] = (),
                synthetic: bool = False) -> Study:
    path = Path(path)
    if path.exists():
        path.unlink()
    rows = {"subjects": [{**SUBJECT_DEFAULTS, **s} for s in subjects], "visits": list(visits),
            "adverse_events": list(adverse_events), "medications": list(medications)}
    for s in rows["subjects"]:
        if s["last_assessment_date"] is None:
            s["last_assessment_date"] = s["withdrawal_date"] or day(5 * 365)
    con = duckdb.connect(str(path))
    for name, table in TABLES.items():
        cols = ", ".join(f"{c.name} {c.sql_type}" for c in table.columns)
        con.execute(f"CREATE TABLE {name} ({cols})")
        if rows[name]:
            frame = pd.DataFrame([[r.get(c.name) for c in table.columns] for r in rows[name]],
                                 columns=table.column_names)
            for c in table.columns:  # typed columns so that all-missing ones insert cleanly
                if c.kind == "date":
                    frame[c.name] = pd.to_datetime(frame[c.name])
                elif c.kind in ("str", "enum"):
                    frame[c.name] = frame[c.name].astype(object)
                else:
                    frame[c.name] = pd.to_numeric(frame[c.name]).astype(float)
            con.register("frame", frame)
            casts = ", ".join(f"CAST({c.name} AS {c.sql_type})" for c in table.columns)
            con.execute(f"INSERT INTO {name} SELECT {casts} FROM frame")
            con.unregister("frame")
    create_views(con)
    con.execute("CREATE TABLE study_info (key VARCHAR, value VARCHAR)")
    con.execute("INSERT INTO study_info VALUES ('synthetic', ?), ('name', 'survival fixture'), "
                "('content_hash', ?)", ["true" if synthetic else "false", content_hash(con)])
    con.close()
    return Study(duckdb.connect(str(path), read_only=True), path)


# -- Freireich et al. (1963) 6-MP leukaemia remission data, in weeks ----------------------------
# 6-MP (here: MSC, the reference) and placebo (here: MSC_IFNG); '*' = censored.
FREIREICH_6MP = [(6, 1), (6, 1), (6, 1), (6, 0), (7, 1), (9, 0), (10, 1), (10, 0), (11, 0),
                 (13, 1), (16, 1), (17, 0), (19, 0), (20, 0), (22, 1), (23, 1), (25, 0), (32, 0),
                 (32, 0), (34, 0), (35, 0)]
FREIREICH_PLACEBO = [(w, 1) for w in (1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15,
                                      17, 22, 23)]


def freireich_study(path: str | Path) -> Study:
    """The 6-MP trial encoded twice: as time to withdrawal (any reason) and as time to DAS28
    remission, with one 'week' = one day. Arm MSC = 6-MP, MSC_IFNG = placebo."""
    subjects, visits = [], []
    for arm, data in (("MSC", FREIREICH_6MP), ("MSC_IFNG", FREIREICH_PLACEBO)):
        for i, (weeks, event) in enumerate(data):
            sid = f"{arm}-{i:02d}"
            subjects.append(dict(
                subject_id=sid, arm=arm,
                status="withdrawn" if event else "completed",
                withdrawal_date=day(weeks) if event else None,
                withdrawal_reason="other" if event else None,
                last_assessment_date=day(weeks)))
            visits.append(dict(subject_id=sid, visit="BL", visit_date=INFUSION, **HIGH))
            visits.append(dict(subject_id=sid, visit="M1", visit_date=day(weeks),
                               **(LOW if event else HIGH)))
    return build_study(path, subjects, visits)


# -- a random cohort with every kind of visit ---------------------------------------------------

def random_study(path: str | Path, n_per_arm: tuple[int, int] = (40, 20), seed: int = 1,
                 synthetic: bool = True) -> Study:
    """Random subjects with scheduled visits (jittered), arm-dependent improvement, missing
    values, missed visits and withdrawals for each reason."""
    rng = random.Random(seed)
    subjects, visits = [], []
    reasons = ("lack_of_efficacy", "adverse_event", "other")
    for arm, n in zip(("MSC", "MSC_IFNG"), n_per_arm):
        effect = 0.35 if arm == "MSC" else 0.6
        for i in range(n):
            sid = f"{arm}-{i:03d}"
            withdraws = rng.random() < 0.3
            end_day = rng.randint(5 * 365, 7 * 365)
            wd_day = rng.randint(60, 5 * 365) if withdraws else None
            last = wd_day if withdraws else end_day
            subjects.append(dict(
                subject_id=sid, arm=arm, sex=rng.choice("FFFFM"),
                age=float(rng.randint(25, 70)), prior_bdmard=rng.randint(0, 1),
                status="withdrawn" if withdraws else "completed",
                withdrawal_date=day(wd_day) if withdraws else None,
                withdrawal_reason=rng.choice(reasons) if withdraws else None,
                last_assessment_date=day(last)))
            base = {k: (v * rng.uniform(0.8, 1.3) if isinstance(v, float) else
                        max(1, int(v * rng.uniform(0.6, 1.5)))) for k, v in HIGH.items()}
            personal = rng.uniform(0, 1) < 0.75
            for visit, nominal in VISIT_DAYS.items():
                vday = nominal + (rng.randint(-10, 10) if nominal else 0)
                if vday > last or (visit != "BL" and rng.random() < 0.08):
                    continue
                if visit == "BL":
                    values = dict(base)
                else:
                    frac = min(1.0, nominal / 180) * effect * (1.6 if personal else 0.4)
                    frac = max(0.0, min(0.97, frac + rng.gauss(0, 0.15)))
                    values = {k: (round(v * (1 - frac), 2) if isinstance(v, float)
                                  else int(round(v * (1 - frac)))) for k, v in base.items()}
                    values["esr"] = max(values["esr"], 2.0)
                    values["haq_di"] = min(3.0, values["haq_di"])
                    for k in ("crp", "pain", "haq_di", "physician_global"):
                        if rng.random() < 0.05:
                            values[k] = None
                visits.append(dict(subject_id=sid, visit=visit, visit_date=day(vday), **values))
    return build_study(path, subjects, visits, synthetic=synthetic)
