"""Who may see the dashboard, and who may manage its studies (issue 12, item 4).

Login is Streamlit's built-in OpenID Connect (``st.login`` / ``st.user`` / ``st.logout``),
configured in the secrets file the launcher points Streamlit at (the project's
``.streamlit/secrets.toml``, or ``--secrets`` / ``MSC_RA_SECRETS``)::

    [auth]
    redirect_uri = "https://ra-dashboard.example.org/oauth2callback"
    cookie_secret = "<a long random string>"
    client_id = "<from the provider>"
    client_secret = "<from the provider>"
    server_metadata_url = "https://sso.example.org/.well-known/openid-configuration"

    [msc_ra]
    admins = ["data.manager@example.org"]   # may load, build and remove studies
    users = ["investigator@example.org"]    # optional: only these (and the admins) may look

Named providers (``[auth.<name>]`` with their own client_id, client_secret and
server_metadata_url) each get a login button. Users are matched by the e-mail address the
provider gives (case-insensitive), else by its subject id.

Before offering a provider's login button, the login screen asks the provider for its
configuration (at most every 30 s): when it does not answer, the screen says so and offers to
try again, rather than sending the visitor to Streamlit's bare "Authentication error" page.

Streamlit's login returns to the home page; the login screen keeps the address the visitor
opened (a shared link) in the browser tab, and the first run after login goes back to it.

Without an ``[auth]`` section the dashboard is open; the launcher then serves loopback only
unless told ``--allow-open``, and the sidebar says so.
"""
from __future__ import annotations

import ipaddress
import json
import time
import urllib.request
from collections.abc import Mapping
from urllib.parse import urlsplit

import streamlit as st
from streamlit.logger import get_logger

from analytics.i18n import t
from analytics.views.state import GLOBAL_CONTROLS

SETTINGS_SECTION = "msc_ra"
SHARED_KEYS = ("redirect_uri", "cookie_secret")
PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")
CALLBACK_PATH = "/oauth2callback"
_LOGIN_RECORDED = "_access_login_recorded"  # session key: this session's login is in the audit log
_LOGGER = get_logger(__name__)
_AFTER_LOGIN_CHECKED = "_access_after_login_checked"  # session key: the address asked for is met
# The address a visitor asked for, kept in the browser tab (sessionStorage, this origin only)
# while the identity provider's pages come and go: Streamlit brings every login back to the home
# page, and a shared link (a page and its filters) would be lost.
_REMEMBER_ADDRESS = """<script>(() => {
  const keep = () => sessionStorage.setItem("msc_ra_after_login",
                                            location.pathname + location.search);
  keep();  // and again as the page is left for the provider (the language may have changed)
  if (!window.mscRaKeepsAddress) {
    window.mscRaKeepsAddress = true;
    window.addEventListener("pagehide", keep);
  }
})();</script>"""
_RETURN_TO_ADDRESS = """<script>(() => {
  const asked = sessionStorage.getItem("msc_ra_after_login");
  if (asked === null) return;
  sessionStorage.removeItem("msc_ra_after_login");
  const here = location.pathname + location.search;
  // a path on this server only (never "//host"), and only when it is not where we are
  if (asked.startsWith("/") && !asked.startsWith("//") && asked !== here) {
    location.replace(asked);
  }
})();</script>"""


# -- the configuration (plain mappings: the launcher checks the same file before the server starts)
def load_settings() -> dict:
    """The secrets Streamlit serves (``{}`` without a secrets file)."""
    return st.secrets.to_dict() if st.secrets.load_if_toml_exists() else {}


def providers(settings: Mapping) -> list[str | None]:
    """The login choices: ``None`` for the provider given in ``[auth]`` itself, then the names of
    the ``[auth.<name>]`` sections."""
    auth = settings.get("auth") or {}
    named = [name for name, value in auth.items()
             if isinstance(value, Mapping) and any(key in value for key in PROVIDER_KEYS)]
    return ([None] if any(key in auth for key in PROVIDER_KEYS) else []) + named


def provider_section(settings: Mapping, name: str | None) -> Mapping:
    """Provider ``name``'s settings: ``[auth.<name>]``, or ``[auth]`` itself for ``None``."""
    auth = settings.get("auth") or {}
    return auth if name is None else auth[name]


def metadata_url(settings: Mapping, name: str | None) -> str:
    """The ``server_metadata_url`` of provider ``name`` (``None``: the one in ``[auth]``)."""
    return str(provider_section(settings, name).get("server_metadata_url") or "")


PROVIDER_TIMEOUT_S = 3    # how long the login screen waits for the provider's answer
PROVIDER_RECHECK_S = 30   # how long an answer (or its absence) is taken as still true
_provider_checked: dict[str, tuple[float, bool]] = {}  # metadata URL -> (checked at, answered)


def _metadata_answers(url: str) -> bool:
    """One request for the provider's OpenID configuration: HTTP 200 and JSON naming an
    authorization endpoint."""
    if urlsplit(url).scheme not in ("http", "https"):
        return False
    try:
        with urllib.request.urlopen(url, timeout=PROVIDER_TIMEOUT_S) as answer:  # noqa: S310
            return answer.status == 200 and "authorization_endpoint" in json.load(answer)
    except (OSError, ValueError):  # refused, unreachable, timed out, HTTP error, not JSON
        return False


def provider_answers(url: str, now: float | None = None) -> bool:
    """Whether the identity provider answers at ``url``, asked at most every
    :data:`PROVIDER_RECHECK_S` seconds. Streamlit's login, when it does not, leaves the visitor
    on a bare "Authentication error" page; the login screen says so first instead."""
    now = time.monotonic() if now is None else now
    checked = _provider_checked.get(url)
    if checked is None or now - checked[0] >= PROVIDER_RECHECK_S:
        checked = (now, _metadata_answers(url))
        _provider_checked[url] = checked
        if not checked[1]:
            _LOGGER.warning("login: the identity provider does not answer at %s", url)
    return checked[1]


def _ask_provider_again(url: str) -> None:
    _provider_checked.pop(url, None)


def auth_problems(settings: Mapping) -> list[str]:
    """What an ``[auth]`` section lacks for login to work (``[]``: complete, or no section)."""
    auth = settings.get("auth") or {}
    if not auth:
        return []
    problems = [f"auth.{key}" for key in SHARED_KEYS if not auth.get(key)]
    redirect = str(auth.get("redirect_uri") or "")
    if redirect and not redirect.endswith(CALLBACK_PATH):
        problems.append(f"auth.redirect_uri ending in {CALLBACK_PATH}")
    found = providers(settings)
    if not found:
        problems.append("auth." + ", auth.".join(PROVIDER_KEYS))
    for name in found:
        section = provider_section(settings, name)
        prefix = "auth." if name is None else f"auth.{name}."
        problems += [prefix + key for key in PROVIDER_KEYS if not section.get(key)]
    return problems


def listed(settings: Mapping, role: str) -> set[str]:
    """The users named in ``[msc_ra] <role>`` (``admins`` or ``users``), lower case."""
    names = (settings.get(SETTINGS_SECTION) or {}).get(role) or []
    if isinstance(names, str):
        names = [names]
    return {str(name).strip().lower() for name in names if str(name).strip()}


def is_admin(user: str | None, settings: Mapping) -> bool:
    return user is not None and user.lower() in listed(settings, "admins")


def may_view(user: str | None, settings: Mapping) -> bool:
    """Any logged-in user, unless ``[msc_ra] users`` names who (admins always may)."""
    if user is None:
        return False
    viewers = listed(settings, "users")
    return not viewers or user.lower() in viewers or is_admin(user, settings)


def is_loopback(address: str | None) -> bool:
    """Whether a listening address serves this computer only (``None`` or "" is every
    interface, Streamlit's default)."""
    if not address:
        return False
    if address.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


# -- the session's user ----------------------------------------------------------------------
def auth_configured() -> bool:
    """Login configured: an ``[auth]`` section in the served secrets file."""
    return bool(load_settings().get("auth"))


def _user_from(info: Mapping) -> str | None:
    if not info.get("is_logged_in"):
        return None
    return str(info.get("email") or info.get("sub") or "") or None


def current_user() -> str | None:
    """The logged-in user's e-mail address (or subject id); None when login is not configured
    or nobody is logged in."""
    if not auth_configured():
        return None
    return _user_from(st.user.to_dict())


def can_manage_studies() -> bool:
    """May load, build and remove studies: anyone of an app without login (localhost only),
    else a logged-in user listed in ``[msc_ra] admins``."""
    settings = load_settings()
    if not settings.get("auth"):
        return True
    return is_admin(_user_from(st.user.to_dict()), settings)


def require_login(lang: str) -> None:
    """Before the page menu: without login configured, the sidebar says the app is open; with
    it, a visitor not logged in gets the login screen and nothing else (``st.stop()``), one not
    on the user list a refusal, and a logged-in user the sidebar line "Logged in as …" with a
    logout button."""
    settings = load_settings()
    if not settings.get("auth"):
        open_access_note(lang)
        return
    user = _user_from(st.user.to_dict())
    if user is None:
        login_screen(settings, lang)
        st.stop()
    _record_once(user)
    _return_to_address_asked()
    if not may_view(user, settings):
        st.title(t("app.page_title", lang))
        st.error(t("access.not_listed", lang, user=user))
        _logout_button(user, lang)
        st.stop()
    with st.sidebar:
        key = "access.signed_in_admin" if is_admin(user, settings) else "access.signed_in"
        st.caption(t(key, lang, user=user))
        _logout_button(user, lang)


# -- what is drawn ---------------------------------------------------------------------------
def open_access_note(lang: str) -> None:
    """The sidebar caption of an app without login: this computer only (as the launcher binds
    it), or a warning when the server listens beyond it."""
    if is_loopback(st.get_option("server.address")):
        st.sidebar.caption(t("access.open_local", lang))
    else:
        st.sidebar.warning(t("access.open_network", lang))


def login_screen(settings: Mapping, lang: str) -> None:
    """The title, why to log in, the language and one button per provider; no filters, no
    study data."""
    st.title(t("app.page_title", lang))
    st.subheader(t("access.login.title", lang))
    language = GLOBAL_CONTROLS[0]  # the sidebar's language choice, drawn here alone
    st.radio(t(language.label, lang), language.options, index=language.options.index(lang),
             horizontal=True, format_func=lambda v: language.label_of(v, lang),
             key="access_lang", on_change=_language_chosen)
    st.write(t("access.login.intro", lang))
    _hidden_script(_REMEMBER_ADDRESS)
    problems = auth_problems(settings)
    if problems:  # started without the launcher's check: say what to fix, offer no button
        st.error(t("access.misconfigured", lang, missing=", ".join(problems)))
        return
    for name in providers(settings):
        label = (t("access.login.button", lang) if name is None
                 else t("access.login.button_provider", lang, provider=name))
        url, key = metadata_url(settings, name), name or "default"
        if not provider_answers(url):
            st.error(t("access.provider_down", lang, service=name or urlsplit(url).netloc))
            st.button(t("access.provider_retry", lang), key=f"access_retry_{key}",
                      on_click=_ask_provider_again, args=(url,))
        elif st.button(label, key=f"access_login_{key}", type="primary"):
            st.login(name)


# hides the script's container and the wrapper Streamlit 1.67 puts around it (a flex item that
# would leave a 16 px gap above the page's title); should the wrapper change, only the gap is back
_NO_ROOM = ('<style>[data-testid="stLayoutWrapper"]:has(> .st-key-access_script)'
            '{display:none}</style>')


def _hidden_script(script: str) -> None:
    """``script`` run by the page, taking no room on it."""
    with st.container(key="access_script"):
        st.html(_NO_ROOM + script, unsafe_allow_javascript=True)


def _return_to_address_asked() -> None:
    """On a logged-in session's first run: back to the address the visitor asked for before
    logging in (a page and its filters), when the login screen kept one in the tab."""
    if not st.session_state.get(_AFTER_LOGIN_CHECKED):
        st.session_state[_AFTER_LOGIN_CHECKED] = True
        _hidden_script(_RETURN_TO_ADDRESS)


def _language_chosen() -> None:
    from .url_state import STATE

    lang = st.session_state["access_lang"]
    st.session_state[STATE + "lang"] = lang
    st.query_params["lang"] = lang


def _logout_button(user: str, lang: str) -> None:
    if st.button(t("access.logout", lang), key="access_logout"):
        _audit("logout", user)
        st.session_state.pop(_LOGIN_RECORDED, None)
        st.logout()
        st.stop()  # nothing more for a session that is leaving (the browser is redirected)


def _record_once(user: str) -> None:
    """One "login" line per session of a logged-in user (a new browser tab is a new session)."""
    if st.session_state.get(_LOGIN_RECORDED) != user:
        st.session_state[_LOGIN_RECORDED] = user
        _audit("login", user)


def _audit(action: str, user: str) -> None:
    try:
        from . import audit
    except ImportError:  # the audit log comes with the study loader (issue 12, "Load a study")
        return
    try:
        audit.record(action, study="", user=user)
    except OSError:  # a log that cannot be written must not lock everyone out; say it
        _LOGGER.exception("audit log: could not record %s of %s", action, user)
