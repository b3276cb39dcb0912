"""Derived measures (STUDY.md section 3), defined once, in SQL, over the raw tables.

Every derived value the dashboard shows -- DAS28, disease-activity category, ACR20/50/70, EULAR
response, HAQ-DI improvement, exposure -- comes from the views created here, computed at query time
from the raw ``subjects`` and ``visits`` tables. Nothing derived is stored, so changing a raw value
and rebuilding changes every result that depends on it. The synthetic generator checks its
candidates through these same views.
"""
from __future__ import annotations

import duckdb

from .schema import DAYS_PER_YEAR, VISIT_MONTHS

DAS28_REMISSION = 2.6  # remission: DAS28 < 2.6
DAS28_LOW = 3.2  # low disease activity: DAS28 <= 3.2 (includes remission)
DAS28_MODERATE = 5.1  # moderate: > 3.2 to <= 5.1; high: > 5.1
HAQ_MCID = 0.22
ACR_LEVELS = (20, 50, 70)
# The five ACR core-set components besides the joint counts; CRP is the acute-phase reactant.
ACR_CORE = ("patient_global", "physician_global", "pain", "haq_di", "crp")
# Rounding before comparing with a threshold keeps 10 -> 8 (exactly 20 %) from failing on binary
# floating point.
_EPS_DIGITS = 9


def _improvement(col: str) -> str:
    # Fractional improvement from baseline. A baseline of 0 cannot improve by a percentage, so the
    # component counts as not improved (0); a missing value on either side gives NULL.
    return (f"CASE WHEN b.{col} = 0 THEN 0.0 "
            f"ELSE round((b.{col} - v.{col}) / b.{col}, {_EPS_DIGITS}) END AS imp_{col}")


def _acr(level: int) -> str:
    f = level / 100
    # coalesce: a missing component is not 'met' (it is counted in ``missing`` instead)
    met = " + ".join(f"coalesce((imp_{c} >= {f})::INTEGER, 0)" for c in ACR_CORE)
    missing = " + ".join(f"(imp_{c} IS NULL)::INTEGER" for c in ACR_CORE)
    # TRUE/FALSE only when the missing components could not change the answer; otherwise NULL
    # (not evaluable: excluded from a completers denominator, a non-responder under NRI).
    return f"""CASE
        WHEN visit = 'BL' THEN NULL
        WHEN imp_tjc28 < {f} OR imp_sjc28 < {f} OR ({met}) + ({missing}) < 3 THEN FALSE
        WHEN imp_tjc28 >= {f} AND imp_sjc28 >= {f} AND ({met}) >= 3 THEN TRUE
        ELSE NULL END AS acr{level}"""


# Response endpoints: code -> SQL expression over a ``visit_measures`` row that is TRUE (met),
# FALSE (not met) or NULL (not evaluable). Fixed text, never user input.
RESPONSE_ENDPOINTS: dict[str, str] = {
    "ACR20": "acr20",
    "ACR50": "acr50",
    "ACR70": "acr70",
    "DAS28_REM": "das28_rem",
    "DAS28_LDA": "das28_lda",
    "EULAR": "CASE WHEN eular IS NULL THEN NULL ELSE eular IN ('good', 'moderate') END",
    "HAQ_MCID": "haq_mcid",
}
# The visit_measures columns those expressions read.
RESPONSE_COLUMNS = ("acr20", "acr50", "acr70", "das28_rem", "das28_lda", "eular", "haq_mcid")

_VISIT_ORDER = " ".join(f"WHEN '{v}' THEN {i}" for i, v in enumerate(VISIT_MONTHS))
_VISIT_MONTHS = " ".join(f"WHEN '{v}' THEN {m}" for v, m in VISIT_MONTHS.items())
_COMPONENTS = ("tjc28", "sjc28", "esr", "crp", "patient_global", "physician_global", "pain",
               "haq_di")

VISIT_MEASURES_SQL = f"""
CREATE OR REPLACE VIEW visit_measures AS
WITH v AS (
    SELECT v.*, s.arm, s.infusion_date,
        CASE v.visit {_VISIT_ORDER} END AS visit_order,
        CASE v.visit {_VISIT_MONTHS} END AS months,
        datediff('day', s.infusion_date, v.visit_date) AS study_day,
        0.56 * sqrt(v.tjc28) + 0.28 * sqrt(v.sjc28) + 0.70 * ln(v.esr)
            + 0.014 * v.patient_global AS das28_esr,
        0.56 * sqrt(v.tjc28) + 0.28 * sqrt(v.sjc28) + 0.36 * ln(v.crp + 1)
            + 0.014 * v.patient_global + 0.96 AS das28_crp
    FROM visits v JOIN subjects s USING (subject_id)
),
imp AS (
    SELECT v.*,
        b.das28_esr AS bl_das28_esr, b.das28_crp AS bl_das28_crp,
        {", ".join(f"b.{c} AS bl_{c}" for c in _COMPONENTS)},
        {", ".join(_improvement(c) for c in _COMPONENTS if c != "esr")}
    FROM v LEFT JOIN (SELECT * FROM v WHERE visit = 'BL') b USING (subject_id)
)
SELECT subject_id, arm, visit, visit_order, months, months / 12.0 AS years, visit_date,
    study_day, {", ".join(_COMPONENTS)},
    das28_esr, das28_crp,
    CASE WHEN das28_esr IS NULL THEN NULL
         WHEN das28_esr < {DAS28_REMISSION} THEN 'remission'
         WHEN das28_esr <= {DAS28_LOW} THEN 'low'
         WHEN das28_esr <= {DAS28_MODERATE} THEN 'moderate'
         ELSE 'high' END AS das28_category,
    das28_esr < {DAS28_REMISSION} AS das28_rem,
    das28_esr <= {DAS28_LOW} AS das28_lda,
    das28_esr - bl_das28_esr AS das28_esr_change,
    das28_crp - bl_das28_crp AS das28_crp_change,
    {", ".join(f"{c} - bl_{c} AS {c}_change" for c in _COMPONENTS if c not in ("das28",))},
    {", ".join(_acr(level) for level in ACR_LEVELS)},
    CASE WHEN visit = 'BL' OR das28_esr IS NULL OR bl_das28_esr IS NULL THEN NULL
         WHEN das28_esr <= {DAS28_LOW} AND bl_das28_esr - das28_esr > 1.2 THEN 'good'
         WHEN (bl_das28_esr - das28_esr > 1.2 AND das28_esr > {DAS28_LOW})
           OR (bl_das28_esr - das28_esr > 0.6 AND bl_das28_esr - das28_esr <= 1.2
               AND das28_esr <= {DAS28_MODERATE}) THEN 'moderate'
         ELSE 'none' END AS eular,
    CASE WHEN visit = 'BL' THEN NULL
         ELSE round(bl_haq_di - haq_di, {_EPS_DIGITS}) >= {HAQ_MCID} END AS haq_mcid
FROM imp
"""

# One row per subject: baseline characteristics used for subgroups and Table 1, and exposure.
SUBJECT_INFO_SQL = f"""
CREATE OR REPLACE VIEW subject_info AS
SELECT s.*,
    b.das28_esr AS bl_das28_esr, b.das28_crp AS bl_das28_crp, b.haq_di AS bl_haq_di,
    b.esr AS bl_esr, b.crp AS bl_crp, b.tjc28 AS bl_tjc28, b.sjc28 AS bl_sjc28,
    CASE WHEN b.das28_esr IS NULL THEN NULL
         WHEN b.das28_esr > {DAS28_MODERATE} THEN 'high'
         WHEN b.das28_esr > {DAS28_LOW} THEN 'moderate'
         ELSE 'low' END AS baseline_activity,
    CASE WHEN s.age < 45 THEN 'lt45' WHEN s.age < 55 THEN '45to54' ELSE 'ge55' END AS age_band,
    datediff('day', s.infusion_date, s.last_assessment_date) AS exposure_days,
    datediff('day', s.infusion_date, s.last_assessment_date) / {DAYS_PER_YEAR} AS person_years
FROM subjects s
LEFT JOIN visit_measures b ON b.subject_id = s.subject_id AND b.visit = 'BL'
"""


MEASURE_VIEWS = ("visit_measures", "subject_info")
# Where an open study keeps its derived measures: a schema of the connection's own in-memory
# database (never the study file, which is opened read-only and is written by the importer only).
KEPT_SCHEMA = "memory.measures"


def create_views(con: duckdb.DuckDBPyConnection) -> None:
    """Create the derived-measure views over the raw tables of ``con``."""
    con.execute(VISIT_MEASURES_SQL)
    con.execute(SUBJECT_INFO_SQL)


def keep_measures(con: duckdb.DuckDBPyConnection, catalog: str) -> str:
    """Compute the derived-measure views of the study attached as ``catalog`` once, into tables
    of the connection's in-memory database, and return the search path under which unqualified
    ``visit_measures`` and ``subject_info`` are those tables (the raw tables stay the file's).

    The views, not a copy of their text, are what is computed: a table holds exactly the rows
    the view gives on this connection's file, which is opened read-only and verified against its
    content hash, so the tables cannot go stale while the connection is open; a rebuilt or
    replaced file is a new connection (``dashboard.study_source``)."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {KEPT_SCHEMA}")
    for name in MEASURE_VIEWS:
        con.execute(f'CREATE OR REPLACE TABLE {KEPT_SCHEMA}.{name} AS '
                    f'SELECT * FROM "{catalog}".main.{name}')
    return f"{KEPT_SCHEMA},{catalog}.main"
