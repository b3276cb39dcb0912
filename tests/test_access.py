"""Access control (issue 12, item 4): the login screen before anything else, who may manage
studies, the sidebar's access line, and the launcher's refusal to serve the network without
login. Pages run in Streamlit's AppTest with the login configuration in ``at.secrets`` and the
user in ``at.user`` (as ``st.user`` reads it); the browser test against a real OIDC provider is
tests/test_auth_browser.py."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest
from streamlit import config
from streamlit.testing.v1 import AppTest

import dashboard
from analytics.i18n import t
from apptest_support import APP
from dashboard import access, launcher
from test_i18n import CJK

pytestmark = pytest.mark.usefixtures("dashboard_study")

ROOT = Path(__file__).resolve().parent.parent
ADMIN = "Data.Manager@example.org"
READER = "reader@example.org"
AUTH = {"redirect_uri": "http://127.0.0.1:8501/oauth2callback",
        "cookie_secret": "a-long-random-cookie-secret-for-tests",
        "client_id": "dashboard", "client_secret": "secret",
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}
SETTINGS = {"auth": AUTH, "msc_ra": {"admins": [ADMIN.lower()]}}
LOGGED_OUT = {"is_logged_in": False}


def logged_in(email: str) -> dict:
    return {"is_logged_in": True, "email": email, "sub": email}


def _app(settings: dict | None, user: dict, lang: str = "en") -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    if settings:
        at.secrets.update(settings)
    at.user = user
    if lang != "en":
        at.query_params["lang"] = lang
    return at.run()


def _main_texts(at: AppTest) -> list[str]:
    return [e.value for kind in ("title", "subheader", "markdown", "caption", "error", "warning")
            for e in getattr(at.main, kind)]


def _probe(settings: dict | None, user: dict) -> dict:
    """What dashboard.access answers inside a session with these secrets and this user."""
    def script():
        import streamlit as st

        from dashboard import access
        st.session_state["answers"] = {"configured": access.auth_configured(),
                                       "user": access.current_user(),
                                       "manage": access.can_manage_studies()}
    at = AppTest.from_function(script, default_timeout=30)
    if settings:
        at.secrets.update(settings)
    at.user = user
    at.run()
    assert not at.exception, at.exception
    return at.session_state["answers"]


_ASK_PROVIDER = access._metadata_answers  # the real request, before provider_up replaces it


@pytest.fixture(autouse=True)
def provider_up(monkeypatch):
    """The identity provider answers (AUTH names a closed port: no request leaves the test), and
    nothing is remembered of an earlier test's answer."""
    asked = []
    monkeypatch.setattr(access, "_metadata_answers", lambda url: asked.append(url) or True)
    access._provider_checked.clear()
    yield asked
    access._provider_checked.clear()


@pytest.fixture(autouse=True)
def data_folder(tmp_path, monkeypatch):
    """A data folder of the test's own: the audit log of logged-in sessions goes there."""
    from analytics.study_catalog import DATA_DIR_ENV

    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.fixture
def server_address():
    """Set Streamlit's ``server.address`` for the test (as the launcher does), then restore it."""
    before = config.get_option("server.address")
    yield lambda value: config.set_option("server.address", value)
    config.set_option("server.address", before)


# -- who may manage studies --------------------------------------------------------------------
def test_without_login_anyone_on_this_computer_manages_studies():
    assert _probe(None, {}) == {"configured": False, "user": None, "manage": True}


def test_admin_manages_studies_whatever_the_case_of_the_address():
    assert _probe(SETTINGS, logged_in(ADMIN)) == {"configured": True, "user": ADMIN,
                                                  "manage": True}


def test_non_admin_and_logged_out_do_not_manage_studies():
    assert _probe(SETTINGS, logged_in(READER)) == {"configured": True, "user": READER,
                                                   "manage": False}
    assert _probe(SETTINGS, LOGGED_OUT) == {"configured": True, "user": None, "manage": False}
    # no admins listed: nobody manages studies once login is on
    assert _probe({"auth": AUTH}, logged_in(ADMIN))["manage"] is False


def test_user_without_email_is_known_by_subject():
    assert _probe(SETTINGS, {"is_logged_in": True, "sub": "u-123"})["user"] == "u-123"


# -- the login screen ----------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_logged_out_visitor_sees_only_the_login_screen(lang):
    at = _app(SETTINGS, LOGGED_OUT, lang)
    assert not at.exception
    assert [b.label for b in at.button] == [t("access.login.button", lang)]
    texts = _main_texts(at)
    assert t("access.login.intro", lang) in texts
    # nothing else: no menu or filters in the sidebar, no table, figure, metric or study number
    assert not at.sidebar.children
    assert [r.label for r in at.radio] == [t("filter.lang", lang)]  # the language, nothing more
    assert not at.selectbox and not at.multiselect and not at.dataframe and not at.metric
    assert not at.get("plotly_chart")
    assert not any(ch.isdigit() for text in texts for ch in text)
    if lang == "zh":  # no English on the Chinese login screen
        assert all(CJK.search(text) for text in texts), texts
    else:
        assert not any(CJK.search(text) for text in texts)


def test_language_choice_on_the_login_screen():
    at = _app(SETTINGS, LOGGED_OUT)
    at.radio(key="access_lang").set_value("zh").run()
    assert [b.label for b in at.button] == [t("access.login.button", "zh")]
    assert at.query_params["lang"] == "zh"


def test_named_providers_each_get_a_button():
    shared = {k: AUTH[k] for k in ("redirect_uri", "cookie_secret")}
    provider = {k: AUTH[k] for k in ("client_id", "client_secret", "server_metadata_url")}
    at = _app({"auth": {**shared, "hospital": provider, "partner": provider}}, LOGGED_OUT)
    assert [b.label for b in at.button] == [
        t("access.login.button_provider", "en", provider=name) for name in ("hospital", "partner")]


def test_incomplete_configuration_says_what_is_missing_and_offers_no_login():
    at = _app({"auth": {"redirect_uri": AUTH["redirect_uri"]}}, LOGGED_OUT)
    assert not at.button
    shown = " ".join(e.value for e in at.error)
    assert "auth.cookie_secret" in shown and "auth.client_id" in shown
    assert not at.sidebar.children


# -- the identity provider does not answer -------------------------------------------------------
@pytest.fixture
def metadata_server():
    """A local stand-in for a provider: its OpenID configuration at /ok, other answers beside."""
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server name
            body, status = {"/ok": (b'{"authorization_endpoint": "http://x/auth"}', 200),
                            "/html": (b"<html>down for maintenance</html>", 200)}.get(
                self.path, (b"not found", 404))
            self.send_response(status)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


def test_a_provider_answers_with_its_configuration_only(metadata_server):
    assert _ASK_PROVIDER(f"{metadata_server}/ok") is True
    assert _ASK_PROVIDER(f"{metadata_server}/missing") is False   # HTTP 404
    assert _ASK_PROVIDER(f"{metadata_server}/html") is False      # not its JSON
    assert _ASK_PROVIDER("http://127.0.0.1:9/.well-known/openid-configuration") is False  # refused
    assert _ASK_PROVIDER(f"file://{ROOT}/README.md") is False     # http(s) only


def test_the_provider_is_asked_at_most_every_30_seconds(provider_up):
    url = AUTH["server_metadata_url"]
    assert access.provider_answers(url, now=100.0)
    assert access.provider_answers(url, now=100.0 + access.PROVIDER_RECHECK_S - 1)
    assert provider_up == [url]
    assert access.provider_answers(url, now=100.0 + access.PROVIDER_RECHECK_S)
    assert provider_up == [url, url]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_provider_that_does_not_answer_is_said_before_login_and_tried_again(monkeypatch,
                                                                            lang):
    answers = [False]
    monkeypatch.setattr(access, "_metadata_answers", lambda url: answers[-1])
    at = _app(SETTINGS, LOGGED_OUT, lang)
    assert not at.exception
    assert [e.value for e in at.error] == [
        t("access.provider_down", lang, service="127.0.0.1:9")]
    assert [b.label for b in at.button] == [t("access.provider_retry", lang)]  # no login button
    at.run()
    assert at.error  # still down (and not asked again: remembered for 30 s)
    answers.append(True)
    at.button(key="access_retry_default").click().run()  # asked again at once
    assert not at.error
    assert [b.label for b in at.button] == [t("access.login.button", lang)]


# -- logged in ------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_logged_in_reader_sees_the_pages_and_who_is_logged_in(lang):
    at = _app(SETTINGS, logged_in(READER), lang)
    assert not at.exception
    captions = [c.value for c in at.sidebar.caption]
    assert t("access.signed_in", lang, user=READER) in captions
    assert t("access.logout", lang) in [b.label for b in at.sidebar.button]
    assert at.title[0].value == t("overview.title", lang)  # the study overview page
    assert at.dataframe  # the page's tables are there


def test_admin_is_named_as_such():
    at = _app(SETTINGS, logged_in(ADMIN))
    assert t("access.signed_in_admin", "en", user=ADMIN) in [c.value for c in at.sidebar.caption]


def test_user_list_keeps_others_out():
    settings = {**SETTINGS, "msc_ra": {"admins": [ADMIN], "users": [READER]}}
    outsider = "someone@elsewhere.org"
    at = _app(settings, logged_in(outsider))
    assert t("access.not_listed", "en", user=outsider) in [e.value for e in at.error]
    assert not at.dataframe and not at.sidebar.children
    assert _app(settings, logged_in(READER)).dataframe  # a listed user
    assert _app(settings, logged_in(ADMIN)).dataframe   # admins need not be listed twice


def _gated_page():
    """A page behind ``require_login``, as app.py puts every page (here without the menu)."""
    import streamlit as st

    from dashboard import access
    access.require_login("en")
    st.write("the page")


def _reader_at_gated_page() -> AppTest:
    """A reader logged in, at the gated page (not run yet)."""
    at = AppTest.from_function(_gated_page, default_timeout=30)
    at.secrets.update(SETTINGS)
    at.user = logged_in(READER)
    return at


def _audit_records_with(monkeypatch, fake) -> None:
    """The audit log replaced by ``fake`` (its ``record``) for the test."""
    monkeypatch.setitem(sys.modules, "dashboard.audit", fake)
    monkeypatch.setattr(dashboard, "audit", fake, raising=False)


def test_logout_ends_the_session_and_is_recorded(monkeypatch):
    lines = []
    fake = types.SimpleNamespace(record=lambda action, **kw: lines.append((action, kw["user"])))
    _audit_records_with(monkeypatch, fake)
    at = _reader_at_gated_page()
    at.run()
    at.run()  # two runs of one session: one login line
    assert "the page" in [m.value for m in at.markdown]
    assert lines == [("login", READER)]
    at.button(key="access_logout").click().run()
    assert lines == [("login", READER), ("logout", READER)]
    at.run()
    assert [b.label for b in at.button] == [t("access.login.button", "en")]  # the login screen
    assert "the page" not in [m.value for m in at.markdown]


def _scripts(at: AppTest) -> list[str]:
    """The bodies of the st.html elements of the last run (the address kept across login)."""
    return [e.proto.body for e in at.main.get("html") if "<script>" in e.proto.body]


def test_login_screen_keeps_the_address_and_the_first_run_after_login_goes_back_to_it():
    """Streamlit's login returns to the home page: the login screen keeps the address asked for
    in the browser tab, and a logged-in session's first run (only) goes back to it (the browser
    side is tests/test_auth_browser.py)."""
    at = _app(SETTINGS, LOGGED_OUT)
    kept = _scripts(at)
    assert len(kept) == 1 and 'sessionStorage.setItem("msc_ra_after_login"' in kept[0]
    at = _reader_at_gated_page()
    at.run()
    back = _scripts(at)
    assert len(back) == 1 and 'sessionStorage.getItem("msc_ra_after_login")' in back[0]
    assert 'asked.startsWith("/") && !asked.startsWith("//")' in back[0]  # this server only
    at.run()
    assert not _scripts(at)  # once per session
    assert "the page" in [m.value for m in at.markdown]


def test_login_and_logout_in_the_audit_log(data_folder):
    at = _reader_at_gated_page()
    at.run()
    at.button(key="access_logout").click().run()
    lines = [json.loads(line) for line in
             (data_folder / "audit.log").read_text(encoding="utf-8").splitlines()]
    assert [(line["user"], line["action"]) for line in lines] == [
        (READER, "login"), (READER, "logout")]
    assert all(line["time"].endswith("+00:00") for line in lines)


def test_an_audit_log_that_cannot_be_written_locks_nobody_out(monkeypatch, caplog):
    def refuse(action, **kw):
        raise PermissionError(13, "Permission denied", "audit.log")
    fake = types.SimpleNamespace(record=refuse)
    _audit_records_with(monkeypatch, fake)
    at = _reader_at_gated_page()
    at.run()
    assert not at.exception and "the page" in [m.value for m in at.markdown]
    assert "could not record login" in caplog.text  # the server log says so


# -- without login ---------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_open_app_says_so_in_the_sidebar(server_address, lang):
    server_address("127.0.0.1")
    at = _app(None, {}, lang)
    assert not at.exception
    assert t("access.open_local", lang) in [c.value for c in at.sidebar.caption]
    assert not any(b.label == t("access.logout", lang) for b in at.sidebar.button)
    assert at.dataframe


def test_open_app_on_the_network_warns(server_address):
    server_address("0.0.0.0")
    at = _app(None, {})
    assert t("access.open_network", "en") in [w.value for w in at.sidebar.warning]


# -- the configuration and the launcher -------------------------------------------------------
def test_auth_problems():
    assert access.auth_problems({}) == []
    assert access.auth_problems(SETTINGS) == []
    assert access.auth_problems({"auth": {**AUTH, "redirect_uri": "https://h/callback"}}) == [
        "auth.redirect_uri ending in /oauth2callback"]
    shared = {k: AUTH[k] for k in ("redirect_uri", "cookie_secret")}
    assert access.auth_problems({"auth": {**shared, "sso": {"client_id": "x"}}}) == [
        "auth.sso.client_secret", "auth.sso.server_metadata_url"]
    assert access.auth_problems({"auth": shared}) == [
        "auth.client_id, auth.client_secret, auth.server_metadata_url"]


@pytest.mark.parametrize("address, loopback", [
    ("127.0.0.1", True), ("127.8.0.1", True), ("::1", True), ("[::1]", True),
    ("localhost", True), ("0.0.0.0", False), ("::", False), ("", False), (None, False),
    ("10.1.2.3", False), ("dashboard.example.org", False)])
def test_loopback_addresses(address, loopback):
    assert access.is_loopback(address) is loopback


def _secrets(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "secrets.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _toml(settings: dict) -> str:
    lines = []
    for section, values in settings.items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {value!r}".replace("'", '"') for key, value in values.items()]
    return "\n".join(lines) + "\n"


def test_launcher_checks_before_serving(tmp_path):
    missing = tmp_path / "absent.toml"
    none = _secrets(tmp_path, "")
    check = launcher.access_problem
    assert check("127.0.0.1", missing, explicit=False, allow_open=False) is None
    assert check("localhost", none, explicit=True, allow_open=False) is None
    refused = check("0.0.0.0", none, explicit=True, allow_open=False)
    assert refused == t("launcher.open_refused", "en", address="0.0.0.0", secrets=none)
    assert check("10.1.2.3", missing, explicit=False, allow_open=False)
    assert check("0.0.0.0", none, explicit=True, allow_open=True) is None
    assert check("127.0.0.1", missing, explicit=True, allow_open=False) == t(
        "launcher.secrets_missing", "en", secrets=missing)
    configured = _secrets(tmp_path, _toml(SETTINGS))
    assert check("0.0.0.0", configured, explicit=True, allow_open=False) is None
    broken = _secrets(tmp_path, "[auth\nredirect_uri = ")
    assert "cannot be read" in check("127.0.0.1", broken, explicit=True, allow_open=False)
    partial = _secrets(tmp_path, _toml({"auth": {"redirect_uri": AUTH["redirect_uri"]}}))
    assert "auth.cookie_secret" in check("127.0.0.1", partial, explicit=True, allow_open=False)


def test_launcher_points_streamlit_at_one_secrets_file(tmp_path, monkeypatch):
    options = launcher.server_options("127.0.0.1", 8501, tmp_path / "s.toml")
    assert options["secrets.files"] == [str(tmp_path / "s.toml")]
    assert f"--secrets.files={tmp_path / 's.toml'}" in launcher.command_line(options)
    assert launcher.server_options("127.0.0.1", 8501)["secrets.files"] == [
        str(launcher.DEFAULT_SECRETS)]
    monkeypatch.setenv(launcher.SECRETS_ENV, str(tmp_path / "env.toml"))
    assert launcher.parse_args([]).secrets == tmp_path / "env.toml"
    assert launcher.parse_args(["--secrets", "x.toml"]).secrets == Path("x.toml")
    assert launcher.parse_args(["--allow-open"]).allow_open is True


@pytest.mark.parametrize("extra, message_key", [
    ([], "launcher.open_refused"), (["--secrets", "absent.toml"], "launcher.secrets_missing")])
def test_launcher_refuses_with_exit_code_2(tmp_path, extra, message_key):
    """The command itself, from another folder: a clear message on stderr, exit 2, no server."""
    empty = _secrets(tmp_path, "")
    args = ["--secrets", str(empty)] if not extra else extra
    env = {k: v for k, v in os.environ.items() if not k.startswith("MSC_RA_")}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run([sys.executable, "-m", "dashboard.launcher", "--address", "0.0.0.0",
                           "--port", "9", *args], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, env=env)
    assert done.returncode == 2, done.stderr
    secrets = empty if not extra else tmp_path / "absent.toml"
    assert done.stderr.strip() == t(message_key, "en", address="0.0.0.0", secrets=secrets)
    assert "Traceback" not in done.stderr
