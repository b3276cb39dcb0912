"""The raw-data contract (STUDY.md section 2): tables, columns and the rules each value obeys.

The importer validates against these definitions, the synthetic generator writes exactly these
columns, and the DuckDB study file stores them with these types.
"""
from __future__ import annotations

from dataclasses import dataclass, field

ARMS: tuple[str, ...] = ("MSC", "MSC_IFNG")
POPULATIONS: tuple[str, ...] = ("completers", "nri", "safety")

# Scheduled visits and their nominal time since infusion. Y1 is the RCT's week 48; the LTE then
# assesses every six months.
VISIT_MONTHS: dict[str, int] = {
    "BL": 0, "M1": 1, "M3": 3, "M6": 6, "Y1": 12,
    "M18": 18, "Y2": 24, "M30": 30, "Y3": 36, "M42": 42, "Y4": 48,
    "M54": 54, "Y5": 60, "M66": 66, "Y6": 72, "M78": 78, "Y7": 84,
}
VISITS: tuple[str, ...] = tuple(VISIT_MONTHS)
POST_BASELINE_VISITS: tuple[str, ...] = VISITS[1:]
# Nominal study day of each visit (infusion = day 0); Y1 is week 48.
VISIT_DAYS: dict[str, int] = {
    "BL": 0, "M1": 28, "M3": 84, "M6": 168, "Y1": 336,
    **{v: 336 + round((m - 12) / 12 * 365.25) for v, m in VISIT_MONTHS.items() if m > 12},
}

DRUG_CLASSES: tuple[str, ...] = ("csDMARD", "tsDMARD", "bDMARD", "prednisone", "NSAID")
WITHDRAWAL_REASONS: tuple[str, ...] = ("lack_of_efficacy", "adverse_event", "other")
SEVERITIES: tuple[str, ...] = ("mild", "moderate", "severe")
DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class Column:
    """One contract column: its kind and the rule its values obey.

    kind: ``str``, ``int``, ``float``, ``flag`` (0/1), ``date`` or ``enum``.
    ``low``/``high`` bound numbers inclusively unless ``low_exclusive`` is set.
    """

    name: str
    kind: str
    required: bool = True  # a value must be present on every row
    low: float | None = None
    high: float | None = None
    low_exclusive: bool = False
    choices: tuple[str, ...] = ()

    @property
    def sql_type(self) -> str:
        return {"int": "INTEGER", "float": "DOUBLE", "flag": "TINYINT", "date": "DATE"}.get(
            self.kind, "VARCHAR")


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = field(default_factory=tuple)  # must be unique

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _vas(name: str) -> Column:
    return Column(name, "float", required=False, low=0, high=100)


SUBJECTS = Table("subjects", (
    Column("subject_id", "str"),
    Column("study_id", "str"),
    Column("arm", "enum", choices=ARMS),
    Column("sex", "enum", choices=("F", "M")),
    Column("age", "float", low=18, high=100),
    Column("ra_duration_years", "float", low=0, high=80),
    Column("rf_positive", "flag"),
    Column("anti_ccp_positive", "flag"),
    Column("prior_csdmard", "flag"),
    Column("prior_bdmard", "flag"),
    Column("prior_nsaid", "flag"),
    Column("prior_prednisone", "flag"),
    Column("infusion_date", "date"),
    Column("status", "enum", choices=("completed", "withdrawn")),
    Column("withdrawal_date", "date", required=False),
    Column("withdrawal_reason", "enum", required=False, choices=WITHDRAWAL_REASONS),
    Column("last_assessment_date", "date"),
), key=("subject_id",))

VISITS_TABLE = Table("visits", (
    Column("subject_id", "str"),
    Column("visit", "enum", choices=VISITS),
    Column("visit_date", "date"),
    Column("tjc28", "int", required=False, low=0, high=28),
    Column("sjc28", "int", required=False, low=0, high=28),
    Column("esr", "float", required=False, low=0, high=200, low_exclusive=True),
    Column("crp", "float", required=False, low=0, high=500),
    _vas("patient_global"),
    _vas("physician_global"),
    _vas("pain"),
    Column("haq_di", "float", required=False, low=0, high=3),
), key=("subject_id", "visit"))

ADVERSE_EVENTS = Table("adverse_events", (
    Column("subject_id", "str"),
    Column("ae_id", "str"),
    Column("pt", "str"),
    Column("soc", "str"),
    Column("onset_date", "date"),
    Column("end_date", "date", required=False),
    Column("serious", "flag"),
    Column("severity", "enum", choices=SEVERITIES),
    Column("outcome", "str", required=False),
    Column("category", "str", required=False),
), key=("ae_id",))

MEDICATIONS = Table("medications", (
    Column("subject_id", "str"),
    Column("drug_class", "enum", choices=DRUG_CLASSES),
    Column("drug_name", "str"),
    Column("start_date", "date"),
    Column("end_date", "date", required=False),
))

TABLES: dict[str, Table] = {t.name: t for t in (SUBJECTS, VISITS_TABLE, ADVERSE_EVENTS, MEDICATIONS)}
# Columns that may be absent from a file altogether (optional analysis columns).
OPTIONAL_COLUMNS: dict[str, set[str]] = {"adverse_events": {"category", "outcome", "end_date"}}
