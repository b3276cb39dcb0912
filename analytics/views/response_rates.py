"""Response rates over time per arm (Table 3 endpoints), and the between-arm comparison."""
from __future__ import annotations

from ..caution import not_estimable, small_arm_caution
from ..charts.efficacy import response_figure
from ..design import response_note
from ..i18n import fmt_p, t
from ..response import ENDPOINTS, comparison_display, percent_points
from ..schema import ARMS
from .base import Control, ControlSlot, Metrics, Note, View, figure, table

CONTROLS = (
    Control("endpoint", "ep", "efficacy.rates.endpoint", "selectbox", tuple(ENDPOINTS),
            list(ENDPOINTS)[0], lambda e, lang: t(f"endpoint.{e}", lang), "resp_endpoint"),
    Control("holm", "holm", "efficacy.rates.holm", "toggle", default=False,
            widget_key="resp_holm", help="efficacy.rates.holm.help"),
)


def build(ctx) -> list:
    endpoint = ctx.state["endpoint"]
    blocks: list = [ControlSlot(("endpoint", "holm"))]
    rates = ctx.study.response_rates(endpoint, ctx.population, lang=ctx.lang, **ctx.filters)
    compare = ctx.study.compare_rates(endpoint, ctx.population, lang=ctx.lang, **ctx.filters)
    if sum(rates.attrs["n_per_arm"].values()) == 0:
        return blocks + [Note("info", ctx.t("efficacy.empty"))]

    def pct(x: float) -> str:
        return percent_points(x, ctx.lang)

    # The selected time point, summarised.
    visit = ctx.t(f"visit.{ctx.timepoint}")
    blocks.append(Note("subheader", f"{ctx.t('efficacy.rates.selected')}: {visit}"))
    row = compare[compare["timepoint"] == ctx.timepoint]
    if row.empty or not (row[[f"n_{a}" for a in ARMS]].to_numpy() > 0).any():
        blocks.append(Note("info", ctx.t("efficacy.rates.no_data")))
    else:
        row = row.iloc[0]
        blocks.append(Metrics([
            (ctx.t("efficacy.rates.metric", arm=ctx.t(f"arm.{arm}")),
             ctx.t("efficacy.rates.metric_value", rate=pct(row[f"rate_{arm}"]),
                   k=int(row[f"responders_{arm}"]), n=int(row[f"n_{arm}"])), None)
            for arm in ARMS]))
        if row["not_estimable"]:
            blocks.append(Note("info", ctx.t("efficacy.rates.not_estimable", timepoint=visit,
                                             text=not_estimable(row["not_estimable"],
                                                                ctx.lang))))
        else:
            if row["caution"]:
                blocks.append(Note("warning", small_arm_caution(
                    {a: int(row[f"n_{a}"]) for a in ARMS}, ctx.lang)))
            blocks.append(Note("markdown", ctx.t(
                "efficacy.rates.summary", timepoint=visit, diff=pct(row["diff"]),
                low=pct(row["diff_ci_low"]), high=pct(row["diff_ci_high"]),
                p=fmt_p(row["p_value"], ctx.lang), p_holm=fmt_p(row["p_holm"], ctx.lang))))
    if ctx.state.comparison == "all":
        note = response_note(ctx.study, endpoint, ctx.population, ctx.timepoint, lang=ctx.lang,
                             **ctx.filters)
        if note:
            blocks.append(Note("info", note))
    return blocks + [
        Note("subheader", ctx.t("efficacy.rates.section.chart")),
        figure(response_figure(rates, timepoint=ctx.timepoint), "response_rates", rates),
        Note("subheader", ctx.t("efficacy.rates.section.table")),
        table(compare, f"response_{endpoint.lower()}",
              comparison_display(compare, adjusted=ctx.state["holm"])),
    ]


VIEW = View("response_rates", "response-rates", CONTROLS, build)
