"""Bad input is never a 500: the four kinds a fuzzing probe found (issue 8), each tried on every
route where it can occur, through Chalice's test client on DynamoDB Local.

1. JSON nested deeper than the parser recurses, under the size limit: 400 naming the body.
2. Ids no stored item can have (over DynamoDB's key limit, or not of the id's form): 404.
3. Numeric query parameters that ``str.isdigit()`` accepts and ``int()`` refuses: 400.
4. The rest: bad dates, wrong JSON types, bodies over the limit, unknown fields.
``tests/integration/test_api_fuzz.py`` looks for more of the same with schemathesis.
"""

from __future__ import annotations

import json
import uuid

import pytest

from chalicelib.settings import get_settings

DEEP_ARRAY = "[" * 3000 + "]" * 3000  # 6000 bytes: over the callback form's 4 KB, see below
DEEP_UNDER_4K = "[" * 2000  # RecursionError in json.loads, though 2000 bytes and not even JSON
DEEP_OBJECT = '{"a":' * 900 + "1" + "}" * 900
LONG_ID = "a" * 5000  # DynamoDB: "Hash primary key values must be under 2048 bytes"
WIDE_ID = "é" * 1100  # 1100 characters, 2200 bytes
HOTLINE = "14155550100"
CALLER = "14155550123"


def request(client, method: str, path: str, body: str | None = None,
            content_type: str = "application/json"):
    kwargs = {"headers": {"Content-Type": content_type}}
    if body is not None:
        kwargs["body"] = body
    response = getattr(client.http, method)(path, **kwargs)
    return response.status_code, json.loads(response.body or b"null")


@pytest.fixture
def callbacks(client, monkeypatch):
    """The public callback API with nothing reaching Twilio (a closed port) and no rate limit."""
    from chalicelib.telephony import rest

    settings = get_settings()
    monkeypatch.setattr(settings, "twilio_api_base", "http://127.0.0.1:9")
    monkeypatch.setattr(settings, "callback_default_hotline", "+" + HOTLINE)
    monkeypatch.setattr(settings, "callback_rate_per_ip", 100_000)
    rest.reset_client()
    yield client
    rest.reset_client()


# ---- 1. deeply nested JSON ------------------------------------------------------------------

ADMIN_BODIES = [
    ("post", "/agents"),
    ("put", "/agents/ag-alice"),
    ("post", "/agents/ag-alice/state"),
    ("post", "/agents/ag-alice/transfer"),
    ("post", "/queues"),
    ("put", "/queues/support"),
    ("post", f"/missed-calls/{HOTLINE}/{CALLER}/resolve"),
]


@pytest.mark.parametrize("body", [DEEP_UNDER_4K, DEEP_ARRAY, DEEP_OBJECT],
                         ids=["unclosed", "array", "object"])
@pytest.mark.parametrize(("method", "path"), ADMIN_BODIES)
def test_deeply_nested_json_is_a_400_naming_the_body(client, method, path, body):
    status, answer = request(client, method, path, body)
    assert (status, answer["field"]) == (400, "body"), answer
    assert "nested deeper" in answer["error"]


@pytest.mark.parametrize("body", [DEEP_UNDER_4K, DEEP_OBJECT[:4000]], ids=["array", "object"])
def test_deeply_nested_json_is_a_400_on_the_callback_form_too(callbacks, body):
    status, answer = request(callbacks, "post", "/callbacks", body)
    assert status == 400
    assert (answer["field"], answer["error"]) == ("body", "malformed")
    assert answer["message"]


def test_json_that_is_not_standard_json_is_refused(client):
    for body in ('{"agent_id": NaN}', '{"agent_id": Infinity}', '{"wrap_up_seconds": 1e999}',
                 '{"agent_id": "ag-x", "agent_id": ' + "1" * 5000 + "}"):
        status, answer = request(client, "post", "/agents", body)
        assert (status, answer["field"]) == (400, "body"), body[:40]


@pytest.mark.parametrize(("method", "path"), ADMIN_BODIES)
def test_an_admin_body_over_64_kb_is_413(client, method, path):
    body = json.dumps({"name": "x" * 70_000})
    status, answer = request(client, method, path, body)
    assert (status, answer["field"]) == (413, "body"), answer


def test_the_callback_form_keeps_its_4_kb_limit_and_its_error_shape(callbacks):
    status, answer = request(callbacks, "post", "/callbacks", DEEP_ARRAY)
    assert status == 400
    assert (answer["field"], answer["error"]) == ("body", "too_large")


# ---- 2. impossible ids in paths -------------------------------------------------------------

ID_ROUTES = [
    ("get", "/agents/{id}", None),
    ("put", "/agents/{id}", '{"name": "X", "endpoint": {"address": "+14155550150"}}'),
    ("post", "/agents/{id}/state", '{"state": "away"}'),
    ("post", "/agents/{id}/transfer", '{"to": "queue", "target": "support"}'),
    ("post", "/agents/{id}/transfer/complete", None),
    ("get", "/agents/{id}/history", None),
    ("get", "/agents/{id}/context", None),
    ("get", "/queues/{id}", None),
    ("put", "/queues/{id}", '{"name": "X"}'),
    ("get", "/queues/{id}/board", None),
    ("get", "/tickets/{id}", None),
    ("post", "/tickets/{id}/close", None),
    ("get", "/missed-calls/{id}/" + CALLER, None),
    ("get", f"/missed-calls/{HOTLINE}/{{id}}", None),
    ("post", f"/missed-calls/{HOTLINE}/{{id}}/resolve", None),
]


@pytest.mark.parametrize("ident", [LONG_ID, WIDE_ID, "bad id!", "-starts-with-a-dash"],
                         ids=["5000-chars", "2200-bytes", "space", "dash"])
@pytest.mark.parametrize(("method", "template", "body"), ID_ROUTES)
def test_an_impossible_id_is_unknown(client, method, template, body, ident):
    status, answer = request(client, method, template.replace("{id}", ident), body)
    assert status == 404, answer
    assert answer["error"].startswith("no ") and len(answer["error"]) < 120


@pytest.mark.parametrize("method", ["get", "delete"])
def test_an_impossible_callback_id_is_unknown(callbacks, method):
    for ident in ("cb_" + LONG_ID, "cb_" + WIDE_ID, LONG_ID):
        status, answer = request(callbacks, method, f"/callbacks/{ident}")
        assert (status, answer["error"]) == (404, "not_found")


def test_a_well_formed_unknown_id_is_still_404_with_its_name(client):
    assert request(client, "get", "/agents/ag-nobody") == (404, {"error": "no agent 'ag-nobody'"})
    ticket = "TK" + uuid.uuid4().hex
    assert request(client, "get", f"/tickets/{ticket}") == (404, {"error": f"no ticket '{ticket}'"})


# ---- 3. numeric query parameters ------------------------------------------------------------

LIMITED = ["/agents/ag-alice/history", "/tickets", f"/missed-calls?hotline={HOTLINE}"]


@pytest.mark.parametrize("value", [
    "%C2%B2",  # '²': str.isdigit() is True, int() raises
    "%D9%A3",  # Arabic-Indic three: int() reads it, the API does not
    "9" * 5000,  # int() refuses more than 4300 digits
    "99999999999999999999", "0", "-1", "+5", "5.0", "0x10", "%205", "1e3",
], ids=["superscript", "arabic-indic", "5000-digits", "huge", "zero", "negative", "plus",
        "decimal", "hex", "space", "exponent"])
@pytest.mark.parametrize("path", LIMITED)
def test_a_limit_that_is_no_whole_number_in_range_is_a_400(client, path, value):
    joiner = "&" if "?" in path else "?"
    status, answer = request(client, "get", f"{path}{joiner}limit={value}")
    assert (status, answer["field"]) == (400, "limit"), answer


@pytest.mark.parametrize("path", LIMITED)
def test_a_good_or_empty_limit_is_taken(client, path):
    joiner = "&" if "?" in path else "?"
    for value in ("", "1", "007"):
        status, answer = request(client, "get", f"{path}{joiner}limit={value}")
        assert status == 200, answer


# ---- 4. everything else ---------------------------------------------------------------------


@pytest.mark.parametrize("value", [
    "0001-01-01T00:00:00%2B01:00",  # before year 1 in UTC: OverflowError
    "9999-12-31T23:59:59-01:00",  # after year 9999 in UTC
    "2026-11-23T15:00:00",  # no offset
    "yesterday", "2026-13-01T00:00:00Z",
], ids=["year-1", "year-10000", "no-offset", "word", "month-13"])
@pytest.mark.parametrize("path", ["/tickets", f"/missed-calls?hotline={HOTLINE}"])
def test_a_before_that_is_no_instant_is_a_400(client, path, value):
    joiner = "&" if "?" in path else "?"
    status, answer = request(client, "get", f"{path}{joiner}before={value}")
    assert (status, answer["field"]) == (400, "before"), answer


def test_a_cursor_with_an_unencoded_plus_still_works(client):
    status, _ = request(client, "get", "/tickets?before=2026-11-23T15:00:00+00:00")
    assert status == 200


def test_a_preferred_time_outside_the_calendar_is_a_400(callbacks):
    for when in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"):
        status, answer = request(callbacks, "post", "/callbacks", json.dumps(
            {"phone": "+12125550100", "queue": "support", "preferred_time": when}))
        assert (status, answer["field"]) == (400, "preferred_time"), answer


@pytest.mark.parametrize(("body", "field"), [
    ({"endpoint": "+14155550150"}, "endpoint"),
    ({"endpoint": {"kind": "phone", "address": 14155550150}}, "endpoint.address"),
    ({"skills": ["billing"]}, "skills"),
    ({"queues": "support"}, "queues"),
    ({"languages": "en-US"}, "languages"),
    ({"wrap_up_seconds": "30"}, "wrap_up_seconds"),
    ({"wrap_up_seconds": True}, "wrap_up_seconds"),
    ({"name": ["Ada"]}, "name"),
    ({"mobile": 14155550151}, "mobile"),
    ({"regions": ["+١٢"]}, "regions[0]"),  # unicode digits are no dialling prefix
])
def test_wrong_json_types_in_an_agent_are_a_400_naming_the_field(client, body, field):
    agent = {"agent_id": f"ag-{uuid.uuid4().hex[:8]}", "name": "Ada",
             "endpoint": {"kind": "phone", "address": "+14155550150"}, **body}
    status, answer = request(client, "post", "/agents", json.dumps(agent))
    assert (status, answer["field"]) == (400, field), answer


@pytest.mark.parametrize(("body", "field"), [
    ({"overflow": {"kind": "callback", "queue": {"a": [[[]]]}}}, "overflow.queue"),
    ({"overflow": {"kind": "transfer", "to": "+14155550100", "note": "x"}}, "overflow.note"),
    ({"overflow": "voicemail"}, "overflow"),
    ({"overflow": {"kind": "voicemail"}}, "overflow.kind"),
    ({"hours": {"timezone": "UTC", "weekly": {"mon": "09:00-17:00"}}}, "hours.weekly.mon"),
    ({"hours": {"timezone": "UTC", "weekly": {"mon": {"09:00-17:00": [[]]}}}},
     "hours.weekly.mon"),
    ({"hours": {"timezone": "Mars/Olympus", "weekly": {}}}, "hours.timezone"),
    ({"hours": {"timezone": "UTC", "weekly": {}, "holidays": [20261225]}}, "hours.holidays[0]"),
    ({"tiers": {"after_seconds": 30, "tier": 2}}, "tiers"),
    ({"strategy": "fastest"}, "strategy"),
    ({"strategy": ["ring-all"]}, "strategy"),
    ({"max_size": 1e3}, "max_size"),
])
def test_wrong_json_in_a_queue_is_a_400_naming_the_field(client, body, field):
    queue = {"queue_id": f"q-{uuid.uuid4().hex[:8]}", "name": "Q", **body}
    status, answer = request(client, "post", "/queues", json.dumps(queue))
    assert (status, answer["field"]) == (400, field), answer


def test_queue_hours_are_stored_in_the_form_they_are_read_back(client):
    """A zone with spaces around it, or an ISO week date as a holiday, used to be stored as sent:
    the board and every call then read a zone ZoneInfo refuses, or a holiday never matched."""
    queue_id = f"q-{uuid.uuid4().hex[:8]}"
    hours = {"timezone": " America/New_York ", "weekly": {"mon-fri": ["09:00-17:00"]},
             "holidays": ["2026-W52-5"]}
    status, created = request(client, "post", "/queues", json.dumps(
        {"queue_id": queue_id, "name": "Q", "hours": hours}))
    assert status == 201, created
    assert created["hours"] == {"timezone": "America/New_York",
                                "weekly": {"mon-fri": ["09:00-17:00"]},
                                "holidays": ["2026-12-25"]}
    assert request(client, "get", f"/queues/{queue_id}/board")[0] == 200


@pytest.mark.parametrize(("body", "field"), [
    ("[]", "body"), ('"resolved"', "body"), ('{"by": 7}', "by"), ('{"notes": "typo"}', "notes"),
    ('{"note": "' + "x" * 501 + '"}', "note"),
])
def test_a_bad_resolve_body_is_a_400_naming_the_field(client, body, field):
    status, answer = request(client, "post", f"/missed-calls/{HOTLINE}/{CALLER}/resolve", body)
    assert (status, answer["field"]) == (400, field), answer


@pytest.mark.parametrize(("body", "field"), [
    ({"state": ["away"]}, "state"), ({"state": "on-call"}, "state"), ({"state": None}, "state"),
    ({"state": "away", "reason": {"why": "lunch"}}, "reason"), ({"state": "away", "x": 1}, "x"),
])
def test_a_bad_state_change_is_a_400_naming_the_field(client, body, field):
    status, answer = request(client, "post", "/agents/ag-alice/state", json.dumps(body))
    assert (status, answer["field"]) == (400, field), answer


@pytest.mark.parametrize(("body", "field"), [
    ({"phone": ["+12125550100"], "queue": "support"}, "phone"),
    ({"phone": "+12125550100", "queue": {"id": "support"}}, "queue"),
    ({"phone": "+12125550100", "queue": "x" * 5000}, "body"),
    ({"phone": "+1" + "2" * 3000, "queue": "support"}, "phone"),
    ({"phone": "+12125550100", "queue": "support", "language": "tlh"}, "language"),
    ({"phone": "+12125550100", "hotline": "+" + "1" * 900, "queue": "support"}, "hotline"),
])
def test_wrong_input_on_the_callback_form_is_a_400_naming_the_field(callbacks, body, field):
    status, answer = request(callbacks, "post", "/callbacks", json.dumps(body))
    assert (status, answer["field"]) == (400, field), answer
