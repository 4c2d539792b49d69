"""The agent desk in real Chromium: the real app over HTTP, DynamoDB Local, and a carrier
emulator that calls the app back (``background=True``), so a caller really goes through the IVR,
waits in the demo's support queue and rings the agent's ``client`` endpoint.

The desk signs in as the demo agent (``agent`` -> ag-alice), goes available, takes the call (the
screen pop shows the caller), holds and resumes it, consults the demo's second agent and
completes the warm transfer, then wraps up with a disposition code that the call's record keeps.

The call is answered in the page: the desk's Answer button, through ``softphone.js`` and the
emulator's softphone API (the real Voice SDK is loaded too; media is Twilio's and not tested).
"""

from __future__ import annotations

import json

import pytest
import requests

from tests.support import TEST_ACCOUNT, TEST_TOKEN

WAIT = 20.0  # real seconds; only reached when something is broken
HOTLINE = "+14155550100"
CALLER = "+14155550177"
TO_QUEUE = ["1", "2"]  # English, then "speak to an agent" (open hours)
ALICE = "ag-alice"


@pytest.fixture(scope="module")
def live_carrier(app_server):
    """An emulator that calls the app back (each call in its own thread), the app's Twilio REST
    pointed at it for this module; the browser fixtures' quiet ``carrier`` comes back after."""
    from chalicelib.settings import get_settings
    from chalicelib.telephony import rest
    from infra.local.carrier import Carrier, make_server

    carrier = Carrier(app_url=app_server, account_sid=TEST_ACCOUNT, auth_token=TEST_TOKEN,
                      background=True)
    server = make_server(carrier, "127.0.0.1", 0).start()
    carrier.emulator_url = server.url
    settings = get_settings()
    saved = settings.twilio_api_base
    settings.twilio_api_base = server.url
    rest.reset_client()
    yield carrier
    carrier.reset()
    carrier.wait_idle(WAIT)
    server.stop()
    settings.twilio_api_base = saved
    rest.reset_client()


def api(app_server: str, method: str, path: str, body: dict | None = None) -> dict:
    """The admin API as a machine client (the laptop's open API: an admin)."""
    response = requests.request(method, app_server + path, timeout=WAIT,
                                data=None if body is None else json.dumps(body),
                                headers={"Content-Type": "application/json"})
    assert response.ok, (method, path, response.status_code, response.text)
    return response.json()


def softphone_agent(app_server: str, agent_id: str) -> dict:
    """Make the demo agent a ``client`` endpoint (identity = the agent id)."""
    agent = api(app_server, "GET", f"/agents/{agent_id}")
    profile = {key: agent[key] for key in ("name", "skills", "queues", "languages", "regions",
                                           "wrap_up_seconds", "mobile", "timezone")}
    profile["endpoint"] = {"kind": "client", "address": agent_id}
    return api(app_server, "PUT", f"/agents/{agent_id}", profile)


@pytest.fixture
def desk(page, sign_in, clock):
    """``desk(lang="en")``: the demo agent's desk. The page's clock starts at the app's
    simulated one (the session's expiry and the time in state are read against it)."""

    def go(lang: str = "en"):
        page.clock.install(time=clock.now)
        sign_in("agent", lang=lang, then="desk")
        page.wait_for_function("document.body.dataset.state === 'ready'")
        return page

    return go


def desk_shows(page, attribute: str, value: str) -> None:
    page.wait_for_function(f"document.body.dataset.{attribute} === {json.dumps(value)}",
                           timeout=WAIT * 1000)


def answer(page, carrier, identity: str) -> None:
    """The desk's softphone answers: its Answer button, once it rings."""
    carrier.clients.wait_for(identity, lambda s: s["incoming"], WAIT)
    assert page.evaluate("typeof window.Softphone === 'object'"), "softphone.js is loaded"
    page.click("#answer")  # the desk's offer shows once its softphone rings


def supervisor_board(browser, app_server: str):
    """A second window: the supervisor signed in on the wallboard."""
    board = browser.new_context(locale="en-US").new_page()
    board.goto(f"{app_server}/console?next=/console/board")
    board.fill("#sign-in input[name=username]", "supervisor")
    board.fill("#sign-in input[name=password]", "supervisor")
    board.click("#sign-in button[type=submit]")
    board.wait_for_function("document.body.dataset.state === 'ready'", timeout=WAIT * 1000)
    return board


def board_shows(board, agent_id: str, state: str) -> None:
    board.wait_for_selector(f'tr[data-agent="{agent_id}"][data-state="{state}"]',
                            timeout=WAIT * 1000)


def test_an_agent_takes_holds_transfers_and_wraps_up_a_call(desk, app_server, live_carrier,
                                                            browser, tmp_path):
    from chalicelib.store.calls import get_call

    # Given the demo agent on a softphone, and a second agent to consult, also a softphone
    softphone_agent(app_server, ALICE)
    second = next(a["agent_id"] for a in api(app_server, "GET", "/agents")["agents"]
                  if a["agent_id"] != ALICE and "support" in a["queues"])
    softphone_agent(app_server, second)
    live_carrier.clients.register(ALICE)
    live_carrier.clients.register(second)

    # When the agent signs in to the desk and goes available
    page = desk()
    page.set_viewport_size({"width": 1280, "height": 800})
    page.click("[data-set-state=available]")
    desk_shows(page, "agentState", "available")
    assert page.text_content("#state") == "Available"

    # and a caller goes through the IVR to the support queue
    call = live_carrier.start_inbound_call(HOTLINE, CALLER, TO_QUEUE, hold_pace=0.5)
    answer(page, live_carrier, ALICE)

    # Then the desk is on the call and the screen pop shows the caller and the IVR path
    desk_shows(page, "agentState", "on-call")
    page.wait_for_selector("#pop dd")
    pop = page.text_content("#pop")
    assert CALLER in pop and "support" in pop

    # and the supervisor, in another window, sees it live on the wallboard (no reload)
    board = supervisor_board(browser, app_server)
    board_shows(board, ALICE, "on-call")

    # Hold and resume
    page.click("#hold")
    page.wait_for_function("document.getElementById('hold').textContent === 'Resume'")
    assert get_call(call.sid).consult_state == "hold"
    page.click("#hold")
    page.wait_for_function("document.getElementById('hold').textContent === 'Hold'")
    assert get_call(call.sid).consult_state is None

    # Warm transfer to the second agent: consult, they answer, complete
    api(app_server, "POST", f"/agents/{second}/state", {"state": "available"})
    page.select_option("#transfer select[name=to]", "agent")
    page.fill("#transfer input[name=target]", second)
    page.click("#transfer button[value=warm]")
    page.wait_for_selector("#consult:not([hidden])")
    live_carrier.clients.wait_for(second, lambda s: s["incoming"], WAIT)
    live_carrier.clients.answer(second)
    page.wait_for_function("document.getElementById('consult-status').textContent"
                           ".indexOf('Consulting') === 0", timeout=WAIT * 1000)
    page.click("#consult-complete")

    # Then the agent wraps up: a disposition code and a note, kept on the call
    desk_shows(page, "agentState", "wrap-up")
    page.wait_for_selector("#wrap-card:not([hidden])")
    codes = page.eval_on_selector_all("#wrap-up select[name=code] option",
                                      "options => options.map(o => o.value).filter(Boolean)")
    assert "resolved" in codes
    page.select_option("#wrap-up select[name=code]", "resolved")
    page.fill("#wrap-up textarea[name=note]", "moved to billing")
    page.click("#wrap-up button[type=submit]")
    page.wait_for_function("document.getElementById('wrap-call').textContent"
                           ".indexOf('resolved') >= 0")
    given = [d for d in get_call(call.sid).dispositions or [] if d["agent_id"] == ALICE]
    assert [(d["code"], d["note"]) for d in given] == [("resolved", "moved to billing")]
    page.screenshot(path=str(tmp_path / "desk-1280x800.png"))
    board_shows(board, second, "on-call")  # the call moved to the second agent, live
    board.context.close()

    # The caller talks to the second agent now; they hang up and the call ends
    live_carrier.clients.hangup(second)
    assert call.done.wait(WAIT), call.transcript.events
    assert not call.transcript.errors, call.transcript.errors


def test_the_desk_speaks_chinese_on_a_tablet(desk, tmp_path):
    page = desk("zh")
    page.set_viewport_size({"width": 1024, "height": 768})
    assert page.get_attribute("html", "lang") == "zh-CN"
    assert page.text_content("#state-title") == "我的状态"
    assert page.text_content("[data-set-state=break]") == "小休"
    assert page.text_content("#state") == "下线"  # the demo agent starts offline
    # a phone agent: calls ring their phone, no softphone
    assert "来电将呼叫您的电话" in page.text_content("#phone-status")
    # every control is reachable with the keyboard and nothing overflows the tablet's width
    assert page.evaluate("document.documentElement.scrollWidth <= 1024")
    page.screenshot(path=str(tmp_path / "desk-zh-1024x768.png"), full_page=True)


def test_the_desk_sets_break_and_away_with_a_reason(desk):
    page = desk()
    page.click("[data-set-state=available]")
    desk_shows(page, "agentState", "available")
    page.click("[data-set-state=break]")
    desk_shows(page, "agentState", "away")
    assert page.text_content("#state") == "Break"
    page.fill("#away-reason", "training")
    page.keyboard.press("Tab")
    page.focus("[data-set-state=away]")
    page.keyboard.press("Enter")
    page.wait_for_function("document.getElementById('state').textContent === 'Away: training'")
    # the day's figures: shown, or said to be missing while GET /agents/{id}/today is not there
    page.wait_for_function("document.getElementById('today').textContent.length > 0")
    # no campaign seat: said so
    assert page.text_content("#seats") == "You are not on a campaign."


def test_the_desk_recovers_when_the_network_returns(desk, app_server):
    # Given the desk, available
    page = desk()
    page.click("[data-set-state=available]")
    desk_shows(page, "agentState", "available")
    # When the network goes, the shell says so; meanwhile the agent is set away elsewhere
    page.context.set_offline(True)
    page.wait_for_selector("#network:not([hidden])", timeout=WAIT * 1000)
    api(app_server, "POST", f"/agents/{ALICE}/state", {"state": "away", "reason": "meeting"})
    # Then, back online, the desk carries on by itself and shows the state as it is now
    page.context.set_offline(False)
    desk_shows(page, "agentState", "away")
    page.wait_for_selector("#network[hidden]", state="attached", timeout=WAIT * 1000)
    assert page.text_content("#state") == "Away: meeting"


def test_a_preview_offer_is_shown_and_skipped(desk, clock):
    from chalicelib.campaigns.campaign import PREVIEW, RUNNING, Campaign
    from chalicelib.campaigns.contact import DIALING, DONE, CampaignContact
    from chalicelib.campaigns.seat import PREVIEWING, READY, Seat
    from chalicelib.compliance.rules import INFORMATIONAL
    from chalicelib.store import campaign_seats
    from chalicelib.store import campaigns as store

    # Given the agent seated on a running preview campaign with a contact offered
    campaign = Campaign(campaign_id="cmp_desk_preview", name="Renewals", kind=PREVIEW,
                        purpose=INFORMATIONAL, list_id="cl_" + "d" * 16, caller_id=HOTLINE,
                        created_at=clock.now, status=RUNNING, queue_id="support")
    assert store.create(campaign)
    phone = "+14155550199"
    assert store.add_contact(CampaignContact(campaign.campaign_id, phone, status=DIALING,
                                             name="Grace", attributes={"plan": "gold"}))
    seat = Seat(campaign.campaign_id, ALICE, READY, agent_name="Alice", since=clock.now)
    assert campaign_seats.add_seat(seat, clock.now)
    stored = campaign_seats.get_seat(campaign.campaign_id, ALICE, clock.now)
    assert campaign_seats.change_seat(stored, clock.now, state=PREVIEWING, contact=phone,
                                      until=clock.now.replace(hour=23))
    # When the agent opens the desk, the offer shows with its contact (last digits only)
    page = desk()
    page.wait_for_selector("#seats [data-seat-action=skip]", timeout=WAIT * 1000)
    offer = page.text_content("#seats")
    assert "Renewals" in offer and "Grace" in offer and "0199" in offer
    assert phone not in offer and "plan: gold" in offer
    # and skipping it ends the contact as skipped
    page.click("#seats [data-seat-action=skip]")
    page.wait_for_function("document.getElementById('status').textContent === 'Skipped.'")
    contact = store.get_contact(campaign.campaign_id, phone)
    assert (contact.status, contact.disposition) == (DONE, "skipped")
    page.wait_for_selector("#seats [data-seat-action]", state="detached", timeout=WAIT * 1000)


def test_two_tabs_of_one_agent_never_both_answer(desk, app_server, live_carrier):
    """Both tabs ring; the first to answer takes the call, the other says so."""
    page = desk()
    assert page.evaluate("typeof window.Softphone === 'object'")
    softphone_agent(app_server, ALICE)
    other = page.context.new_page()
    other.goto(page.url)
    other.wait_for_function("document.body.dataset.state === 'ready'")
    for tab in (page, other):
        desk_shows(tab, "phone", "online")
    page.click("[data-set-state=available]")
    call = live_carrier.start_inbound_call(HOTLINE, CALLER, TO_QUEUE, hold_pace=0.5)
    for tab in (page, other):
        desk_shows(tab, "phone", "ringing")
    page.click("#answer")
    desk_shows(page, "phone", "active")
    desk_shows(other, "phone", "elsewhere")
    assert other.text_content("#status") == "Answered in another tab."
    assert other.is_hidden("#offer") and other.is_hidden("#end")
    page.click("#end")
    assert call.done.wait(WAIT), call.transcript.events
    assert [e["action"] for e in call.transcript.of_type("client")].count("answer") == 1
    # a tab that closes, or reloads, leaves: the identity rings its open tabs only
    assert live_carrier.clients.state(ALICE)["devices"] == 2
    other.close()
    live_carrier.clients.wait_for(ALICE, lambda state: state["devices"] == 1, WAIT)
    page.reload()
    page.wait_for_function("document.body.dataset.state === 'ready'")
    desk_shows(page, "phone", "online")
    assert live_carrier.clients.state(ALICE)["devices"] == 1
