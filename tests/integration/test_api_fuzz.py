"""Schemathesis against ``/openapi.json``: no request, however malformed, makes the JSON APIs
answer 5xx.

The real app is served over HTTP (``chalice.local.LocalDevServer`` on a free port, as
``tests/browser`` does) on the suite's DynamoDB Local, from the demo's data; Twilio's REST API is
a closed port, so whatever the app tries to send fails at once and reaches nobody. Every
documented operation becomes one test: positive and negative inputs (the coverage phase's
boundaries, then random ones), a bounded number of examples each, so the whole module takes
well under a minute. The checks: no 5xx (``not_a_server_error``), and every answer's status,
content type and body are ones the document gives, so the document stays true as well.

Schemathesis keeps to the document's bounds (64-character ids, integer limits), where the
fuzzing probe of issue 8 found its 5xx just beyond them, so the hooks below mix that probe's four
kinds into half the generated cases of every operation: ids far over DynamoDB's key limit,
numbers ``int()`` refuses, instants outside the calendar, and bodies nested too deep, not JSON
or too large.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import pytest
import requests
import schemathesis
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from chalicelib.openapi import document
from tests.support import Clock

EXAMPLES_PER_OPERATION = 30
CLOSED_PORT = "http://127.0.0.1:9"  # nothing listens: a text or a call fails at once
# Monday 23 Nov 2026, 10:00 in New York: the demo's queues are open, so requests go deep.
OPEN_HOURS = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)

CONFIG = schemathesis.Config.from_dict({
    "generation": {"mode": "all", "max-examples": EXAMPLES_PER_OPERATION,
                   "database": "none"},  # no .hypothesis/ directory in the repository
    "suppress-health-check": ["all"],  # how hard inputs are to generate is not the API's fault
    "phases": {"stateful": {"enabled": False},
               # methods a route lacks; not TRACE or QUERY, which chalice local's HTTP server
               # answers with its own 501 (API Gateway answers 403 before the app)
               "coverage": {"unexpected-methods": ["get", "put", "post", "delete", "patch"]}},
})
schema = schemathesis.openapi.from_dict(document(), config=CONFIG)
# No 5xx; and every status, content type and body is one the document gives for the operation.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


IMPOSSIBLE_IDS = ["a" * 5000, "é" * 1100, "cb_" + "x" * 3000]
BAD_QUERY = {
    "limit": ["²", "٣", "9" * 5000, "-1", "1e3", ""],
    "before": ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2026-02-30T00:00Z"],
}
BAD_BODIES = [b"[" * 3000, b'{"a":' * 900 + b"1" + b"}" * 900, b'{"x": ' + b"7" * 5000 + b"}",
              b'{"x": NaN}', b"\xff\xfe{}", b"", json.dumps({"name": "x" * 70_000}).encode()]


def _or_one_of(value, alternatives: list):
    """``value`` about half the time, else one of ``alternatives``."""
    if not alternatives:
        return st.just(value)
    return st.one_of(st.just(value), st.sampled_from(alternatives))


def flatmap_path_parameters(context, path_parameters):
    names = path_parameters or {}
    return _or_one_of(path_parameters, [{**names, name: bad}
                                        for name in names for bad in IMPOSSIBLE_IDS])


def flatmap_query(context, query):
    names = {parameter.name for parameter in context.operation.query}
    return _or_one_of(query, [{**(query or {}), name: bad} for name, bads in BAD_QUERY.items()
                              if name in names for bad in bads])


def flatmap_body(context, body):
    return _or_one_of(body, BAD_BODIES)  # bytes go out as they are


@pytest.fixture(scope="module")
def app_url():
    """The app over HTTP on a free port; the settings it changes are restored afterwards."""
    from chalice.config import Config
    from chalice.local import ChaliceRequestHandler, LocalDevServer

    import app
    from chalicelib.settings import get_settings
    from chalicelib.telephony import rest
    from chalicelib.wiring import Root, install

    settings = get_settings()
    saved = (settings.twilio_api_base, settings.callback_default_hotline,
             settings.callback_rate_per_ip, settings.callback_rate_per_number)
    settings.twilio_api_base = CLOSED_PORT
    settings.callback_default_hotline = "+14155550100"
    # every POST counts against the client's IP: without this, most would stop at 429
    settings.callback_rate_per_ip = settings.callback_rate_per_number = 1_000_000
    rest.reset_client()
    previous = install(Root(clock=Clock(OPEN_HOURS)))
    class Handler(ChaliceRequestHandler):
        # Chalice writes the headers and the body separately: with Nagle's algorithm and the
        # client's delayed ACK, every keep-alive response would wait 40 ms
        disable_nagle_algorithm = True

        def log_message(self, format, *args):  # noqa: A002 - quiet: thousands of requests
            pass

        def parse_request(self):
            # API Gateway refuses a Content-Length that is not a number with 400 before the
            # app sees it; Chalice's dev server would drop the connection instead
            if not super().parse_request():
                return False
            length = self.headers.get("Content-Length")
            if length is not None and not length.strip().isdigit():
                self.send_error(400, "Content-Length must be a number")
                return False
            return True

    server = LocalDevServer(app.app, Config.create(chalice_stage="local", app_name="switchboard"),
                            "127.0.0.1", 0, handler_cls=Handler)
    host, port = server.server.server_address[:2]
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    yield f"http://{host}:{port}"
    server.shutdown()
    server.server.server_close()
    thread.join(5)
    install(previous)
    (settings.twilio_api_base, settings.callback_default_hotline,
     settings.callback_rate_per_ip, settings.callback_rate_per_number) = saved
    rest.reset_client()


@pytest.fixture(scope="module")
def http():
    with requests.Session() as session:
        yield session


def test_the_served_document_is_the_one_fuzzed(app_url, http):
    served = http.get(f"{app_url}/openapi.json", timeout=10)
    assert served.status_code == 200
    assert {**served.json(), "servers": None} == {**document(), "servers": None}


@schema.hooks.apply(flatmap_path_parameters)
@schema.hooks.apply(flatmap_query)
@schema.hooks.apply(flatmap_body)
@schema.parametrize()
def test_bad_input_is_never_a_server_error(case, app_url, http):
    case.call_and_validate(base_url=app_url, session=http, timeout=10, checks=CHECKS)


def test_a_content_length_that_is_no_number_is_a_400_as_api_gateway_answers(app_url):
    import socket
    from urllib.parse import urlsplit

    where = urlsplit(app_url)
    with socket.create_connection((where.hostname, where.port), timeout=10) as conn:
        conn.sendall(b"DELETE /dnc/0 HTTP/1.1\r\nHost: x\r\nContent-Length: >N\r\n\r\n")
        answer = conn.recv(1024)
    assert answer.startswith(b"HTTP/1.0 400") or answer.startswith(b"HTTP/1.1 400"), answer
