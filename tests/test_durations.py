"""Times under a year read in weeks or months, in both languages, wherever they are shown: the
survival summary, numbers at risk, the curves table, the horizon note, the method text, the
source line and the Kaplan–Meier axis (issue 11: never "0.08 years")."""
from __future__ import annotations

import re

import pytest

from analytics.charts.survival import survival_figure
from analytics.display import fmt_duration
from analytics.i18n import t
from analytics.provenance import source_line
from analytics.survival import at_risk_display, curves_display, horizon_for_visit, \
    summary_display

# (years, English, Chinese): 365.25 / 7 weeks and 12 months a year
CASES = [
    (0.0, "0 weeks", "0 周"),
    (7 / 365.25, "1 week", "1 周"),
    (1 / 12, "4 weeks", "4 周"),
    (0.25, "3 months", "3 个月"),
    (0.5, "6 months", "6 个月"),
    (0.6, "7.2 months", "7.2 个月"),
    (1.0, "1 year", "1 年"),
    (2.4567, "2.46 years", "2.46 年"),
    (3.0, "3 years", "3 年"),
]


@pytest.mark.parametrize("years,en,zh", CASES)
def test_a_duration_reads_as_a_reader_says_it(years, en, zh):
    assert fmt_duration(years, "en") == en
    assert fmt_duration(years, "zh") == zh


def test_a_duration_that_is_not_known_is_a_dash():
    assert fmt_duration(float("nan"), "en") == t("common.missing_value", "en")
    assert fmt_duration(None, "zh") == t("common.missing_value", "zh")


def test_event_times_keep_a_decimal():
    assert fmt_duration(0.0876, "en") == "5 weeks"
    assert fmt_duration(0.0876, "en", fine=True) == "4.6 weeks"


SHORT = re.compile(r"(?<![\d.])0\.\d+\s*(years?|y\b|年)")  # "0.08 years", "0.5 y", "0.08 年"


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("visit", ["M1", "M6"])
def test_no_short_time_in_years_on_the_survival_view(study, lang, visit):
    horizon = horizon_for_visit(visit)
    res = study.survival("ACR20", "nri", horizon_years=horizon, lang=lang)
    texts = [res.curves.attrs["method"], source_line(res.curves.attrs)]
    for frame in (summary_display(res, lang), at_risk_display(res, lang),
                  curves_display(res, lang)):
        texts += [str(v) for v in frame.astype(str).to_numpy().ravel()]
    found = [x for x in texts if SHORT.search(x)]
    assert not found, found
    assert fmt_duration(horizon, lang) in source_line(res.curves.attrs)
    times = at_risk_display(res, lang)[t("survival.col.time", lang)]
    unit = t("common.months", lang, n="").strip() if visit == "M6" else \
        t("common.weeks", lang, n="").strip()
    assert any(unit in x for x in times), list(times)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_short_km_axis_is_in_months(study, lang):
    res = study.survival("ACR20", "nri", horizon_years=horizon_for_visit("M6"), lang=lang)
    axis = survival_figure(res, lang=lang).layout.xaxis
    assert axis.title.text == t("survival.axis.time_months", lang)
    assert list(axis.ticktext) == [f"{tick * 12:g}" for tick in axis.tickvals]
    long = study.survival("ACR20", "nri", horizon_years=horizon_for_visit("Y3"), lang=lang)
    axis = survival_figure(long, lang=lang).layout.xaxis
    assert axis.title.text == t("survival.axis.time", lang)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_km_hover_says_the_time_as_the_tables_do(study, lang):
    res = study.survival("ACR20", "nri", horizon_years=horizon_for_visit("M6"), lang=lang)
    fig = survival_figure(res, lang=lang)
    hovered = [row[0] for trace in fig.data if trace.customdata is not None
               and trace.hovertemplate and "customdata[1]" in trace.hovertemplate
               for row in trace.customdata]
    assert hovered and all(not SHORT.search(str(x)) for x in hovered)
    assert any(t("common.weeks", lang, n="").strip() in str(x) or
               t("common.months", lang, n="").strip() in str(x) for x in hovered)
