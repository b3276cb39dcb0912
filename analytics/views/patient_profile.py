"""Patient profile: one subject's timeline (DAS28 with the category bands, the ACR core
components, HAQ-DI, medication periods, adverse events, infusion, withdrawal and end of
follow-up) in one tab; the baseline characteristics and the response at every visit in another.

The subject control lists the subjects of the current population, comparison and subgroup
filters; a link may name any subject of the study, and a subject outside the filters is shown
with a note saying so. Charts and listings elsewhere lead here through :func:`profile_state`.
"""
from __future__ import annotations

from ..charts.profile import PARTS, profile_figure
from ..scope import POPULATION, SUBGROUPS
from ..profile import (MEASURE_COLUMNS, PROFILE_VIEW, RESPONSE_COLUMNS, baseline_display,
                       subject_ids, visits_display)
from .base import Control, ControlSlot, Note, Tabs, View, figure, sections_control, table
from .state import GLOBAL_KEYS, ViewState, resolve


def _selection(values: dict) -> tuple[str, dict]:
    """The population and analytics filters of the global choices in ``values``."""
    state = ViewState(PROFILE_VIEW, values)
    return state.population, state.filters


def _selected_subjects(study, values: dict) -> list[str]:
    population, filters = _selection(values)
    return subject_ids(study, population, **filters)


def _default_subject(study, values: dict) -> str:
    # the first subject of the selection; with nobody selected, the study's first
    return next(iter(_selected_subjects(study, values) or subject_ids(study)), "")


# the page's sections (tabs) and their names
SECTIONS = {"timeline": "profile.tab.timeline", "tables": "profile.tab.tables"}

CONTROLS = (
    Control("subject", "subj", "profile.control.subject", "selectbox",
            lambda study, values: subject_ids(study), _default_subject,
            widget_key="profile_subject", listed=_selected_subjects),
    sections_control("profile", SECTIONS),
)


def profile_state(study, state: ViewState, subject_id: str) -> ViewState:
    """The profile of ``subject_id`` under the global filters of ``state`` (any view's)."""
    values = {k: state.values[k] for k in GLOBAL_KEYS}
    return resolve(PROFILE_VIEW, study, {**values, "subject": subject_id})


def _titled(frame, part: str, title: str):
    """A copy of one frame of the profile with its own title; its "Show code" names the part."""
    out = frame.copy()
    call = frame.attrs.get("call")
    out.attrs = {**frame.attrs, "title": title,
                 **({"call": {**call, "part": part}} if call else {})}
    return out


def build(ctx) -> list:
    subject = ctx.state["subject"]
    blocks: list = [ControlSlot(("subject",), (1, 2))]
    if not subject:
        return blocks + [Note("info", ctx.t("profile.no_subjects"))]
    prof = ctx.study.patient_profile(subject, ctx.population, lang=ctx.lang, **ctx.filters)
    if not prof.visits.attrs["in_selection"]:
        blocks.append(Note("warning", ctx.t("profile.outside_selection")))
    return blocks + [Tabs("section", {"timeline": lambda: _timeline(ctx, prof, subject),
                                      "tables": lambda: _tables(ctx, prof, subject)})]


def _timeline(ctx, prof, subject: str) -> list:
    """Three figures on one time axis, each legible on a slide."""
    return [figure(profile_figure(prof, panels, ctx.t(title, subject=subject)),
                   f"patient_profile_{part}", prof.visits)
            for part, (title, panels) in PARTS.items()]


def _tables(ctx, prof, subject: str) -> list:
    baseline, responses, measures = (
        _titled(getattr(prof, part), part, ctx.t(key, subject=subject))
        for part, key in (("baseline", "profile.baseline.title"),
                          ("visits", "profile.visits.title"),
                          ("visits", "profile.measures.title")))
    return [
        table(baseline, "patient_profile_baseline", baseline_display(baseline)),
        table(responses, "patient_profile_responses",
              visits_display(responses, RESPONSE_COLUMNS)),
        table(measures, "patient_profile_measures", visits_display(measures, MEASURE_COLUMNS)),
    ]


def _applies(values: dict) -> tuple[str, ...]:
    return (POPULATION, SUBGROUPS)  # one subject: every visit, no time point


VIEW = View(PROFILE_VIEW, "patient-profile", CONTROLS, build, in_deck=False, applies=_applies)
