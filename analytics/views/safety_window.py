"""The year-of-follow-up window that every safety view offers."""
from __future__ import annotations

from ..safety import follow_up_years
from .base import Control, ControlSlot, Note


def _years(study, values: dict) -> tuple[int, ...]:
    # whole years up to the safety population's longest exposure, so the range stays put when a
    # subgroup filter changes
    return tuple(range(follow_up_years(study) + 1))


def window_control(view_key: str) -> Control:
    return Control("window", "win", "safety.widget.window", "window", _years,
                   lambda study, v: (0, _years(study, v)[-1]), widget_key=f"{view_key}_window",
                   help="safety.widget.window.help")


def window_blocks(ctx) -> tuple[list, tuple[int, int] | None, bool]:
    """The window's slot, the ``years`` argument for the analyses (None: all follow-up) and
    whether the window is empty (then the blocks carry the message)."""
    start, end = ctx.state["window"]
    blocks: list = [ControlSlot(("window",))]
    if start == end:
        return blocks + [Note("info", ctx.t("safety.window.empty"))], None, True
    whole = ctx.state.defaults["window"]
    return blocks, (None if (start, end) == tuple(whole) else (start, end)), False
