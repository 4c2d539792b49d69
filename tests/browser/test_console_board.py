"""The supervisor's wallboard (``/console/board``) in real Chromium against the real app.

Signed in as the demo's supervisor (queue ``support``, agents of infra/local/demo.py). The app
runs on the suite's simulated clock; the browser's clock is set to it (``page.clock``), or the
session the app issues would already be over by the browser's own clock. Live updates are the
page's own polling (every 5 s): nothing here reloads the page once it is open, and a marker put
on ``window`` at the start must survive to the end.

Listen, whisper and barge: the monitor routes are another piece of work; these tests stop at the
request the page makes (``page.route`` answers it), checking its path and body, and that the
API's refusal (409, the call has ended) is shown as it is.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import timedelta

import pytest

from chalicelib.routing.model import AgentState, WaitingCaller
from infra.local.demo import DEMO_AGENTS

SUPPORT = "#queue-support"
ALICE, BOB = (agent.agent_id for agent in DEMO_AGENTS)
POLL_WAIT = 15_000  # ms: two polls and a retry


@pytest.fixture
def board(page, sign_in, clock):
    """``board(username="supervisor", lang="en")``: signed in, on the drawn board, with a
    marker on ``window`` that a reload would lose."""

    def go(username: str = "supervisor", lang: str = "en"):
        page.clock.install(time=clock.now)
        sign_in(username, lang=lang, then="board")
        page.evaluate("window.sameDocument = true")
        return page

    return go


def row(page, agent_id: str) -> str:
    return f'{SUPPORT} tr[data-agent="{agent_id}"]'


def not_reloaded(page) -> None:
    assert page.evaluate("window.sameDocument") is True


def caller_waiting(clock, seconds: int) -> None:
    from chalicelib.store import routing as store

    store.join_queue(WaitingCaller(call_sid="CA" + uuid.uuid4().hex, queue_id="support",
                                   caller="+14155550123",
                                   joined_at=clock.now - timedelta(seconds=seconds)))


def test_the_board_shows_the_queue_and_its_agents(board):
    page = board()
    assert page.inner_text(f"{SUPPORT} .queue-name") == "Support"
    for agent in DEMO_AGENTS:
        assert page.inner_text(f"{row(page, agent.agent_id)} .agent-name") == agent.name
        assert page.inner_text(f"{row(page, agent.agent_id)} .state") == "Offline"
    assert page.inner_text(f'{SUPPORT} [data-figure="callers_waiting"] dd') == "0"
    assert page.inner_text(f'{SUPPORT} [data-figure="oldest_wait_seconds"] dd') == "–"
    assert page.locator(f"{SUPPORT} .alerts li").count() == 0
    assert page.locator("#queues > section").count() == 1  # the supervisor's queue only


def test_a_state_changed_from_the_board_shows_without_a_reload(board, clock):
    page = board()
    # A change the API refuses is said in the dialog (an offline agent comes back available)
    page.click(f'{row(page, ALICE)} [data-action="state"]')
    page.select_option("#state-form select[name=state]", "away")
    page.click("#state-form button[type=submit]")
    page.wait_for_function("document.querySelector('#state-form .error').textContent"
                           ".includes('cannot go from offline to away')")
    assert page.evaluate("document.querySelector('#state-dialog').open")
    # When the supervisor makes Alice available from the board, with a reason
    page.select_option("#state-form select[name=state]", "available")
    page.fill("#state-form input[name=reason]", "back from training")
    page.click("#state-form button[type=submit]")
    # Then her row says so, and the API holds it
    page.wait_for_function(f"document.querySelector('{row(page, ALICE)} .state')"
                           ".textContent === 'Available'")
    from chalicelib.store import routing as store

    assert store.get_agent(ALICE).state is AgentState.AVAILABLE
    # When Bob's state changes elsewhere (his desk, a text), the next poll shows it
    from chalicelib.routing import admin

    admin.change_state(BOB, {"state": "available", "reason": "signed in by text"}, clock.now,
                       lambda _: None)
    page.clock.fast_forward(5000)  # the next poll, now rather than in 5 s
    page.wait_for_function(f"document.querySelector('{row(page, BOB)} .state')"
                           ".textContent === 'Available'", timeout=POLL_WAIT)
    assert page.inner_text(f"{row(page, BOB)} .reason") == "(signed in by text)"
    not_reloaded(page)


def test_a_waiting_caller_and_an_alert_appear_on_the_next_poll(board, clock):
    page = board()
    # Given a queue that alerts from the first caller in line
    from chalicelib.store import routing as store

    support = store.get_queue("support")
    store.save_queue(dataclasses.replace(support, alerts={"callers_waiting": 0}), clock.now)
    # When a caller has been waiting 95 s
    caller_waiting(clock, 95)
    page.clock.fast_forward(5000)  # the next poll
    # Then the board shows them waiting, the oldest wait, and the alert, without a reload
    waiting = f'{SUPPORT} [data-figure="callers_waiting"]'
    page.wait_for_function(f"document.querySelector('{waiting} dd').textContent === '1'",
                           timeout=POLL_WAIT)
    assert page.inner_text(f'{SUPPORT} [data-figure="oldest_wait_seconds"] dd') == "1:35"
    assert page.inner_text(f'{SUPPORT} .alerts li[data-alert="callers_waiting"]') \
        == "1 callers waiting (over 0)"
    assert "alerting" in page.get_attribute(waiting, "class")
    assert "alerting" in page.get_attribute(SUPPORT, "class")
    not_reloaded(page)


def test_an_agent_gets_the_forbidden_message(sign_in, page, clock):
    page.clock.install(time=clock.now)
    sign_in("agent", then="board")
    assert page.evaluate("document.body.dataset.state") == "forbidden"
    assert page.inner_text("#main") == "You may not do this."
    assert page.locator("#queues").count() == 0


def test_offline_shows_the_banner_and_the_board_recovers(board, clock):
    page = board()
    page.context.set_offline(True)
    page.wait_for_selector("#network", state="visible", timeout=POLL_WAIT)
    assert "stale" in page.get_attribute("body", "class")
    caller_waiting(clock, 10)  # happens while the browser is offline
    page.context.set_offline(False)
    page.clock.fast_forward(30_000)  # the reads' retry (it backs off) and the next poll, now
    page.wait_for_selector("#network", state="hidden", timeout=30_000)
    page.wait_for_function(f"document.querySelector('{SUPPORT} [data-figure=callers_waiting] dd')"
                           ".textContent === '1'", timeout=POLL_WAIT)
    assert "stale" not in (page.get_attribute("body", "class") or "")
    not_reloaded(page)


def _alice_on_a_call(page) -> None:
    """The board's answers say Alice is on a call (the emulator's calls are another test's)."""

    def on_call(route):
        answer = route.fetch()
        board = answer.json()
        for queue in board["queues"]:
            for agent in queue["agents"]:
                if agent["agent_id"] == ALICE:
                    agent["state"] = "on-call"
        route.fulfill(response=answer, body=json.dumps(board))

    page.route("**/board", on_call)


def test_listen_whisper_barge_send_the_supervisors_phone(board):
    page = board()
    _alice_on_a_call(page)
    sent: list[tuple[str, dict | None]] = []

    def monitor(route):
        request = route.request
        sent.append((request.method, request.post_data_json))
        if request.method == "DELETE" or request.post_data_json["mode"] == "listen":
            route.fulfill(status=200, content_type="application/json", body="{}")
        else:
            route.fulfill(status=409, content_type="application/json",
                          body=json.dumps({"error": "the call has ended"}))

    page.route(f"**/agents/{ALICE}/monitor", monitor)
    page.clock.fast_forward(5000)  # the next poll brings Alice's call
    buttons = f"{row(page, ALICE)} .monitor"
    page.wait_for_selector(buttons, state="visible", timeout=POLL_WAIT)
    assert page.locator(f"{row(page, BOB)} .monitor").is_hidden()
    # Without a phone number the supervisor is asked for one, and nothing is sent
    page.click(f'{buttons} [data-mode="listen"]')
    assert page.inner_text("#message").startswith("Enter your phone number")
    assert sent == []
    # With one, each button asks the API, and the number is remembered
    page.fill("#monitor-phone input", "+1 415 555 0199")
    page.click(f'{buttons} [data-mode="listen"]')
    page.wait_for_function("document.querySelector('#message').textContent"
                           " === 'Calling you to listen on Alice\\'s call.'")
    assert sent == [("POST", {"mode": "listen", "endpoint": "+14155550199"})]
    page.click(f'{buttons} [data-mode="barge"]')
    page.wait_for_function("document.querySelector('#message').textContent"
                           " === 'the call has ended'")
    assert sent[-1] == ("POST", {"mode": "barge", "endpoint": "+14155550199"})
    page.click(f'{buttons} [data-action="stop"]')
    page.wait_for_function("document.querySelector('#message').textContent.startsWith('Stopped')")
    assert sent[-1] == ("DELETE", None)
    assert page.evaluate("localStorage.getItem('switchboard.board.endpoint')") == "+14155550199"


def test_the_board_is_usable_from_the_keyboard(board):
    page = board()
    button = f'{row(page, ALICE)} [data-action="state"]'
    page.focus("#monitor-phone input")
    for _ in range(3):  # the phone field, then the first agent's buttons
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement === document.querySelector('{button}')"):
            break
    assert page.evaluate(f"document.activeElement === document.querySelector('{button}')")
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.press("Enter")
    assert page.evaluate("document.querySelector('#state-dialog').open")
    assert page.evaluate("document.activeElement.name") == "state"
    page.keyboard.press("Escape")
    assert not page.evaluate("document.querySelector('#state-dialog').open")
    assert page.evaluate(f"document.activeElement === document.querySelector('{button}')")


def test_the_board_in_chinese(board):
    page = board(lang="zh")
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    assert page.inner_text(f'{SUPPORT} [data-figure="callers_waiting"] dt') == "等待中"
    assert page.inner_text(f"{row(page, ALICE)} .state") == "离线"
    assert page.inner_text(f'{row(page, ALICE)} [data-action="state"]') == "更改状态"


@pytest.mark.parametrize("width, height", [(1280, 800), (1024, 768)])
def test_the_board_fits_a_laptop_and_a_tablet(board, clock, tmp_path, width, height):
    from chalicelib.routing import admin

    admin.change_state(ALICE, {"state": "available"}, clock.now - timedelta(minutes=7),
                       lambda _: None)
    caller_waiting(clock, 75)
    caller_waiting(clock, 20)
    page = board()
    page.wait_for_selector(f'{SUPPORT} [data-figure="callers_waiting"] dd:text-is("2")')
    page.set_viewport_size({"width": width, "height": height})
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot = tmp_path / f"board-{width}x{height}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 0
