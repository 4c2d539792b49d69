"""What a browser softphone needs from the carrier emulator: CORS on the control API (the console
is another origin), a long poll that answers when a ring starts or ends, and several tabs of
one identity (all ring, one answer wins, the identity stays online until its last tab goes)."""

from __future__ import annotations

import threading

import pytest
import requests

from infra.local.carrier import Carrier, make_server
from tests.integration.test_carrier import ACCOUNT, APP, HOTLINE, TOKEN, FakeApp, R
from tests.integration.test_carrier_softphone import CALLER, DESK, DIAL, WAIT

CONSOLE = "http://127.0.0.1:8000"


@pytest.fixture
def carrier():
    """The emulator behind a fake app whose hotline dials the desk's softphone."""
    app = FakeApp()
    app.route("/twilio/voice", R(DIAL.format(timeout=20)))
    app.route("/whisper", R("<Say>A caller from the hotline</Say>"))
    app.route("/dialed", lambda p: R(f"<Say>{p['DialCallStatus']}</Say>"))
    carrier = Carrier(app_url=APP, account_sid=ACCOUNT, auth_token=TOKEN, transport=app)
    server = make_server(carrier, "127.0.0.1", 0).start()
    yield carrier
    carrier.reset()
    carrier.wait_idle(WAIT)
    server.stop()


def clients(carrier: Carrier) -> str:
    return f"{carrier.emulator_url}/_emulator/clients"


def test_the_control_api_lets_a_page_of_another_origin_call_it(carrier) -> None:
    # a DELETE (or a JSON POST) from a page is preflighted
    preflight = requests.options(f"{clients(carrier)}/{DESK}", timeout=WAIT, headers={
        "Origin": CONSOLE, "Access-Control-Request-Method": "DELETE"})
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "DELETE" in preflight.headers["Access-Control-Allow-Methods"]
    registered = requests.post(f"{clients(carrier)}/{DESK}", headers={"Origin": CONSOLE},
                               timeout=WAIT)
    assert registered.status_code == 200 and registered.json()["online"] is True
    assert registered.headers["Access-Control-Allow-Origin"] == "*"
    refused = requests.post(f"{clients(carrier)}/{DESK}/answer", timeout=WAIT)
    assert refused.status_code == 409 and refused.headers["Access-Control-Allow-Origin"] == "*"
    # Twilio's own API paths stay as they were: no browser calls them
    rest = requests.get(f"{carrier.emulator_url}/2010-04-01/Accounts/AC1/Calls.json",
                        timeout=WAIT)
    assert "Access-Control-Allow-Origin" not in rest.headers


def test_a_long_poll_answers_when_a_ring_starts_and_when_it_ends(carrier) -> None:
    base = f"{clients(carrier)}/{DESK}"
    version = requests.post(base, timeout=WAIT).json()["version"]
    # unchanged: the poll answers after its wait with the same version
    same = requests.get(base, params={"version": version, "wait": 0.2}, timeout=WAIT).json()
    assert same["version"] == version and same["incoming"] is None
    # a poll under way learns of the ring
    polled: list[dict] = []
    poll = threading.Thread(target=lambda: polled.append(requests.get(
        base, params={"version": version, "wait": 20}, timeout=WAIT + 20).json()))
    poll.start()
    poll.join(0.5)
    assert poll.is_alive(), "nothing changed: the poll is still waiting"
    call = carrier.start_inbound_call(HOTLINE, CALLER, None)
    poll.join(WAIT)
    [ringing] = polled
    assert ringing["version"] != version and ringing["incoming"]["from"] == HOTLINE
    # the caller hangs up while it rings: the next poll says the invite is gone
    carrier.end_call(call.sid)
    gone = requests.get(base, params={"version": ringing["version"], "wait": 20},
                        timeout=WAIT + 20).json()
    while gone["incoming"] is not None:  # other changes may come first; each is a new version
        gone = requests.get(base, params={"version": gone["version"], "wait": 20},
                            timeout=WAIT + 20).json()
    assert gone["active"] is None
    call.done.wait(WAIT)


def test_two_tabs_of_one_agent_ring_together_and_one_answer_wins(carrier) -> None:
    base = f"{clients(carrier)}/{DESK}"
    for tab in ("tab-1", "tab-2"):
        assert requests.post(base, params={"device": tab}, timeout=WAIT).status_code == 200
    assert requests.get(base, timeout=WAIT).json()["devices"] == 2
    carrier.start_inbound_call(HOTLINE, CALLER, None)
    carrier.clients.wait_for(DESK, lambda s: s["incoming"], WAIT)
    answers = [requests.post(f"{base}/answer", timeout=WAIT) for _ in ("tab-1", "tab-2")]
    assert [a.status_code for a in answers] == [200, 409]
    lost = answers[1].json()
    assert lost["incoming"] is None and lost["active"]["call_sid"] == answers[0].json()[
        "active"]["call_sid"], "the loser sees the call answered elsewhere"
    # one tab closes: the identity stays online (and on its call) for the other
    left = requests.delete(base, params={"device": "tab-2"}, timeout=WAIT).json()
    assert (left["online"], left["devices"]) == (True, 1) and left["active"] is not None
    assert requests.post(f"{base}/hangup", timeout=WAIT).status_code == 200
    last = requests.delete(base, params={"device": "tab-1"}, timeout=WAIT).json()
    assert (last["online"], last["devices"]) == (False, 0)
