"""The synthetic cohort: raw tables that reproduce every published figure of the study.

No patient-level data of the study is public, so the embedded default is generated here and then
imported through the same path a real study takes (``python -m analytics build``). The generator
is calibrated to ``data/published_figures.csv``:

1. Roster: arms, completion and withdrawal reasons as published; exposure fitted so that every
   published rate per 100 patient-years rounds right.
2. Baseline: Table 1 means and SDs hit to the published precision by a small local search.
3. Efficacy: per visit, counts of ACR20/50/70, DAS28 <= 3.2 and < 2.6 among completers follow the
   file (published where published, chosen within STUDY.md's limits elsewhere). Subjects are
   ranked by a persistent latent responsiveness plus visit noise; the nested response sets are cut
   from that ranking, then raw components are drawn until the derived measures -- computed by the
   very SQL views the dashboard uses -- land on the target for each visit.
4. Medications: Table 4 counts, with LTE stops of prednisone only after DAS28 < 3.2 at two visits
   >= 12 weeks apart (the taper rule), and tsDMARDs only after their 2019 approval.
5. Adverse events: MedDRA terms, serious events and categories as in Table 2, spread over exposure.

Same seed, same bytes. Any seed gives every published figure at the published size.
``subjects`` (20 to 20,000) keeps the published proportions: each count is the published share
of its own denominator. What cannot be met exactly at a size (small arms on coarse grids) is
relaxed to the nearest reachable value with a :class:`SynthRelaxed` warning naming the figure.
"""
from __future__ import annotations

import itertools
import json
import warnings
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from .measures import VISIT_MEASURES_SQL
from .published import figure_value, published_figures
from .schema import ARMS, DAYS_PER_YEAR, TABLES, VISIT_DAYS, VISITS

DEFAULT_SEED = 642
BASE_SUBJECTS = 110
MIN_SUBJECTS, MAX_SUBJECTS = 20, 20_000  # the sizes the generator is tested at
KEY_VISITS = ("M1", "M3", "M6", "Y1", "M18", "Y2", "M30", "Y3", "M42", "Y4", "M54", "Y5")
LATE_VISITS = ("M66", "Y6", "M78", "Y7")
COMPLETER_LAST_VISITS = ("Y5",) + LATE_VISITS
INTERIM_VISITS = ("M18", "M30", "M42", "M54", "M66", "M78")  # where a few values go missing
TS_APPROVAL = date(2019, 3, 1)  # tsDMARDs entered use only after approval in China in 2019
TAPER_DAYS = 84  # DAS28 < 3.2 for >= 12 weeks before each taper step
LEVELS = (0, 20, 50, 70)
ESR_RANGE = (2, 110)  # mm/h, a plausible follow-up ESR
ESR_BOUNDED_FROM = 100  # attempts after which a visit's DAS28 is drawn within ESR's reach
DAS_RANGES = {"remission": (1.85, 2.5), "low": (2.68, 3.12), "moderate": (3.3, 5.0),
              "high": (5.2, 6.3)}
LATE_TRIAL_MSC = 32  # MSC subjects of the combination trial (He et al. 2020: 32 + 31 randomised)
STUDY_IDS = {"early": "ChiCTR-ONC-16008770", "late": "ChiCTR-INR-17012462"}


# ---------------------------------------------------------------------------------------------
# targets from the published file
# ---------------------------------------------------------------------------------------------
@dataclass
class ArmTargets:
    arm: str
    n: int
    completed: int
    withdrawn: dict  # reason -> count
    person_years: float
    plan: dict  # visit -> {endpoint: responders among completers}
    baseline: dict = field(default_factory=dict)  # characteristic -> (mean, sd, dmean, dsd)
    counts: dict = field(default_factory=dict)  # characteristic -> count among completers
    medications: dict = field(default_factory=dict)  # (class, tp) -> count among completers
    ae: dict = field(default_factory=dict)
    ratio: float = 1.0  # subjects in this arm / published subjects in this arm


def _arm_sizes(subjects: int, published: list[float]) -> list[int]:
    """Subjects per arm in the published ratio, summing to ``subjects`` (largest remainder)."""
    exact = np.array(published) * subjects / sum(published)
    sizes = np.floor(exact).astype(int)
    sizes[np.argsort(-(exact - sizes), kind="stable")[: subjects - sizes.sum()]] += 1
    return [int(x) for x in sizes]


def load_targets(subjects: int = BASE_SUBJECTS) -> dict[str, ArmTargets]:
    """The counts to hit per arm. At another size than the published one every count is the
    published proportion of its own denominator (randomised, or completers), so parts never
    exceed their whole; means, SDs and limits stay the published ones."""
    pub = published_figures()

    def v(group, fig, arm, stat, tp=""):
        return figure_value(group, fig, arm, stat, tp)

    sizes = _arm_sizes(subjects, [v("disposition", "randomized", arm, "count") for arm in ARMS])
    out = {}
    for arm, n in zip(ARMS, sizes):
        pub_n = v("disposition", "randomized", arm, "count")
        withdrawn = {r: int(round(v("disposition", f"withdrawn_{r}", arm, "count") * n / pub_n))
                     for r in ("lack_of_efficacy", "adverse_event", "other")}
        completed = n - sum(withdrawn.values())
        pub_completed = pub_n - sum(v("disposition", f"withdrawn_{r}", arm, "count")
                                    for r in ("lack_of_efficacy", "adverse_event", "other"))

        def among_completers(x: float) -> int:
            return int(round(x * completed / pub_completed))

        py = (v("safety", "person_years", arm, "min") + v("safety", "person_years", arm, "max")) / 2
        eff = pub[(pub.group == "efficacy_completers") & (pub.arm == arm)
                  & (pub.statistic == "responders")]
        plan = {tp: {} for tp in KEY_VISITS}
        for row in eff.itertuples():
            plan[row.timepoint][row.figure] = among_completers(float(row.value))
        t = ArmTargets(arm, n, completed, withdrawn, py * n / pub_n, plan, ratio=n / pub_n)
        base = pub[(pub.group == "baseline") & (pub.arm == arm)]
        for fig, g in base.groupby("figure"):
            stats = dict(zip(g.statistic, zip(g.value.astype(float), g.decimals)))
            if "mean" in stats:
                t.baseline[fig] = (stats["mean"][0], stats["sd"][0], stats["mean"][1],
                                   stats["sd"][1])
            else:
                t.counts[fig] = among_completers(stats["count"][0])
        meds = pub[(pub.group == "medications") & (pub.arm == arm) & (pub.statistic == "count")]
        t.medications = {(r.figure, r.timepoint): among_completers(float(r.value))
                         for r in meds.itertuples()}
        t.ae = {fig: int(round(v("safety", fig, arm, "count") * t.ratio)) for fig in
                ("ae_events", "sae_events", "autoimmune_events", "serious_infection_events")}
        out[arm] = t
    return out


# ---------------------------------------------------------------------------------------------
# small numeric helpers
# ---------------------------------------------------------------------------------------------
class SynthRelaxed(UserWarning):
    """A target the synthetic cohort cannot meet exactly at the requested size or seed; the
    message names the published figure and the value used instead."""


def _relax(figure: str, wanted: str, got: str, why: str) -> None:
    warnings.warn(f"{figure}: {wanted} not met exactly ({why}); the cohort has {got}",
                  SynthRelaxed, stacklevel=3)


def _matches(value: float, target: float, decimals: int) -> bool:
    # Rounds to the published value, with a safety margin against float ties.
    return abs(value - target) < 0.45 * 10 ** (-decimals)


def _calibrate(x: np.ndarray, mean: float, sd: float, dm: int, ds: int, step: float,
               lo: float, hi: float, rng: np.random.Generator, figure: str) -> np.ndarray:
    """Values on a ``step`` grid within [lo, hi] whose mean and SD round to the targets."""
    z = (x - x.mean()) / x.std(ddof=1)
    y = np.clip(np.round((mean + sd * z) / step) * step, lo, hi)
    y = _local_search(y, lambda a: (a.mean(), a.std(ddof=1)), (mean, sd), (dm, ds), step, lo,
                      hi, rng, max_iter=20_000)
    return _finish_mean_sd(y, step, lo, hi, 0.0, 1.0, (mean, sd), (dm, ds), figure)


def _local_search(y, stats_fn, targets, decimals, step, lo, hi, rng, max_iter=200_000,
                  patience=2_000):
    """Random single-value moves that never worsen the error: fast from afar, but it can stall
    where only a move of two values helps (then :func:`_finish_mean_sd` takes over)."""
    y = y.copy()
    tol = [0.45 * 10 ** (-d) for d in decimals]

    def err(a):
        return sum(abs(s - t) / e for s, t, e in zip(stats_fn(a), targets, tol))

    cur = err(y)
    last_gain = 0
    for it in range(max_iter):
        if all(_matches(s, t, d) for s, t, d in zip(stats_fn(y), targets, decimals)):
            break
        if it - last_gain > patience:
            break
        i = rng.integers(len(y))
        old = y[i]
        y[i] = min(hi, max(lo, old + step * rng.choice((-1, 1))))
        new = err(y)
        if new < cur:
            last_gain = it
        if new <= cur:
            cur = new
        else:
            y[i] = old
    return np.round(y / step) * step


def _finish_mean_sd(y, step, lo, hi, offset, slope, target, decimals, figure):
    """Steepest descent to a mean and SD target for ``offset + slope * y``, y on a ``step``
    grid in [lo, hi]: each move is the best single step or the best pair (one value up, one
    down, the mean unchanged), so it does not stall where a lone random step cannot help. What
    the grid cannot reach at this size is relaxed with a warning naming the figure."""
    y = np.asarray(y, dtype=float).copy()
    n = len(y)
    mean, sd = target
    tol_mean, tol_sd = (0.45 * 10 ** (-d) for d in decimals)
    h = slope * step

    def err(s1, s2):
        var = np.maximum(s2 - s1 * s1 / n, 0.0) / max(n - 1, 1)
        return np.abs(s1 / n) / tol_mean + np.abs(np.sqrt(var) - sd) / tol_sd

    for _move in range(20 * n + 1_000):
        values = offset + slope * y
        if _matches(values.mean(), mean, decimals[0]) and _matches(
                values.std(ddof=1), sd, decimals[1]):
            return y
        dev = values - mean
        s1, s2 = dev.sum(), dev @ dev
        cur = float(err(s1, s2))
        up = y + step <= hi + 1e-9
        down = y - step >= lo - 1e-9
        best, move = cur - 1e-12, None
        for sign, ok in ((1, up), (-1, down)):
            e = np.where(ok, err(s1 + sign * h, s2 + 2 * sign * h * dev + h * h), np.inf)
            i = int(np.argmin(e))
            if e[i] < best:
                best, move = float(e[i]), ((i, sign),)
        rise, fall = np.flatnonzero(up), np.flatnonzero(down)
        if n > 1 and len(rise) and len(fall):
            # the partner whose step brings the sum of squares closest to the target's
            need = (n - 1) * sd * sd + s1 * s1 / n - s2
            order = fall[np.argsort(dev[fall], kind="stable")]
            pos = np.searchsorted(dev[order], dev[rise] + h - need / (2 * h))
            for cand in (pos - 1, pos):
                j = order[np.clip(cand, 0, len(order) - 1)]
                e = np.where(j == rise, np.inf,
                             err(s1, s2 + 2 * h * (dev[rise] - dev[j]) + 2 * h * h))
                k = int(np.argmin(e))
                if e[k] < best:
                    best, move = float(e[k]), ((int(rise[k]), 1), (int(j[k]), -1))
        if move is None:
            break
        for i, sign in move:
            y[i] += sign * step
        y = np.round(y / step) * step
    values = offset + slope * y
    _relax(figure, f"mean {mean:.{decimals[0]}f} and SD {sd:.{decimals[1]}f}",
           f"mean {values.mean():.{decimals[0] + 1}f}, SD {values.std(ddof=1):.{decimals[1] + 1}f}",
           f"{n} values on a grid of {step:g} within [{lo:g}, {hi:g}]")
    return y


# every (tender, swollen) pair the baseline draws allow, and its part of DAS28-ESR
_JOINT_TJC, _JOINT_SJC = np.array([(t, s) for t in range(3, 22)
                                   for s in range(2, min(t, 16) + 1)]).T
_JOINT_DAS = 0.56 * np.sqrt(_JOINT_TJC) + 0.28 * np.sqrt(_JOINT_SJC)


def _pg_for_das(das: float, esr: float) -> np.ndarray:
    """Per joint pair, the patient global that puts DAS28-ESR on ``das``."""
    return np.round((das - _JOINT_DAS - 0.70 * np.log(esr)) / 0.014)


def _das28(tjc, sjc, esr, pg):
    return 0.56 * np.sqrt(tjc) + 0.28 * np.sqrt(sjc) + 0.70 * np.log(esr) + 0.014 * pg


def _iso(d: date) -> str:
    return d.isoformat()


# ---------------------------------------------------------------------------------------------
# the generator
# ---------------------------------------------------------------------------------------------
class _Generator:
    def __init__(self, seed: int, subjects: int | None):
        self.rng = np.random.default_rng(seed)
        self.scale = (subjects or BASE_SUBJECTS) / BASE_SUBJECTS
        self.targets = load_targets(subjects or BASE_SUBJECTS)
        self.subjects: pd.DataFrame | None = None

    # -- roster and exposure -------------------------------------------------------------------
    def roster(self) -> pd.DataFrame:
        rng = self.rng
        rows = []
        for arm, tg in self.targets.items():
            statuses = (["completed"] * tg.completed
                        + [r for r, k in tg.withdrawn.items() for _ in range(k)])
            for status in statuses:
                rows.append({"arm": arm, "status": "completed" if status == "completed"
                             else "withdrawn",
                             "withdrawal_reason": None if status == "completed" else status})
        df = pd.DataFrame(rows)
        df = df.iloc[rng.permutation(len(df))].reset_index(drop=True)
        width = max(3, len(str(len(df))))
        df["subject_id"] = [f"S{i + 1:0{width}d}" for i in range(len(df))]
        df["latent"] = rng.normal(size=len(df))
        # MSC came from both trials (32 of 79 from the combination trial), MSC+IFN-γ from one.
        late_msc = int(round(LATE_TRIAL_MSC * self.targets["MSC"].ratio))
        msc_idx = df.index[df.arm == "MSC"]
        late = set(rng.choice(msc_idx, size=late_msc, replace=False)) | set(
            df.index[df.arm == "MSC_IFNG"])
        df["study_id"] = [STUDY_IDS["late"] if i in late else STUDY_IDS["early"] for i in df.index]
        start = np.where(df.study_id == STUDY_IDS["early"],
                         date(2016, 6, 1).toordinal(), date(2017, 9, 1).toordinal())
        df["infusion"] = start + rng.integers(0, 330, size=len(df))
        self._exposure(df)
        return df

    def _exposure(self, df: pd.DataFrame) -> None:
        """Last visit and exposure per subject, fitted to the published person-years."""
        rng = self.rng
        df["last_visit"] = None
        df["exposure_days"] = 0
        for arm, tg in self.targets.items():
            wd = df.index[(df.arm == arm) & (df.status == "withdrawn")]
            for i in wd:
                # every withdrawal happens during the LTE, after Y1
                reason = df.at[i, "withdrawal_reason"]
                hi = VISIT_DAYS["Y2"] + 60 if (arm == "MSC_IFNG" and reason == "adverse_event") \
                    else VISIT_DAYS["Y4"]
                day = int(rng.integers(VISIT_DAYS["Y1"] + 40, hi))
                df.at[i, "exposure_days"] = day
                df.at[i, "last_visit"] = [v for v in VISITS if VISIT_DAYS[v] + 10 < day][-1]
            comp = df.index[(df.arm == arm) & (df.status == "completed")]
            target = round(tg.person_years * DAYS_PER_YEAR)
            need = target - df.loc[wd, "exposure_days"].sum()
            levels = np.array([VISIT_DAYS[v] for v in COMPLETER_LAST_VISITS])
            pick = rng.choice(len(levels), size=len(comp), p=[0.16, 0.2, 0.28, 0.2, 0.16])
            # move subjects between last-visit levels until the total is within reach of jitter
            for _ in range(100_000):
                gap = need - levels[pick].sum()
                if abs(gap) <= 3 * len(comp):
                    break
                if (pick == (len(levels) - 1 if gap > 0 else 0)).all():
                    break  # every subject at the last level the need calls for: no move left
                j = rng.integers(len(comp))
                if gap > 0 and pick[j] < len(levels) - 1:
                    pick[j] += 1
                elif gap < 0 and pick[j] > 0:
                    pick[j] -= 1
            days = levels[pick].copy()
            gap = need - days.sum()
            # spread the remainder over subjects as a few days' visit jitter
            share = np.full(len(comp), gap // len(comp))
            share[: gap - share.sum()] += 1
            days += share
            df.loc[comp, "exposure_days"] = days
            df.loc[comp, "last_visit"] = [COMPLETER_LAST_VISITS[p] for p in pick]
            assert df.loc[df.arm == arm, "exposure_days"].sum() == target

    # -- baseline ------------------------------------------------------------------------------
    def baseline(self, df: pd.DataFrame) -> pd.DataFrame:
        rng = self.rng
        cols = {c: np.zeros(len(df)) for c in
                ("age", "ra_duration_years", "esr", "crp", "haq_di", "tjc28", "sjc28",
                 "patient_global", "physician_global", "pain")}
        flags = {c: np.zeros(len(df), dtype=int) for c in
                 ("female", "rf_positive", "anti_ccp_positive", "prior_csdmard", "prior_bdmard",
                  "prior_nsaid", "prior_prednisone")}
        for arm, tg in self.targets.items():
            for status in ("completed", "withdrawn"):
                idx = np.flatnonzero(((df.arm == arm) & (df.status == status)).to_numpy())
                if len(idx) == 0:
                    continue
                n = len(idx)
                calibrate = status == "completed"
                spec = {  # characteristic: (draw, step, lo, hi)
                    "age": (rng.normal(47, 10, n), 1, 20, 75),
                    "ra_duration_years": (rng.gamma(2.8, 1.45, n), 0.1, 0.5, 14),
                    "esr": (rng.normal(46, 9, n), 0.1, 20, 90),
                    "crp": (rng.normal(24, 6, n), 0.1, 6, 45),
                    "haq_di": (rng.normal(1.6, 0.2, n), 0.125, 1.0, 2.375),
                }
                for name, (draw, step, lo, hi) in spec.items():
                    if calibrate:
                        mean, sd, dm, ds = tg.baseline[name]
                        cols[name][idx] = _calibrate(draw, mean, sd, dm, ds, step, lo, hi, rng,
                                                     f"baseline {name}, {arm}")
                    else:
                        cols[name][idx] = np.clip(np.round(draw / step) * step, lo, hi)
                draw = rng.normal(5.72, 0.52, n)
                if calibrate:
                    mean, sd, dm, ds = tg.baseline["das28_esr"]
                    draw = mean + sd * (draw - draw.mean()) / draw.std(ddof=1)
                # DAS28 rises with ESR: pair the draws by a noisy ESR rank
                key = np.argsort(np.argsort(cols["esr"][idx])) + rng.normal(0, n / 6, n)
                das_target = np.sort(draw)[np.argsort(np.argsort(key))]
                self._baseline_joints(cols, idx, das_target)
                if calibrate:
                    self._calibrate_das(cols, idx, tg.baseline["das28_esr"], arm)
                for j in idx:
                    pg = cols["patient_global"][j]
                    cols["physician_global"][j] = np.clip(round(pg + rng.normal(5, 8)), 20, 95)
                    cols["pain"][j] = np.clip(round(pg + rng.normal(8, 10)), 20, 100)
                # counts: exact among completers, similar proportions among the withdrawn
                for name in flags:
                    if name in ("prior_csdmard", "prior_nsaid"):
                        k = n
                    elif calibrate:
                        k = tg.counts[name]
                    else:
                        k = int(rng.binomial(n, tg.counts[name] / max(tg.completed, 1)))
                    flags[name][rng.choice(idx, size=k, replace=False)] = 1
        out = df.copy()
        for c, values in cols.items():
            out[f"bl_{c}"] = values
        for c, values in flags.items():
            out[c] = values
        return out

    def _baseline_joints(self, cols, idx, das_target):
        """Joint counts and patient global that give each subject its baseline DAS28-ESR, or
        the nearest DAS28 its ESR allows (a tail draw beside an extreme ESR has none exact)."""
        rng = self.rng
        for j, das in zip(idx, das_target):
            esr = cols["esr"][j]
            pg_needed = _pg_for_das(das, esr)
            fits = np.flatnonzero((pg_needed >= 10) & (pg_needed <= 95))
            if len(fits) == 0:
                k = int(np.argmin(np.abs(_JOINT_DAS + 0.70 * np.log(esr)
                                         + 0.014 * np.clip(pg_needed, 10, 95) - das)))
                tjc, sjc, pg = _JOINT_TJC[k], _JOINT_SJC[k], np.clip(pg_needed[k], 10, 95)
            else:
                for attempt in range(4000):
                    wide = attempt > 2000  # rare extremes: a low DAS28 with a high ESR
                    tjc = int(rng.integers(3 if wide else 4, 22))
                    sjc = int(rng.integers(2, min(tjc, 16) + 1))
                    rest = das - 0.56 * np.sqrt(tjc) - 0.28 * np.sqrt(sjc) - 0.70 * np.log(esr)
                    pg = round(rest / 0.014)
                    if (10 if wide else 22) <= pg <= 95:
                        break
                else:  # a narrow fit the random draws missed
                    k = fits[rng.integers(len(fits))]
                    tjc, sjc, pg = _JOINT_TJC[k], _JOINT_SJC[k], pg_needed[k]
            cols["tjc28"][j], cols["sjc28"][j], cols["patient_global"][j] = tjc, sjc, pg

    def _calibrate_das(self, cols, idx, target, arm):
        mean, sd, dm, ds = target
        t, s, e = cols["tjc28"][idx], cols["sjc28"][idx], cols["esr"][idx]
        pg = cols["patient_global"][idx].copy()
        pg = _local_search(
            pg, lambda p: (_das28(t, s, e, p).mean(), _das28(t, s, e, p).std(ddof=1)),
            (mean, sd), (dm, ds), 1, 25, 98, self.rng)
        offset = 0.56 * np.sqrt(t) + 0.28 * np.sqrt(s) + 0.70 * np.log(e)
        cols["patient_global"][idx] = _finish_mean_sd(pg, 1, 25, 98, offset, 0.014, (mean, sd),
                                                      (dm, ds), f"baseline das28_esr, {arm}")

    # -- efficacy states -----------------------------------------------------------------------
    def states(self, df: pd.DataFrame, forced: dict, boosted: set) -> dict:
        """Target (ACR level, DAS28 category) per subject and post-baseline visit."""
        rng = self.rng
        targets = {}
        for arm, tg in self.targets.items():
            comp = df[(df.arm == arm) & (df.status == "completed")]
            for visit in KEY_VISITS + LATE_VISITS:
                present = comp[[VISIT_DAYS[visit] <= VISIT_DAYS[lv]
                                for lv in comp.last_visit]]
                if visit in KEY_VISITS:
                    k = tg.plan[visit]
                else:  # beyond Y5: the Y5 proportions among those still followed
                    k = {e: int(round(c * len(present) / tg.completed))
                         for e, c in tg.plan["Y5"].items()}
                score = present.latent.to_numpy() + rng.normal(0, 0.35, len(present))
                score += np.array([8.0 if s in boosted else 0.0 for s in present.subject_id])
                order = list(present.subject_id.to_numpy()[np.argsort(-score)])
                f = [s for s in order if s in forced.get((arm, visit), set())]
                targets.update(self._cut(order, f, k, visit, arm))
            wd = df[(df.arm == arm) & (df.status == "withdrawn")]
            for row in wd.itertuples():
                for visit in VISITS[1:VISITS.index(row.last_visit) + 1]:
                    if row.withdrawal_reason == "adverse_event" and arm == "MSC_IFNG":
                        level = 0  # the two who withdrew with autoimmune disease: no ACR20
                    elif row.withdrawal_reason == "lack_of_efficacy":
                        level = 20 if rng.random() < 0.15 else 0
                    else:
                        level = int(rng.choice((0, 20, 50), p=(0.55, 0.35, 0.1)))
                    targets[(row.subject_id, visit)] = (level, self._non_lda_category(
                        level, visit, arm))
        return targets

    def _non_lda_category(self, level: int, visit: str, arm: str) -> str:
        if level > 0:
            return "moderate"
        p_high = {"M1": 0.65, "M3": 0.5}.get(visit, 0.35 if arm == "MSC" else 0.2)
        return "high" if self.rng.random() < p_high else "moderate"

    def _cut(self, order, forced, k, visit, arm):
        """Nested response sets from a ranking: REM ⊂ LDA ⊂ ACR50 ⊂ ACR20, REM ⊂ ACR70 ⊂ ACR50."""
        def take(pool, exclude, m):
            return [s for s in pool if s not in exclude][:max(m, 0)]

        rem = order[:k["DAS28_REM"]]
        lda = list(dict.fromkeys(rem + forced))
        lda += take(order, set(lda), k["DAS28_LDA"] - len(lda))
        a70 = rem + take(order, set(rem), k["ACR70"] - len(rem))
        a50 = list(dict.fromkeys(lda + a70))
        a50 += take(order, set(a50), k["ACR50"] - len(a50))
        a20 = a50 + take(order, set(a50), k["ACR20"] - len(a50))
        for endpoint, got in (("DAS28_LDA", lda), ("ACR50", a50), ("ACR20", a20)):
            if len(got) != k[endpoint]:  # the scaled counts or the taper windows do not nest
                _relax(f"{endpoint} responders, {arm} completers at {visit}", f"{k[endpoint]}",
                       f"{len(got)}", f"the response sets nest (REM within LDA within ACR50 "
                       f"within ACR20), and {len(forced)} tapering subjects must be in LDA")
        out = {}
        sets = (set(rem), set(lda), set(a70), set(a50), set(a20))
        for s in order:
            level = 70 if s in sets[2] else 50 if s in sets[3] else 20 if s in sets[4] else 0
            cat = ("remission" if s in sets[0] else "low" if s in sets[1]
                   else self._non_lda_category(level, visit, arm))
            out[(s, visit)] = (level, cat)
        return out

    # -- components ----------------------------------------------------------------------------
    def components(self, base: pd.DataFrame, targets: dict) -> pd.DataFrame:
        """Raw visit values whose derived ACR level and DAS28 category hit each target."""
        rng = self.rng
        keys = list(targets)
        todo = pd.DataFrame({"subject_id": [k[0] for k in keys], "visit": [k[1] for k in keys],
                             "level": [targets[k][0] for k in keys],
                             "cat": [targets[k][1] for k in keys]})
        todo = todo.merge(base, on="subject_id", how="left")
        con = duckdb.connect()
        subjects = base[["subject_id", "arm"]].assign(infusion_date=pd.Timestamp("2020-01-01"))
        con.register("subjects", subjects)
        bl_rows = pd.DataFrame({"subject_id": base.subject_id, "visit": "BL",
                                **{c: base[f"bl_{c}"] for c in _COMPONENT_COLS}})
        done = []
        for attempt in range(400):
            if attempt == 60:  # 'high' is out of reach from a low baseline: settle for moderate
                todo.loc[todo.cat == "high", "cat"] = "moderate"
            cand = self._propose(todo, rng, esr_bounded=attempt >= ESR_BOUNDED_FROM)
            frame = pd.concat([bl_rows, cand[["subject_id", "visit", *_COMPONENT_COLS]]])
            frame["visit_date"] = pd.Timestamp("2020-01-01")
            con.register("visits", frame)
            con.execute(VISIT_MEASURES_SQL)
            got = con.execute("""SELECT subject_id, visit, das28_esr, das28_category,
                    CASE WHEN acr70 THEN 70 WHEN acr50 THEN 50 WHEN acr20 THEN 20
                         WHEN acr20 = FALSE THEN 0 END AS level
                FROM visit_measures WHERE visit <> 'BL'""").df()
            cand = cand.merge(got, on=["subject_id", "visit"], how="left")
            margin = np.min(np.abs(cand.das28_esr.to_numpy()[:, None]
                                   - np.array([2.6, 3.2, 5.1])[None, :]), axis=1)
            ok = ((cand.level == cand.level_target) & (cand.das28_category == cand.cat)
                  & (margin > 0.02) & cand.esr.between(*ESR_RANGE)).to_numpy()
            done.append(cand[ok])
            todo = todo.loc[todo.index[~ok]].reset_index(drop=True)
            if todo.empty:
                break
        else:
            raise RuntimeError(f"{len(todo)} visits found no components, e.g. "
                               f"{todo.head(3)[['subject_id', 'visit', 'level', 'cat']]}")
        con.close()
        return pd.concat(done)[["subject_id", "visit", *_COMPONENT_COLS]]

    def _propose(self, todo: pd.DataFrame, rng, esr_bounded: bool = False) -> pd.DataFrame:
        """Candidate raw values for each visit of ``todo``. With ``esr_bounded``, the DAS28 is
        drawn only where an ESR within :data:`ESR_RANGE` reaches it: a responder with few
        baseline joints and a low patient global sits at 0 joints, so the upper part of a
        'moderate' range would need an ESR of several hundred mm/h, and the draw never lands
        (seed 1 at 11,000 subjects: an ACR70 'moderate' visit of a subject with 3 joints)."""
        n = len(todo)
        level = todo.level.to_numpy()
        cat = todo.cat.to_numpy()
        lo_by = {0: -0.15, 20: 0.2, 50: 0.5, 70: 0.7}
        hi_by = {0: 0.18, 20: 0.48, 50: 0.68, 70: 1.0}
        lo = np.array([lo_by[x] for x in level])
        hi = np.array([hi_by[x] for x in level])
        deep = np.isin(cat, ("low", "remission"))
        lo_j = np.where(deep, np.maximum(lo, 0.6), lo)
        lo_j = np.where(cat == "remission", 0.85, lo_j)
        hi_j = np.where(deep, 1.0, hi)

        def joints(col):
            f = rng.uniform(lo_j, hi_j)
            return np.clip(np.round(todo[f"bl_{col}"].to_numpy() * (1 - f)), 0, 28)

        out = pd.DataFrame({"subject_id": todo.subject_id, "visit": todo.visit,
                            "level_target": level, "cat": cat})
        out["tjc28"] = joints("tjc28")
        out["sjc28"] = joints("sjc28")
        # ACR core set: for a responder, 3-5 components reach its level, the rest fall short
        n_meet = rng.integers(3, 6, size=n)
        rank = rng.permuted(np.tile(np.arange(5), (n, 1)), axis=1)
        meets = rank < n_meet[:, None]
        nxt = np.array([{0: 0.2, 20: 0.5, 50: 0.7, 70: 0.95}[x] for x in level])
        f_meet = rng.uniform(lo[:, None], np.maximum(nxt, lo + 0.05)[:, None], size=(n, 5))
        f_miss = rng.uniform(-0.1, np.maximum(lo - 0.03, 0.0)[:, None], size=(n, 5))
        f_none = rng.uniform(-0.12, 0.35, size=(n, 5))
        f = np.where(level[:, None] == 0, f_none, np.where(meets, f_meet, f_miss))
        for i, col in enumerate(("patient_global", "physician_global", "pain", "haq_di", "crp")):
            b = todo[f"bl_{col}"].to_numpy()
            v = b * (1 - f[:, i])
            if col == "haq_di":
                v = np.clip(np.round(v / 0.125) * 0.125, 0, 3)
            elif col == "crp":
                v = np.clip(np.round(v, 1), 0.1, 200)
            else:
                v = np.clip(np.round(v), 0, 100)
            out[col] = v
        lo_d = np.array([DAS_RANGES[c][0] for c in cat])
        hi_d = np.array([DAS_RANGES[c][1] for c in cat])
        # responders sit in the lower part of 'moderate', non-responders in the upper part
        lo_d = np.where((cat == "moderate") & (level >= 50), 3.3, lo_d)
        hi_d = np.where((cat == "moderate") & (level >= 50), 4.3, hi_d)
        lo_d = np.where((cat == "moderate") & (level == 20), 3.5, lo_d)
        lo_d = np.where((cat == "moderate") & (level == 0), 4.1, lo_d)
        hi_d = np.where((cat == "moderate") & (level == 0), 5.05, hi_d)
        if esr_bounded:
            joints_pg = (0.56 * np.sqrt(out.tjc28) + 0.28 * np.sqrt(out.sjc28)
                         + 0.014 * out.patient_global).to_numpy()
            # the range narrowed to what ESR allows; 0.03 above each cut-off (margin 0.02)
            lo_d = np.maximum(np.minimum(lo_d, np.select(
                [cat == "moderate", cat == "high", cat == "low"], [3.23, 5.13, 2.63], lo_d)),
                joints_pg + 0.70 * np.log(ESR_RANGE[0]) + 0.01)
            hi_d = np.maximum(np.minimum(hi_d, joints_pg + 0.70 * np.log(ESR_RANGE[1]) - 0.01),
                              lo_d)
        das = rng.uniform(lo_d, hi_d)
        rest = (das - 0.56 * np.sqrt(out.tjc28) - 0.28 * np.sqrt(out.sjc28)
                - 0.014 * out.patient_global)
        out["esr"] = np.round(np.exp(rest / 0.70), 1)
        return out

    # -- visits --------------------------------------------------------------------------------
    def visit_dates(self, df: pd.DataFrame) -> dict:
        """Visit day per (subject, visit): nominal day plus jitter; the last visit closes the
        subject's exposure exactly (completers)."""
        rng = self.rng
        days = {}
        for row in df.itertuples():
            last = row.last_visit
            for v in VISITS[: VISITS.index(last) + 1]:
                day = VISIT_DAYS[v] + (int(rng.integers(-6, 7)) if v != "BL" else 0)
                if v in ("M3", "M6"):  # keep the 12-week spacing the taper rule reads
                    day = VISIT_DAYS[v]
                days[(row.subject_id, v)] = day
            if row.status == "completed":
                days[(row.subject_id, last)] = int(row.exposure_days)
            elif days[(row.subject_id, last)] >= row.exposure_days:
                days[(row.subject_id, last)] = int(row.exposure_days) - 5
        return days


_COMPONENT_COLS = ("tjc28", "sjc28", "esr", "crp", "patient_global", "physician_global", "pain",
                   "haq_di")


# ---------------------------------------------------------------------------------------------
# medications
# ---------------------------------------------------------------------------------------------
@dataclass
class _MedPlan:
    """Who stops what and when; the windows force DAS28 < 3.2 where a taper step needs it."""

    pred_users: set = field(default_factory=set)  # completers on prednisone at baseline
    forced: dict = field(default_factory=dict)  # (arm, visit) -> subjects that must be LDA
    boosted: set = field(default_factory=set)  # subjects held in remission (drug-free)
    # (subject, class, taper window visits or None during the RCT, visit the stop precedes)
    stops: list = field(default_factory=list)


def _plan_medications(gen: _Generator, df: pd.DataFrame) -> _MedPlan:
    rng = gen.rng
    plan = _MedPlan()
    for arm, tg in gen.targets.items():
        comp = df[(df.arm == arm) & (df.status == "completed")].sort_values(
            "latent", ascending=False)
        ids = list(comp.subject_id)
        m = tg.medications
        prior = list(comp.subject_id[comp.prior_prednisone == 1])
        pred_users = list(rng.choice(prior, size=m[("prednisone", "BL")], replace=False))
        pred_users.sort(key=ids.index)
        n_rct = m[("prednisone", "BL")] - m[("prednisone", "Y1")]
        n_early = m[("prednisone", "Y1")] - m[("prednisone", "Y3")]
        n_late = m[("prednisone", "Y3")] - m[("prednisone", "Y5")]
        drug_free = ids[0] if arm == "MSC_IFNG" else None
        # LTE stoppers come from the better responders still on prednisone after the RCT
        candidates = [s for s in pred_users if s != drug_free][: max(20, n_early + n_late + 7)]
        lte = list(rng.choice(candidates, size=n_early + n_late, replace=False))
        rest = [s for s in pred_users if s not in lte and s != drug_free]
        w = np.array([np.exp(-ids.index(s) / len(ids)) for s in rest])
        rct = list(rng.choice(rest, size=n_rct - (drug_free in pred_users), replace=False,
                              p=w / w.sum()))
        if drug_free in pred_users:
            rct.append(drug_free)
        early_windows = [("M18", "Y2"), ("Y2", "M30")]
        late_windows = [("Y3", "M42"), ("M42", "Y4"), ("Y4", "M54")]
        for i, s in enumerate(lte):
            windows, k = (early_windows, i) if i < n_early else (late_windows, i - n_early)
            win = windows[k % len(windows)]
            plan.stops.append((s, "prednisone", win, "Y3" if i < n_early else "Y5"))
            for v in win:
                plan.forced.setdefault((arm, v), set()).add(s)
        for s in rct:
            plan.stops.append((s, "prednisone", None, "Y1"))
        plan.pred_users.update(pred_users)
        if drug_free:
            plan.boosted.add(drug_free)
    return plan


def _medication_rows(gen: _Generator, df: pd.DataFrame, plan: _MedPlan, day_of: dict,
                     das: dict) -> list[dict]:
    rng = gen.rng
    rows = []
    info = df.set_index("subject_id")
    pred_users = plan.pred_users
    stop_day = {}
    for s, cls, win, by in plan.stops:
        if win is None:  # during the RCT: before the Y1 visit
            hi = day_of[(s, "Y1")] - 10
            stop_day[(s, cls)] = int(rng.integers(60, hi))
        else:
            after = day_of[(s, win[1])] + int(rng.integers(14, 60))
            assert das[(s, win[0])] < 3.2 and das[(s, win[1])] < 3.2
            limit = day_of[(s, by)] - 7
            stop_day[(s, cls)] = min(after, limit)
    drug_free = next(iter(plan.boosted), None)
    if drug_free:
        m6 = day_of[(drug_free, "M6")]
        stop_day[(drug_free, "prednisone")] = m6 + 7
        stop_day[(drug_free, "NSAID")] = m6 + 50
        stop_day[(drug_free, "csDMARD")] = m6 + 110

    def add(s, cls, name, start, end):
        inf = info.at[s, "infusion"]
        rows.append({"subject_id": s, "drug_class": cls, "drug_name": name,
                     "start_date": _iso(date.fromordinal(int(inf + start))),
                     "end_date": "" if end is None else _iso(date.fromordinal(int(inf + end)))})

    for arm, tg in gen.targets.items():
        m = tg.medications
        sub = df[df.arm == arm].sort_values("latent", ascending=False)
        comp_ids = list(sub[sub.status == "completed"].subject_id)
        all_ids = list(sub.subject_id)
        # csDMARDs: everyone at baseline; MSC+IFN-γ: two stop during the RCT
        cs_stop = set()
        if m[("csDMARD", "Y1")] < m[("csDMARD", "BL")]:
            k = m[("csDMARD", "BL")] - m[("csDMARD", "Y1")]
            cs_stop = {drug_free} | set(comp_ids[1:k]) if drug_free else set(comp_ids[:k])
        # biologics
        prior_b = [s for s in comp_ids if info.at[s, "prior_bdmard"]]
        b_users = list(rng.choice(prior_b, size=m[("bDMARD", "BL")], replace=False))
        # who stops csDMARDs keeps a biologic as monotherapy
        monotherapy = [s for s in comp_ids if s in cs_stop - {drug_free}]
        missing = [s for s in monotherapy if s not in b_users]
        for slot, s in zip(range(len(b_users) - 1, -1, -1), missing):
            b_users[slot] = s
        b_keep = [s for s in b_users if s in monotherapy][: m[("bDMARD", "Y1")]]
        others = [s for s in b_users if s not in b_keep]
        b_keep += list(rng.choice(others, size=m[("bDMARD", "Y1")] - len(b_keep), replace=False))
        n_switch = max(0, m[("bDMARD", "Y1")] - m[("bDMARD", "Y3")])
        switchers = [s for s in b_keep if s not in cs_stop][:n_switch]
        non_b_y3 = [s for s in reversed(comp_ids) if s not in b_keep and s not in cs_stop]
        n_b_new = max(0, m[("bDMARD", "Y5")] - m[("bDMARD", "Y3")])
        b_new = non_b_y3[:n_b_new]
        ts_y3_new = max(0, m[("tsDMARD", "Y3")] - len(switchers))
        ts_y5_new = max(0, m[("tsDMARD", "Y5")] - m[("tsDMARD", "Y3")])
        pool = [s for s in non_b_y3 if s not in b_new]
        ts_early = pool[:ts_y3_new]
        ts_late = pool[ts_y3_new: ts_y3_new + ts_y5_new]
        for s in all_ids:
            completer = s in comp_ids
            inf = info.at[s, "infusion"]
            pre = -int(rng.integers(90, 1500))
            # csDMARD
            cs_end = stop_day.get((s, "csDMARD"))
            if completer and s in cs_stop and cs_end is None:
                cs_end = int(rng.integers(200, day_of[(s, "Y1")] - 10))
            add(s, "csDMARD", "methotrexate" if rng.random() < 0.8 else "leflunomide", pre, cs_end)
            if rng.random() < 0.3:
                add(s, "csDMARD", "hydroxychloroquine", pre + int(rng.integers(0, 60)), cs_end)
            # NSAID: most at baseline; some stop during the RCT, after any prednisone stop
            if rng.random() < 0.85 or s == drug_free:
                end = stop_day.get((s, "NSAID"))
                if end is None and completer and rng.random() < 0.25 and (
                        s not in pred_users or (s, "prednisone") in stop_day):
                    p_end = stop_day.get((s, "prednisone"), 30)
                    if p_end < day_of[(s, "Y1")] - 40:
                        end = int(rng.integers(p_end + 14, day_of[(s, "Y1")] - 10))
                add(s, "NSAID", ("celecoxib", "meloxicam", "diclofenac")[int(rng.integers(3))],
                    pre, end)
            # prednisone
            if completer and s in pred_users:
                add(s, "prednisone", "prednisone", pre, stop_day.get((s, "prednisone")))
            elif not completer and info.at[s, "prior_prednisone"] and rng.random() < 0.9:
                add(s, "prednisone", "prednisone", pre,
                    int(rng.integers(60, 330)) if rng.random() < 0.35 else None)
            # biologics
            bname = ("etanercept", "adalimumab", "tocilizumab", "infliximab")[int(rng.integers(4))]
            if completer and s in b_users:
                if s in switchers:  # switch to a tsDMARD after its approval, before Y3
                    lo_day = max(day_of[(s, "Y1")] + 30, TS_APPROVAL.toordinal() - inf + 1)
                    sw = int(rng.integers(lo_day, day_of[(s, "Y3")] - 30))
                    add(s, "bDMARD", bname, pre, sw)
                    add(s, "tsDMARD", "tofacitinib", sw + int(rng.integers(7, 28)), None)
                elif s in b_keep:
                    add(s, "bDMARD", bname, pre, None)
                else:
                    add(s, "bDMARD", bname, pre, int(rng.integers(40, day_of[(s, "Y1")] - 10)))
            elif not completer and info.at[s, "prior_bdmard"] and rng.random() < 0.4:
                add(s, "bDMARD", bname, pre, None)
            if s in b_new:
                add(s, "bDMARD", bname, int(rng.integers(day_of[(s, "Y3")] + 20,
                                                         day_of[(s, "Y5")] - 20)), None)
            for group, lo_v, hi_v in ((ts_early, "Y1", "Y3"), (ts_late, "Y3", "Y5")):
                if s in group:
                    lo_day = max(day_of[(s, lo_v)] + 20, TS_APPROVAL.toordinal() - inf + 1)
                    add(s, "tsDMARD", ("tofacitinib", "baricitinib")[int(rng.integers(2))],
                        int(rng.integers(lo_day, day_of[(s, hi_v)] - 20)), None)
    return rows


# ---------------------------------------------------------------------------------------------
# adverse events
# ---------------------------------------------------------------------------------------------
SOC = {
    "inf": "Infections and infestations",
    "inv": "Investigations",
    "gen": "General disorders and administration site conditions",
    "ner": "Nervous system disorders",
    "gas": "Gastrointestinal disorders",
    "vas": "Vascular disorders",
    "skn": "Skin and subcutaneous tissue disorders",
    "psy": "Psychiatric disorders",
    "mus": "Musculoskeletal and connective tissue disorders",
    "res": "Respiratory, thoracic and mediastinal disorders",
    "bld": "Blood and lymphatic system disorders",
    "hep": "Hepatobiliary disorders",
    "inj": "Injury, poisoning and procedural complications",
    "met": "Metabolism and nutrition disorders",
    "car": "Cardiac disorders",
    "eye": "Eye disorders",
}
# (preferred term, SOC, relative frequency) of the common non-serious events
COMMON_AES = [
    ("Upper respiratory tract infection", "inf", 18), ("Nasopharyngitis", "inf", 8),
    ("Urinary tract infection", "inf", 6), ("Herpes zoster", "inf", 3), ("Bronchitis", "inf", 4),
    ("Alanine aminotransferase increased", "inv", 7), ("Pyrexia", "gen", 5),
    ("Fatigue", "gen", 4), ("Headache", "ner", 5), ("Dizziness", "ner", 3),
    ("Nausea", "gas", 4), ("Diarrhoea", "gas", 3), ("Hypertension", "vas", 4),
    ("Rash", "skn", 3), ("Insomnia", "psy", 2), ("Back pain", "mus", 3), ("Cough", "res", 4),
    ("Anaemia", "bld", 2), ("Leukopenia", "bld", 2),
]
# Serious events: (arm, subject role, [(PT, SOC, category)]); the last event of a subject who
# withdrew for an adverse event is the one that led to the withdrawal.
SERIOUS_DESIGN = {
    "MSC": [
        ("ae_withdrawal", [("Anaemia", "bld", ""),
                           ("Systemic lupus erythematosus", "mus", "autoimmune disease")]),
        ("ae_withdrawal", [("Sjogren's syndrome", "mus", "autoimmune disease")]),
        ("ae_withdrawal", [("Interstitial lung disease", "res", ""),
                           ("Pneumonia", "inf", "infection")]),
        ("completer", [("Cellulitis", "inf", "infection"), ("Cholelithiasis", "hep", "")]),
        ("completer", [("Osteoarthritis", "mus", ""), ("Intervertebral disc protrusion", "mus", "")]),
        ("completer", [("Femur fracture", "inj", ""), ("Angina pectoris", "car", "")]),
    ],
    "MSC_IFNG": [
        ("ae_withdrawal", [("Thrombocytopenia", "bld", ""),
                           ("Systemic lupus erythematosus", "mus", "autoimmune disease")]),
        ("ae_withdrawal", [("Interstitial lung disease", "res", ""),
                           ("Sjogren's syndrome", "mus", "autoimmune disease")]),
    ],
}
NONSERIOUS_WITHDRAWAL_AE = ("Hepatic function abnormal", "hep")


def _adverse_events(gen: _Generator, df: pd.DataFrame) -> list[dict]:
    rng = gen.rng
    events = []  # (subject, pt, soc_key, onset_day, serious, category, severity, dur, outcome)
    for arm, tg in gen.targets.items():
        sub = df[df.arm == arm]
        ae_wd = list(sub[(sub.status == "withdrawn")
                         & (sub.withdrawal_reason == "adverse_event")].subject_id)
        comp = list(sub[sub.status == "completed"].subject_id)
        rng.shuffle(comp)
        exposure = dict(zip(sub.subject_id, sub.exposure_days))
        causing = {}
        n_serious = 0
        # the design's subjects again and again until the arm's count of serious events is
        # reached (the last one may have fewer events)
        for role, terms in itertools.cycle(SERIOUS_DESIGN[arm]):
            if n_serious >= tg.ae["sae_events"] or not (comp or ae_wd):
                break
            terms = terms[: tg.ae["sae_events"] - n_serious]
            s = ae_wd.pop() if role == "ae_withdrawal" and ae_wd or not comp else comp.pop()
            end = exposure[s]
            onsets = sorted(int(x) for x in rng.integers(60, end - 45, size=len(terms)))
            if role == "ae_withdrawal":
                onsets[-1] = end - int(rng.integers(5, 40))
                causing[s] = onsets[-1]
            for (pt, soc, cat), onset in zip(terms, onsets):
                last = role == "ae_withdrawal" and onset == onsets[-1]
                events.append((s, pt, soc, onset, 1, cat, "severe" if "lupus" in pt
                               or pt == "Pneumonia" else "moderate",
                               None if last else int(rng.integers(10, 60)),
                               "not recovered/not resolved" if last else "recovered/resolved"))
                n_serious += 1
        for s in ae_wd:  # withdrawals for a non-serious event
            onset = exposure[s] - int(rng.integers(10, 45))
            causing[s] = onset
            pt, soc = NONSERIOUS_WITHDRAWAL_AE
            events.append((s, pt, soc, onset, 0, "", "moderate", None,
                           "not recovered/not resolved"))
        if n_serious != tg.ae["sae_events"]:
            _relax(f"sae_events, {arm}", f"{tg.ae['sae_events']}", f"{n_serious}",
                   "too few subjects for one serious event each")
        # the most common AE: a transient fall in lymphocytes shortly after the infusion
        arm_ids = set(sub.subject_id)
        n_left = tg.ae["ae_events"] - sum(1 for e in events if e[0] in arm_ids)
        if n_left < 0:
            _relax(f"ae_events, {arm}", f"{tg.ae['ae_events']}", f"{tg.ae['ae_events'] - n_left}",
                   "every serious event and withdrawal for an adverse event is counted")
            n_left = 0
        n_lymph = int(round(n_left * 0.26))
        for s in rng.choice(sub.subject_id.to_numpy(), size=n_lymph, replace=False):
            events.append((s, "Lymphocyte count decreased", "inv", int(rng.integers(1, 10)), 0,
                           "", "mild" if rng.random() < 0.7 else "moderate",
                           int(rng.integers(7, 29)), "recovered/resolved"))
        # the rest spread over exposure, so rates stay flat over follow-up
        n_rest = n_left - n_lymph
        ids = sub.subject_id.to_numpy()
        w = sub.exposure_days.to_numpy().astype(float)
        who = rng.choice(ids, size=n_rest, p=w / w.sum())
        weights = np.array([x[2] for x in COMMON_AES], dtype=float)
        terms = rng.choice(len(COMMON_AES), size=n_rest, p=weights / weights.sum())
        for s, ti in zip(who, terms):
            pt, soc, _ = COMMON_AES[ti]
            hi = causing.get(s, exposure[s]) - 1
            onset = int(rng.integers(15, max(hi, 16)))
            dur = int(rng.integers(3, 30))
            ongoing = onset + dur > exposure[s]
            events.append((s, pt, soc, onset, 0, "infection" if soc == "inf" else "",
                           "mild" if rng.random() < 0.75 else "moderate",
                           None if ongoing else dur,
                           "recovering/resolving" if ongoing else "recovered/resolved"))
    info = df.set_index("subject_id")
    events.sort(key=lambda e: (e[0], e[3], e[1]))
    rows = []
    for i, (s, pt, soc, onset, serious, cat, sev, dur, outcome) in enumerate(events):
        inf = info.at[s, "infusion"]
        rows.append({"subject_id": s, "ae_id": f"AE{i + 1:05d}", "pt": pt, "soc": SOC[soc],
                     "onset_date": _iso(date.fromordinal(int(inf + onset))),
                     "end_date": "" if dur is None else _iso(
                         date.fromordinal(int(inf + min(onset + dur, info.at[s,
                                                                             "exposure_days"])))),
                     "serious": serious, "severity": sev, "outcome": outcome, "category": cat})
    return rows


# ---------------------------------------------------------------------------------------------
# assembly
# ---------------------------------------------------------------------------------------------
def generate(seed: int = DEFAULT_SEED, subjects: int | None = None) -> dict[str, pd.DataFrame]:
    """The four raw tables of a synthetic cohort, as the data contract defines them.

    ``seed``: any integer >= 0. ``subjects``: MIN_SUBJECTS to MAX_SUBJECTS (default: the
    published 110). A target that cannot be met exactly at this size emits a
    :class:`SynthRelaxed` warning naming the figure; the cohort is built all the same."""
    check_arguments(seed, subjects)
    gen = _Generator(seed, subjects)
    df = gen.baseline(gen.roster())
    plan = _plan_medications(gen, df)
    targets = gen.states(df, plan.forced, plan.boosted)
    comps = gen.components(df, targets)
    days = gen.visit_dates(df)
    info = df.set_index("subject_id")

    # raw visits
    bl = pd.DataFrame({"subject_id": df.subject_id, "visit": "BL",
                       **{c: df[f"bl_{c}"] for c in _COMPONENT_COLS}})
    visits = pd.concat([bl, comps], ignore_index=True)
    visits["day"] = [days[(s, v)] for s, v in zip(visits.subject_id, visits.visit)]
    das = dict(zip(zip(visits.subject_id, visits.visit),
                   _das28(visits.tjc28, visits.sjc28, visits.esr, visits.patient_global)))
    meds = _medication_rows(gen, df, plan, days, das)
    complete = visits
    for _attempt in range(50):
        visits = _missing_values(gen, complete, plan)
        # the limits are the paper's, for its sample size; a scaled cohort keeps proportions
        if gen.scale != 1 or _limits_hold(visits, df):
            break
    else:
        _relax("ACR50/ACR70 and DAS28_REM at Y1, MSC vs MSC_IFNG completers",
               "Fisher p >= 0.05 (STUDY.md limits)", "p < 0.05 somewhere",
               "no draw of missed visits kept every chosen cell within the limits")
    visits["visit_date"] = [_iso(date.fromordinal(int(info.at[s, "infusion"] + d)))
                            for s, d in zip(visits.subject_id, visits.day)]
    order = {v: i for i, v in enumerate(VISITS)}
    visits = visits.assign(o=visits.visit.map(order)).sort_values(["subject_id", "o"])

    subjects_tbl = pd.DataFrame({
        "subject_id": df.subject_id, "study_id": df.study_id, "arm": df.arm,
        "sex": np.where(df.female == 1, "F", "M"), "age": df.bl_age.astype(int),
        "ra_duration_years": df.bl_ra_duration_years.round(1),
        **{c: df[c] for c in ("rf_positive", "anti_ccp_positive", "prior_csdmard",
                              "prior_bdmard", "prior_nsaid", "prior_prednisone")},
        "infusion_date": [_iso(date.fromordinal(int(d))) for d in df.infusion],
        "status": df.status,
        "withdrawal_date": [_iso(date.fromordinal(int(i + e))) if s == "withdrawn" else ""
                            for i, e, s in zip(df.infusion, df.exposure_days, df.status)],
        "withdrawal_reason": df.withdrawal_reason.fillna(""),
        "last_assessment_date": [_iso(date.fromordinal(int(i + e)))
                                 for i, e in zip(df.infusion, df.exposure_days)],
    }).sort_values("subject_id")
    tables = {
        "subjects": subjects_tbl,
        "visits": visits[TABLES["visits"].column_names],
        "adverse_events": pd.DataFrame(_adverse_events(gen, df)),
        "medications": pd.DataFrame(meds).sort_values(
            ["subject_id", "drug_class", "start_date", "drug_name"], kind="stable"),
    }
    return {name: t[TABLES[name].column_names].reset_index(drop=True)
            for name, t in tables.items()}


def check_arguments(seed: int, subjects: int | None) -> None:
    """Raise ValueError, in words, for a seed or size the generator does not take."""
    if seed < 0:
        raise ValueError(f"the seed must be 0 or more, not {seed}")
    if subjects is not None and not MIN_SUBJECTS <= subjects <= MAX_SUBJECTS:
        raise ValueError(f"the number of subjects must be {MIN_SUBJECTS} to {MAX_SUBJECTS}, "
                         f"not {subjects}")


def _limits_hold(visits: pd.DataFrame, df: pd.DataFrame) -> bool:
    """STUDY.md's limits on the chosen cells, among completers at every time point: ACR50 and
    ACR70 do not differ between arms (Fisher p >= 0.05), nor does remission at Y1."""
    from .stats import fisher_exact_p

    con = duckdb.connect()
    con.register("subjects", df[["subject_id", "arm"]].assign(
        infusion_date=pd.Timestamp("2020-01-01"), status=df.status))
    con.register("visits", visits.assign(visit_date=pd.Timestamp("2020-01-01")))
    con.execute(VISIT_MEASURES_SQL)
    counts = con.execute("""
        SELECT visit, arm, count(acr50) AS n50, sum(acr50::INT) AS k50,
            count(acr70) AS n70, sum(acr70::INT) AS k70,
            count(das28_rem) AS nr, sum(das28_rem::INT) AS kr
        FROM visit_measures JOIN subjects USING (subject_id, arm)
        WHERE status = 'completed' AND visit <> 'BL' GROUP BY ALL""").df()
    con.close()
    for visit, g in counts.groupby("visit"):
        a, b = (g[g.arm == arm].iloc[0] for arm in ARMS)
        tests = [("k50", "n50"), ("k70", "n70")] + ([("kr", "nr")] if visit == "Y1" else [])
        for k, n in tests:
            if fisher_exact_p(int(a[k]), int(a[n]), int(b[k]), int(b[n])) < 0.05:
                return False
    return True


def _missing_values(gen: _Generator, visits: pd.DataFrame, plan: _MedPlan) -> pd.DataFrame:
    """A few missed interim visits and missing measurements, away from taper windows."""
    rng = gen.rng
    protected = {(s, v) for (_, v), subs in plan.forced.items() for s in subs}
    protected |= {(s, v) for s in plan.boosted for v in VISITS}
    interim = visits.visit.isin(INTERIM_VISITS).to_numpy() & np.array(
        [(s, v) not in protected for s, v in zip(visits.subject_id, visits.visit)])
    drop = interim & (rng.random(len(visits)) < 0.012)
    visits = visits[~drop].copy()
    interim = interim[~drop]
    for col in ("crp", "physician_global", "pain", "haq_di", "esr"):
        gone = interim & (rng.random(len(visits)) < 0.006)
        visits.loc[gone, col] = np.nan
    return visits


def _fmt(df: pd.DataFrame, name: str) -> pd.DataFrame:
    out = df.copy()
    for col in TABLES[name].columns:
        if col.kind in ("int", "flag") and col.name in out:
            out[col.name] = out[col.name].map(lambda x: "" if pd.isna(x) else str(int(x)))
        elif col.kind == "float" and col.name in out:
            out[col.name] = out[col.name].map(
                lambda x: "" if pd.isna(x) else f"{x:.3f}".rstrip("0").rstrip("."))
    return out


def write_cohort(out_dir: Path | str, seed: int = DEFAULT_SEED, subjects: int | None = None) -> None:
    """Write the four raw tables (CSV, UTF-8) and ``study.json`` into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, table in generate(seed, subjects).items():
        _fmt(table, name).to_csv(out_dir / f"{name}.csv", index=False, lineterminator="\n")
    meta = {"name": "Synthetic cohort calibrated to published aggregates", "synthetic": True,
            "seed": seed, "subjects": subjects or BASE_SUBJECTS,
            "built_at": "synthetic"}
    (out_dir / "study.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
