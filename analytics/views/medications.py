"""Concomitant medication use by drug class, time point and arm (the paper's Table 4)."""
from __future__ import annotations

from ..charts.efficacy import medications_figure
from ..medications import DEFAULT_TIMEPOINTS, medications_display
from ..schema import VISITS
from .base import Control, ControlSlot, Note, View, figure, table, visit_label

CONTROLS = (
    Control("timepoints", "tps", "efficacy.meds.timepoints", "multiselect", VISITS,
            list(DEFAULT_TIMEPOINTS), visit_label, "meds_timepoints"),
)


def build(ctx) -> list:
    timepoints = [v for v in VISITS if v in ctx.state["timepoints"]] or list(DEFAULT_TIMEPOINTS)
    blocks: list = [ControlSlot(("timepoints",))]
    meds = ctx.study.medications(ctx.population, lang=ctx.lang, timepoints=timepoints,
                                 **ctx.filters)
    if sum(meds.attrs["n_per_arm"].values()) == 0:
        return blocks + [Note("info", ctx.t("efficacy.empty"))]
    return blocks + [Note("subheader", ctx.t("efficacy.meds.section.table")),
                     table(meds, "medications", medications_display(meds)),
                     Note("subheader", ctx.t("efficacy.meds.section.chart")),
                     figure(medications_figure(meds), "medications", meds)]


VIEW = View("medications", "medications", CONTROLS, build)
