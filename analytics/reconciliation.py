"""Published vs this dashboard: every figure of STUDY.md section 6 beside the value computed now.

The published figures (and the chosen values beside them) come from
``data/published_figures.csv``; every dashboard value is computed through the same analyses the
pages use, never read from that file. A value matches when, printed at the published precision,
it is the published number (for a range, when it lies inside; for a limit, when it keeps it).
"""
from __future__ import annotations

import pandas as pd

from .annotate import annotate, bare
from .i18n import fmt_p, t
from .published import published_figures
from .response import compare_computed_rates, response_rates_by_endpoint
from .schema import ARMS

SOURCES_SHOWN = ("published", "derived", "chosen")
_SAFETY = {  # published figure -> (ae_summary category, column)
    "ae_events": ("any", "events"), "ae_rate": ("any", "rate"),
    "sae_events": ("serious", "events"), "sae_rate": ("serious", "rate"),
    "autoimmune_events": ("autoimmune", "events"), "autoimmune_rate": ("autoimmune", "rate"),
    "serious_infection_events": ("serious_infection", "events"),
    "serious_infection_rate": ("serious_infection", "rate"),
    "gvhd_events": ("gvhd", "events"), "deaths": ("death", "events"),
}
_ENDPOINTS = ("ACR20", "ACR50", "ACR70", "DAS28_LDA", "DAS28_REM")


def _p_matches(value: float, published: str) -> bool:
    return fmt_p(value).replace(" ", "") == published.replace(" ", "")


def _rows(df: pd.DataFrame, *keys: str) -> dict:
    """``df``'s rows (as dicts) by the values of ``keys``, the first row where several share
    them; looked up once per figure, so no frame is filtered per figure."""
    plain = bare(df)
    columns = list(plain.columns)
    out: dict = {}
    for values in zip(*(plain[c].tolist() for c in columns)):  # as to_dict("records"), faster
        row = dict(zip(columns, values))
        out.setdefault(tuple(row[k] for k in keys), row)
    return out


class _Computed:
    """The dashboard's values, computed once per analysis."""

    def __init__(self, study):
        self.study = study
        self.disposition = study.disposition().set_index("arm")
        self.baseline = _rows(study.baseline("completers"), "characteristic", "arm")
        self.rate_frames = response_rates_by_endpoint(study, list(_ENDPOINTS), "completers")
        self.rates = {e: _rows(df, "arm", "timepoint") for e, df in self.rate_frames.items()}
        meds = study.medications("completers")
        self.meds = _rows(meds, "drug_class", "timepoint", "arm")
        self.meds_p = _rows(meds, "drug_class", "timepoint")
        self.ae = bare(study.ae_summary("safety"))
        self.ae_rows = _rows(self.ae, "category", "arm")
        self.follow_up = study.query(
            "SELECT avg(person_years) AS y FROM subject_info WHERE status = 'completed'").y[0]
        self.comparisons: dict = {}

    def compare(self, endpoint: str) -> pd.DataFrame:
        if endpoint not in self.comparisons:
            # from the rates already counted: the same comparison, counted once
            self.comparisons[endpoint] = compare_computed_rates(
                self.study, self.rate_frames[endpoint], endpoint, "completers")
        return self.comparisons[endpoint]

    def value(self, row) -> float | None:
        g, fig, arm, tp, stat = row.group, row.figure, row.arm, row.timepoint, row.statistic
        if g == "disposition":
            if fig == "follow_up_years_mean":
                return float(self.follow_up)
            return float(self.disposition.at[arm, fig])
        if g == "baseline":
            return float(self.baseline[(fig, arm)][stat])
        if g == "efficacy_completers":
            hit = self.rates[fig][(arm, tp)]
            return {"responders": float(hit["responders"]), "n": float(hit["n"]),
                    "percent": 100 * float(hit["rate"])}[stat]
        if g == "medications":
            if stat == "p_value":
                return float(self.meds_p[(fig, tp)]["p_value"])
            return float(self.meds[(fig, tp, arm)][stat])
        if g == "safety":
            if fig == "person_years":
                return float(self.disposition.at[arm, "person_years"])
            if fig == "subjects_with_sae":
                s = self.ae[self.ae.category == "serious"]
                k = float(s.subjects.sum())
                return k if stat == "count" else 100 * k / float(s.n.sum())
            category, column = _SAFETY[fig]
            if arm == "all":
                hit = self.ae[(self.ae.category == category)]
                return float(hit[column].sum())
            return float(self.ae_rows[(category, arm)][column])
        return None


def reconcile(study, lang: str = "en") -> pd.DataFrame:
    """One row per published (or derived, or chosen) figure: ``section``, ``figure``, ``arm``,
    ``timepoint``, ``statistic``, ``published``, ``dashboard``, ``match``, ``source``, plus the
    chosen cells' limits (STUDY.md section 6) as rows of their own."""
    computed = _Computed(study)
    pub = published_figures()
    rows = []
    for row in pub[pub.source.isin(SOURCES_SHOWN)].itertuples():
        value = computed.value(row)
        if row.statistic == "p_value":
            shown, match = fmt_p(value, lang), _p_matches(value, row.value)
            published = row.value.replace(">", "> ").replace("<", "< ") \
                if row.value[0] in "<>" else row.value
        elif row.statistic == "min":
            hi = pub[(pub.group == row.group) & (pub.figure == row.figure)
                     & (pub.arm == row.arm) & (pub.statistic == "max")].value.iloc[0]
            published = f"{row.value}–{hi}"
            shown = f"{value:.2f}"
            match = float(row.value) <= value <= float(hi)
        elif row.statistic == "max":
            continue
        else:
            shown = f"{value:.{row.decimals}f}"
            published = f"{float(row.value):.{row.decimals}f}"
            match = shown == published
        rows.append({"section": t(f"reconcile.section.{row.group}", lang),
                     "figure": _figure_label(row, lang), "arm": _arm_label(row.arm, lang),
                     "timepoint": t(f"visit.{row.timepoint}", lang) if row.timepoint else "",
                     "statistic": t(f"reconcile.statistic.{row.statistic}", lang),
                     "published": published, "dashboard": shown, "match": bool(match),
                     "source": t(f"reconcile.source.{row.source}", lang)})
    rows += _limit_rows(computed, lang)
    df = pd.DataFrame(rows)
    n = computed.disposition.randomized
    return annotate(df, study, lang=lang, title=t("reconcile.title", lang),
                    population="safety", n_per_arm={a: int(n[a]) for a in ARMS},
                    method=t("reconcile.method", lang),
                    footnote=t("reconcile.footnote", lang, matched=int(df.match.sum()),
                               total=len(df)))


def _limit_rows(computed: _Computed, lang: str) -> list[dict]:
    """STUDY.md's limits on the chosen cells, checked on the computed comparison."""
    rows = []
    checks = [("ACR50", None, True), ("ACR70", None, True),
              ("DAS28_REM", "Y1", True), ("DAS28_REM", "Y3", False),
              ("DAS28_REM", "Y5", False)]
    for endpoint, only_at, not_significant in checks:
        cmp = bare(computed.compare(endpoint))
        if only_at:
            cmp = cmp[cmp.timepoint == only_at]
        for timepoint, p_value in zip(cmp["timepoint"], cmp["p_value"]):
            ok = p_value >= 0.05 if not_significant else p_value < 0.05
            rows.append({"section": t("reconcile.section.limits", lang),
                         "figure": t(f"endpoint.{endpoint}", lang), "arm": "",
                         "timepoint": t(f"visit.{timepoint}", lang),
                         "statistic": t("reconcile.statistic.p_value", lang),
                         "published": "p ≥ 0.05" if not_significant else "p < 0.05",
                         "dashboard": fmt_p(p_value, lang), "match": bool(ok),
                         "source": t("reconcile.source.limit", lang)})
    return rows


def _arm_label(arm: str, lang: str) -> str:
    if arm in ARMS:
        return t(f"arm.{arm}", lang)
    return t(f"reconcile.arm.{arm}", lang)


def _figure_label(row, lang: str) -> str:
    if row.group == "efficacy_completers":
        return t(f"endpoint.{row.figure}", lang)
    if row.group == "medications":
        return t(f"reconcile.drug_class.{row.figure}", lang)
    if row.group == "baseline":
        return t(f"baseline.{row.figure}", lang)
    return t(f"reconcile.figure.{row.group}.{row.figure}", lang)
