"""Which subjects an analysis counts: population, comparison and subgroup filters as bound SQL.

Column names are fixed here; every user-chosen value travels as a bound parameter.

Two filters are about the design rather than the subject: ``study_id`` (one trial; the allowed
values are the trials in the study file, see :func:`trial_ids`) and ``comparison``: ``"all"``
(every subject, pooled across trials, as published) or ``"randomised"`` (only the trial(s) that
randomised every arm, found from the data, see :func:`randomised_trials`). Both travel through
``**filters`` like any subgroup filter, so every analysis honours them without a signature change.
"""
from __future__ import annotations

from dataclasses import dataclass

from .schema import ARMS, POPULATIONS, VISIT_DAYS, VISIT_MONTHS, VISITS

SEXES = ("F", "M")
AGE_BANDS = ("lt45", "45to54", "ge55")
BASELINE_ACTIVITIES = ("moderate", "high")
PRIOR_BDMARD = (0, 1)

# filter name -> (subject_info column, allowed values); ``None``: any trial of the study file
SUBGROUP_FILTERS: dict[str, tuple[str, tuple | None]] = {
    "sex": ("sex", SEXES),
    "age_band": ("age_band", AGE_BANDS),
    "baseline_activity": ("baseline_activity", BASELINE_ACTIVITIES),
    "prior_bdmard": ("prior_bdmard", PRIOR_BDMARD),
    "study_id": ("study_id", None),
}
COMPARISONS = ("all", "randomised")
DEFAULT_COMPARISON = "all"
# The trials that randomised every arm: read from the raw subjects, never typed in.
RANDOMISED_TRIALS_SQL = (f"SELECT study_id FROM subjects GROUP BY study_id "
                         f"HAVING count(DISTINCT arm) = {len(ARMS)}")


def _fact(study, sql: str):
    # asked by the controls on every run: once per open study where it keeps facts (Study.fact)
    return (getattr(study, "fact", None) or study.query)(sql)


def trial_ids(study) -> list[str]:
    """The trials (``study_id`` values) of the study file, sorted: the ``study_id`` filter's
    allowed values."""
    rows = _fact(study, "SELECT DISTINCT study_id FROM subjects ORDER BY study_id")
    return [str(v) for v in rows["study_id"]]


def randomised_trials(study) -> list[str]:
    """The trials that randomised every arm (the randomised comparison), sorted."""
    rows = _fact(study, f"{RANDOMISED_TRIALS_SQL} ORDER BY study_id")
    return [str(v) for v in rows["study_id"]]


@dataclass(frozen=True)
class Selection:
    """A population with optional subgroup filters and a comparison; ``sql`` selects from
    ``subject_info``."""

    population: str
    filters: dict
    comparison: str = DEFAULT_COMPARISON

    @property
    def where(self) -> tuple[str, list]:
        clauses, params = ["TRUE"], []
        if self.population == "completers":
            clauses.append("status = 'completed'")
        if self.comparison == "randomised":
            clauses.append(f"study_id IN ({RANDOMISED_TRIALS_SQL})")
        for name, value in self.filters.items():
            column, _ = SUBGROUP_FILTERS[name]
            clauses.append(f"{column} = ?")
            params.append(value)
        return " AND ".join(clauses), params

    @property
    def keywords(self) -> dict:
        """The selection's filters as an analysis takes them (``**filters``)."""
        return {**self.filters, "comparison": self.comparison}

    @property
    def sql(self) -> tuple[str, list]:
        """``SELECT * FROM subject_info WHERE ...`` and its parameters."""
        where, params = self.where
        return f"SELECT * FROM subject_info WHERE {where}", params


def select(population: str, **filters) -> Selection:
    """Validate a population, subgroup filters and ``comparison``; ``None`` values mean 'all'.

    ``study_id`` must be a non-empty string; a trial the study file does not hold selects no
    one (its allowed values come from the file: :func:`trial_ids`).
    """
    if population not in POPULATIONS:
        raise ValueError(f"unknown population {population!r}; expected one of {POPULATIONS}")
    chosen, comparison = check_filters(**filters)
    return Selection(population, chosen, comparison)


def check_filters(**filters) -> tuple[dict, str]:
    """The active subgroup filters (validated, ``None`` dropped) and the comparison."""
    comparison = filters.pop("comparison", None) or DEFAULT_COMPARISON
    if comparison not in COMPARISONS:
        raise ValueError(f"comparison={comparison!r} not in {COMPARISONS}")
    chosen = {}
    for name, value in filters.items():
        if value is None:
            continue
        if name not in SUBGROUP_FILTERS:
            raise ValueError(f"unknown filter {name!r}; expected one of "
                             f"{(*SUBGROUP_FILTERS, 'comparison')}")
        allowed = SUBGROUP_FILTERS[name][1]
        if name == "prior_bdmard":
            value = int(value)
        if allowed is None:
            if not isinstance(value, str) or not value:
                raise ValueError(f"filter {name}={value!r} must be a trial id (text)")
        elif value not in allowed:
            raise ValueError(f"filter {name}={value!r} not in {allowed}")
        chosen[name] = value
    return chosen, comparison


# -- who is in follow-up at a time point (the NRI estimand, STUDY.md section 4) -------------------
FOLLOW_UP_STATES = ("observed", "withdrawn", "ended", "missing")


def follow_up_sql(timepoints, measures: tuple[str, ...] = ()) -> tuple[str, list]:
    """CTEs ``tp`` and ``follow_up`` to follow a ``sel`` CTE of selected ``subject_info`` rows:
    one row per selected subject and time point with its follow-up state there.

    ``follow_up`` columns: ``subject_id, arm, timepoint, visit_order, years, nominal_day,
    visit_date, state``. ``state`` is, in this order of precedence:

    * ``observed``: the visit took place (its values may still be missing);
    * ``withdrawn``: withdrew before the visit's nominal day (day 0 = infusion);
    * ``ended``: completed the extension, and the last assessment came before the nominal day:
      follow-up ended, the subject has not failed and leaves an NRI denominator;
    * ``missing``: in follow-up, but the visit is not recorded.

    Under NRI, ``withdrawn`` and ``missing`` (and an observed visit whose value cannot be
    evaluated) count as non-response; ``ended`` leaves the denominator. This is the one place
    the rule is written; every efficacy analysis reads it.

    ``measures``: ``visit_measures`` columns (fixed names, never user text) to add, read from
    the visit's row there (NULL when not observed): one join instead of a second one per caller
    (the derived measures have exactly one row per subject's visit, as ``visits``).
    """
    timepoints = [tp for tp in VISITS if tp in set(timepoints)]
    if not timepoints:
        raise ValueError("follow_up_sql needs at least one time point")
    values = ", ".join("(?, ?, ?, ?)" for _ in timepoints)
    params: list = []
    for tp in timepoints:
        params += [tp, VISITS.index(tp), VISIT_MONTHS[tp], VISIT_DAYS[tp]]
    extra = "".join(f"v.{column} AS {column}, " for column in measures)
    visit_table = "visit_measures" if measures else "visits"
    sql = f"""
    tp(timepoint, visit_order, months, nominal_day) AS (VALUES {values}),
    follow_up AS (
        SELECT sel.subject_id, sel.arm, tp.timepoint, tp.visit_order, tp.months / 12.0 AS years,
            tp.nominal_day, v.visit_date, {extra}
            CASE WHEN v.subject_id IS NOT NULL THEN 'observed'
                 WHEN sel.status = 'withdrawn'
                      AND datediff('day', sel.infusion_date, sel.withdrawal_date) < tp.nominal_day
                      THEN 'withdrawn'
                 WHEN sel.status = 'completed'
                      AND datediff('day', sel.infusion_date, sel.last_assessment_date)
                          < tp.nominal_day
                      THEN 'ended'
                 ELSE 'missing' END AS state
        FROM sel CROSS JOIN tp
        LEFT JOIN {visit_table} v ON v.subject_id = sel.subject_id AND v.visit = tp.timepoint
    )"""
    return sql, params
