"""Study at a glance: the synthetic-data notice, the flow of subjects and Table 1."""
from __future__ import annotations

from ..baseline import baseline_display
from ..charts.consort import consort_figure
from .base import Columns, Metrics, Note, View, figure, table


def build(ctx) -> list:
    disposition = ctx.study.disposition(lang=ctx.lang, **ctx.filters)
    per_arm = [Metrics([(ctx.t(f"arm.{row.arm}"), f"{row.completed} / {row.randomized}",
                         ctx.t("overview.completed")),
                        (ctx.t("overview.person_years"), f"{row.person_years:.1f}", None)],
                       stacked=True)
               for row in disposition.itertuples()]
    facts = [Columns([1] * len(per_arm), [[m] for m in per_arm])]
    if disposition.attrs["footnote"]:  # the subgroup the numbers are of
        facts.append(Note("caption", disposition.attrs["footnote"]))
    facts.append(Note("caption", ctx.t("overview.study_file", path=ctx.study.path.name)))
    table1 = ctx.study.baseline("completers", lang=ctx.lang, **ctx.filters)
    return [Note("markdown", ctx.t("overview.intro")),
            Columns([3, 2], [[figure(consort_figure(disposition), "consort", disposition)],
                             facts]),
            table(table1, "baseline", baseline_display(table1, ctx.lang))]


VIEW = View("overview", "overview", (), build, header="overview")
