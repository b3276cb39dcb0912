"""Who may see and manage studies (issue 12, item 4).

STUB on branch i12a with the agreed signatures and the "open, local, admin" answers of an app
without login configuration; the login branch (i12b) replaces this file when merged.
"""
from __future__ import annotations


def auth_configured() -> bool:
    """OIDC configured in .streamlit/secrets.toml ([auth] section)."""
    return False


def current_user() -> str | None:
    """The logged-in user's email (or sub); None when auth is not configured."""
    return None


def can_manage_studies() -> bool:
    """May load, build and remove studies: True without auth (localhost-only mode)."""
    return True


def require_login(lang: str) -> None:
    """When configured and not logged in: the login screen, then st.stop(). Nothing here."""
    return None
