"""Integration fixtures: the real app in-process (Chalice's test client), DynamoDB Local, the demo
data, and the local carrier placing signed calls into the app and serving Twilio's REST API."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from chalice.test import Client

from tests.support import PUBLIC_BASE_URL, TEST_ACCOUNT, TEST_TOKEN, Clock, FakeTwilio

# Monday 23 Nov 2026, 10:00 in New York: the demo's agents are open.
OPEN_HOURS = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
# Christmas Day 2026, 10:00 in New York: the demo agents are off (a holiday).
CLOSED = datetime(2026, 12, 25, 15, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def app_module():
    import app

    return app


@pytest.fixture(scope="session")
def demo(baseline):
    from infra.local import demo

    return demo


@pytest.fixture(autouse=True)
def _owns_its_data(own_data):
    """Every integration test starts from the demo's data and nothing else (tests/conftest.py)."""


@pytest.fixture
def clock():
    return Clock(OPEN_HOURS)


@pytest.fixture
def client(app_module, demo, clock):
    from chalicelib.store import directory, flows
    from chalicelib.wiring import Root, install

    flows.clear_cache()
    directory.clear_cache()
    install(Root(clock=clock))
    with Client(app_module.app) as test_client:
        yield test_client
    install(None)


@dataclass
class TwilioEdge:
    """The app, with Twilio's REST edge faked: ``twilio`` records the calls, redirects and
    hang-ups we would send and answers the Calls resource; ``clock`` governs the IVR and routing
    alike. DynamoDB stays real."""

    client: Client
    twilio: FakeTwilio
    routing: object  # chalicelib.routing.service.RoutingService
    voice: object  # chalicelib.ivr.service.VoiceService
    clock: Clock


@pytest.fixture
def edge(client, clock):
    from chalicelib.wiring import Root, install

    twilio = FakeTwilio()
    parts = Root(clock=clock, connector=twilio)
    previous = install(parts)
    yield TwilioEdge(client, twilio, parts.routing, parts.voice, clock)
    install(previous)


def chalice_transport(test_client: Client):
    """The carrier's webhook transport, posting into the in-process app instead of over HTTP."""
    lock = threading.Lock()

    def transport(url: str, params: dict, headers: dict):
        assert url.startswith(PUBLIC_BASE_URL), url
        path = url[len(PUBLIC_BASE_URL):]
        with lock:
            response = test_client.http.post(
                path,
                headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
                body=urlencode(params),
            )
        return (response.status_code, response.body.decode("utf-8"),
                response.headers.get("Content-Type", ""))

    return transport


@pytest.fixture
def carrier(client):
    """A carrier wired to the app, with its REST API live so the app's texts reach it."""
    from chalicelib.settings import get_settings
    from chalicelib.telephony import rest
    from infra.local.carrier import Carrier, make_server

    carrier = Carrier(app_url=PUBLIC_BASE_URL, account_sid=TEST_ACCOUNT, auth_token=TEST_TOKEN,
                      transport=chalice_transport(client), background=False)
    server = make_server(carrier, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    settings = get_settings()
    settings.twilio_api_base = f"http://{host}:{port}"
    carrier.emulator_url = settings.twilio_api_base
    rest.reset_client()
    yield carrier
    server.shutdown()
    server.server_close()
    settings.twilio_api_base = None
    rest.reset_client()


def signed_post(test_client: Client, path: str, params: dict, token: str = TEST_TOKEN):
    """POST ``params`` to ``path`` as Twilio would, signed, for our account (``AccountSid``)."""
    from twilio.request_validator import RequestValidator

    params = {"AccountSid": TEST_ACCOUNT, **params}
    path = path.split("#", 1)[0]  # connection overrides: Twilio neither sends nor signs them
    signature = RequestValidator(token).compute_signature(PUBLIC_BASE_URL + path, params)
    return test_client.http.post(
        path,
        headers={"Content-Type": "application/x-www-form-urlencoded",
                 "X-Twilio-Signature": signature},
        body=urlencode(params),
    )
