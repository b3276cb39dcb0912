"""Which subjects an analysis counts: population and subgroup filters as bound SQL.

Column names are fixed here; every user-chosen value travels as a bound parameter.
"""
from __future__ import annotations

from dataclasses import dataclass

from .schema import POPULATIONS

SEXES = ("F", "M")
AGE_BANDS = ("lt45", "45to54", "ge55")
BASELINE_ACTIVITIES = ("moderate", "high")
PRIOR_BDMARD = (0, 1)

# filter name -> (subject_info column, allowed values)
SUBGROUP_FILTERS: dict[str, tuple[str, tuple]] = {
    "sex": ("sex", SEXES),
    "age_band": ("age_band", AGE_BANDS),
    "baseline_activity": ("baseline_activity", BASELINE_ACTIVITIES),
    "prior_bdmard": ("prior_bdmard", PRIOR_BDMARD),
}


@dataclass(frozen=True)
class Selection:
    """A population with optional subgroup filters; ``sql`` selects from ``subject_info``."""

    population: str
    filters: dict

    @property
    def where(self) -> tuple[str, list]:
        clauses, params = ["TRUE"], []
        if self.population == "completers":
            clauses.append("status = 'completed'")
        for name, value in self.filters.items():
            column, _ = SUBGROUP_FILTERS[name]
            clauses.append(f"{column} = ?")
            params.append(value)
        return " AND ".join(clauses), params

    @property
    def sql(self) -> tuple[str, list]:
        """``SELECT * FROM subject_info WHERE ...`` and its parameters."""
        where, params = self.where
        return f"SELECT * FROM subject_info WHERE {where}", params


def select(population: str, **filters) -> Selection:
    """Validate a population and subgroup filters; ``None`` values mean 'all'."""
    if population not in POPULATIONS:
        raise ValueError(f"unknown population {population!r}; expected one of {POPULATIONS}")
    chosen = {}
    for name, value in filters.items():
        if value is None:
            continue
        if name not in SUBGROUP_FILTERS:
            raise ValueError(f"unknown filter {name!r}; expected one of {tuple(SUBGROUP_FILTERS)}")
        allowed = SUBGROUP_FILTERS[name][1]
        if name == "prior_bdmard":
            value = int(value)
        if value not in allowed:
            raise ValueError(f"filter {name}={value!r} not in {allowed}")
        chosen[name] = value
    return Selection(population, chosen)
