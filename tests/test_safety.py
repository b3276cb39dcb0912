"""Safety analyses on the small hand-made study (tests/safety_fixtures.py), checked by hand.

* exact Poisson limits against a published table and an independent root-finding reference;
* rate-ratio limits against statsmodels' exact conditional test;
* person-years against a brute-force sum over subjects, for all follow-up and for windows;
* each category's events and subjects, and a window's events and exposure, counted by hand.
"""
from __future__ import annotations

import math
import tomllib

import pytest
from scipy import optimize, stats
from statsmodels.stats import rates as sm_rates

from analytics import safety
from analytics.charts.safety import rates_by_year_figure, term_rates_figure
from analytics.i18n import LANGUAGES, MESSAGES_DIR
from analytics.stats import poisson_rate_ci, rate_ratio_ci
from safety_fixtures import EVENT_ROWS, SUBJECT_ROWS, make_study

Y = 365.25


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    s = make_study(tmp_path_factory.mktemp("safety") / "study.duckdb")
    yield s
    s.close()


def _row(df, key, arm, col="category"):
    hit = df[(df[col] == key) & (df["arm"] == arm)]
    assert len(hit) == 1, (key, arm)
    return hit.iloc[0]


# -- brute force over the fixture's raw rows ------------------------------------------------------

def _brute_py(arm, start=0.0, end=math.inf, sex=None):
    return sum(max(0.0, min(end, last / Y) - start)
               for sid, a, sx, *_rest in SUBJECT_ROWS
               for last in [_rest[5]]
               if a == arm and (sex is None or sx == sex))


def _arm_of(sid):
    return next(r[1] for r in SUBJECT_ROWS if r[0] == sid)


def _brute_events(arm, start=0.0, end=math.inf, pred=lambda e: True):
    return sum(1 for e in EVENT_ROWS
               if _arm_of(e[1]) == arm and start <= e[4] / Y < end and pred(e))


# -- exact Poisson limits ---------------------------------------------------------------------------

@pytest.mark.parametrize("k,low,high", [
    (0, 0.0, 3.689), (1, 0.0253, 5.572), (2, 0.2422, 7.225), (5, 1.623, 11.67),
    (10, 4.795, 18.39),
])
def test_poisson_limits_match_published_table(k, low, high):
    # Garwood limits for a count (exposure 100 PY, per 100 PY: the rate is the count).
    rate, lo, hi = poisson_rate_ci(k, 100.0, per=100)
    assert rate == k
    assert lo == pytest.approx(low, abs=6e-4)
    assert hi == pytest.approx(high, rel=6e-4)


def _reference_limits(k, alpha=0.05):
    """Exact limits by root finding on the Poisson cdf (independent of the chi-square form)."""
    upper = optimize.brentq(lambda mu: stats.poisson.cdf(k, mu) - alpha / 2, 1e-12, 10 * k + 50)
    lower = 0.0 if k == 0 else optimize.brentq(
        lambda mu: stats.poisson.sf(k - 1, mu) - alpha / 2, 1e-12, 10 * k + 50)
    return lower, upper


@pytest.mark.parametrize("k", [0, 1, 2, 3, 4, 11, 15, 62, 161, 223])
@pytest.mark.parametrize("py", [1.0, 172.9, 445.1])
def test_poisson_limits_match_root_finding(k, py):
    rate, lo, hi = poisson_rate_ci(k, py, per=100)
    ref_lo, ref_hi = _reference_limits(k)
    assert rate == pytest.approx(100 * k / py)
    assert lo == pytest.approx(100 * ref_lo / py, rel=1e-7, abs=1e-12)
    assert hi == pytest.approx(100 * ref_hi / py, rel=1e-7)


def test_summary_limits_are_the_exact_ones(study):
    df = safety.ae_summary(study)
    for _, r in df.iterrows():
        ref_lo, ref_hi = _reference_limits(int(r["events"]))
        assert r["ci_low"] == pytest.approx(100 * ref_lo / r["person_years"], abs=1e-9)
        assert r["ci_high"] == pytest.approx(100 * ref_hi / r["person_years"], rel=1e-7)


# -- rate ratio -------------------------------------------------------------------------------------

@pytest.mark.parametrize("e_msc,py_msc,e_ifng,py_ifng", [
    (161, 445.1, 62, 172.9), (11, 445.1, 4, 172.9), (2, 445.1, 2, 172.9), (10, 8.1, 7, 7.0),
    (3, 8.106776, 1, 7.011636),
])
def test_rate_ratio_matches_statsmodels_exact_conditional_test(e_msc, py_msc, e_ifng, py_ifng):
    ratio, low, high = rate_ratio_ci(e_msc, py_msc, e_ifng, py_ifng)
    assert ratio == pytest.approx((e_ifng / py_ifng) / (e_msc / py_msc))
    # The exact limits are where the one-sided exact conditional test has p = alpha / 2.
    p_low = sm_rates.test_poisson_2indep(e_ifng, py_ifng, e_msc, py_msc, value=low, method="exact-cond",
                                compare="ratio", alternative="larger").pvalue
    p_high = sm_rates.test_poisson_2indep(e_ifng, py_ifng, e_msc, py_msc, value=high,
                                 method="exact-cond", compare="ratio",
                                 alternative="smaller").pvalue
    assert p_low == pytest.approx(0.025, abs=1e-9)
    assert p_high == pytest.approx(0.025, abs=1e-9)


def test_summary_rate_ratio_is_ifng_over_msc(study):
    df = safety.ae_summary(study)
    for category in safety.CATEGORIES:
        msc, ifng = _row(df, category, "MSC"), _row(df, category, "MSC_IFNG")
        expected = rate_ratio_ci(int(msc.events), msc.person_years, int(ifng.events),
                                 ifng.person_years)
        got = (msc.rate_ratio, msc.rr_low, msc.rr_high)
        if math.isnan(expected[0]):
            assert all(math.isnan(v) for v in got)
        else:
            assert got == pytest.approx(expected)
            assert (ifng.rate_ratio, ifng.rr_low, ifng.rr_high) == pytest.approx(expected)


# -- person-years -----------------------------------------------------------------------------------

@pytest.mark.parametrize("window", [None, (0, 1), (1, 2), (0.5, 2.5), (2, 4), (3, 10), (5, 6)])
def test_person_years_equal_brute_force(study, window):
    df = safety.ae_summary(study, years=window)
    start, end = (0.0, math.inf) if window is None else window
    for arm in ("MSC", "MSC_IFNG"):
        assert _row(df, "any", arm).person_years == pytest.approx(_brute_py(arm, start, end))


def test_person_years_equal_subject_info(study):
    df = safety.ae_summary(study)
    got = df[df.category == "any"].set_index("arm").person_years
    ref = study.query("SELECT arm, sum(person_years) AS py FROM subject_info GROUP BY arm")
    for arm, py in zip(ref.arm, ref.py):
        assert got[arm] == pytest.approx(py)
    assert got["MSC"] == pytest.approx((1461 + 500 + 1000) / Y)
    assert got["MSC_IFNG"] == pytest.approx((1461 + 800 + 300) / Y)


def test_person_years_by_year_add_up(study):
    by_year = safety.ae_rates_by_year(study)
    total = safety.ae_summary(study)
    assert sorted(by_year.year.unique()) == [1, 2, 3, 4]  # longest exposure: exactly 4 years
    for arm in ("MSC", "MSC_IFNG"):
        rows = by_year[(by_year.category == "any") & (by_year.arm == arm)]
        assert rows.person_years.sum() == pytest.approx(_row(total, "any", arm).person_years)
        assert rows.events.sum() == _row(total, "any", arm).events
        for _, r in rows.iterrows():
            assert r.person_years == pytest.approx(_brute_py(arm, r.start, r.end))
            assert r.events == _brute_events(arm, r.start, r.end)


# -- categories, by hand --------------------------------------------------------------------------

# (category, MSC events, MSC subjects, IFNG events, IFNG subjects), all follow-up
EXPECTED_ALL = [
    ("any", 8, 3, 7, 3),
    ("serious", 1, 1, 2, 2),            # a3 | b3, b5
    ("withdrawal", 1, 1, 1, 1),         # a5 (not recovered) | b5 (last AE before withdrawal)
    ("infection", 3, 2, 1, 1),          # a2, a3, a7 | b7
    ("serious_infection", 1, 1, 0, 0),  # a3
    ("autoimmune", 1, 1, 2, 2),         # a5 | b2, b5
    ("lymphocyte", 3, 3, 2, 2),         # a1, a4, a8 | b1, b4
    ("gvhd", 0, 0, 0, 0),
    ("death", 0, 0, 0, 0),
]


@pytest.mark.parametrize("category,e1,s1,e2,s2", EXPECTED_ALL)
def test_category_counts_by_hand(study, category, e1, s1, e2, s2):
    df = safety.ae_summary(study)
    msc, ifng = _row(df, category, "MSC"), _row(df, category, "MSC_IFNG")
    assert (msc.events, msc.subjects, msc.n) == (e1, s1, 3)
    assert (ifng.events, ifng.subjects, ifng.n) == (e2, s2, 3)
    assert msc.percent == pytest.approx(100 * s1 / 3)
    assert msc.rate == pytest.approx(100 * e1 / ((1461 + 500 + 1000) / Y))


def test_summary_rows_in_table_order(study):
    df = safety.ae_summary(study)
    assert list(df.category[::2]) == list(safety.CATEGORIES)
    assert list(df.arm[:2]) == ["MSC", "MSC_IFNG"]
    assert df.attrs["n_per_arm"] == {"MSC": 3, "MSC_IFNG": 3}
    assert df.attrs["population"] == "safety"
    assert "Garwood" in df.attrs["method"]
    assert "not recovered" in df.attrs["footnote"]


def test_window_one_to_two_years_by_hand(study):
    # Window [1, 2) years = study days [365.25, 730.5).
    df = safety.ae_summary(study, years=(1, 2))
    msc, ifng = _row(df, "any", "MSC"), _row(df, "any", "MSC_IFNG")
    # MSC: A1 and A3 are followed through the window (1 PY each); A2 stops at day 500.
    assert msc.person_years == pytest.approx(1 + (500 - Y) / Y + 1)
    # IFN-γ: B1 and B2 (day 800) through the window; B3 stopped at day 300 (no exposure).
    assert ifng.person_years == pytest.approx(2.0)
    assert (msc.n, ifng.n) == (3, 2)  # at risk: followed beyond year 1
    # Onsets in the window: MSC a2 (400), a5 (450), a6 (480), a7 (730); IFN-γ b2 (380),
    # b6 (650), b5 (700).
    assert (msc.events, ifng.events) == (4, 3)
    assert (msc.subjects, ifng.subjects) == (3, 2)
    assert _row(df, "serious", "MSC").events == 0
    assert _row(df, "serious", "MSC_IFNG").events == 1
    assert _row(df, "infection", "MSC").events == 2  # a2, a7
    assert _row(df, "lymphocyte", "MSC").events == 0
    assert msc.rate == pytest.approx(4 / msc.person_years * 100)


def test_window_edges_are_half_open(study):
    # a7 has onset on day 730 = 1.9986 y: inside [1, 2); a window ending at 730/Y excludes it.
    df = safety.ae_summary(study, years=(1, 730 / Y))
    assert _row(df, "infection", "MSC").events == 1  # a2 only
    df = safety.ae_summary(study, years=(730 / Y, 3))
    assert _row(df, "infection", "MSC").events == 1  # a7 only


def test_withdrawal_rule(study):
    # A2 (MSC): a5 'not recovered' counts; the later, recovered headache a6 does not.
    df = safety.ae_summary(study, years=(470 / Y, 490 / Y))  # a6 only
    assert _row(df, "any", "MSC").events == 1
    assert _row(df, "withdrawal", "MSC").events == 0
    # B2 (IFN-γ): no 'not recovered' AE, so her last AE before withdrawal (b5, day 700) counts
    # and the earlier nausea b6 (day 650) does not.
    df = safety.ae_summary(study, years=(640 / Y, 660 / Y))  # b6 only
    assert _row(df, "any", "MSC_IFNG").events == 1
    assert _row(df, "withdrawal", "MSC_IFNG").events == 0
    df = safety.ae_summary(study, years=(690 / Y, 710 / Y))  # b5 only
    assert _row(df, "withdrawal", "MSC_IFNG").events == 1
    # B1's autoimmune b2 is 'not recovered' but B1 completed: not a withdrawal AE.
    df = safety.ae_summary(study, years=(370 / Y, 390 / Y))
    assert _row(df, "autoimmune", "MSC_IFNG").events == 1
    assert _row(df, "withdrawal", "MSC_IFNG").events == 0


def test_subgroup_filter(study):
    df = safety.ae_summary(study, sex="F")  # A1, A3 | B1, B2
    assert _row(df, "any", "MSC").events == 5
    assert _row(df, "any", "MSC_IFNG").events == 6
    assert _row(df, "any", "MSC").person_years == pytest.approx(_brute_py("MSC", sex="F"))
    assert df.attrs["n_per_arm"] == {"MSC": 2, "MSC_IFNG": 2}
    df = safety.ae_summary(study, sex="M", age_band="lt45")  # nobody
    assert df.events.sum() == 0 and df.person_years.sum() == 0
    assert df.rate.isna().all()
    by_year = safety.ae_rates_by_year(study, sex="M", age_band="lt45")
    assert by_year.events.sum() == 0


# -- terms, by year, listing --------------------------------------------------------------------------

def test_rates_by_term_add_up(study):
    summary = safety.ae_summary(study)
    for by in safety.TERM_LEVELS:
        for serious_only, category in ((False, "any"), (True, "serious")):
            df = safety.ae_rates(study, by=by, serious_only=serious_only)
            for arm in ("MSC", "MSC_IFNG"):
                assert df[df.arm == arm].events.sum() == _row(summary, category, arm).events
    pt = safety.ae_rates(study, by="pt")
    lcd = _row(pt, "Lymphocyte count decreased", "MSC", col="term")
    assert (lcd.events, lcd.subjects, lcd.soc) == (3, 3, "Investigations")
    assert pt.term.iloc[0] == "Lymphocyte count decreased"  # most events first
    soc = safety.ae_rates(study, by="soc", years=(1, 2))
    inf = _row(soc, "Infections and infestations", "MSC", col="term")
    assert inf.events == 2
    with pytest.raises(ValueError):
        safety.ae_rates(study, by="hlt")


def test_serious_listing(study):
    df = safety.sae_listing(study)
    assert list(df.ae_id) == ["a3", "b3", "b5"]
    assert list(df.onset_day) == [1200, 1400, 700]
    assert list(df.columns[:6]) == ["subject_id", "arm", "ae_id", "pt", "soc", "onset_day"]
    assert list(safety.sae_listing(study, years=(3, 4)).ae_id) == ["a3", "b3"]
    assert safety.sae_listing(study, sex="M").empty


@pytest.mark.parametrize("years", [(-1, 2), (2, 1), (1, 1), "x"])
def test_bad_windows_are_refused(study, years):
    with pytest.raises(ValueError):
        safety.ae_summary(study, years=years)


# -- text and display ---------------------------------------------------------------------------

def test_every_safety_message_has_both_languages():
    with (MESSAGES_DIR / "safety.toml").open("rb") as fh:
        messages = tomllib.load(fh)
    for key, entry in messages.items():
        for lang in LANGUAGES:
            assert entry.get(lang), (key, lang)
    for key in ("nav.safety_overview", "nav.ae_terms", "nav.sae_listing"):
        assert key in messages


@pytest.mark.parametrize("lang", LANGUAGES)
def test_frames_displays_and_charts_in_both_languages(study, lang):
    summary = safety.ae_summary(study, years=(1, 3), lang=lang, sex="F")
    assert summary.attrs["lang"] == lang and summary.attrs["title"]
    table = safety.summary_display(summary)
    assert len(table) == len(safety.CATEGORIES)
    by_year = safety.ae_rates_by_year(study, lang=lang)
    assert len(safety.by_year_display(by_year)) == 4 * 2
    fig = rates_by_year_figure(by_year)
    assert len(fig.data) == 4
    for by in safety.TERM_LEVELS:
        rates = safety.ae_rates(study, by=by, lang=lang)
        shown = safety.terms_display(rates)
        assert len(shown) == rates.term.nunique()
        fig = term_rates_figure(rates, top=5)
        assert fig.layout.xaxis2.type == "log"
    empty = safety.ae_rates(study, by="pt", serious_only=True, sex="M", lang=lang)
    assert empty.empty
    term_rates_figure(empty)
    safety.terms_display(empty)
    listing = safety.sae_listing(study, lang=lang)
    assert len(safety.listing_display(listing)) == 3
    if lang == "zh":
        assert "人年" in summary.attrs["method"]
