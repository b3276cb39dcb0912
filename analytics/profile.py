"""One subject's profile: visits with every measure and response, baseline characteristics,
medication periods, adverse events and the milestones of follow-up; and the lists of subjects a
chart selection leads to.

Every derived value (DAS28, category, ACR20/50/70, EULAR) is read from the ``visit_measures`` and
``subject_info`` views of :mod:`analytics.measures`, as every other analysis reads them; raw
values come from the raw tables unchanged. Subject ids are shown as the study writes them.
"""
from __future__ import annotations

from dataclasses import dataclass
import pandas as pd

from .annotate import annotate
from .disease_activity import subject_categories
from .i18n import t
from .population import select
from .schema import DAYS_PER_YEAR

# visit_measures columns shown per visit, in the order of the profile table.
VISIT_COLUMNS = ("das28_esr", "das28_crp", "das28_category", "tjc28", "sjc28", "esr", "crp",
                 "patient_global", "physician_global", "pain", "haq_di", "acr20", "acr50",
                 "acr70", "eular")
# subject_info columns shown as baseline characteristics.
BASELINE_COLUMNS = ("study_id", "arm", "sex", "age", "ra_duration_years", "rf_positive",
                    "anti_ccp_positive", "prior_csdmard", "prior_bdmard", "prior_nsaid",
                    "prior_prednisone", "bl_das28_esr", "bl_das28_crp", "bl_haq_di",
                    "baseline_activity", "infusion_date", "status", "withdrawal_date",
                    "withdrawal_reason", "last_assessment_date")
MILESTONES = ("infusion", "withdrawal", "end_of_follow_up")
PROFILE_VIEW = "patient_profile"   # the view a profile link opens


@dataclass
class Profile:
    """The frames of one subject's profile (all share ``attrs``: ``subject_id``,
    ``in_selection`` and the usual annotation).

    ``visits``: ``timepoint, visit_date, study_day, years`` and :data:`VISIT_COLUMNS`;
    ``baseline``: ``characteristic, value``;
    ``medications``: ``drug_class, drug_name, start_date, end_date, start_years, end_years``
    (``end_date`` empty: ongoing; ``end_years`` is then the end of follow-up);
    ``adverse_events``: ``ae_id, pt, soc, onset_date, end_date, onset_years, serious,
    severity, outcome``;
    ``milestones``: ``event, date, years``.
    """

    visits: pd.DataFrame
    baseline: pd.DataFrame
    medications: pd.DataFrame
    adverse_events: pd.DataFrame
    milestones: pd.DataFrame


def subject_ids(study, population: str | None = None, **filters) -> list[str]:
    """The study's subject ids as the study writes them, in its order; with ``population``,
    only those of the population, comparison and subgroup filters (facts of the open study
    file: the subject control lists them on every run)."""
    if population is None:
        return list(study.fact("SELECT subject_id FROM subjects ORDER BY subject_id")
                    ["subject_id"])
    sel_sql, params = select(population, **filters).sql
    return list(study.fact(f"SELECT subject_id FROM ({sel_sql}) ORDER BY subject_id",
                           params)["subject_id"])


def in_selection(study, subject_id: str, population: str = "completers", **filters) -> bool:
    """True when the subject belongs to the population, comparison and subgroup filters."""
    return subject_id in subject_ids(study, population, **filters)


def patient_profile(study, subject_id: str, population: str = "completers", lang: str = "en",
                    **filters) -> Profile:
    """The profile of ``subject_id``.

    A subject outside the current selection (population, comparison, subgroup filters) is still
    shown, with ``attrs["in_selection"] = False`` and a footnote that says so; an id the study
    does not have is an error that names it.
    """
    select(population, **filters)  # validates population (any of them) and filters first
    info = study.query("SELECT * FROM subject_info WHERE subject_id = ?", [subject_id])
    if info.empty:
        raise ValueError(f"subject {subject_id!r} is not in the study")
    subject = info.iloc[0]
    cols = ", ".join(VISIT_COLUMNS)
    visits = study.query(f"""
        SELECT visit AS timepoint, visit_date, study_day, study_day / {DAYS_PER_YEAR} AS years,
               {cols}
        FROM visit_measures WHERE subject_id = ? ORDER BY visit_order""", [subject_id])
    end_of_follow_up = f"datediff('day', s.infusion_date, s.last_assessment_date) / {DAYS_PER_YEAR}"
    medications = study.query(f"""
        SELECT m.drug_class, m.drug_name, m.start_date, m.end_date,
               datediff('day', s.infusion_date, m.start_date) / {DAYS_PER_YEAR} AS start_years,
               coalesce(datediff('day', s.infusion_date, m.end_date) / {DAYS_PER_YEAR},
                        {end_of_follow_up}) AS end_years
        FROM medications m JOIN subjects s USING (subject_id)
        WHERE m.subject_id = ? ORDER BY m.drug_class, m.start_date, m.drug_name""",
                              [subject_id])
    adverse_events = study.query(f"""
        SELECT a.ae_id, a.pt, a.soc, a.onset_date, a.end_date,
               datediff('day', s.infusion_date, a.onset_date) / {DAYS_PER_YEAR} AS onset_years,
               a.serious, a.severity, a.outcome
        FROM adverse_events a JOIN subjects s USING (subject_id)
        WHERE a.subject_id = ? ORDER BY a.onset_date, a.ae_id""", [subject_id])
    milestones = study.query(f"""
        SELECT * FROM (
            SELECT 'infusion' AS event, infusion_date AS date, 0.0 AS years, 1 AS o
            FROM subjects WHERE subject_id = ?
            UNION ALL
            SELECT 'withdrawal', withdrawal_date,
                   datediff('day', infusion_date, withdrawal_date) / {DAYS_PER_YEAR}, 2
            FROM subjects WHERE subject_id = ? AND withdrawal_date IS NOT NULL
            UNION ALL
            SELECT 'end_of_follow_up', last_assessment_date, {end_of_follow_up.replace('s.', '')}, 3
            FROM subjects WHERE subject_id = ?)
        ORDER BY o""", [subject_id] * 3).drop(columns="o")
    baseline = pd.DataFrame({"characteristic": list(BASELINE_COLUMNS),
                             "value": [subject[c] for c in BASELINE_COLUMNS]})
    member = in_selection(study, subject_id, population, **filters)
    footnote = t("profile.footnote", lang)
    if not member:
        footnote = f"{t('profile.outside_selection', lang)} {footnote}"
    result = Profile(visits, baseline, medications, adverse_events, milestones)
    for frame in vars(result).values():
        annotate(frame, study, lang=lang,
                 title=t("profile.title", lang, subject=subject_id, arm=t(f"arm.{subject['arm']}",
                                                                          lang)),
                 population=population, n_per_arm={subject["arm"]: int(member)},
                 method=t("profile.method", lang), footnote=footnote,
                 filters=dict(filters), subject_id=subject_id, in_selection=member)
    return result


def subjects_listing(study, subject_ids, population: str = "completers", lang: str = "en",
                     **filters) -> pd.DataFrame:
    """The subjects a chart selection (or a listing row) points at.

    Columns ``subject_id, arm, sex, age, status, in_selection``, in the order the ids were
    given (duplicates dropped); ids the study does not have are left out. Their profile links
    are the profile view's addresses (:func:`analytics.views.patient_profile.profile_state`).
    """
    ids = list(dict.fromkeys(str(s) for s in subject_ids if s is not None))
    sel_sql, params = select(population, **filters).sql
    df = study.query(f"""
        WITH sel AS ({sel_sql}), wanted(subject_id, o) AS (
            SELECT unnest(?::VARCHAR[]), unnest(range(len(?::VARCHAR[]))))
        SELECT s.subject_id, s.arm, s.sex, s.age, s.status,
               s.subject_id IN (SELECT subject_id FROM sel) AS in_selection
        FROM wanted w JOIN subject_info s USING (subject_id) ORDER BY w.o""",
                     [*params, ids, ids])
    n_per_arm = df[df["in_selection"]].groupby("arm").size().to_dict()
    return annotate(df, study, lang=lang, title=t("profile.listing.title", lang, n=len(df)),
                    population=population, n_per_arm=n_per_arm,
                    method=t("profile.listing.method", lang), footnote="",
                    filters=dict(filters))


def subject_ids_from_selection(event) -> list[str]:
    """Subject ids of a plotly selection event (``st.plotly_chart(on_select=...)``): each
    selected point's ``customdata`` (or its first element) is a subject id."""
    selection = (event or {}).get("selection", event or {})
    ids = []
    for point in selection.get("points", []) or []:
        data = point.get("customdata")
        if isinstance(data, (list, tuple)):
            data = data[0] if data else None
        if data is not None:
            ids.append(str(data))
    return list(dict.fromkeys(ids))


def subjects_in_flow(study, population: str, arm: str, from_timepoint: str, from_category: str,
                     to_timepoint: str, to_category: str, **filters) -> list[str]:
    """The subjects of a Sankey link (or a transition-matrix cell): in ``arm``, in
    ``from_category`` at ``from_timepoint`` and in ``to_category`` at ``to_timepoint``, with the
    categories of :func:`analytics.disease_activity.subject_categories` (the Sankey's own)."""
    cats = subject_categories(study, population, [from_timepoint, to_timepoint], **filters)
    cats = cats[cats["arm"] == arm]
    a = cats[(cats["timepoint"] == from_timepoint) & (cats["category"] == from_category)]
    b = cats[(cats["timepoint"] == to_timepoint) & (cats["category"] == to_category)]
    return sorted(set(a["subject_id"]) & set(b["subject_id"]))


# -- display -------------------------------------------------------------------------------------

def _yes_no(value, lang: str) -> str:
    if pd.isna(value):  # NULL in the view: not evaluable
        return t("common.missing_value", lang)
    return t("profile.yes" if bool(value) else "profile.no", lang)


# the profile page's two visit tables: the response at every visit, and the measures
RESPONSE_COLUMNS = ("das28_esr", "das28_crp", "das28_category", "acr20", "acr50", "acr70",
                    "eular")
MEASURE_COLUMNS = ("tjc28", "sjc28", "esr", "crp", "patient_global", "physician_global", "pain",
                   "haq_di")


def visits_display(visits: pd.DataFrame, columns: tuple[str, ...] = VISIT_COLUMNS
                   ) -> pd.DataFrame:
    """The subject's visits with ``columns`` (of :data:`VISIT_COLUMNS`), translated headers
    and values."""
    lang = visits.attrs.get("lang", "en")
    out = {t("profile.col.timepoint", lang): [t(f"visit.{v}", lang) for v in visits["timepoint"]],
           t("profile.col.visit_date", lang): visits["visit_date"].astype(str)}
    for col in columns:  # only the columns asked for: the page shows two tables of the visits
        # the category's key written out: no other look-up builds it (tests/test_i18n.py)
        header = (t("profile.col.das28_category", lang) if col == "das28_category"
                  else t(f"profile.col.{col}", lang))
        out[header] = [_visit_value(col, x, lang) for x in visits[col]]
    return pd.DataFrame(out)


def _visit_value(column: str, value, lang: str) -> str:
    from .i18n import fmt_number
    if column in ("das28_esr", "das28_crp"):
        return fmt_number(value, 2, lang)
    if column == "das28_category":
        return (t(f"category.{value}", lang) if isinstance(value, str)
                else t("common.missing_value", lang))
    if column == "haq_di":
        return fmt_number(value, 3, lang)
    if column in ("acr20", "acr50", "acr70"):
        return _yes_no(value, lang)
    if column == "eular":
        return (t(f"profile.eular.{value}", lang) if isinstance(value, str)
                else t("common.missing_value", lang))
    return fmt_number(value, 1 if column == "crp" else 0, lang)  # counts, VAS, ESR, CRP


def _baseline_value(column: str, value, lang: str) -> str:
    from .i18n import fmt_number
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return t("common.missing_value", lang)
    if column == "arm":
        return t(f"arm.{value}", lang)
    if column == "sex":
        return t(f"filter.sex.{value}", lang)
    if column == "baseline_activity":
        return t(f"profile.activity.{value}", lang)
    if column == "status":
        return t(f"profile.status.{value}", lang)
    if column == "withdrawal_reason":
        return t(f"overview.reason.{value}", lang)
    if column in ("rf_positive", "anti_ccp_positive") or column.startswith("prior_"):
        return _yes_no(value, lang)
    if column in ("bl_das28_esr", "bl_das28_crp", "ra_duration_years"):
        return fmt_number(float(value), 2, lang)
    if column == "bl_haq_di":
        return fmt_number(float(value), 3, lang)
    if column == "age":
        return fmt_number(float(value), 0, lang)
    return str(value)[:10] if column.endswith("_date") else str(value)


def baseline_display(baseline: pd.DataFrame) -> pd.DataFrame:
    """Characteristic and value, in the frame's language."""
    lang = baseline.attrs.get("lang", "en")
    return pd.DataFrame({
        t("profile.col.characteristic", lang):
            [t(f"profile.char.{c}", lang) for c in baseline["characteristic"]],
        t("profile.col.value", lang):
            [_baseline_value(c, v, lang) for c, v in zip(baseline["characteristic"],
                                                         baseline["value"])],
    })


def listing_display(listing: pd.DataFrame) -> pd.DataFrame:
    """A :func:`subjects_listing` frame with translated headers and values."""
    from .i18n import fmt_number
    lang = listing.attrs.get("lang", "en")
    return pd.DataFrame({
        t("profile.listing.col.subject_id", lang): listing["subject_id"],
        t("profile.listing.col.arm", lang): [t(f"arm.{a}", lang) for a in listing["arm"]],
        t("profile.listing.col.sex", lang): [t(f"filter.sex.{s}", lang) for s in listing["sex"]],
        t("profile.listing.col.age", lang): [fmt_number(float(a), 0, lang)
                                             for a in listing["age"]],
        t("profile.listing.col.status", lang): [t(f"profile.status.{s}", lang)
                                                for s in listing["status"]],
        t("profile.listing.col.in_selection", lang): [_yes_no(v, lang)
                                                      for v in listing["in_selection"]],
    }, index=listing.index)
