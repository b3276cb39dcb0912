"""Small numbers and what cannot be estimated: one convention for every analysis.

A comparison between arms prints a test or interval only when each arm has at least
``MIN_ARM_FOR_TEST`` subjects; below ``CAUTION_ARM_BELOW`` it is printed with a visible caution.
A quantity that cannot be estimated is NaN in the frame, with the reason (a catalogue key under
``not_estimable.``) beside it; displays show "not estimable" and the reason, never 0, inf or a
zero-width interval.
"""
from __future__ import annotations

from .i18n import t

MIN_ARM_FOR_TEST = 3      # fewer subjects in an arm: no test, no CI for the comparison
CAUTION_ARM_BELOW = 10    # fewer subjects in an arm: the comparison carries a caution
CAUTION_MARK = "†"        # in a table, beside a comparison that carries the caution

# reason code -> catalogue key; analyses store the code, displays translate it
NOT_ESTIMABLE_REASONS = (
    "arm_too_small",      # an arm has fewer than MIN_ARM_FOR_TEST subjects
    "no_subjects",        # an arm is empty
    "no_events",          # no event in either arm (log-rank, Cox)
    "monotone_likelihood",  # Cox partial likelihood has no finite maximum
    "not_converged",      # an iterative fit did not converge
    "undefined_bound",    # a confidence limit is undefined (e.g. KM at 0 or 1)
    "not_reached",        # the curve does not cross the quantile
    "no_reference_events",  # rate ratio: no event in the reference arm (ratio and bound infinite)
    "no_trend_estimate",  # Poisson trend: all events in the first or the last year
    "too_few_years",      # Poisson trend: fewer than two years with exposure
    "no_information",     # the log-rank variance is 0 (no event time informs the comparison)
    "no_cif_test",        # no between-arm test of cumulative incidence (Gray's test) available
    "too_few_to_cluster",  # fewer subjects than clustering needs (analytics.clusters)
    "separation",         # a logistic fit's data are separated (a cell all 0 or all 1)
    "single_level",       # a subgroup has one level only: no interaction to test
    "ci_includes_null",   # a planner's conservative CI end is at or past no effect
    "rate_at_bound",      # a planner's response rate of 0 or 1: no finite effect size
)


def arms_too_small(n_per_arm: dict) -> bool:
    """True when some arm is below the minimum for a test or CI."""
    return min(n_per_arm.values(), default=0) < MIN_ARM_FOR_TEST


def untestable_reason(n_per_arm: dict) -> str:
    """Why a between-arm test or CI cannot be given ('no_subjects', 'arm_too_small'), or ''."""
    smallest = min(n_per_arm.values(), default=0)
    if smallest == 0:
        return "no_subjects"
    return "arm_too_small" if smallest < MIN_ARM_FOR_TEST else ""


def needs_caution(n_per_arm: dict) -> bool:
    """True when some arm is small enough that the comparison needs a caution."""
    return min(n_per_arm.values(), default=0) < CAUTION_ARM_BELOW


def reason_text(reason: str, lang: str) -> str:
    """The reader's words for a reason code."""
    if reason not in NOT_ESTIMABLE_REASONS:
        raise ValueError(f"unknown not-estimable reason {reason!r}")
    return t(f"not_estimable.{reason}", lang, min_n=MIN_ARM_FOR_TEST)


def not_estimable(reason: str, lang: str) -> str:
    """'not estimable (reason)' for a table cell or a footnote."""
    return t("not_estimable.label", lang, reason=reason_text(reason, lang))


def small_arm_caution(n_per_arm: dict, lang: str) -> str:
    """The caution sentence for a comparison with a small arm, or '' when none is needed."""
    if not needs_caution(n_per_arm):
        return ""
    smallest = min(n_per_arm.values())
    if smallest == 1:  # English agrees in number
        return t("caution.small_arm.one", lang, threshold=CAUTION_ARM_BELOW)
    return t("caution.small_arm", lang, n=smallest, threshold=CAUTION_ARM_BELOW)


def small_numbers_note(df, lang: str) -> str:
    """The caution mark's meaning and why some comparisons give no test or CI ('' if none);
    ``df`` (a DataFrame) has the columns ``caution`` and ``not_estimable``."""
    parts = []
    if df["caution"].any():
        parts.append(t("efficacy.footnote.caution_mark", lang, mark=CAUTION_MARK,
                       threshold=CAUTION_ARM_BELOW))
    for reason in dict.fromkeys(r for r in df["not_estimable"] if r):
        parts.append(t("efficacy.footnote.not_estimable", lang,
                       text=not_estimable(reason, lang)))
    return " ".join(parts)
