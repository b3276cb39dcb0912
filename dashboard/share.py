"""The "Copy link" box: the canonical address of the view on screen."""
from __future__ import annotations

import streamlit as st

from .url_state import canonical_url


def share_link(ctx) -> None:
    """The current view's canonical URL in a code box (which has a copy button)."""
    st.markdown(f"**{ctx.t('share.link')}**", help=ctx.t("share.link.help"))
    st.code(canonical_url(ctx.state), language=None, wrap_lines=True)
