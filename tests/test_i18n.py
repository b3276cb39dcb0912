"""The bilingual interface (issue 7): the message catalogue and what the pages show.

* every catalogue key has an English and a Chinese text, and the Chinese text is Chinese (or only
  a name that stays as it is, listed in ``ZH_MAY_BE_LATIN``);
* every key is used by the code, and every key the code looks up is in the catalogue (literal
  look-ups found by a regex over the sources; dynamic families such as ``visit.{v}`` expanded from
  the values the code knows);
* every page, run in Chinese, shows no English word beyond the names that stay as they are
  (MSC, IFN-γ, DAS28, ACR20, HAQ-DI, …), and run in English shows no Chinese character.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from analytics import i18n
from analytics.i18n import catalogue, t, term

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"
TIMEOUT = 60

CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")

# Chinese texts that may carry no Chinese character: names that stay as they are, symbols, units.
ZH_MAY_BE_LATIN = {
    "common.missing_value",   # "–"
    "endpoint.ACR20", "endpoint.ACR50", "endpoint.ACR70",
    "common.percent",         # "{value}%"
    "da.col.n", "da.col.percent", "reconcile.statistic.percent",  # "n", "%"
    "efficacy.measure.DAS28_ESR", "efficacy.measure.DAS28_CRP", "efficacy.measure.HAQ_DI",
    "baseline.das28_esr", "baseline.haq_di",
    # Templates whose words all come from placeholders (arm, time point, drug names).
    "efficacy.rates.metric", "efficacy.rates.metric_value", "efficacy.col.arm_rate",
    "efficacy.meds.col.arm", "efficacy.meds.hover", "provenance.filter_value", "scope.item",
    "safety.trend.cell",
    "clusters.label_numbered", "clusters.col.arm_n", "clusters.count_percent",
    "profile.chart.med_hover",
}


# -- the catalogue ------------------------------------------------------------------------------

def test_every_key_has_english_and_chinese():
    problems = []
    for key, entry in catalogue().items():
        for lang in i18n.LANGUAGES:
            text = entry.get(lang) if isinstance(entry, dict) else None
            if not isinstance(text, str) or not text.strip():
                problems.append(f"{key}: no {lang} text")
        extra = set(entry) - set(i18n.LANGUAGES) if isinstance(entry, dict) else set()
        if extra:
            problems.append(f"{key}: unexpected fields {sorted(extra)}")
    assert not problems, "\n".join(problems)


def test_chinese_texts_are_chinese():
    latin_only = [f"{key}: {entry['zh']!r}" for key, entry in catalogue().items()
                  if key not in ZH_MAY_BE_LATIN and not CJK.search(entry.get("zh", ""))]
    assert not latin_only, ("zh texts without a Chinese character (translate them, or add the "
                            "key to ZH_MAY_BE_LATIN if the text is only a name that stays):\n"
                            + "\n".join(latin_only))


def test_allowlisted_keys_exist():
    missing = sorted(ZH_MAY_BE_LATIN - set(catalogue()))
    assert not missing, missing


def test_english_texts_have_no_chinese():
    mixed = [f"{key}: {entry['en']!r}" for key, entry in catalogue().items()
             if CJK.search(entry.get("en", ""))]
    assert not mixed, "\n".join(mixed)


def test_placeholders_agree_between_languages():
    field = re.compile(r"\{(\w+)")
    differ = []
    for key, entry in catalogue().items():
        en, zh = set(field.findall(entry["en"])), set(field.findall(entry["zh"]))
        if en != zh:
            differ.append(f"{key}: en {sorted(en)} zh {sorted(zh)}")
    assert not differ, "\n".join(differ)


# -- every key used, every used key defined -----------------------------------------------------

SOURCE_DIRS = ("analytics", "dashboard")
# t("key" / ctx.t("key" / self.t("key" / t(f"key.{x}" ... ; the key is the first argument.
_LOOKUP = re.compile(r"""\b(?:t|has|_t)\(\s*(f?)(["'])([a-z][\w.{}\[\]'"]*?)\2""")
_FAMILY_FIELD = re.compile(r"\{[^{}]*\}")
_STRING = re.compile(r"""["']([a-z][\w\-]*(?:\.[\w\-]+)+)["']""")


def _sources() -> list[Path]:
    files = [ROOT / "app.py"]
    for d in SOURCE_DIRS:
        files += sorted((ROOT / d).rglob("*.py"))
    return [f for f in files if ".venv" not in f.parts]


def _known_values() -> dict[str, set[str]]:
    """Values of the dynamic key parts, from the modules that own them."""
    from analytics import disease_activity, response, safety, survival, trajectories
    from analytics.population import AGE_BANDS, BASELINE_ACTIVITIES, SEXES
    from analytics.schema import ARMS, DRUG_CLASSES, SEVERITIES, VISITS
    return {
        "arm": set(ARMS),
        "visit": set(VISITS),
        "population": {"completers", "nri", "safety"},
        "endpoint": set(response.ENDPOINTS) | set(survival.ENDPOINTS),
        "category": set(disease_activity.CATEGORIES),
        "measure": set(trajectories.MEASURES),
        "drug_class": set(DRUG_CLASSES),
        "severity": set(SEVERITIES),
        "safety_category": set(safety.CATEGORIES),
        "term_level": set(safety.TERM_LEVELS),
        "scale": set(survival.SCALES),
        "filters": {f"{label}.{v}" for label, values in (
            ("sex", ("all", *SEXES)), ("age_band", ("all", *AGE_BANDS)),
            ("baseline_activity", ("all", *BASELINE_ACTIVITIES)),
            ("prior_bdmard", ("all", "0", "1")))
            for v in values} | {"sex", "age_band", "baseline_activity", "prior_bdmard"},
    }


def _terms_in_data() -> set[str]:
    """meddra.* / drug.* / outcome.* keys for the terms of the synthetic cohort."""
    from analytics import open_study
    study = open_study()
    try:
        keys = set()
        for kind, sql in (("soc", "SELECT DISTINCT soc AS v FROM adverse_events"),
                          ("pt", "SELECT DISTINCT pt AS v FROM adverse_events"),
                          ("drug", "SELECT DISTINCT drug_name AS v FROM medications"),
                          ("outcome", "SELECT DISTINCT outcome AS v FROM adverse_events "
                                      "WHERE outcome IS NOT NULL")):
            keys |= {i18n.term_key(kind, v) for v in study.query(sql)["v"]}
        return keys
    finally:
        study.close()


# Families of keys built at run time (f-string look-ups), expanded with the values they take.
def _dynamic_keys() -> set[str]:
    from analytics.baseline import CHARACTERISTICS
    v = _known_values()
    keys: set[str] = set()
    keys |= {f"arm.{a}" for a in v["arm"]}
    keys |= {f"visit.{x}" for x in v["visit"]}
    keys |= {f"population.{p}" for p in v["population"]}
    keys |= {f"population.{p}.definition" for p in v["population"]}
    keys |= {f"endpoint.{e}" for e in v["endpoint"]}
    keys |= {f"category.{c}" for c in v["category"]}
    keys |= {f"da.short.{c}" for c in v["category"]}
    keys |= {f"efficacy.measure.{m}" for m in v["measure"]}
    keys |= {f"efficacy.drug.{c}" for c in v["drug_class"]}
    keys |= {f"safety.severity.{s}" for s in v["severity"]}
    keys |= {f"safety.cat.{c}" for c in v["safety_category"]}
    keys |= {f"safety.widget.by.{b}" for b in v["term_level"]}
    keys |= {f"safety.col.{b}" for b in v["term_level"]}
    keys |= {f"safety.terms.title.{b}.{k}" for b in v["term_level"] for k in ("any", "serious")}
    keys |= {f"survival.scale.{s}" for s in v["scale"]}
    keys |= {f"survival.axis.{s}" for s in v["scale"]}
    keys |= {f"filter.{f}" for f in v["filters"]}
    keys |= {f"{prefix}.{p}" for p in ("completers", "nri")
             for prefix in ("efficacy.footnote", "da.method", "da.footnote",
                            "da.footnote.transitions", "da.footnote.flows")}
    keys |= {f"efficacy.title.{k}" for k in ("rates", "compare")}
    keys |= {f"overview.reason.{r}" for r in ("lack_of_efficacy", "adverse_event", "other")}
    keys |= {f"baseline.{c[0]}" for c in CHARACTERISTICS}
    from analytics.transitions import TRANSITION_COLUMNS
    keys |= {f"da.col.{c}" for c in (*TRANSITION_COLUMNS, "step", "timepoint", "years",
                                       "category")}
    keys |= _reconciliation_keys()
    from analytics import clusters, profile
    keys |= {f"clusters.shape.{s}" for s in clusters.SHAPES}
    keys |= {f"clusters.excluded.{r}" for r in clusters.EXCLUSION_REASONS}
    keys |= {f"clusters.period.{p}" for p in clusters.PERIODS}
    keys |= {f"clusters.test.{x}" for x in ("fisher", "chi2")}
    # the issue 14 views' choices (analytics/views/forest_plot.py, trial_planner.py)
    from analytics.views import forest_plot, trial_planner
    keys |= {f"forest.kind.{k}" for k in forest_plot.KINDS}
    keys |= {f"forest.measure.{m}" for ms in forest_plot.MEASURES.values() for m in ms}
    keys |= {f"planner.source.{s}" for s in trial_planner.SOURCES}
    keys |= {f"profile.char.{c}" for c in profile.BASELINE_COLUMNS}
    keys |= {f"profile.milestone.{m}" for m in profile.MILESTONES}
    keys |= {f"profile.col.{c}" for c in profile.VISIT_COLUMNS if c != "das28_category"}
    keys |= {f"profile.eular.{e}" for e in ("good", "moderate", "none")}
    keys |= {f"profile.activity.{a}" for a in ("low", "moderate", "high")}
    keys |= {f"profile.status.{s}" for s in ("completed", "withdrawn")}
    from analytics.build import BUILD_ERRORS
    from analytics.integrity import STUDY_ERRORS
    keys |= {f"study_error.{c}{todo}" for c in STUDY_ERRORS for todo in ("", ".todo")}
    keys |= {f"build.error.{c}" for c in BUILD_ERRORS}
    from analytics.caution import NOT_ESTIMABLE_REASONS
    keys |= {f"not_estimable.{r}" for r in NOT_ESTIMABLE_REASONS}
    keys |= {f"safety.trend.conclusion.{c}" for c in ("constant", "not_constant", "none")}
    from dashboard.pages import pages
    keys |= {title for _, title, _ in pages()}  # nav.{key}
    from analytics.study_catalog import UPLOAD_ERRORS
    from analytics.study_loading import ROW_COLUMNS
    from dashboard.links import PARAM_LABELS
    keys |= {f"upload.error.{c}" for c in UPLOAD_ERRORS}
    keys |= {f"load.col.{c}" for c in ROW_COLUMNS}
    from analytics.problem_text import PATTERNS
    keys |= {f"problem.{part}.{kind}" for part, kinds in PATTERNS.items() for kind in kinds}
    from analytics.mapping_draft import NOTE_KINDS
    keys |= {f"draft.{kind}.{k}" for kind, kinds in NOTE_KINDS.items() for k in kinds}
    keys |= {f"filter.{label}" for label in PARAM_LABELS.values()}
    keys |= {f"os_error.{name}" for name in i18n.OS_ERRORS}
    return keys


def _reconciliation_keys() -> set[str]:
    """The reconciliation page's families, from the published figures it lists."""
    try:
        from analytics import reconciliation
    except ImportError:  # the page is not there (yet)
        return set()
    from analytics.schema import ARMS
    pub = reconciliation.published_figures()
    pub = pub[pub.source.isin(reconciliation.SOURCES_SHOWN)]
    keys = {f"reconcile.section.{g}" for g in pub.group}
    keys |= {f"reconcile.statistic.{s}" for s in pub.statistic if s != "max"}
    keys |= {f"reconcile.source.{s}" for s in pub.source}
    keys |= {f"reconcile.arm.{a}" for a in pub.arm if a not in ARMS}
    keys |= {f"reconcile.drug_class.{f}" for f in pub[pub.group == "medications"].figure}
    keys |= {f"reconcile.figure.{g}.{f}" for g, f in zip(pub.group, pub.figure)
             if g not in ("efficacy_completers", "medications", "baseline")}
    keys |= {f"reconcile.col.{c}" for c in ("section", "figure", "arm", "timepoint",
                                             "statistic", "published", "dashboard", "match",
                                             "source")}
    return keys


def _term_keys() -> set[str]:
    return _terms_in_data()


def _literal_keys() -> tuple[set[str], list[str]]:
    """Keys looked up with a literal (non-f-string) first argument, and the f-string patterns."""
    literal, patterns = set(), []
    for path in _sources():
        text = path.read_text(encoding="utf-8")
        for m in _LOOKUP.finditer(text):
            is_f, key = m.group(1), m.group(3)
            if is_f and "{" in key:
                patterns.append(f"{path.relative_to(ROOT)}: {key}")
            elif "{" not in key:
                literal.add(key)
    # Keys named as plain strings elsewhere (tables of keys such as PAGES, a key chosen by a
    # conditional expression): any string literal that is a catalogue key counts as used.
    defined = set(catalogue())
    for path in _sources():
        literal |= {s for s in _STRING.findall(path.read_text(encoding="utf-8"))
                    if s in defined}
    return literal, patterns


def _pattern_regex(pattern: str) -> re.Pattern:
    parts = _FAMILY_FIELD.split(pattern)
    return re.compile("^" + r"[\w.\-]+".join(re.escape(p) for p in parts) + "$")


def test_every_key_used_and_every_used_key_defined():
    defined = set(catalogue())
    literal, patterns = _literal_keys()
    dynamic = _dynamic_keys()
    terms = _term_keys()  # built by i18n.term_key, not by an f-string
    used = literal | dynamic | terms
    missing = sorted(k for k in (literal | dynamic) if k not in defined)
    # Dynamic keys must each match an f-string pattern in the code (so the expansion is real).
    regexes = [_pattern_regex(p.split(": ", 1)[1]) for p in patterns]
    unmatched_dynamic = sorted(k for k in dynamic - literal
                               if not any(r.match(k) for r in regexes))
    unused = sorted(defined - used)
    report = []
    if missing:
        report.append("used in code but not in analytics/messages:\n  " + "\n  ".join(missing))
    if unused:
        report.append("in analytics/messages but never used:\n  " + "\n  ".join(unused))
    if unmatched_dynamic:
        report.append("expanded keys no f-string look-up builds (fix _dynamic_keys):\n  "
                      + "\n  ".join(unmatched_dynamic))
    assert not report, "\n".join(report)


def test_every_fstring_family_is_expanded():
    """Each f-string look-up in the code builds at least one expanded key (else the expansion in
    this test is missing a family and unused keys would go unnoticed)."""
    _, patterns = _literal_keys()
    dynamic = _dynamic_keys()
    lonely = [p for p in patterns
              if not any(_pattern_regex(p.split(": ", 1)[1]).match(k) for k in dynamic)]
    assert not lonely, "f-string look-ups whose family is not expanded:\n" + "\n".join(lonely)


# -- term(): MedDRA terms, drug names ----------------------------------------------------------

def test_term_translates_known_and_keeps_unknown():
    assert term("pt", "Lymphocyte count decreased", "zh") == "淋巴细胞计数降低"
    assert term("soc", "Infections and infestations", "zh") == "感染及侵染类疾病"
    assert term("pt", "Lymphocyte count decreased", "en") == "Lymphocyte count decreased"
    assert term("pt", "Some term coded elsewhere", "zh") == "Some term coded elsewhere"
    assert term("drug", "methotrexate", "zh") == "甲氨蝶呤"
    assert term("pt", None, "zh") is None


def test_term_keys_and_soc_lists():
    from analytics.safety import soc_label, term_label
    assert i18n.term_key("pt", "Sjogren's syndrome") == "meddra.pt.sjogren_s_syndrome"
    assert i18n.term_key("soc", "Injury, poisoning and procedural complications") == \
        "meddra.soc.injury_poisoning_and_procedural_complications"
    with pytest.raises(ValueError):
        i18n.term_key("llt", "x")
    # A PT coded under two SOCs lists both, each translated.
    assert soc_label("Cardiac disorders; Vascular disorders", "zh") == "心脏器官疾病；血管与淋巴管类疾病"
    assert soc_label("Cardiac disorders; Vascular disorders", "en") == \
        "Cardiac disorders; Vascular disorders"
    assert term_label("Rash", "pt", "zh") == "皮疹"


def test_percent_and_p_formats():
    # Percentages: '12.5 %' in English, '12.5%' in Chinese; Western digits in both.
    assert i18n.fmt_percent(12.345, 1, "en") == "12.3 %"
    assert i18n.fmt_percent(12.345, 1, "zh") == "12.3%"
    assert i18n.fmt_percent(float("nan"), 1, "zh") == "–"
    assert i18n.fmt_number(1234.5, 1, "zh") == "1,234.5"
    assert [i18n.fmt_p(p, "zh") for p in (0.0001, 0.0456, 0.9999)] == \
        ["< 0.001", "0.046", "> 0.999"]


def test_every_term_of_the_cohort_is_translated():
    missing = sorted(k for k in _terms_in_data() if not i18n.has(k))
    assert not missing, "\n".join(missing)


# -- the pages -------------------------------------------------------------------------------------

# Names that stay as they are in the Chinese interface (regexes, matched case-sensitively and not
# inside a longer Latin word).
ALLOWED_NAMES = [
    r"MSCs?", r"IFN-γ", r"DAS28(?:-ESR|-CRP)?", r"ACR(?:20|50|70)?(?:/50/70)?", r"HAQ-DI",
    r"EULAR", r"ESR", r"CRP", r"NRI", r"LTE", r"RA", r"PYs?", r"N", r"n", r"p", r"SD", r"CI",
    r"HR", r"MedDRA", r"SOC", r"PT", r"CSV", r"XLSX", r"PNG", r"SVG", r"PPTX", r"ZIP",
    r"ChiCTR-[A-Z]+-\d+", r"S\d{3,}", r"mm/h", r"mg/L", r"kg", r"IU",
    r"(?:cs|ts|b)?DMARDs?", r"NSAIDs?", r"TJC28", r"SJC28", r"VAS", r"SLE", r"CCP",
    # a formula; software named in a method text
    r"log\(−log\)", r"lifelines", r"statsmodels", r"scipy",
    r"SAS", r"quantile\.survfit", r"conf\.type = log-log",  # software and R's names for a rule
    r"Stem Cell Res(?:earch)? (?:&|and)? ?Ther(?:apy)?",
    # Statistical methods named after people stay in Latin script in Chinese texts.
    r"Kaplan", r"Meier", r"Cox", r"Fisher", r"Welch", r"Clopper", r"Pearson", r"Newcombe",
    r"Garwood", r"Greenwood", r"Holm", r"Wald", r"Efron", r"Brookmeyer", r"Crowley", r"Poisson", r"Wilson",
    r"Aalen", r"Johansen", r"Gray",
    # issue 14 methods: software and functions by name, the BIC, people's names
    r"BIC", r"scikit-learn", r"GaussianMixture", r"NormalIndPower", r"fisher\.test", r"t\.test",
    r"Cohen", r"Woolf", r"Schoenfeld",
    r"Yang", r"He", r"Yao",
    r"[\w\-]+\.duckdb",  # the study file's name
]
_ALLOWED = re.compile(r"(?<![A-Za-z])(?:" + "|".join(ALLOWED_NAMES) + r")(?![A-Za-z])")
_WORD = re.compile(r"(?<![A-Za-z])[A-Za-z]{3,}(?![A-Za-z])")
LANGUAGE_OPTIONS = {"English", "中文"}  # the language switch shows both, in any language


def english_words(text: str) -> list[str]:
    """Latin words of 3+ letters left after removing the names that stay as they are."""
    text = re.sub(r"<[^>]+>", " ", text)              # plotly's <b>, <br>, <sup>
    text = re.sub(r"%\{[^}]*\}", " ", text)           # hover template fields
    text = re.sub(r"https?://\S+", " ", text)
    return _WORD.findall(_ALLOWED.sub(" ", text))


def _figure_texts(spec: dict) -> list[str]:
    out: list[str] = []

    def title_text(obj):
        if isinstance(obj, dict):
            obj = obj.get("text")
        if isinstance(obj, str):
            out.append(obj)

    layout = spec.get("layout", {})
    title_text(layout.get("title"))
    for name, value in layout.items():
        if re.match(r"^[xy]axis\d*$", name) and isinstance(value, dict):
            title_text(value.get("title"))
            out += [str(x) for x in value.get("ticktext") or []]
            out += [str(x) for x in value.get("categoryarray") or [] if isinstance(x, str)]
    for ann in layout.get("annotations") or []:
        title_text(ann)
    for shape in layout.get("shapes") or []:
        title_text((shape.get("label") or {}))
    for trace in spec.get("data", []):
        if trace.get("showlegend", True) and isinstance(trace.get("name"), str):
            out.append(trace["name"])
        for field in ("text", "hovertext", "hovertemplate", "texttemplate"):
            val = trace.get(field)
            if isinstance(val, str):
                out.append(val)
            elif isinstance(val, list):
                out += [str(x) for x in val if isinstance(x, str)]
        for axis in ("x", "y"):
            val = trace.get(axis)
            if isinstance(val, list):
                out += [x for x in val if isinstance(x, str)]
        for part in ("node", "link"):
            obj = trace.get(part) or {}
            for field in ("label", "customdata", "hovertemplate"):
                val = obj.get(field)
                if isinstance(val, str):
                    out.append(val)
                elif isinstance(val, list):
                    for x in val:
                        if isinstance(x, str):
                            out.append(x)
                        elif isinstance(x, list):
                            out += [y for y in x if isinstance(y, str)]
        cd = trace.get("customdata")
        if isinstance(cd, list):
            for x in cd:
                if isinstance(x, str):
                    out.append(x)
                elif isinstance(x, list):
                    out += [y for y in x if isinstance(y, str)]
    return out


def page_texts(at) -> list[tuple[str, str]]:
    """(where, text) for everything a reader sees on the page the AppTest shows."""
    texts: list[tuple[str, str]] = []

    def add(where, value):
        if value is None:
            return
        if isinstance(value, (list, tuple)):
            for v in value:
                add(where, v)
        else:
            texts.append((where, str(value)))

    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning",
                 "error", "success", "exception"):
        for el in getattr(at, kind):
            add(kind, el.value if kind != "exception" else el.message)
    for el in at.metric:
        add("metric.label", el.label)
        add("metric.value", el.value)
        add("metric.help", el.proto.help)
    for kind in ("radio", "selectbox", "multiselect", "select_slider", "checkbox", "toggle",
                 "button", "number_input", "text_input", "slider", "date_input"):
        for el in getattr(at, kind):
            add(f"{kind}.label", el.label)
            add(f"{kind}.help", getattr(el.proto, "help", None))
            options = getattr(el, "options", None)
            if options is not None:
                add(f"{kind}.options", [o for o in options if o not in LANGUAGE_OPTIONS])
    for el in at.expander:
        add("expander", el.label)
    for el in at.tabs:
        add("tab", el.label)
    for el in at.get("download_button"):
        add("download_button", el.proto.label)
        add("download_button.help", el.proto.help)
    for el in at.dataframe:
        df = el.value
        add("dataframe.columns", [str(c) for c in df.columns])
        for col in df.columns:
            if df[col].dtype == object:
                add("dataframe.cells", sorted({str(v) for v in df[col].dropna()}))
    for el in at.get("plotly_chart"):
        spec = json.loads(el.proto.spec)
        add("plotly", _figure_texts(spec))
    return texts


def _pages() -> list[str]:
    from dashboard.pages import pages
    return [p[0] for p in pages()]


def run_page(page: str, lang: str, **session):
    from streamlit.testing.v1 import AppTest

    from apptest_support import switch_to
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.session_state["filter_lang"] = lang
    for k, v in session.items():
        at.session_state[k] = v
    at.run()
    if page != _pages()[0]:
        switch_to(at, page)
        at.run()
    return at


def english_on_page(at) -> list[str]:
    found = []
    for where, text in page_texts(at):
        words = english_words(text)
        if words:
            found.append(f"[{where}] {sorted(set(words))}: {text[:160]!r}")
    return sorted(set(found))


def chinese_on_page(at) -> list[str]:
    found = []
    for where, text in page_texts(at):
        if text in LANGUAGE_OPTIONS:
            continue
        if CJK.search(text):
            found.append(f"[{where}] {text[:160]!r}")
    return sorted(set(found))


# Extra session state per page so the options that change the text are shown too (individual
# lines, the PT level, NRI's withdrawn/missing categories).
PAGE_SESSIONS = [
    {},
    {"filter_pop": "nri", "traj_individual": True, "traj_change": True,
     "ae_terms_by": "pt", "surv_endpoint": "WITHDRAWAL_AE",
     # issue 14 views: the other kind, source, allocation and period
     "forest_kind": "time_to_event", "plan_source": "hazard_ratio", "plan_allocation": "2:1",
     "clusters_period": "core", "clusters_k": "3"},
]


@pytest.mark.parametrize("session", range(len(PAGE_SESSIONS)))
@pytest.mark.parametrize("page", _pages())
def test_no_english_on_a_page_in_chinese(page, session):
    at = run_page(page, "zh", **PAGE_SESSIONS[session])
    assert not at.exception, [e.value for e in at.exception]
    assert page_texts(at), "nothing collected from the page"
    found = english_on_page(at)
    assert not found, f"English on {page} in Chinese mode:\n" + "\n".join(found)


@pytest.mark.parametrize("session", range(len(PAGE_SESSIONS)))
@pytest.mark.parametrize("page", _pages())
def test_no_chinese_on_a_page_in_english(page, session):
    at = run_page(page, "en", **PAGE_SESSIONS[session])
    assert not at.exception, [e.value for e in at.exception]
    found = chinese_on_page(at)
    assert not found, f"Chinese on {page} in English mode:\n" + "\n".join(found)


def test_the_checker_sees_english():
    assert english_words("Year 1 (week 48) · 中文") == ["Year", "week"]
    assert english_words("MSC + IFN-γ 联合 (n = 28) DAS28-ESR ACR20 HAQ-DI p < 0.001") == []
    assert english_words("<b>随机</b><br>%{customdata[0]}") == []


def test_fallback_when_a_term_is_missing_keeps_t_strict():
    with pytest.raises(KeyError):
        t("no.such.key", "zh")


if __name__ == "__main__":  # print what every page shows that it should not, in both languages
    import sys
    sys.path.insert(0, str(ROOT))
    for page in _pages():
        for s in PAGE_SESSIONS:
            for lang, check in (("zh", english_on_page), ("en", chinese_on_page)):
                at = run_page(page, lang, **s)
                if at.exception:
                    print(page, lang, s, "EXCEPTION", [e.value for e in at.exception])
                for line in check(at):
                    print(page, lang, line)


def test_an_operating_system_error_is_said_in_the_readers_language():
    """The data folder's refusals reach the reader in their language, not the system's English
    (``strerror``); an error the catalogue does not name keeps its code for the administrator."""
    import errno
    refused = PermissionError(errno.EACCES, "Permission denied", "/data/x")
    full = OSError(errno.ENOSPC, "No space left on device")
    odd = OSError(errno.EXDEV, "Invalid cross-device link")
    assert i18n.os_reason(refused, "en") == "permission denied"
    assert i18n.os_reason(full, "zh") == "磁盘空间不足"
    assert i18n.os_reason(odd, "en") == "system error EXDEV"
    assert i18n.os_reason(odd, "zh") == "系统错误 EXDEV"
    assert i18n.os_reason(OSError("no errno"), "zh") == "系统错误 OSError"
    for name in i18n.OS_ERRORS:
        assert hasattr(errno, name), name  # every named error exists on this system
