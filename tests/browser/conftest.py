"""Browser tests: the real app served over HTTP, Debian's Chromium driven by Playwright.

What runs, all on this machine:

- the Chalice app (``app.py``) behind ``chalice.local.LocalDevServer`` on a free port, bound to
  the suite's DynamoDB Local, with a simulated clock;
- the carrier emulator's REST API on another port as ``TWILIO_API_BASE``, so confirmation texts
  land in ``carrier.messages``;
- a second small HTTP server playing a customer's web site that embeds the widget (another
  origin, allowed by ``CALLBACK_ALLOWED_ORIGINS``);
- Chromium from Debian (``/usr/bin/chromium``; ``infra/local/install-browser.sh`` installs it,
  ``make test`` runs that first). Playwright drives it; it never downloads a browser. Without
  Chromium (no root to install it) the browser tests are skipped, saying why.

Select them with ``-m browser`` (or leave them out with ``-m "not browser"``). The fixtures are
module-scoped: the settings they change (the public URL, the emulator) are restored before any
other test module runs.
"""

from __future__ import annotations

import subprocess
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.support import ROOT, TEST_ACCOUNT, TEST_TOKEN, Clock

CHROMIUM = Path("/usr/bin/chromium")
INSTALL = ROOT / "infra" / "local" / "install-browser.sh"
LAUNCH_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# Monday 23 Nov 2026, 10:00 in New York: every test queue is open.
OPEN_HOURS = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)  # 10:00 for a 415 number: may be called


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives headless Chromium (tests/browser)")


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.exists():
        subprocess.run(["bash", str(INSTALL)], check=False, timeout=600)
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed and could not be (run "
                    "infra/local/install-browser.sh as root)")
    return CHROMIUM


@pytest.fixture(scope="module")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # Playwright gives every launch a fresh, temporary user-data-dir of its own.
        browser = playwright.chromium.launch(executable_path=str(chromium), args=LAUNCH_ARGS,
                                             headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="en-US", timezone_id="America/New_York")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def _serve(server) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


@pytest.fixture(autouse=True)
def _owns_its_data(own_data):
    """Every browser test starts from the demo's data and nothing else (tests/conftest.py)."""


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock(OPEN_HOURS)


@pytest.fixture(scope="module")
def carrier():
    """The emulator's REST API; texts are kept, nothing calls back into the app."""
    from infra.local.carrier import Carrier, make_server

    carrier = Carrier(app_url="http://127.0.0.1:9", account_sid=TEST_ACCOUNT,
                      auth_token=TEST_TOKEN, background=False)
    server = make_server(carrier, "127.0.0.1", 0)
    _serve(server)
    host, port = server.server_address[:2]
    carrier.emulator_url = f"http://{host}:{port}"
    yield carrier
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def app_server(carrier, clock):
    """The real Chalice app over HTTP on a free port; yields its base URL."""
    from chalice.config import Config
    from chalice.local import LocalDevServer

    import app
    from chalicelib.settings import get_settings
    from chalicelib.telephony import rest
    from chalicelib.wiring import Root, install
    server = LocalDevServer(app.app, Config.create(chalice_stage="local", app_name="switchboard"),
                            "127.0.0.1", 0)
    host, port = server.server.server_address[:2]
    url = f"http://{host}:{port}"
    settings = get_settings()
    saved = (dict(settings._secrets), settings.twilio_api_base, settings.callback_default_hotline,
             settings.callback_allowed_origins, settings.callback_rate_per_ip)
    settings._secrets["PUBLIC_BASE_URL"] = url  # the app's own origin: the preview page
    settings.twilio_api_base = carrier.emulator_url
    settings.callback_default_hotline = "+14155550100"
    settings.callback_rate_per_ip = 100_000
    rest.reset_client()
    previous = install(Root(clock=clock))
    thread = _serve(server.server)
    yield url
    server.shutdown()
    server.server.server_close()
    thread.join(5)
    install(previous)
    (secrets, settings.twilio_api_base, settings.callback_default_hotline,
     settings.callback_allowed_origins, settings.callback_rate_per_ip) = saved
    settings._secrets.clear()
    settings._secrets.update(secrets)
    rest.reset_client()


class _SitePages(BaseHTTPRequestHandler):
    """Serves ``pages[path]`` as HTML: a customer's site embedding the widget."""

    pages: dict[str, str] = {}

    def do_GET(self):  # noqa: N802 - the http.server API
        body = self.pages.get(self.path.split("?")[0])
        if body is None:
            self.send_error(404)
            return
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):  # noqa: A002 - quiet
        pass


def _site():
    handler = type("SitePages", (_SitePages,), {"pages": {}})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    _serve(server)
    host, port = server.server_address[:2]
    return server, handler.pages, f"http://{host}:{port}"


@pytest.fixture(scope="module")
def customer_site(app_server):
    """A web site on another origin, allowed to embed the widget; ``pages`` maps paths to HTML."""
    from chalicelib.settings import get_settings

    server, pages, url = _site()
    get_settings().callback_allowed_origins = (url,)
    yield pages, url
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def stranger_site(app_server):
    """A web site whose origin is not allowed."""
    server, pages, url = _site()
    yield pages, url
    server.shutdown()
    server.server_close()


@pytest.fixture
def sign_in(page, app_server):
    """``sign_in(username, password=None, lang="en", then=None)``: signs in through the real
    sign-in page (the demo users of infra/local/console_users.py; the password defaults to the
    user name) and waits for the page it lands on (``then``: a console page to go to, e.g.
    ``"desk"``); returns the Playwright page."""

    def go(username: str, password: str | None = None, lang: str = "en",
           then: str | None = None):
        query = f"?lang={lang}" + (f"&next=/console/{then}" if then else "")
        page.goto(f"{app_server}/console{query}")
        page.fill("#sign-in input[name=username]", username)
        page.fill("#sign-in input[name=password]", password or username)
        page.click("#sign-in button[type=submit]")
        page.wait_for_function("location.pathname !== '/console' && "
                               "document.body.dataset.state !== 'starting'")
        return page

    return go
