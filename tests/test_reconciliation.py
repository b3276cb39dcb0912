"""The dashboard against the published study: every figure of STUDY.md section 6."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analytics import open_study
from analytics.published import published_figures
from analytics.reconciliation import reconcile
from apptest_support import switch_to

APP = str(Path(__file__).resolve().parent.parent / "app.py")


@pytest.fixture(scope="module")
def table():
    with open_study() as study:
        return reconcile(study)


def test_every_published_figure_is_reproduced(table):
    assert table.match.all(), table[~table.match].to_string()


def test_every_published_row_is_compared(table):
    pub = published_figures()
    shown = pub[pub.source.isin(["published", "derived", "chosen"])
                & (pub.statistic != "max")]
    limits = table[table.source == "limit stated in the article"]
    assert len(table) == len(shown) + len(limits)
    assert len(limits) >= 2 * 16 + 3  # ACR50 and ACR70 at every time point, remission Y1/3/5
    assert "published" in set(table.source)


def test_a_wrong_value_is_flagged(table, monkeypatch):
    """The page must be able to say 'no': perturb one published value and reconcile again."""
    pub = published_figures().copy()
    hit = (pub.group == "disposition") & (pub.figure == "completed") & (pub.arm == "MSC")
    pub.loc[hit, "value"] = "68"
    monkeypatch.setattr("analytics.reconciliation.published_figures", lambda: pub)
    with open_study() as study:
        again = reconcile(study)
    assert (~again.match).sum() == 1


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_reconciliation_page_renders(lang):
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["filter_lang"] = lang
    at.run()
    switch_to(at, "reconciliation").run()
    assert not at.exception
    assert at.success, "the all-match banner is shown"
    assert not at.error
    at.toggle(key="reconcile_only_mismatches").set_value(True).run()
    assert not at.exception
