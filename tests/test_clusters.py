"""Disease-activity clusters (issue 14 item 2): recovery of planted course groups, missing-visit
rules, determinism and bookkeeping on the default study, and the arm × cluster test against an
independent computation."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from sklearn.metrics import adjusted_rand_score

from analytics import clusters as cl
from analytics.charts.ribbons import link_markers
from analytics.population import select
from analytics.schema import VISIT_MONTHS

WINDOW = cl.WINDOWS["course"]
MONTHS = np.array([VISIT_MONTHS[v] for v in WINDOW], dtype=float)

# Planted mean courses (DAS28-ESR at BL..Y5): four shapes a clinician would tell apart.
PLANTED = {
    "sustained": lambda m: np.where(m == 0, 5.6, 2.4 + 0.6 * np.exp(-m / 2)),
    "response_then_loss": lambda m: np.where(m == 0, 5.8, np.where(m <= 12, 2.9, 2.9 + (m - 12) / 48 * 2.6)),
    "slow_response": lambda m: 5.7 - 3.0 * np.minimum(m, 48) / 48,
    "no_response": lambda m: 5.9 - 0.2 * np.minimum(m, 6) / 6,
}


def planted_cohort(n_per_group: int = 30, noise: float = 0.3, missing: float = 0.15,
                   seed: int = 7) -> tuple[pd.DataFrame, pd.Series]:
    """Observed DAS28-ESR of subjects drawn around the planted courses, with interior visits
    missing at random; and each subject's planted group."""
    rng = np.random.default_rng(seed)
    rows, truth = [], {}
    for g, (shape, course) in enumerate(PLANTED.items()):
        mean = course(MONTHS)
        for i in range(n_per_group):
            sid = f"P{g}{i:03d}"
            truth[sid] = shape
            offset = rng.normal(0, 0.2)  # a subject's own level
            for j, visit in enumerate(WINDOW):
                interior = 0 < j < len(WINDOW) - 1
                if interior and rng.random() < missing:
                    continue
                rows.append(dict(subject_id=sid, arm="MSC" if i % 2 else "MSC_IFNG",
                                 timepoint=visit,
                                 das28_esr=mean[j] + offset + rng.normal(0, noise)))
    return pd.DataFrame(rows), pd.Series(truth)


def test_planted_groups_are_recovered():
    values, truth = planted_cohort()
    courses, reasons = cl.interpolate_courses(values, WINDOW)
    assert reasons.empty  # every planted subject has its first and last visit
    labels, proba, fit = cl.fit_mixture(courses)
    ari = adjusted_rand_score(truth.reindex(courses.index), labels)
    assert ari >= 0.8, (ari, fit)
    assert int(fit.loc[fit["chosen"], "k"].iloc[0]) == len(PLANTED)
    # each found cluster is named after the shape planted in most of its members
    found = pd.DataFrame({"truth": truth.reindex(courses.index).to_numpy(), "cluster": labels})
    for c, g in found.groupby("cluster"):
        mean = courses[labels == c].mean().to_numpy()
        assert cl.shape_of(mean) == g["truth"].mode().iloc[0]


def test_missing_visits_interpolated_never_extrapolated():
    window = ("BL", "M1", "M3", "M6", "Y1")
    values = pd.DataFrame([
        # S1: M3 missing between M1 (4.0, month 1) and M6 (2.0, month 6): month 3 -> 3.2
        *[dict(subject_id="S1", timepoint=v, das28_esr=x)
          for v, x in (("BL", 5.0), ("M1", 4.0), ("M6", 2.0), ("Y1", 2.5))],
        # S2: no value at Y1 -> would need extrapolation
        *[dict(subject_id="S2", timepoint=v, das28_esr=4.0) for v in ("BL", "M1", "M3", "M6")],
        # S3: no value at BL
        *[dict(subject_id="S3", timepoint=v, das28_esr=4.0) for v in ("M1", "M3", "Y1")],
        # S4: only the ends: 2 of 5 visits < 50 %
        *[dict(subject_id="S4", timepoint=v, das28_esr=4.0) for v in ("BL", "Y1")],
    ])
    courses, reasons = cl.interpolate_courses(values, window)
    assert list(courses.index) == ["S1"]
    assert courses.loc["S1", "M3"] == pytest.approx(4.0 + (2.0 - 4.0) * (3 - 1) / (6 - 1))
    assert courses.loc["S1", "Y1"] == 2.5
    assert reasons.to_dict() == {"S2": "ends_before_window", "S3": "no_first_visit",
                                 "S4": "too_few_visits"}


@pytest.mark.parametrize("mean,shape", [
    ([5.5, 2.8, 2.6, 2.9, 3.0], "sustained"),
    ([5.5, 2.9, 3.1, 4.4, 4.8], "response_then_loss"),
    ([5.5, 4.8, 4.0, 3.4, 3.0], "slow_response"),
    ([5.5, 5.4, 5.6, 5.3, 5.5], "no_response"),
    ([5.5, 5.0, 4.6, 4.5, 4.4], "partial_response"),
    ([4.0, 4.3, 4.7, 4.9, 5.2], "worsening"),
])
def test_shape_rules(mean, shape):
    assert cl.shape_of(np.array(mean)) == shape


def test_later_period_without_change_is_persistent_activity():
    assert cl.shape_of(np.array([4.6, 4.5, 4.7, 4.6]), from_baseline=False) == \
        "persistent_activity"


@pytest.mark.parametrize("population", ["completers", "nri"])
def test_default_study_is_deterministic_and_counts_add_up(study, population):
    first = cl.clusters(study, population)
    second = cl.clusters(study, population)
    for name in ("membership", "profiles", "by_arm", "fit", "excluded"):
        pd.testing.assert_frame_equal(getattr(first, name), getattr(second, name))
    sel_sql, params = select(population).sql
    sizes = study.query(f"SELECT arm, count(*) AS n FROM ({sel_sql}) GROUP BY arm")
    sizes = dict(zip(sizes["arm"], sizes["n"]))
    clustered = first.by_arm.groupby("arm")["count"].sum()
    left_out = first.excluded.groupby("arm")["count"].sum()
    if population == "nri":  # the withdrawn lack the later visits: left out, and counted
        withdrawn = int(study.query(f"SELECT count(*) AS n FROM ({sel_sql}) "
                                    "WHERE status = 'withdrawn'")["n"].iloc[0])
        assert 0 < int(left_out.sum()) <= withdrawn
    for arm, n in sizes.items():
        assert int(clustered.get(arm, 0)) + int(left_out.get(arm, 0)) == n
        assert (first.by_arm.loc[first.by_arm["arm"] == arm, "n_arm"] == clustered[arm]).all()
    assert len(first.membership) == int(clustered.sum())
    assert first.by_arm.attrs["n_per_arm"] == {a: int(clustered.get(a, 0))
                                               for a in ("MSC", "MSC_IFNG")}
    chosen = first.fit[first.fit["chosen"]]
    assert len(chosen) == 1 and chosen["bic"].iloc[0] == first.fit["bic"].min()
    assert "BIC" in first.by_arm.attrs["footnote"]
    assert str(cl.SEED) in first.by_arm.attrs["footnote"]


def test_membership_test_matches_independent_computation(study):
    res = cl.clusters(study, "completers")
    table = res.by_arm.pivot(index="cluster", columns="arm", values="count")
    p = res.by_arm["p_value"].iloc[0]
    if len(table) == 2:
        expected = sps.fisher_exact(table.to_numpy()).pvalue
    else:
        obs = table.to_numpy(dtype=float)
        exp = obs.sum(1, keepdims=True) * obs.sum(0, keepdims=True) / obs.sum()
        stat = ((obs - exp) ** 2 / exp).sum()
        expected = sps.chi2.sf(stat, (obs.shape[0] - 1) * (obs.shape[1] - 1))
    assert p == pytest.approx(expected, abs=1e-12)


def test_small_arm_gives_no_test():
    table = pd.DataFrame({"MSC": [5, 6, 7], "MSC_IFNG": [1, 1, 0]}, index=[1, 2, 3])
    p, test, reason = cl.membership_test(table)
    assert np.isnan(p) and reason == "arm_too_small"


def test_period_transitions_add_up(study):
    res = cl.cluster_transitions(study, "completers", lang="zh")
    assert set(res.membership["period"]) == set(cl.PERIODS)
    for a, b in zip(cl.PERIODS, cl.PERIODS[1:]):
        both = set(res.membership.loc[res.membership["period"] == a, "subject_id"]) & set(
            res.membership.loc[res.membership["period"] == b, "subject_id"])
        moved = res.transitions[res.transitions["from_period"] == a]
        assert int(moved["count"].sum()) == len(both)
        matrix = cl.transition_matrix(res.transitions, a)
        assert int(matrix.to_numpy().sum()) == len(both)
    again = cl.cluster_transitions(study, "completers", lang="zh")
    pd.testing.assert_frame_equal(res.transitions, again.transitions)


def test_charts_and_display_build(study):
    from analytics.charts.clusters import (cluster_courses_figure, cluster_matrix_figure,
                                           cluster_sankey_figure)
    res = cl.clusters(study, "nri", lang="zh")
    fig = cluster_courses_figure(res.profiles)
    assert len(fig.data) == 2 * res.profiles["cluster"].nunique()
    shown = cl.membership_display(res.by_arm)
    assert len(shown) == res.by_arm["cluster"].nunique()
    tr = cl.cluster_transitions(study, "completers")
    sankey = cluster_sankey_figure(tr)
    assert sum(map(int, link_markers(sankey).text)) == tr.transitions["count"].sum()
    cluster_matrix_figure(tr, "core")


def _filled(template: str, customdata, text) -> str:
    # the hover text plotly.js shows for one point of a template over customdata and text
    for i, value in enumerate(customdata):
        template = template.replace(f"%{{customdata[{i}]}}", str(value))
    return template.replace("%{text}", str(text)).replace("<extra></extra>", "")


@pytest.mark.parametrize("population, lang, filters", [
    ("completers", "en", {}), ("nri", "zh", {}), ("nri", "en", {"age_band": "lt45"})])
def test_cluster_sankey_draws_every_flow(study, population, lang, filters):
    """The cluster Sankey as ribbons: every transition a ribbon as thick as its count (one
    scale) in its source cluster's colour, with a marker carrying its codes, count and hover
    text; nodes in the cluster colours, labelled with the cluster names, under the periods."""
    from analytics.charts.clusters import _rgba, cluster_color, cluster_sankey_figure
    from analytics.charts.theme import wrap_lines
    from analytics.i18n import t

    res = cl.cluster_transitions(study, population, lang=lang, **filters)
    tr = res.transitions
    assert len(tr) and (tr["count"] > 0).all()
    fig = cluster_sankey_figure(res)
    assert {d.type for d in fig.data} == {"scatter"}   # no plotly Sankey (its 500 ms animation)

    links = link_markers(fig)
    assert [int(n) for n in links.text] == tr["count"].tolist()
    assert [list(c[:4]) for c in links.customdata] == [
        [cl.PERIODS.index(fp), fc, cl.PERIODS.index(tp), tc] for fp, fc, tp, tc in zip(
            tr["from_period"], tr["from_cluster"], tr["to_period"], tr["to_cluster"])]
    assert [_filled(links.hovertemplate, c, n) for c, n in zip(links.customdata, links.text)] \
        == [t("clusters.chart.link_hover", lang, source=a, target=b, count=n)
            for a, b, n in zip(tr["from_label"], tr["to_label"], tr["count"])]

    # one ribbon trace per source cluster, in its colour; a ribbon per transition, its ends as
    # thick as its count on one scale for all
    sources = sorted(set(tr["from_cluster"]))
    ribbons = fig.data[:-2]
    assert [r.fillcolor for r in ribbons] == [_rgba(cluster_color(c), 0.35) for c in sources]
    widths = []
    for c, ribbon in zip(sources, ribbons):
        y = np.asarray(ribbon.y, dtype=float)
        outlines = [o for o in np.split(y, np.flatnonzero(np.isnan(y))) if len(o)]
        outlines = [o[~np.isnan(o)] for o in outlines]
        counts = tr.loc[tr["from_cluster"] == c, "count"].tolist()
        assert len(outlines) == len(counts)
        for outline, n in zip(outlines, counts):
            half = len(outline) // 2
            upper, lower = outline[:half], outline[half:][::-1]
            np.testing.assert_allclose(upper - lower, (upper - lower)[0])
            widths.append((upper[0] - lower[0]) / n)
    np.testing.assert_allclose(widths, widths[0])

    # nodes: cluster colours, each labelled with its cluster's name, its count in the hover
    members = res.membership.drop_duplicates(["period", "cluster"])
    names = {(p, c): lab for p, c, lab in zip(members["period"], members["cluster"],
                                              members["label"])}
    nodes = fig.data[-1]
    drawn = [(cl.PERIODS[int(c[0])], int(c[1])) for c in nodes.customdata]
    assert [s.fillcolor for s in fig.layout.shapes] == [cluster_color(c) for _, c in drawn]
    inflow = tr.groupby(["to_period", "to_cluster"])["count"].sum()
    outflow = tr.groupby(["from_period", "from_cluster"])["count"].sum()
    assert [int(n) for n in nodes.text] == [max(inflow.get(k, 0), outflow.get(k, 0))
                                            for k in drawn]
    assert [_filled(nodes.hovertemplate, c, n) for c, n in zip(nodes.customdata, nodes.text)] \
        == [t("clusters.chart.node_hover", lang, period=t(f"clusters.period.{p}", lang),
              label=names[(p, c)], count=n) for (p, c), n in zip(drawn, nodes.text)]
    texts = [a.text for a in fig.layout.annotations]
    assert texts[:len(drawn)] == [wrap_lines(names[k], 18) for k in drawn]
    periods = [p for p in cl.PERIODS if p in set(res.membership["period"])]
    assert texts[len(drawn):-1] == [f"<b>{t(f'clusters.period.{p}', lang)}</b>" for p in periods]


def test_too_few_subjects_is_not_estimable(study):
    res = cl.clusters(study, "completers", sex="M", age_band="lt45", prior_bdmard=1)
    assert res.membership.empty and res.by_arm.empty
    assert "too few subjects to cluster" in res.by_arm.attrs["footnote"]
    tr = cl.cluster_transitions(study, "completers", sex="M", age_band="lt45", prior_bdmard=1)
    assert tr.transitions.empty


def test_planted_cohort_with_a_small_arm_gives_no_test():
    values, _ = planted_cohort(n_per_group=12)
    values["arm"] = np.where(values["subject_id"].isin(["P0000", "P1000"]), "MSC_IFNG", "MSC")
    courses, _ = cl.interpolate_courses(values, WINDOW)
    labels, _, _ = cl.fit_mixture(courses)
    arms = values.drop_duplicates("subject_id").set_index("subject_id")["arm"]
    membership = pd.DataFrame({"subject_id": courses.index, "arm": arms.reindex(courses.index).to_numpy(),
                               "cluster": labels, "shape": "x", "label": "x"})
    by_arm = cl._by_arm(membership)
    assert by_arm["p_value"].isna().all() and (by_arm["reason"] == "arm_too_small").all()


def test_filters_and_comparison_travel_into_the_header(study):
    res = cl.clusters(study, "completers", sex="F", comparison="randomised")
    assert res.by_arm.attrs["filters"] == {"sex": "F"}
    assert res.by_arm.attrs["comparison"] == "randomised"
    sel_sql, params = select("completers", sex="F", comparison="randomised").sql
    n = int(study.query(f"SELECT count(*) AS n FROM ({sel_sql})", params)["n"].iloc[0])
    assert len(res.membership) + int(res.excluded["count"].sum()) == n


def test_planted_groups_are_recovered_on_a_large_cohort():
    """Above FIT_SAMPLE subjects the starts run on a sample and EM then on every subject: the
    planted groups are still recovered, and the fit is the same on every run."""
    values, truth = planted_cohort(n_per_group=cl.FIT_SAMPLE // 4 + 50, seed=11)
    courses, _ = cl.interpolate_courses(values, WINDOW)
    assert len(courses) > cl.FIT_SAMPLE
    labels, _, fit = cl.fit_mixture(courses)
    assert adjusted_rand_score(truth.reindex(courses.index), labels) >= 0.8, fit
    again, _, fit_again = cl.fit_mixture(courses)
    assert (labels == again).all()
    pd.testing.assert_frame_equal(fit, fit_again)


def test_a_period_and_a_fixed_number_of_clusters(study):
    res = cl.clusters(study, "nri", period="years2to3", n_clusters=2)
    assert list(res.fit["k"]) == [2] and res.fit["chosen"].all()
    assert sorted(res.membership["cluster"].unique()) == [1, 2]
    assert list(res.profiles["timepoint"].unique()) == list(cl.WINDOWS["years2to3"])
    assert res.by_arm.attrs["period"] == "years2to3" and res.by_arm.attrs["n_clusters"] == 2
    with pytest.raises(ValueError, match="period"):
        cl.clusters(study, "nri", period="years9")
    with pytest.raises(ValueError, match="n_clusters"):
        cl.clusters(study, "nri", n_clusters=7)


def _same_frames(a, b) -> None:
    for name, frame in vars(a).items():
        pd.testing.assert_frame_equal(frame, getattr(b, name), check_exact=True, obj=name)
        assert frame.attrs == getattr(b, name).attrs, name


def test_kept_fits_give_the_fits_computed_afresh(study):
    """A mixture is kept per courses and k (the same courses are clustered again for the
    transitions, for another k or language): a result from kept fits is the result computed
    with none kept, and a kept fit is never changed by its users."""
    cases = [dict(period="core"), dict(period="core", n_clusters=3),
             dict(period="years4to5", n_clusters=5), dict(lang="zh", period="course")]
    cl.forget_fits()
    transitions = cl.cluster_transitions(study, "nri")
    warm = [cl.clusters(study, "nri", **case) for case in cases]
    assert cl._FITS, "fits are kept"
    again = cl.cluster_transitions(study, "nri")
    cl.forget_fits()
    _same_frames(again, cl.cluster_transitions(study, "nri"))
    _same_frames(transitions, again)
    for case, kept in zip(cases, warm):
        cl.forget_fits()
        _same_frames(kept, cl.clusters(study, "nri", **case))


def test_kept_fits_are_bounded():
    rng = np.random.default_rng(3)
    cl.forget_fits()
    for _ in range(cl.FITS_KEPT // 2 + 3):
        cl.fit_mixture(pd.DataFrame(rng.normal(size=(12, 3))), k_range=(2,))
        cl.fit_mixture(pd.DataFrame(rng.normal(size=(12, 3))), k_range=(2,))
    assert len(cl._FITS) == cl.FITS_KEPT


@pytest.mark.parametrize("n, k, seed", [(97, 3, 1), (300, 5, 2), (2000, 4, 3), (40, 2, 4),
                                         (2600, 3, 5)])
def test_silhouettes_are_scikit_learns(n, k, seed):
    """The silhouettes of every k from one distance matrix are scikit-learn's silhouette_score
    to the last bit (its per-sample bincount replaced by one sum per cluster)."""
    from sklearn.metrics import silhouette_score

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)) + rng.integers(0, 3, size=(n, 1))
    labels = {j: rng.integers(0, j, size=n) for j in range(2, k + 1)}
    labels[k][: n // 2] = 0   # unequal clusters
    got = cl._silhouettes(x, labels, cl.SEED)
    for j, lab in labels.items():
        sample = cl.SILHOUETTE_SAMPLE if n > cl.SILHOUETTE_SAMPLE else None
        assert got[j] == silhouette_score(x, lab, sample_size=sample, random_state=cl.SEED)
