"""Signing in to the console in Chromium: the sign-in page, roles in the navigation, a wrong
password, a session that ends while a page is open (the dialog: the page stays as it was),
Chinese."""

from __future__ import annotations

from datetime import timedelta

import pytest


def test_an_agent_lands_on_their_desk_and_sees_only_their_pages(sign_in):
    page = sign_in("agent")
    assert page.url.split("?")[0].endswith("/console/desk")
    assert page.locator("#nav a[data-page=desk]").is_visible()
    assert not page.locator("#nav a[data-page=board]").is_visible()
    assert not page.locator("#nav a[data-page=campaigns]").is_visible()
    assert "Alice" in page.locator("#who").inner_text()


def test_a_supervisor_lands_on_the_wallboard_and_an_agent_may_not_open_it(sign_in, app_server):
    page = sign_in("supervisor")
    assert page.url.split("?")[0].endswith("/console/board")
    assert page.locator("#nav a[data-page=campaigns]").is_visible()
    page.click("#sign-out")
    page.wait_for_url("**/console?lang=en")
    sign_in("agent")
    page.goto(f"{app_server}/console/board")
    page.wait_for_function("document.body.dataset.state === 'forbidden'")
    assert "may not" in page.locator("main").inner_text()


def test_a_wrong_password_is_said_and_nothing_is_kept(page, app_server):
    page.goto(f"{app_server}/console")
    page.fill("#sign-in input[name=username]", "agent")
    page.fill("#sign-in input[name=password]", "not-it")
    page.press("#sign-in input[name=password]", "Enter")  # the keyboard signs in too
    page.wait_for_function("document.querySelector('#sign-in .error').textContent !== ''")
    assert "Wrong user name or password" in page.locator("#sign-in .error").inner_text()
    assert page.evaluate("localStorage.getItem('switchboard.session')") is None


def test_a_page_opened_signed_out_goes_to_sign_in_and_back(page, app_server):
    page.goto(f"{app_server}/console/campaigns")
    page.wait_for_url("**/console?lang=en&next=%2Fconsole%2Fcampaigns")
    page.fill("#sign-in input[name=username]", "supervisor")
    page.fill("#sign-in input[name=password]", "supervisor")
    page.click("#sign-in button[type=submit]")
    page.wait_for_url("**/console/campaigns?lang=en")


def test_an_ended_session_asks_again_and_the_page_carries_on(sign_in, clock):
    page = sign_in("agent")
    page.evaluate("window.kept = 'typed before'")  # the page's state, which must survive
    before = clock.now
    clock.now = before + timedelta(hours=2)  # the server's clock: the token has ended
    try:
        # not awaited here: the call waits for the dialog the test fills in below
        page.evaluate("() => { window.asked = Session.api('GET', '/agents/ag-alice'); }")
        page.wait_for_selector("#sign-in-dialog[open]")
        assert page.evaluate("document.body.dataset.session") == "ended"
        assert page.input_value("#sign-in-again input[name=username]") == "agent"
        page.fill("#sign-in-again input[name=password]", "agent")
        page.click("#sign-in-again button[type=submit]")
        agent = page.evaluate("window.asked")
        assert agent["agent_id"] == "ag-alice"
        assert page.evaluate("window.kept") == "typed before"
        assert not page.locator("#sign-in-dialog").is_visible()
    finally:
        clock.now = before


@pytest.mark.parametrize("lang", ["zh"])
def test_the_sign_in_page_speaks_chinese(page, app_server, lang):
    page.goto(f"{app_server}/console?lang={lang}")
    assert page.locator("h1").inner_text() == "登录"
    assert page.get_attribute("html", "lang") == "zh-CN"
    page.fill("#sign-in input[name=username]", "agent")
    page.fill("#sign-in input[name=password]", "agent")
    page.click("#sign-in button[type=submit]")
    page.wait_for_url("**/console/desk?lang=zh")
