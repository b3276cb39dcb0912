"""Subject disposition per arm: randomised, completed, withdrawn by reason, exposure."""
from __future__ import annotations

import pandas as pd

from .annotate import annotate
from .i18n import t
from .population import select
from .schema import ARMS

_SQL = """
SELECT arm,
    count(*) AS randomized,
    count(*) FILTER (WHERE status = 'completed') AS completed,
    count(*) FILTER (WHERE status = 'withdrawn') AS withdrawn,
    count(*) FILTER (WHERE withdrawal_reason = 'lack_of_efficacy') AS withdrawn_lack_of_efficacy,
    count(*) FILTER (WHERE withdrawal_reason = 'adverse_event') AS withdrawn_adverse_event,
    count(*) FILTER (WHERE withdrawal_reason = 'other') AS withdrawn_other,
    sum(person_years) AS person_years
FROM ({selection})
GROUP BY arm
"""


def disposition(study, lang: str = "en", **filters) -> pd.DataFrame:
    """One row per arm: ``arm``, ``randomized``, ``completed``, ``withdrawn``, withdrawals by
    reason, and ``person_years`` (infusion to last safety assessment, years of 365.25 days).

    ``**filters`` are the subgroup filters of :func:`analytics.population.select`; the counts are
    of all randomised, treated subjects in the subgroup (named once, by the caption's filters,
    not again in the footnote).
    """
    selection = select("safety", **filters)
    sel_sql, params = selection.sql
    df = study.query(_SQL.format(selection=sel_sql), params)
    df = (df.set_index("arm").reindex(list(ARMS)).fillna(0).reset_index())
    for col in df.columns.drop(["arm", "person_years"]):
        df[col] = df[col].astype(int)
    return annotate(df, study, lang=lang, title=t("disposition.title", lang),
                    population="safety", n_per_arm=dict(zip(df.arm, df.randomized)),
                    method=t("disposition.method", lang),
                    footnote="", filters=dict(selection.filters))
