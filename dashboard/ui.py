"""What every page shares: the study connection, the global filters, and how results are shown.

The global filters (language, population, time point, subgroups) live in the sidebar, drawn by
each page through :func:`context`. Their values are kept in session state apart from the widgets,
so they persist from page to page, and are mirrored into the URL so that a copied link reopens
the same view.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from urllib.parse import urlencode

from pathlib import Path

import pandas as pd
import streamlit as st

from analytics import Study, export
from analytics.annotate import caption, comparison_label, filter_labels
from analytics.code import snippet
from analytics.i18n import LANGUAGES, t
from analytics.integrity import StudyFileError
from analytics.population import AGE_BANDS, BASELINE_ACTIVITIES, SEXES, trial_ids
from analytics.scope import header_lines
from analytics.schema import POST_BASELINE_VISITS
from analytics.study import DEFAULT_STUDY_PATH
from dashboard import links, study_source

EFFICACY_POPULATIONS = ("completers", "nri")
ALL = "all"

# URL parameter -> (default, allowed values). Short names keep shared links readable.
FILTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "lang": ("en", LANGUAGES),
    "pop": ("completers", EFFICACY_POPULATIONS),
    "tp": ("Y1", POST_BASELINE_VISITS),
    "sex": (ALL, (ALL, *SEXES)),
    "age": (ALL, (ALL, *AGE_BANDS)),
    "act": (ALL, (ALL, *BASELINE_ACTIVITIES)),
    "bio": (ALL, (ALL, "0", "1")),
    "cmp": ("all", ("all", "rand")),  # all subjects (as published) / randomised comparison
    "trial": (ALL, (ALL,)),  # the trials are read from the study file: see _allowed
}
COMPARISON_ARG = {"all": "all", "rand": "randomised"}  # URL value -> analytics keyword
_STATE = "filter_"  # canonical values; widget keys are separate so page switches keep them


# The served study and the memoised analyses live in dashboard.study_source (verified on open,
# reopened when the file is replaced); the old names stay for the tests and benchmarks.
get_study = study_source.served_study
_cached_result = study_source._cached_result
CachedStudy = study_source.CachedStudy


@dataclass
class Context:
    """The current view: the study and the global filter values."""

    study: Study | CachedStudy
    lang: str
    population: str
    timepoint: str
    subgroups: dict = field(default_factory=dict)  # only the active subgroup filters
    comparison: str = "all"  # analytics keyword: all | randomised

    def t(self, key: str, **params) -> str:
        return t(key, self.lang, **params)

    @property
    def filters(self) -> dict:
        """Subgroup filters and the comparison as analytics keyword arguments."""
        extra = {"comparison": self.comparison} if self.comparison != "all" else {}
        return {**self.subgroups, **extra}

    def describe(self, page: str) -> tuple[str, str]:
        """The filters ``page`` applies in words (with the comparison), and those it does not
        apply (see :mod:`analytics.scope`)."""
        return header_lines(page, self.lang, self.population, self.timepoint, self.subgroups,
                            comparison_label(self.study, self.comparison, self.lang))


def _study_or_none() -> Study | None:
    """The served study for the sidebar's choices, or None when it cannot be served (the page
    then says why, through :func:`dashboard.study_source.page_study`)."""
    try:
        return get_study()
    except StudyFileError:
        return None


def _allowed(name: str) -> tuple[str, ...]:
    if name == "trial":
        study = _study_or_none()
        return (ALL, *(trial_ids(study) if study is not None else ()))
    return FILTERS[name][1]


def _initial(name: str) -> str:
    return links.checked(name, st.query_params.get(name), FILTERS[name][0], _allowed(name))


def _sync(name: str) -> None:
    st.session_state[_STATE + name] = st.session_state["w_" + name]


def current_language() -> str:
    """The chosen language, before the sidebar is drawn (for the page menu)."""
    return st.session_state.get(_STATE + "lang") or _initial("lang")


def sidebar() -> Context:
    """Draw the global filters in the sidebar and return the context; call once per run."""
    for name in FILTERS:
        if st.session_state.get(_STATE + name) not in _allowed(name):  # first run, other study
            st.session_state[_STATE + name] = _initial(name)
        # Streamlit drops widget state of widgets not drawn in a run; re-seed from the canonical
        # value so the choice survives page switches.
        st.session_state["w_" + name] = st.session_state[_STATE + name]
    lang = st.session_state[_STATE + "lang"]

    with st.sidebar:
        st.radio(t("filter.lang", lang), LANGUAGES, key="w_lang", on_change=_sync, args=("lang",),
                 format_func=lambda v: {"en": "English", "zh": "中文"}[v], horizontal=True)
        lang = st.session_state[_STATE + "lang"]
        st.radio(t("filter.population", lang), EFFICACY_POPULATIONS, key="w_pop",
                 on_change=_sync, args=("pop",),
                 format_func=lambda v: t(f"population.{v}", lang),
                 help=t("filter.population.help", lang))
        st.selectbox(t("filter.timepoint", lang), POST_BASELINE_VISITS, key="w_tp",
                     on_change=_sync, args=("tp",), format_func=lambda v: t(f"visit.{v}", lang))
        st.markdown(f"**{t('filter.subgroups', lang)}**")
        for name, label in (("sex", "sex"), ("age", "age_band"), ("act", "baseline_activity"),
                            ("bio", "prior_bdmard")):
            st.selectbox(t(f"filter.{label}", lang), FILTERS[name][1], key="w_" + name,
                         on_change=_sync, args=(name,),
                         format_func=lambda v, label=label: t(f"filter.{label}.{v}", lang))
        # The design choices come below the subgroups, so adding them moved no widget above.
        st.markdown(f"**{t('filter.design', lang)}**")
        st.selectbox(t("filter.study_id", lang), _allowed("trial"), key="w_trial",
                     on_change=_sync, args=("trial",),
                     format_func=lambda v: (t("filter.study_id.all", lang) if v == ALL
                                            else filter_labels({"study_id": v}, lang)[0]))
        st.radio(t("filter.comparison", lang), FILTERS["cmp"][1], key="w_cmp", on_change=_sync,
                 args=("cmp",), help=t("filter.comparison.help", lang),
                 format_func=lambda v: comparison_label(_study_or_none(), COMPARISON_ARG[v], lang))

    values = {name: st.session_state[_STATE + name] for name in FILTERS}
    links.show_notices(values["lang"])
    st.query_params.from_dict({k: v for k, v in values.items() if v != FILTERS[k][0]})
    subgroups = {}
    for name, arg in (("sex", "sex"), ("age", "age_band"), ("act", "baseline_activity"),
                      ("bio", "prior_bdmard")):
        if values[name] != ALL:
            subgroups[arg] = int(values[name]) if arg == "prior_bdmard" else values[name]
    if values["trial"] != ALL:
        subgroups["study_id"] = values["trial"]
    ctx = Context(study_source.page_study(values["lang"]), values["lang"], values["pop"],
                  values["tp"], subgroups, COMPARISON_ARG[values["cmp"]])
    st.session_state[SHOWN] = []  # the tables this run shows (for "Show code" checks)
    with st.sidebar:
        st.divider()
        share_link(ctx)
        deck_block(ctx)
    return ctx


# -- sharing -------------------------------------------------------------------------------------
def current_url() -> str:
    """The current view as a URL: the page's address plus the non-default filters. Falls back to
    a relative ``?...`` when the browser's address is unknown (e.g. in tests)."""
    query = urlencode(st.query_params.to_dict())
    base = None
    try:
        base = st.context.url
    except Exception:  # noqa: BLE001 - older Streamlit or no browser session
        base = None
    if base:
        return f"{base}?{query}" if query else base
    return f"?{query}"


def share_link(ctx: Context) -> None:
    """The current view's URL in a code box (which has a copy button)."""
    st.markdown(f"**{ctx.t('share.link')}**", help=ctx.t("share.link.help"))
    st.code(current_url(), language=None, wrap_lines=True)


def deck_block(ctx: Context) -> None:
    """Pick pages; one button builds the PPTX of the current filters, then offers it."""
    from analytics import views

    st.markdown(f"**{ctx.t('deck.header')}**")
    pages = st.multiselect(ctx.t("deck.pages"), views.PAGE_KEYS, default=list(views.PAGE_KEYS),
                           key="deck_pages", format_func=lambda k: views.page_title(k, ctx.lang))
    signature = (ctx.lang, ctx.population, ctx.timepoint, tuple(sorted(ctx.filters.items())),
                 tuple(pages), str(ctx.study.path))
    if st.button(ctx.t("deck.build"), key="deck_build", disabled=not pages):
        from analytics.deck import build_deck
        try:
            with st.spinner(ctx.t("deck.building")):
                data = build_deck(ctx.study, ctx.lang, ctx.population, ctx.timepoint,
                                  ctx.filters, pages)
            st.session_state["_deck"] = (signature, data)
        except Exception as exc:  # noqa: BLE001 - shown to the user, not swallowed
            st.error(_export_error(ctx, exc))
    if not pages:
        st.caption(ctx.t("deck.no_pages"))
    held = st.session_state.get("_deck")
    if held and held[0] == signature:
        st.download_button(
            ctx.t("deck.download"), held[1], file_name=f"msc-ra-{ctx.lang}-{ctx.timepoint}.pptx",
            mime="application/vnd.openxmlformats-officedocument.presentationml.presentation",
            key="deck_download", on_click="ignore")


def _export_error(ctx: Context, exc: Exception) -> str:
    if isinstance(exc, export.ExportUnavailable):
        return ctx.t("export.no_browser", path=str(export.CHROMIUM_PATH))
    return ctx.t("export.failed", error=str(exc) or type(exc).__name__)


def context() -> Context:
    """Draw the global filters and return the current view; each page calls it once."""
    return sidebar()


def synthetic_banner(ctx: Context) -> None:
    if ctx.study.synthetic:
        st.warning(ctx.t("synthetic.notice"), icon="⚠️")


def page_header(ctx: Context, title_key: str, page: str | None = None) -> None:
    """Title, the filters the page applies in words (and those it does not apply), and the
    synthetic-data notice. ``page`` (default: ``title_key`` without ``nav.``) is the key the page
    declares its filters under in :data:`analytics.scope.PAGE_FILTERS`."""
    st.title(ctx.t(title_key))
    applied, not_applied = ctx.describe(page or title_key.removeprefix("nav."))
    for line in (applied, not_applied):
        if line:
            st.caption(line)
    synthetic_banner(ctx)


def safety_page(ctx: Context, title_key: str, window_key: str) -> tuple[int, int] | None:
    """Header of a safety page and its year-of-follow-up window; returns ``years`` for the
    analyses (``None``: all follow-up) and stops the page on an empty window."""
    from analytics.safety import follow_up_years

    page_header(ctx, title_key)
    st.caption(ctx.t("safety.population_note"))
    # Whole years up to the safety population's longest exposure, so the slider keeps its range
    # when a subgroup filter changes.
    n_years = follow_up_years(ctx.study)
    start, end = st.select_slider(ctx.t("safety.widget.window"),
                                  options=list(range(n_years + 1)), value=(0, n_years),
                                  key=window_key, help=ctx.t("safety.widget.window.help"))
    if start == end:
        st.info(ctx.t("safety.window.empty"))
        st.stop()
    return None if (start, end) == (0, n_years) else (start, end)


def show_caption(df: pd.DataFrame) -> None:
    st.caption(caption(df.attrs))


def table_bytes_xlsx(df: pd.DataFrame, display: pd.DataFrame | None = None) -> bytes:
    """The table on a sheet with its title above and its caption below
    (see :func:`analytics.export.table_xlsx`)."""
    return export.table_xlsx(df, display)


SHOWN = "_shown"  # session key: [{"key", "frame", "display", "snippet"}], tables of this run


def code_snippet(ctx: Context, df: pd.DataFrame) -> str | None:
    """The Python that rebuilds ``df`` from the study file, or None without a recorded call."""
    call = df.attrs.get("call")
    if not call:
        return None
    path = Path(ctx.study.path)
    default = path.resolve() == DEFAULT_STUDY_PATH.resolve()
    return snippet(call, None if default else path)


def show_code(ctx: Context, df: pd.DataFrame) -> str | None:
    """A "Show code" expander with the analytics calls that rebuild ``df``."""
    code = code_snippet(ctx, df)
    if code:
        with st.expander(ctx.t("show_code.expander")):
            st.caption(ctx.t("show_code.help"))
            st.code(code, language="python")
    return code


def show_table(ctx: Context, df: pd.DataFrame, key: str, display: pd.DataFrame | None = None,
               column_config: dict | None = None) -> None:
    """A result table with its caption and CSV/XLSX downloads of the same frame."""
    if df.attrs.get("title"):
        st.markdown(f"**{df.attrs['title']}**")
    if df.attrs.get("caution"):  # a small arm: say so above the numbers, not only in the caption
        st.warning(df.attrs["caution"], icon="⚠️")
    shown = display if display is not None else df
    st.dataframe(shown, hide_index=True, column_config=column_config, key=f"tbl_{key}")
    show_caption(df)
    c1, c2, _ = st.columns([1, 1, 4])
    c1.download_button(ctx.t("download.csv"), export.table_csv(df, shown),
                       file_name=f"{key}.csv", mime="text/csv", key=f"csv_{key}",
                       on_click="ignore")
    c2.download_button(ctx.t("download.xlsx"), export.table_xlsx(df, shown),
                       file_name=f"{key}.xlsx", key=f"xlsx_{key}", on_click="ignore",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    code = show_code(ctx, df)
    st.session_state.setdefault(SHOWN, []).append({"key": key, "frame": df, "display": shown,
                                                   "snippet": code})


def _fig_signature(fig) -> str:
    return hashlib.sha1(fig.to_json().encode("utf-8")).hexdigest()


def show_chart(ctx: Context, fig, key: str, df: pd.DataFrame | None = None) -> None:
    """A plotly figure (its caption is drawn inside the figure by the chart builder), with PNG
    (2×) and SVG downloads rendered on request, and "Show code" when ``df`` (the frame the
    chart is drawn from) is given."""
    st.plotly_chart(fig, key=f"fig_{key}", config={"displaylogo": False})
    held_key = f"_img_{key}"
    c1, c2, c3, _ = st.columns([2, 1, 1, 3])
    if c1.button(ctx.t("export.prepare_images"), key=f"prep_{key}"):
        try:
            with st.spinner(ctx.t("export.preparing")):
                png, svg = export.figure_png(fig, scale=2), export.figure_svg(fig)
            st.session_state[held_key] = (_fig_signature(fig), png, svg)
        except Exception as exc:  # noqa: BLE001 - shown to the user
            st.session_state.pop(held_key, None)
            st.error(_export_error(ctx, exc))
    held = st.session_state.get(held_key)
    if held and held[0] == _fig_signature(fig):
        c2.download_button(ctx.t("export.png"), held[1], file_name=f"{key}.png",
                           mime="image/png", key=f"png_{key}", on_click="ignore")
        c3.download_button(ctx.t("export.svg"), held[2], file_name=f"{key}.svg",
                           mime="image/svg+xml", key=f"svg_{key}", on_click="ignore")
    if df is not None:
        show_code(ctx, df)
