"""The web callback API through Chalice's test client, on DynamoDB Local with the carrier
emulator receiving the confirmation texts."""

from __future__ import annotations

import itertools
import json
import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from chalice.local import LambdaEventConverter

from chalicelib.logs import mask_number
from chalicelib.routing.model import Agent, AgentState, Endpoint, QueueConfig
from chalicelib.settings import get_settings
from chalicelib.store import callbacks as store
from chalicelib.store import routing
from chalicelib.store.models import Hotline
from chalicelib.wiring import root
from tests.support import PUBLIC_BASE_URL

HOTLINE = "+14155550100"  # the demo hotline: US, CA, GB, CN allowed
SHOP = "https://shop.example"  # a customer's site allowed to embed the widget
HOURS_QUEUE = "cbapi-hours"  # weekdays 09:00-17:00 New York
STAFFED_QUEUE = "cbapi-staffed"  # one agent available, 2-minute calls
_numbers = itertools.count(1000)


def fresh_number() -> str:
    return f"+1212555{next(_numbers):04d}"


@pytest.fixture(autouse=True)
def queues(demo):
    now = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
    hours = {"timezone": "America/New_York", "weekly": {"mon-fri": ["09:00-17:00"]},
             "holidays": []}
    routing.save_queue(QueueConfig(HOURS_QUEUE, "Office hours", hours=hours), now)
    routing.save_queue(QueueConfig(STAFFED_QUEUE, "Staffed"), now)
    agent = Agent("ag-cbapi", "Cee", Endpoint("phone", "+14155550163"),
                  queues={STAFFED_QUEUE: 1})
    routing.save_agent_profile(agent, now)
    available = routing.get_agent("ag-cbapi")
    available.state = AgentState.AVAILABLE
    routing.change_agent_state(available, AgentState.OFFLINE, now)
    for n, seconds in enumerate((120, 120, 120)):
        routing.add_handle_time(STAFFED_QUEUE, seconds, sample_key=f"sample-{n}")


@pytest.fixture
def api(carrier, client, monkeypatch):
    return _configured(client, monkeypatch)


@pytest.fixture
def quiet_api(client, monkeypatch):
    """For requests that must send nothing: no emulator, and Twilio's API is a closed port."""
    from chalicelib.telephony import rest

    monkeypatch.setattr(get_settings(), "twilio_api_base", "http://127.0.0.1:9")
    rest.reset_client()
    yield _configured(client, monkeypatch)
    rest.reset_client()


def _configured(client, monkeypatch):
    settings = get_settings()
    monkeypatch.setattr(settings, "callback_default_hotline", HOTLINE)
    monkeypatch.setattr(settings, "callback_allowed_origins", (SHOP,))
    monkeypatch.setattr(settings, "callback_rate_per_ip", 100_000)
    monkeypatch.setattr(settings, "callback_rate_per_number", 100)
    return client


def post(client, body: dict, *, form: bool = False, headers: dict | None = None, raw=None):
    content_type = "application/x-www-form-urlencoded" if form else "application/json"
    data = raw if raw is not None else (urlencode(body) if form else json.dumps(body))
    return client.http.post("/callbacks", body=data,
                            headers={"Content-Type": content_type, **(headers or {})})


def body_of(response) -> dict:
    return json.loads(response.body or b"{}")


def texts_to(carrier, number: str) -> list[dict]:
    return [m for m in carrier.messages if m["to"] == number]


# ---- creating --------------------------------------------------------------------------------


def test_json_request_is_accepted_queued_and_confirmed_by_text(api, carrier):
    phone = fresh_number()
    response = post(api, {"phone": phone, "name": "Ada Lovelace", "queue": "support",
                          "preferred_time": "asap"})
    assert response.status_code == 202, response.body
    body = body_of(response)
    assert body["id"].startswith("cb_") and len(body["id"]) == 27
    assert body["status"] == "queued"
    assert body["position"] >= 1
    assert body["scheduled_for"] is None
    assert body["status_url"] == f"{PUBLIC_BASE_URL}/callbacks/{body['id']}"
    assert body["cancel_url"] == body["status_url"]
    assert phone not in response.body.decode()  # the number is never echoed in full
    req = store.get_request(body["id"])
    assert (req.kind, req.phone, req.name, req.queue_id, req.hotline, req.language) == \
        ("web", phone, "Ada Lovelace", "support", HOTLINE, "en-US")
    [text] = texts_to(carrier, phone)
    assert text["from"] == HOTLINE
    assert "call you back as soon as an agent is free" in text["body"]
    assert "reply CANCEL CALL" in text["body"] and body["status_url"] in text["body"]


def test_form_request_national_number_topic_and_chinese(api, carrier):
    response = post(api, {"phone": "(212) 555-0999", "topic": "billing", "language": "zh-CN",
                          "name": "李雷"}, form=True)
    assert response.status_code == 202, response.body
    body = body_of(response)
    req = store.get_request(body["id"])
    assert (req.phone, req.queue_id, req.topic, req.language) == \
        ("+12125550999", "support", "billing", "zh-CN")
    [text] = texts_to(carrier, "+12125550999")
    assert "尽快给您回电" in text["body"] and "取消回电" in text["body"]


def test_a_staffed_queue_estimates_the_wait(api, carrier):
    # the agent is busy (after-call work): one agent, two-minute calls: position N waits
    # about N * 120 s
    agent = routing.get_agent("ag-cbapi")
    agent.state = AgentState.WRAP_UP
    routing.change_agent_state(agent, AgentState.AVAILABLE, datetime(2026, 11, 23, 15, 0,
                                                                     tzinfo=UTC))
    phone = fresh_number()
    response = post(api, {"phone": phone, "queue": STAFFED_QUEUE})
    body = body_of(response)
    assert response.status_code == 202
    assert body["estimated_wait_seconds"] == body["position"] * 120
    minutes = body["position"] * 2
    assert f"in about {minutes} minutes" in texts_to(carrier, phone)[0]["body"]


def test_with_an_agent_free_the_wait_is_no_wait(api, carrier):
    # the agent is available: the callback goes out at once, so no "about 2 minutes"
    phone = fresh_number()
    body = body_of(post(api, {"phone": phone, "queue": STAFFED_QUEUE}))
    assert (body["position"], body["estimated_wait_seconds"]) == (1, 0)
    text = texts_to(carrier, phone)[0]["body"]
    assert "as soon as an agent is free" in text and "minute" not in text


def test_a_slot_inside_the_hours_is_scheduled(api, carrier, clock):
    phone = fresh_number()
    slot = "2026-11-24T11:30:00-05:00"  # Tuesday 11:30 in New York
    response = post(api, {"phone": phone, "queue": HOURS_QUEUE, "preferred_time": slot})
    assert response.status_code == 202, response.body
    body = body_of(response)
    assert body["status"] == "scheduled"
    assert body["scheduled_for"] == "2026-11-24T16:30:00+00:00"
    assert body["position"] is None and body["estimated_wait_seconds"] is None
    assert store.get_request(body["id"]).due_at == datetime(2026, 11, 24, 16, 30, tzinfo=UTC)
    assert "on Tue Nov 24 at 11:30 (EST)" in texts_to(carrier, phone)[0]["body"]


def test_asap_after_hours_is_scheduled_for_the_opening(api, clock):
    clock.now = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # Monday 20:00 in New York
    body = body_of(post(api, {"phone": fresh_number(), "queue": HOURS_QUEUE}))
    assert body["status"] == "scheduled"
    assert body["scheduled_for"] == "2026-11-24T14:00:00+00:00"


# ---- refusing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "field", "error"), [
    ({"queue": "support"}, "phone", "missing"),
    ({"phone": "", "queue": "support"}, "phone", "missing"),
    ({"phone": "+1 900 555 0199", "queue": "support"}, "phone", "premium_rate"),
    ({"phone": "+44 909 876 5432", "queue": "support"}, "phone", "premium_rate"),
    ({"phone": "12345", "queue": "support"}, "phone", "short_code"),
    ({"phone": "911", "queue": "support"}, "phone", "short_code"),
    ({"phone": "+49 30 123456", "queue": "support"}, "phone", "country_not_allowed"),
    ({"phone": "call me maybe", "queue": "support"}, "phone", "invalid"),
    ({"phone": "+12125550100", "queue": "nope"}, "queue", "unknown_queue"),
    ({"phone": "+12125550100", "queue": "../etc"}, "queue", "unknown_queue"),
    ({"phone": "+12125550100"}, "topic", "missing"),  # the demo hotline offers topics
    ({"phone": "+12125550100", "topic": "astrology"}, "topic", "unknown_topic"),
    ({"phone": "+12125550100", "queue": "support", "language": "fr-FR"}, "language",
     "unsupported_language"),
    ({"phone": "+12125550100", "queue": "support", "hotline": "+15555550000"}, "hotline",
     "unknown_hotline"),
    ({"phone": "+12125550100", "queue": "support", "name": "x" * 81}, "name", "too_long"),
    ({"phone": "+12125550100", "queue": "support", "colour": "blue"}, "colour",
     "unknown_field"),
    ({"phone": "+12125550100", "queue": HOURS_QUEUE,
      "preferred_time": "2026-11-24T23:00:00-05:00"}, "preferred_time", "closed"),
    ({"phone": "+12125550100", "queue": HOURS_QUEUE,
      "preferred_time": "2026-12-30T11:00:00-05:00"}, "preferred_time", "too_far"),
    ({"phone": "+12125550100", "queue": HOURS_QUEUE,
      "preferred_time": "2026-11-20T11:00:00-05:00"}, "preferred_time", "past"),
    ({"phone": "+12125550100", "queue": HOURS_QUEUE, "preferred_time": "noonish"},
     "preferred_time", "malformed"),
])
def test_bad_input_is_refused_naming_the_field(quiet_api, body, field, error):
    response = post(quiet_api, body)
    assert response.status_code == 400, response.body
    answer = body_of(response)
    assert (answer["field"], answer["error"]) == (field, error)
    assert answer["message"]
    assert store.requests_for_number("+12125550100") == []


@pytest.mark.parametrize(("phone", "error"), [
    ("+1 212 555 0100 x123", "extension"),
    ("(212) 555-0100 ext. 5", "extension"),
    ("212 555 0100 after 5pm", "extra_text"),
])
def test_a_number_readable_only_in_part_is_refused_never_stored_cut(quiet_api, phone, error):
    # phonenumbers would read each as +12125550100, leaving the rest out
    response = post(quiet_api, {"phone": phone, "queue": "support"})
    assert response.status_code == 400, response.body
    answer = body_of(response)
    assert (answer["field"], answer["error"]) == ("phone", error)
    assert answer["message"]
    assert store.requests_for_number("+12125550100") == []


def test_an_international_number_typed_with_00_is_accepted(api, carrier):
    response = post(api, {"phone": "00 44 7400 123458", "queue": "support"})
    assert response.status_code == 202, response.body
    assert store.get_request(body_of(response)["id"]).phone == "+447400123458"


def test_oversized_and_malformed_bodies(quiet_api):
    api = quiet_api
    big = post(api, {}, raw=json.dumps({"phone": "+12125550100", "name": "x" * 5000}))
    assert big.status_code == 400
    assert (body_of(big)["field"], body_of(big)["error"]) == ("body", "too_large")
    broken = post(api, {}, raw="{not json")
    assert (broken.status_code, body_of(broken)["error"]) == (400, "malformed")
    listed = post(api, {}, raw="[1, 2]")
    assert (listed.status_code, body_of(listed)["error"]) == (400, "malformed")
    typed = post(api, {"phone": 12125550100, "queue": "support"})
    assert (typed.status_code, body_of(typed)["field"]) == (400, "phone")


def test_an_opted_out_number_is_refused(api, carrier):
    from chalicelib.store import optouts

    phone = fresh_number()
    optouts.opt_out(phone, "stop", datetime(2026, 11, 1, tzinfo=UTC))
    response = post(api, {"phone": phone, "queue": "support"})
    assert response.status_code == 400
    assert (body_of(response)["field"], body_of(response)["error"]) == ("phone", "opted_out")
    assert not texts_to(carrier, phone)


def test_a_number_on_our_do_not_call_list_is_refused_at_the_form(api, carrier):
    from chalicelib.store import compliance

    phone = fresh_number()
    compliance.add_do_not_call(phone, "all", "test", datetime(2026, 11, 1, tzinfo=UTC))
    response = post(api, {"phone": phone, "queue": "support"})
    assert response.status_code == 400
    assert (body_of(response)["field"], body_of(response)["error"]) == ("phone", "do_not_call")
    assert not texts_to(carrier, phone)
    compliance.add_do_not_call(phone, "sms", "test", datetime(2026, 11, 1, tzinfo=UTC))
    compliance.remove_do_not_call(phone, "all")  # texts blocked, calls allowed: it may ask
    assert post(api, {"phone": phone, "queue": "support"}).status_code == 202
    assert not texts_to(carrier, phone)  # and gets no confirmation text


def test_a_missing_default_hotline_is_a_clear_400(api, monkeypatch):
    monkeypatch.setattr(get_settings(), "callback_default_hotline", None)
    response = post(api, {"phone": fresh_number(), "queue": "support"})
    assert (response.status_code, body_of(response)["field"]) == (400, "hotline")
    named = post(api, {"phone": fresh_number(), "queue": "support", "hotline": HOTLINE})
    assert named.status_code == 202


def test_allowed_countries_come_from_the_hotline(api):
    uk_mobile = "+447400123456"
    assert post(api, {"phone": uk_mobile, "queue": "support"}).status_code == 202
    hotline = Hotline.get(HOTLINE)
    try:
        hotline.update(actions=[Hotline.allowed_regions.set(["US"])])
        from chalicelib.store import directory

        directory.clear_cache()
        refused = post(api, {"phone": "+447400123457", "queue": "support"})
        assert body_of(refused)["error"] == "country_not_allowed"
    finally:
        hotline.update(actions=[Hotline.allowed_regions.set(["US", "CA", "GB", "CN"])])
        directory.clear_cache()


# ---- one open request per number and queue ----------------------------------------------------


def test_a_duplicate_request_answers_409_with_the_existing_id(api, carrier):
    phone = fresh_number()
    first = body_of(post(api, {"phone": phone, "queue": "support"}))
    again = post(api, {"phone": phone.replace("+1", ""), "queue": "support"})
    assert again.status_code == 409
    answer = body_of(again)
    assert (answer["error"], answer["id"]) == ("already_requested", first["id"])
    assert answer["status_url"].endswith(first["id"])
    assert len(texts_to(carrier, phone)) == 1  # no second confirmation


def test_concurrent_duplicate_submissions_create_exactly_one_request(api, carrier):
    phone = fresh_number()
    statuses, barrier, lock = [], threading.Barrier(5), threading.Lock()
    from chalicelib.callbacks import web

    def submit():
        barrier.wait()
        try:
            web.submit({"phone": phone, "queue": "support"}, client_ip="198.51.100.9",
                       now=datetime(2026, 11, 23, 15, 0, tzinfo=UTC), settings=get_settings(),
                       gate=root().compliance)
            outcome = 202
        except web.Duplicate:
            outcome = 409
        with lock:
            statuses.append(outcome)

    threads = [threading.Thread(target=submit) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [202, 409, 409, 409, 409]
    assert len(store.requests_for_number(phone)) == 1
    assert len(texts_to(carrier, phone)) == 1


# ---- rate limits --------------------------------------------------------------------------------


def test_requests_per_client_ip_are_limited(api, monkeypatch):
    monkeypatch.setattr(get_settings(), "callback_rate_per_ip", 3)
    monkeypatch.setattr(LambdaEventConverter, "LOCAL_SOURCE_IP", "203.0.113.7")
    answers = [post(api, {"phone": fresh_number(), "queue": "support"}),
               post(api, {"phone": "+1 900 555 0199", "queue": "support"}),
               post(api, {"phone": fresh_number(), "queue": "support"})]
    # invalid requests count too: a bot probing numbers is a bot all the same
    assert [a.status_code for a in answers] == [202, 400, 202]
    limited = post(api, {"phone": fresh_number(), "queue": "support"})
    assert limited.status_code == 429
    assert body_of(limited)["scope"] == "ip"
    assert 0 < int(limited.headers["Retry-After"]) <= 3600
    # another client is not affected
    monkeypatch.setattr(LambdaEventConverter, "LOCAL_SOURCE_IP", "203.0.113.8")
    assert post(api, {"phone": fresh_number(), "queue": "support"}).status_code == 202


def test_requests_per_number_are_limited_and_the_window_resets(api, clock, monkeypatch):
    monkeypatch.setattr(get_settings(), "callback_rate_per_number", 2)
    phone = fresh_number()
    first = body_of(post(api, {"phone": phone, "queue": "support"}))
    assert api.http.delete(f"/callbacks/{first['id']}").status_code == 200
    assert post(api, {"phone": phone, "queue": "support"}).status_code == 202  # 2nd
    limited = post(api, {"phone": phone, "queue": HOURS_QUEUE})
    assert (limited.status_code, body_of(limited)["scope"]) == (429, "number")
    clock.now += timedelta(hours=1)  # the next window
    assert post(api, {"phone": phone, "queue": HOURS_QUEUE}).status_code == 202


# ---- origins and CORS ---------------------------------------------------------------------------


def test_an_allowed_origin_gets_cors_headers(api):
    response = post(api, {"phone": fresh_number(), "queue": "support"},
                    headers={"Origin": SHOP})
    assert response.status_code == 202
    assert response.headers["Access-Control-Allow-Origin"] == SHOP
    assert response.headers["Vary"] == "Origin"
    preflight = api.http.request("OPTIONS", "/callbacks", headers={
        "Origin": SHOP, "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == SHOP
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "DELETE" in preflight.headers["Access-Control-Allow-Methods"]


def test_the_apis_own_origin_is_always_allowed(api):
    response = post(api, {"phone": fresh_number(), "queue": "support"},
                    headers={"Origin": "https://switchboard.test"})
    assert response.status_code == 202


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "https://shop.example.evil"])
def test_other_origins_are_refused_before_anything_happens(quiet_api, origin):
    api = quiet_api
    phone = fresh_number()
    response = post(api, {"phone": phone, "queue": "support"}, headers={"Origin": origin})
    assert response.status_code == 403
    assert body_of(response)["error"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in response.headers
    assert store.requests_for_number(phone) == []
    preflight = api.http.request("OPTIONS", "/callbacks", headers={"Origin": origin})
    assert preflight.status_code == 403


def test_a_star_allows_every_origin(api, monkeypatch):
    monkeypatch.setattr(get_settings(), "callback_allowed_origins", ("*",))
    response = post(api, {"phone": fresh_number(), "queue": "support"},
                    headers={"Origin": "https://anyone.example"})
    assert response.status_code == 202
    assert response.headers["Access-Control-Allow-Origin"] == "https://anyone.example"


# ---- status and cancel --------------------------------------------------------------------------


def test_status_shows_the_place_in_line_and_the_history(api):
    phone = fresh_number()
    created = body_of(post(api, {"phone": phone, "queue": "support", "name": "Bo"}))
    response = api.http.get(f"/callbacks/{created['id']}")
    assert response.status_code == 200
    status = body_of(response)
    assert (status["id"], status["status"], status["queue"]) == (created["id"], "queued",
                                                                 "support")
    assert status["position"] == created["position"]
    assert [h["status"] for h in status["history"]] == ["queued"]
    assert status["phone"] == mask_number(phone) != phone


def test_unknown_ids_are_404(quiet_api):
    api = quiet_api
    for callback_id in ("cb_AAAAAAAAAAAAAAAAAAAAAAAA", "nonsense", "cb_..%2F"):
        assert api.http.get(f"/callbacks/{callback_id}").status_code == 404
        assert api.http.delete(f"/callbacks/{callback_id}").status_code == 404


def test_cancel_is_idempotent_and_frees_the_place_in_line(api):
    phone = fresh_number()
    created = body_of(post(api, {"phone": phone, "queue": "support"}))
    key = store.get_request(created["id"]).entry_key
    first = api.http.delete(f"/callbacks/{created['id']}")
    assert first.status_code == 200
    assert body_of(first)["status"] == "cancelled"
    assert routing.get_entry("support", key) is None
    again = api.http.delete(f"/callbacks/{created['id']}")
    assert (again.status_code, body_of(again)["status"]) == (200, "cancelled")
    status = body_of(api.http.get(f"/callbacks/{created['id']}"))
    assert [h["status"] for h in status["history"]] == ["queued", "cancelled"]
    assert post(api, {"phone": phone, "queue": "support"}).status_code == 202


def test_a_connected_or_completed_callback_cannot_be_cancelled(api):
    created = body_of(post(api, {"phone": fresh_number(), "queue": "support"}))
    now = datetime(2026, 11, 23, 15, 5, tzinfo=UTC)
    assert store.transition(created["id"], 1, "dialing", now)
    assert store.transition(created["id"], 2, "connected", now)
    refused = api.http.delete(f"/callbacks/{created['id']}")
    assert (refused.status_code, body_of(refused)["status"]) == (409, "connected")
    assert store.transition(created["id"], 3, "completed", now)
    assert api.http.delete(f"/callbacks/{created['id']}").status_code == 409


def test_a_closed_request_past_its_retention_is_gone(api, clock):
    created = body_of(post(api, {"phone": fresh_number(), "queue": "support"}))
    assert api.http.delete(f"/callbacks/{created['id']}").status_code == 200
    clock.now += timedelta(days=store.CLOSED_RETENTION_DAYS, minutes=1)
    assert api.http.get(f"/callbacks/{created['id']}").status_code == 404


# ---- the widget ---------------------------------------------------------------------------------


def test_the_widget_and_its_preview_are_served(api):
    script = api.http.get("/callbacks/widget.js")
    assert script.status_code == 200
    assert script.headers["Content-Type"].startswith("application/javascript")
    assert b"attachShadow" in script.body
    page = api.http.get("/callbacks/widget?queue=support&language=zh-CN")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    html = page.body.decode()
    assert 'src="widget.js"' in html and 'data-queue="support"' in html
    assert 'data-language="zh-CN"' in html
    # parameters that are not well formed never reach the page
    hostile = api.http.get('/callbacks/widget?queue="><script>alert(1)</script>').body.decode()
    assert "alert(1)" not in hostile and 'data-queue="support"' in hostile


def test_the_status_link_opened_in_a_browser_is_a_page(api):
    created = body_of(post(api, {"phone": fresh_number(), "queue": "support"}))
    page = api.http.get(f"/callbacks/{created['id']}", headers={"Accept": "text/html"})
    assert page.headers["Content-Type"].startswith("text/html")
    assert f'data-id="{created["id"]}"' in page.body.decode()
