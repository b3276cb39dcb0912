"""What every page shares: the study connection, the global filters, and how results are shown.

The global filters (language, population, time point, subgroups) live in the sidebar, drawn by
each page through :func:`context`. Their values are kept in session state apart from the widgets,
so they persist from page to page, and are mirrored into the URL so that a copied link reopens
the same view.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field

import pandas as pd
import streamlit as st

from analytics import Study, open_study
from analytics.annotate import caption
from analytics.i18n import LANGUAGES, t
from analytics.population import AGE_BANDS, BASELINE_ACTIVITIES, SEXES
from analytics.schema import POST_BASELINE_VISITS

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
}
_STATE = "filter_"  # canonical values; widget keys are separate so page switches keep them


@st.cache_resource(show_spinner=False)
def get_study() -> Study:
    return open_study()


@dataclass
class Context:
    """The current view: the study and the global filter values."""

    study: Study
    lang: str
    population: str
    timepoint: str
    subgroups: dict = field(default_factory=dict)  # only the active subgroup filters

    def t(self, key: str, **params) -> str:
        return t(key, self.lang, **params)

    @property
    def filters(self) -> dict:
        """Subgroup filters as analytics keyword arguments."""
        return dict(self.subgroups)

    def describe(self, safety: bool = False) -> str:
        """Population, time point and subgroups in words, for headers and slides."""
        parts = ([t("population.safety", self.lang)] if safety else
                 [t(f"population.{self.population}", self.lang),
                  t(f"visit.{self.timepoint}", self.lang)])
        for name, value in self.subgroups.items():
            parts.append(t(f"filter.{name}.{value}", self.lang))
        return " · ".join(parts)


def _initial(name: str) -> str:
    default, allowed = FILTERS[name]
    value = st.query_params.get(name)
    return value if value in allowed else default


def _sync(name: str) -> None:
    st.session_state[_STATE + name] = st.session_state["w_" + name]


def current_language() -> str:
    """The chosen language, before the sidebar is drawn (for the page menu)."""
    return st.session_state.get(_STATE + "lang") or _initial("lang")


def sidebar() -> Context:
    """Draw the global filters in the sidebar and return the context; call once per run."""
    for name in FILTERS:
        if _STATE + name not in st.session_state:
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

    values = {name: st.session_state[_STATE + name] for name in FILTERS}
    st.query_params.from_dict({k: v for k, v in values.items() if v != FILTERS[k][0]})
    subgroups = {}
    for name, arg in (("sex", "sex"), ("age", "age_band"), ("act", "baseline_activity"),
                      ("bio", "prior_bdmard")):
        if values[name] != ALL:
            subgroups[arg] = int(values[name]) if arg == "prior_bdmard" else values[name]
    return Context(get_study(), values["lang"], values["pop"], values["tp"], subgroups)


def context() -> Context:
    """Draw the global filters and return the current view; each page calls it once."""
    return sidebar()


def synthetic_banner(ctx: Context) -> None:
    if ctx.study.synthetic:
        st.warning(ctx.t("synthetic.notice"), icon="⚠️")


def page_header(ctx: Context, title_key: str, safety: bool = False) -> None:
    """Title, the view in words, and the synthetic-data notice. Safety pages analyse all treated
    subjects, so they name that population instead of the efficacy filters."""
    st.title(ctx.t(title_key))
    st.caption(ctx.describe(safety=safety))
    synthetic_banner(ctx)


def show_caption(df: pd.DataFrame) -> None:
    st.caption(caption(df.attrs))


def table_bytes_xlsx(df: pd.DataFrame, display: pd.DataFrame | None = None) -> bytes:
    """The table on a sheet with its title above and its caption below."""
    out = display if display is not None else df
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="xlsxwriter") as writer:
        out.to_excel(writer, sheet_name="table", index=False, startrow=2)
        sheet = writer.sheets["table"]
        sheet.write(0, 0, df.attrs.get("title", ""))
        sheet.write(len(out) + 4, 0, caption(df.attrs))
    return buf.getvalue()


def show_table(ctx: Context, df: pd.DataFrame, key: str, display: pd.DataFrame | None = None,
               column_config: dict | None = None) -> None:
    """A result table with its caption and CSV/XLSX downloads of the same frame."""
    if df.attrs.get("title"):
        st.markdown(f"**{df.attrs['title']}**")
    shown = display if display is not None else df
    st.dataframe(shown, hide_index=True, column_config=column_config, key=f"tbl_{key}")
    show_caption(df)
    c1, c2, _ = st.columns([1, 1, 4])
    c1.download_button(ctx.t("download.csv"), shown.to_csv(index=False).encode("utf-8-sig"),
                       file_name=f"{key}.csv", mime="text/csv", key=f"csv_{key}")
    c2.download_button(ctx.t("download.xlsx"), table_bytes_xlsx(df, shown),
                       file_name=f"{key}.xlsx", key=f"xlsx_{key}",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def show_chart(ctx: Context, fig, key: str) -> None:
    """A plotly figure (its caption is drawn inside the figure by the chart builder)."""
    st.plotly_chart(fig, key=f"fig_{key}", config={"displaylogo": False})
