"""The callback widget in headless Chromium: fill in the form as a visitor would, see the
confirmation, get the text; field errors; a customer's site on another origin; the status link."""

from __future__ import annotations

import itertools
import re

import pytest

from chalicelib.routing.model import Agent, AgentState, Endpoint, QueueConfig
from chalicelib.store import callbacks as store
from chalicelib.store import routing
from tests.browser.conftest import OPEN_HOURS

QUEUE = "cbweb"  # one agent, busy (in wrap-up, so requests stay in line), 3-minute calls
HOURS_QUEUE = "cbweb-hours"  # weekdays 09:00-17:00 New York
_numbers = itertools.count(2000)


def fresh_number() -> tuple[str, str]:
    """(as a visitor types it, E.164)."""
    n = next(_numbers)
    return f"(415) 555-{n:04d}", f"+1415555{n:04d}"


@pytest.fixture(autouse=True)
def queues(app_server):
    hours = {"timezone": "America/New_York", "weekly": {"mon-fri": ["09:00-17:00"]},
             "holidays": []}
    routing.save_queue(QueueConfig(QUEUE, "Web callbacks"), OPEN_HOURS)
    routing.save_queue(QueueConfig(HOURS_QUEUE, "Office hours", hours=hours), OPEN_HOURS)
    routing.save_agent_profile(Agent("ag-cbweb", "Wen", Endpoint("phone", "+14155550164"),
                                     queues={QUEUE: 1}), OPEN_HOURS)
    agent = routing.get_agent("ag-cbweb")
    if agent.state is not AgentState.WRAP_UP:
        previous = agent.state
        agent.state = AgentState.WRAP_UP
        routing.change_agent_state(agent, previous, OPEN_HOURS)
    for n, seconds in enumerate((180, 180, 180)):
        routing.add_handle_time(QUEUE, seconds, sample_key=f"sample-{n}")


@pytest.fixture(autouse=True)
def open_hours(clock):
    clock.now = OPEN_HOURS


def widget(page):
    """The widget's shadow root content (Playwright's CSS locators pierce open shadow roots)."""
    return page.locator(".switchboard-callback")


def texts_to(carrier, number: str) -> list[dict]:
    return [m for m in carrier.messages if m["to"] == number]


def test_a_visitor_asks_for_a_callback_on_the_preview_page(page, app_server, carrier):
    typed, phone = fresh_number()
    # Given the preview page embedding the widget for the web queue
    page.goto(f"{app_server}/callbacks/widget?queue={QUEUE}")
    box = widget(page)
    # When the visitor fills in the form and submits it
    box.get_by_label("Your name").fill("Ada Lovelace")
    box.get_by_label("Phone number").fill(typed)
    box.get_by_role("button", name="Call me back").click()
    # Then they see the confirmation with their place and the estimated wait
    status = box.get_by_role("status")
    status.get_by_text("Thank you! We will call you back.").wait_for()
    text = status.inner_text()
    position = int(re.search(r"You are number (\d+) in line", text).group(1))
    assert f"Estimated wait: about {position * 3} minutes." in text
    # And the request is stored, queued, with the number in E.164
    callback_id = status.get_attribute("data-callback-id")
    req = store.get_request(callback_id)
    assert (req.status, req.phone, req.name, req.queue_id, req.kind) == \
        ("queued", phone, "Ada Lovelace", QUEUE, "web")
    # And the confirmation text reached the emulator
    [sms] = texts_to(carrier, phone)
    assert sms["from"] == "+14155550100"
    assert "CANCEL CALL" in sms["body"] and f"{app_server}/callbacks/{callback_id}" in sms["body"]
    assert f"about {position * 3} minutes" in sms["body"]


def test_a_premium_rate_number_shows_the_error_at_the_field(page, app_server, carrier):
    page.goto(f"{app_server}/callbacks/widget?queue={QUEUE}")
    box = widget(page)
    box.get_by_label("Phone number").fill("+1 900 555 0199")
    box.get_by_role("button", name="Call me back").click()
    error = box.locator('[data-error-for="phone"]')
    error.get_by_text("Premium-rate numbers cannot be called back.").wait_for()
    assert box.get_by_label("Phone number").get_attribute("aria-invalid") == "true"
    assert box.get_by_role("status").count() == 0  # no confirmation
    assert store.requests_for_number("+19005550199") == []
    assert texts_to(carrier, "+19005550199") == []


def test_a_visitor_picks_a_time_inside_the_hours(page, app_server, carrier):
    typed, phone = fresh_number()
    page.goto(f"{app_server}/callbacks/widget?queue={HOURS_QUEUE}")
    box = widget(page)
    box.get_by_label("Phone number").fill(typed)
    box.get_by_label("At a time I choose").check()
    # first a time when the office is closed: the error sits at the time field
    box.locator('input[type="datetime-local"]').fill("2026-11-24T20:00")
    box.get_by_role("button", name="Call me back").click()
    box.locator('[data-error-for="preferred_time"]').get_by_text(
        "We are closed at that time; choose another.").wait_for()
    # then 11:30 on Tuesday (the browser is in New York, like the queue)
    box.locator('input[type="datetime-local"]').fill("2026-11-24T11:30")
    box.get_by_role("button", name="Call me back").click()
    status = box.get_by_role("status")
    status.get_by_text("Thank you! We will call you back.").wait_for()
    assert "We will call you on Tue, Nov 24, 11:30 AM." in status.inner_text()
    req = store.get_request(status.get_attribute("data-callback-id"))
    assert (req.status, req.due_at.isoformat()) == ("scheduled", "2026-11-24T16:30:00+00:00")
    assert "on Tue Nov 24 at 11:30 (EST)" in texts_to(carrier, phone)[0]["body"]


def test_the_widget_on_a_customers_site_in_chinese(page, app_server, customer_site, carrier):
    pages, site = customer_site
    pages["/contact"] = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Shop</title></head><body>"
        "<h1>Contact us</h1>"
        f"<script src='{app_server}/callbacks/widget.js' data-language='zh-CN'"
        " data-topics='billing:账单,support:技术支持' async></script></body></html>")
    typed, phone = fresh_number()
    page.goto(f"{site}/contact")
    box = widget(page)
    box.get_by_label("电话号码").fill(typed)
    box.get_by_label("咨询类别").select_option("billing")
    box.get_by_role("button", name="请给我回电").click()
    status = box.get_by_role("status")
    status.get_by_text("谢谢！我们会给您回电。").wait_for()
    req = store.get_request(status.get_attribute("data-callback-id"))
    assert (req.language, req.topic, req.queue_id, req.phone) == \
        ("zh-CN", "billing", "support", phone)
    assert "取消回电" in texts_to(carrier, phone)[0]["body"]


def test_a_site_that_may_not_embed_the_widget_gets_nothing(page, app_server, stranger_site):
    pages, site = stranger_site
    pages["/"] = (f"<!doctype html><script src='{app_server}/callbacks/widget.js' "
                  f"data-queue='{QUEUE}' async></script>")
    typed, phone = fresh_number()
    page.goto(site + "/")
    box = widget(page)
    box.get_by_label("Phone number").fill(typed)
    box.get_by_role("button", name="Call me back").click()
    # the API refuses the origin (403, no CORS grant): the widget can only say it failed
    box.locator('[data-error-for="form"]').get_by_text(
        "We could not reach the server. Please try again.").wait_for()
    assert store.requests_for_number(phone) == []


def test_the_status_link_shows_the_request_and_cancels_it(page, app_server):
    typed, phone = fresh_number()
    page.goto(f"{app_server}/callbacks/widget?queue={QUEUE}")
    box = widget(page)
    box.get_by_label("Phone number").fill(typed)
    box.get_by_role("button", name="Call me back").click()
    box.get_by_role("status").get_by_text("Thank you! We will call you back.").wait_for()
    callback_id = box.get_by_role("status").get_attribute("data-callback-id")
    # When the customer opens the link from the text message
    page.goto(f"{app_server}/callbacks/{callback_id}")
    box = widget(page)
    box.get_by_role("heading", name="Waiting in line").wait_for()
    box.get_by_role("button", name="Cancel the callback").click()
    box.get_by_text("Your callback is cancelled.").wait_for()
    assert store.get_request(callback_id).status == "cancelled"
