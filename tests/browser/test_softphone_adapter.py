"""The desk's softphone module (``chalicelib/console/page/softphone.js``) in headless Chromium.

The real side: the bundled Twilio Voice SDK loads and builds a ``Twilio.Device`` from a token the
app mints, with no network. The emulator side: a page on another origin registers a ``client``
identity with the carrier emulator, a REST call to ``client:<identity>`` rings it, the desk
answers and hangs up; two tabs of one agent both ring and one answer wins; the emulator going
away shows ``offline``, then ``online`` when it is back. The pages record the module's events in
``window.seen``; every wait is on an event with a generous bound.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import requests

from chalicelib.console import pages
from chalicelib.telephony.access_tokens import SigningKey, voice_token
from infra.local.carrier import Carrier, make_server
from tests.browser.conftest import _site
from tests.support import (
    ROOT,
    TEST_ACCOUNT,
    TEST_API_KEY_SECRET,
    TEST_API_KEY_SID,
    TEST_TOKEN,
)

SOFTPHONE_JS = (ROOT / "chalicelib" / "console" / "page" / "softphone.js").read_text()
IDENTITY = "ag_browser_desk"
HOTLINE = "+14155550100"
WAIT = 10.0  # real seconds; only reached when something is broken
# The desk stays on the line: the answered leg joins a conference until someone hangs up.
SEAT = "<Response><Dial><Conference>browser-desk</Conference></Dial></Response>"
RECORD = """([identity, emulator_url]) => {
  window.seen = [];
  window.phone = Softphone.create({identity, edge: 'emulator', emulator_url, poll_seconds: 1,
                                   retry_ms: 200});
  ['registered', 'incoming', 'accepted', 'disconnected', 'cancel', 'error', 'offline',
   'online'].forEach((name) => phone.on(name, (value) => seen.push({name, value})));
  return phone.register().then(() => true);
}"""


@pytest.fixture(scope="module")
def emulator():
    """The carrier emulator with live REST calls (each in its own thread); nothing calls the
    app: the calls run inline TwiML."""
    carrier = Carrier(app_url="http://127.0.0.1:9", account_sid=TEST_ACCOUNT,
                      auth_token=TEST_TOKEN)
    server = make_server(carrier, "127.0.0.1", 0).start()
    yield carrier
    carrier.reset()
    server.stop()


@pytest.fixture(scope="module")
def site():
    """The console's stand-in: an empty page on an origin other than the emulator's."""
    server, pages, url = _site()
    pages["/desk"] = "<!doctype html><html><head><title>desk</title></head><body></body></html>"
    yield url + "/desk"
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _fresh(emulator):
    yield
    for call in list(emulator.calls.values()):
        if not call.done.is_set():
            emulator.end_call(call.sid)
    emulator.reset()


def desk(page, site, emulator, identity=IDENTITY):
    page.goto(site)
    page.add_script_tag(content=SOFTPHONE_JS)
    assert page.evaluate(RECORD, [identity, emulator.emulator_url])
    return page


def seen(page, name: str, count: int = 1) -> list:
    """The values of the page's first ``count`` ``name`` events, once it has had them."""
    page.wait_for_function(f"seen.filter(e => e.name === {json.dumps(name)}).length >= {count}",
                           timeout=WAIT * 1000)
    return page.evaluate(f"seen.filter(e => e.name === {json.dumps(name)}).map(e => e.value)")


def rest_call(emulator: Carrier, identity: str = IDENTITY) -> str:
    """What the app does to ring a softphone: ``POST Calls.json`` to ``client:<identity>``."""
    answer = requests.post(
        f"{emulator.emulator_url}/2010-04-01/Accounts/{TEST_ACCOUNT}/Calls.json",
        data={"To": f"client:{identity}", "From": HOTLINE, "Twiml": SEAT},
        auth=(TEST_ACCOUNT, TEST_TOKEN), timeout=WAIT)
    assert answer.status_code == 201, answer.text
    return answer.json()["sid"]


def test_the_bundled_voice_sdk_builds_a_device_from_the_apps_token_without_network(page, site):
    found = pages.static_file("voice-sdk.min.js")  # what /console/static/ serves
    sdk = found[0].decode() if found else None
    assert sdk is not None, "the Voice SDK is not bundled: make bundle copies it"
    assert "Apache License" in sdk[:2000], "the licence header ships with it"
    requests_made: list[str] = []
    page.route("**/*", lambda route: (requests_made.append(route.request.url),
                                      route.continue_() if route.request.url.startswith(site)
                                      else route.abort()))
    key = SigningKey(TEST_ACCOUNT, TEST_API_KEY_SID, TEST_API_KEY_SECRET)
    now = datetime.now(UTC)
    token, _ = voice_token(key, IDENTITY, now)
    fresh, _ = voice_token(key, IDENTITY, now, ttl_seconds=7200)
    page.goto(site)
    page.add_script_tag(content=sdk)
    page.add_script_tag(content=SOFTPHONE_JS)
    device = page.evaluate("""([token, fresh]) => {
      const phone = Softphone.create({token, identity: 'x', edge: 'twilio'});
      const before = phone.device.token === token;
      phone.updateToken(fresh);
      return {version: Twilio.Device.version, real: phone.device instanceof Twilio.Device,
              state: phone.device.state, before, updated: phone.device.token === fresh};
    }""", [token, fresh])
    assert device == {"version": "2.18.5", "real": True, "state": "unregistered",
                      "before": True, "updated": True}
    assert requests_made == [site], "building a device reaches no network"


def test_a_rest_call_rings_the_page_which_answers_and_hangs_up(page, site, emulator):
    desk(page, site, emulator)
    assert emulator.clients.state(IDENTITY)["online"]
    sid = rest_call(emulator)
    [incoming] = seen(page, "incoming")
    assert (incoming["sid"], incoming["from"], incoming["to"]) == (sid, HOTLINE,
                                                                   f"client:{IDENTITY}")
    assert page.evaluate("phone.status().ringing.sid") == sid
    page.evaluate("phone.answer()")
    [accepted] = seen(page, "accepted")
    assert accepted["sid"] == sid
    assert page.evaluate("phone.status()") == {"edge": "emulator", "online": True,
                                               "ringing": None, "call": accepted,
                                               "muted": False}
    emulator.rooms.wait_for("browser-desk", lambda members: emulator.calls[sid] in members, WAIT)
    page.evaluate("phone.hangup()")
    [ended] = seen(page, "disconnected")
    assert ended["sid"] == sid
    assert emulator.calls[sid].done.wait(WAIT)
    assert emulator.calls[sid].transcript.ended_by == "client"
    page.evaluate("phone.destroy()")
    emulator.clients.wait_for(IDENTITY, lambda s: not s["online"], WAIT)


def test_the_caller_hanging_up_ends_the_call_on_the_page_too(page, site, emulator):
    desk(page, site, emulator)
    sid = rest_call(emulator)
    seen(page, "incoming")
    page.evaluate("phone.answer()")
    seen(page, "accepted")
    emulator.rooms.wait_for("browser-desk", lambda members: emulator.calls[sid] in members, WAIT)
    emulator.end_call(sid)
    assert seen(page, "disconnected")[0]["sid"] == sid


def test_two_tabs_of_one_agent_both_ring_and_one_answer_wins(browser, site, emulator):
    context = browser.new_context()
    try:
        first, second = context.new_page(), context.new_page()
        for tab in (first, second):
            desk(tab, site, emulator)
        emulator.clients.wait_for(IDENTITY, lambda s: s["devices"] == 2, WAIT)
        sid = rest_call(emulator)
        assert seen(first, "incoming")[0]["sid"] == seen(second, "incoming")[0]["sid"] == sid
        # both answer at once: one wins, the other is told another tab has it
        outcomes = [tab.evaluate("phone.answer().then(() => 'answered', e => e.code)")
                    for tab in (first, second)]
        assert outcomes == ["answered", "answered-elsewhere"]
        assert seen(second, "cancel")[0]["reason"] == "answered-elsewhere"
        assert second.evaluate("seen.filter(e => e.name === 'accepted').length") == 0
        # the other tab closes: the first stays registered and on its call
        second.evaluate("phone.destroy()")
        emulator.clients.wait_for(IDENTITY, lambda s: s["devices"] == 1, WAIT)
        assert emulator.clients.state(IDENTITY)["active"]["call_sid"] == sid
        first.evaluate("phone.hangup()")
        seen(first, "disconnected")
    finally:
        context.close()


def test_a_tab_that_did_not_answer_learns_another_took_the_call(browser, site, emulator):
    context = browser.new_context()
    try:
        first, second = context.new_page(), context.new_page()
        for tab in (first, second):
            desk(tab, site, emulator)
        emulator.clients.wait_for(IDENTITY, lambda s: s["devices"] == 2, WAIT)
        rest_call(emulator)
        seen(first, "incoming")
        seen(second, "incoming")
        first.evaluate("phone.answer()")
        assert seen(second, "cancel")[0]["reason"] == "answered-elsewhere"
        late = second.evaluate("phone.answer().then(() => 'answered', e => e.code)")
        assert late == "answered-elsewhere"
    finally:
        context.close()


def test_the_emulator_out_of_reach_shows_offline_then_online(page, site, emulator):
    desk(page, site, emulator)
    # the page loses its way to the emulator (the network, or the emulator stopped)
    page.route(f"{emulator.emulator_url}/**", lambda route: route.abort())
    seen(page, "offline")
    assert page.evaluate("seen.filter(e => e.name === 'online').length") == 0
    page.unroute(f"{emulator.emulator_url}/**")
    seen(page, "online")
    # and it rings again
    sid = rest_call(emulator)
    assert seen(page, "incoming")[0]["sid"] == sid


def test_the_emulator_forgetting_the_desk_registers_it_again(page, site, emulator):
    desk(page, site, emulator)
    emulator.clients.reset()  # as an emulator restarted
    seen(page, "registered", 2)
    emulator.clients.wait_for(IDENTITY, lambda s: s["online"], WAIT)


# A stand-in for the SDK's Device and Call (the real ones need Twilio's servers to ring): the
# same method and event names, so the module's wiring to them is what is tried here.
FAKE_SDK = """
class Events { constructor() { this.h = {}; }
  on(n, f) { (this.h[n] = this.h[n] || []).push(f); }
  fire(n, v) { (this.h[n] || []).forEach((f) => f(v)); } }
class FakeCall extends Events {
  constructor(sid) { super(); this.muted = false;
    this.parameters = {CallSid: sid, From: '+14155550100', To: 'client:ag_browser_desk'};
    this.customParameters = new Map([['queue', 'support']]); }
  accept() { this.fire('accept'); } reject() { this.fire('reject'); }
  disconnect() { this.fire('disconnect'); } mute(on) { this.muted = on; } }
class FakeDevice extends Events {
  constructor(token, options) { super(); this.token = token; this.options = options;
    window.device = this; }
  register() { this.fire('registered'); return Promise.resolve(); }
  updateToken(token) { this.token = token; } destroy() {} }
window.Twilio = {Device: FakeDevice, FakeCall};
"""
TWILIO_DESK = """() => {
  window.seen = [];
  window.phone = Softphone.create({token: 'a-token', identity: 'ag_browser_desk',
                                   edge: 'twilio'});
  ['registered', 'incoming', 'accepted', 'disconnected', 'cancel', 'error', 'offline',
   'online'].forEach((name) => phone.on(name, (value) => seen.push({name, value})));
  return phone.register().then(() => true);
}"""


def twilio_desk(page, site):
    page.goto(site)
    page.add_script_tag(content=FAKE_SDK)
    page.add_script_tag(content=SOFTPHONE_JS)
    assert page.evaluate(TWILIO_DESK)
    return page


def test_the_twilio_side_rings_answers_mutes_and_hangs_up_through_the_device(page, site):
    twilio_desk(page, site)
    seen(page, "registered")
    sounds = page.evaluate("Object.values(device.options.sounds)")
    assert len(sounds) == 15 and all(s.startswith("data:audio/wav;base64,") for s in sounds), \
        "every sound is made in the page: none is fetched from Twilio's CDN"
    page.evaluate("window.call = new Twilio.FakeCall('CA1'); device.fire('incoming', call)")
    [incoming] = seen(page, "incoming")
    assert incoming == {"sid": "CA1", "from": "+14155550100", "to": "client:ag_browser_desk",
                        "params": {"CallSid": "CA1", "From": "+14155550100",
                                   "To": "client:ag_browser_desk", "queue": "support"}}
    page.evaluate("phone.answer()")
    assert seen(page, "accepted")[0]["sid"] == "CA1"
    page.evaluate("phone.mute(true)")
    assert page.evaluate("call.muted") is True
    assert page.evaluate("phone.status().call.sid") == "CA1"
    page.evaluate("phone.hangup()")
    assert seen(page, "disconnected")[0]["sid"] == "CA1"
    page.evaluate("phone.updateToken('a-new-token')")
    assert page.evaluate("device.token") == "a-new-token"


def test_on_twilio_a_tab_hears_that_another_answered(browser, site):
    context = browser.new_context()
    try:
        first, second = (twilio_desk(context.new_page(), site) for _ in range(2))
        for tab in (first, second):
            tab.evaluate("window.call = new Twilio.FakeCall('CA2'); device.fire('incoming', call)")
            seen(tab, "incoming")
        first.evaluate("phone.answer()")
        second.wait_for_function("phone.elsewhere === 'CA2'", timeout=WAIT * 1000)
        second.evaluate("call.fire('cancel')")  # what Twilio tells the devices that lost
        assert seen(second, "cancel")[0]["reason"] == "answered-elsewhere"
        late = second.evaluate("phone.answer().then(() => 'answered', e => e.code)")
        assert late == "answered-elsewhere"
        # the network goes and comes back: the desk says so
        context.set_offline(True)
        seen(first, "offline")
        context.set_offline(False)
        seen(first, "online")
    finally:
        context.close()
