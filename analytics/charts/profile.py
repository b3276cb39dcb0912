"""One subject's timeline: DAS28 with the category bands, the ACR core components, HAQ-DI,
medication periods per drug class, adverse events and the milestones of follow-up.

Every trace carries the subject id in ``customdata`` so a selection maps back to the subject.
"""
from __future__ import annotations

import plotly.graph_objects as go

from ..i18n import fmt_number, t, term
from ..measures import DAS28_LOW, DAS28_MODERATE, DAS28_REMISSION
from ..schema import DRUG_CLASSES, SEVERITIES
from .theme import CATEGORY_COLORS, FigureSpec, bare, finish, subplots

# panel -> (y-axis title key, [(visit column, legend key, colour, dash)])
_SERIES = {
    "das28": ("profile.chart.das28", [("das28_esr", "profile.col.das28_esr", "#000000", "solid"),
                                      ("das28_crp", "profile.col.das28_crp", "#555555", "dash")]),
    "joints": ("profile.chart.joints", [("tjc28", "profile.col.tjc28", "#0072B2", "solid"),
                                        ("sjc28", "profile.col.sjc28", "#D55E00", "dash")]),
    "vas": ("profile.chart.vas", [("patient_global", "profile.col.patient_global", "#882255",
                                   "solid"),
                                  ("physician_global", "profile.col.physician_global",
                                   "#009E73", "dash"),
                                  ("pain", "profile.col.pain", "#CC79A7", "dot")]),
    "acute_phase": ("profile.chart.acute_phase", [("esr", "profile.col.esr", "#E69F00", "solid"),
                                                  ("crp", "profile.col.crp", "#56B4E9", "dash")]),
    "haq_di": ("profile.col.haq_di", [("haq_di", "profile.col.haq_di", "#0072B2", "solid")]),
}
_BANDS = (("remission", 0, DAS28_REMISSION), ("low", DAS28_REMISSION, DAS28_LOW),
          ("moderate", DAS28_LOW, DAS28_MODERATE), ("high", DAS28_MODERATE, 10))
_DRUG_COLORS = {"csDMARD": "#0072B2", "tsDMARD": "#CC79A7", "bDMARD": "#D55E00",
                "prednisone": "#E69F00", "NSAID": "#009E73"}
_SEVERITY_SIZE = {"mild": 8, "moderate": 12, "severe": 16}


# The timeline's panels, and the three figures the profile page (and its slides) shows them in:
# all seven at once cannot be read on a slide.
PANELS = ("das28", "joints", "vas", "acute_phase", "haq_di", "medications", "adverse_events")
PARTS = {  # part -> (title key, panels)
    "course": ("profile.figure.course", ("das28", "haq_di")),
    "components": ("profile.figure.components", ("joints", "vas", "acute_phase")),
    "treatment": ("profile.figure.treatment", ("medications", "adverse_events")),
}
_HEIGHTS = {"das28": 1.6, "joints": 1, "vas": 1, "acute_phase": 1, "haq_di": 0.8,
            "medications": 0.9, "adverse_events": 0.7}


def _time_range(profile) -> list[float]:
    """From the first visit or infusion to the last date of follow-up, in years since infusion,
    so the figures share one axis. A medication begun earlier starts at the axis' left edge
    (its hover gives its start date)."""
    years = [*profile.visits["years"], *profile.adverse_events["onset_years"],
             *profile.milestones["years"]]
    years = [float(y) for y in years if y is not None and y == y]
    return [min(years) - 0.15, max(years) + 0.15]


def profile_figure(profile, panels: tuple[str, ...] = PANELS, title: str | None = None,
                   height: int | None = None) -> go.Figure:
    """The timeline of a :class:`analytics.profile.Profile`: the chosen ``panels`` (of
    :data:`PANELS`) one under another, with the milestones of follow-up across them."""
    attrs = profile.visits.attrs
    visits = bare(profile.visits)
    lang = attrs.get("lang", "en")
    subject = attrs.get("subject_id", "")
    fig = subplots(rows=len(panels), cols=1, shared_xaxes=True,
                        vertical_spacing=0.1 / len(panels),
                        row_heights=[_HEIGHTS[p] for p in panels])
    for row, panel in enumerate(panels, start=1):
        if panel == "medications":
            _medications(fig, bare(profile.medications), subject, lang, row=row)
            continue
        if panel == "adverse_events":
            _adverse_events(fig, bare(profile.adverse_events), subject, lang, row=row)
            continue
        title_key, series = _SERIES[panel]
        for column, legend_key, color, dash in series:
            rows = visits[visits[column].notna()]
            fig.add_trace(dict(
                type="scatter", x=rows["years"], y=rows[column], mode="lines+markers",
                name=t(legend_key, lang), line=dict(color=color, dash=dash, width=2),
                marker=dict(size=6, color=color), customdata=[subject] * len(rows),
                hovertext=[f"{t(f'visit.{v}', lang)}: {fmt_number(y, 2, lang)}"
                           for v, y in zip(rows["timepoint"], rows[column])],
                hoverinfo="text+name"), row=row, col=1)
        fig.update_yaxes(title_text=t(title_key, lang), title_font=dict(size=12), row=row,
                         col=1)
        if panel == "das28":
            fig.update_yaxes(range=[0, 9], row=row, col=1)
    # Shapes and labels set in one layout update: add_hrect/add_vline per shape on a figure of
    # subplots cost about a second.
    shapes, labels = [], []
    if "das28" in panels:
        axis = "y" if panels.index("das28") == 0 else f"y{panels.index('das28') + 1}"
        shapes += [dict(type="rect", xref="x domain", x0=0, x1=1, yref=axis, y0=low, y1=high,
                        fillcolor=CATEGORY_COLORS[category], opacity=0.15, line=dict(width=0),
                        layer="below") for category, low, high in _BANDS]
    # one line per date, its milestones named together (withdrawal and end of follow-up are
    # often the same day); a label close to the one before is raised a line
    span = _time_range(profile)
    dates: dict = {}
    for event, years in zip(profile.milestones["event"], profile.milestones["years"]):
        dates.setdefault(round(float(years), 3), []).append(t(f"profile.milestone.{event}", lang))
    previous, raised = None, False
    for years, names in dates.items():
        raised = (previous is not None and not raised
                  and years - previous < 0.08 * (span[1] - span[0]))
        previous = years
        shapes.append(dict(type="line", xref="x", x0=years, x1=years, yref="paper", y0=0, y1=1,
                           line=dict(color="#444", dash="dot", width=1)))
        labels.append(dict(x=years, y=1.0, xref="x", yref="paper", yanchor="bottom",
                           yshift=16 if raised else 0, text=" · ".join(names),
                           showarrow=False, font=dict(size=11)))
    fig.update_layout(shapes=shapes, annotations=labels)
    fig.update_xaxes(range=span)
    fig.update_xaxes(title_text=t("profile.chart.time_axis", lang), row=len(panels), col=1)
    # the legend beside the panels (above them it would cover the milestone labels); fixed
    # margins, so the three figures of a profile draw the same time axis one above another
    return finish(fig, attrs, title=title,
                  height=height or int(170 * sum(_HEIGHTS[p] for p in panels)) + 220,
                  layout=dict(legend=dict(orientation="v", x=1.01, xanchor="left", y=1,
                                          yanchor="top"),
                              margin=dict(l=180, r=230, autoexpand=False)))


def _medications(fig: FigureSpec, meds, subject: str, lang: str, row: int) -> None:
    labels = [t(f"efficacy.drug.{c}", lang) for c in DRUG_CLASSES]
    for drug_class, label in zip(DRUG_CLASSES, labels):
        rows = meds[meds["drug_class"] == drug_class]
        if rows.empty:
            continue
        hover = [t("profile.chart.med_hover", lang, drug=term("drug", d, lang),
                   drug_class=label,
                   start=str(s)[:10],
                   end=str(e)[:10] if e is not None and e == e else t("profile.chart.ongoing",
                                                                       lang))
                 for d, s, e in zip(rows["drug_name"], rows["start_date"], rows["end_date"])]
        fig.add_trace(dict(
            # base as a list: plotly's validation makes it one, so the JSON stays the same
            type="bar", base=rows["start_years"].tolist(),
            x=rows["end_years"] - rows["start_years"],
            y=[label] * len(rows), orientation="h", name=label, showlegend=False,
            marker=dict(color=_DRUG_COLORS[drug_class]), customdata=[subject] * len(rows),
            hovertext=hover, hoverinfo="text"), row=row, col=1)
    fig.update_yaxes(title_text=t("profile.chart.medications", lang), title_font=dict(size=12),
                     categoryorder="array",
                     categoryarray=labels, row=row, col=1)


def _adverse_events(fig: FigureSpec, aes, subject: str, lang: str, row: int) -> None:
    labels = [t(f"safety.severity.{s}", lang) for s in SEVERITIES]
    if not aes.empty:
        serious = aes["serious"].astype(bool)
        fig.add_trace(dict(
            type="scatter", x=aes["onset_years"],
            y=[t(f"safety.severity.{s}", lang) for s in aes["severity"]],
            mode="markers", name=t("profile.chart.ae_legend", lang),
            marker=dict(size=[_SEVERITY_SIZE.get(s, 10) for s in aes["severity"]],
                        symbol=["diamond" if s else "diamond-open" for s in serious],
                        color=["#D55E00" if s else "#444444" for s in serious],
                        line=dict(width=1.5, color="#444444")),
            customdata=[subject] * len(aes),
            hovertext=[t("profile.chart.ae_hover", lang, pt=term("pt", p, lang),
                         soc=term("soc", c, lang),
                         severity=t(f"safety.severity.{sev}", lang),
                         serious=t("profile.chart.serious", lang) if s else "",
                         onset=str(o)[:10])
                       for p, c, sev, s, o in zip(aes["pt"], aes["soc"], aes["severity"],
                                                  serious, aes["onset_date"])],
            hoverinfo="text"), row=row, col=1)
    fig.update_yaxes(title_text=t("profile.chart.adverse_events", lang), title_font=dict(size=12),
                     categoryorder="array",
                     categoryarray=labels, type="category", row=row, col=1)
