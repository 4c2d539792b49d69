"""The campaign and reminder manager (/console/campaigns) in real Chromium: a supervisor uploads a
contact list through the page (progress to 100 %, the rejected row and its reason), creates a
small campaign from the form, starts it, sees its figures move when the campaign job dials
(ticked from the test against the carrier emulator), pauses and stops it; previews a reminder
batch; an agent is refused; the page speaks Chinese and fits 1280x800 and a 1024 px tablet."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from chalicelib.reminders.model import BillingAccount
from chalicelib.store import billing
from chalicelib.wiring import Root
from tests.browser.conftest import OPEN_HOURS

GOOD_A, GOOD_B = "+14153330181", "+14153330182"
LIST_CSV = f"phone,name\n{GOOD_A},Ada\nnot a number,Bob\n{GOOD_B},Cy\n".encode()


@pytest.fixture
def at_open_hours(page, clock):
    """The browser's clock at the app's: a session's ``expires_at`` is in the app's (simulated)
    time, and session.js compares it with the browser's ``Date.now()``."""
    clock.now = OPEN_HOURS
    page.clock.set_fixed_time(OPEN_HOURS)
    return page


@pytest.fixture
def manager(sign_in, at_open_hours):
    page = sign_in("supervisor", then="campaigns")
    page.wait_for_selector("body[data-state=ready]")
    return page


def upload(page, name: str = "Autumn survey", chunk_rows: int = 1000) -> None:
    page.eval_on_selector("#upload", "(form, rows) => { form.dataset.chunkRows = rows; }",
                          chunk_rows)
    page.fill("#upload input[name=name]", name)
    page.set_input_files("#upload input[name=file]", files=[{
        "name": "list.csv", "mimeType": "text/csv", "buffer": LIST_CSV}])
    page.click("#upload button[type=submit]")
    page.wait_for_selector("#list-report:not([hidden])")
    # the upload is over when the campaign form names the list (after the rejected rows are
    # read): a campaign created before that would be sent without its list
    page.wait_for_function("document.querySelector('#campaign-form').elements.list_id.value"
                           " !== ''")


def figure(page, box: str, name: str) -> str:
    return page.inner_text(f'{box} [data-figure="{name}"] dd')


def test_an_upload_shows_its_progress_and_the_rejected_row(manager):
    upload(manager, chunk_rows=2)  # three rows: two chunks, each with the header line

    assert manager.inner_text("#upload-percent") == "100 %"
    assert manager.inner_text("#upload-chunk") == "chunk 2 of 2"
    assert figure(manager, "#list-figures", "chunks") == "2"
    assert figure(manager, "#list-figures", "received") == "3"
    assert manager.eval_on_selector("#upload-bar", "bar => bar.value") == 100
    assert figure(manager, "#list-figures", "accepted") == "2"
    assert figure(manager, "#list-figures", "rejected") == "1"
    assert figure(manager, "#list-figures", "list_status") == "Complete"
    # the rejected rows are a read of their own, after the list's report
    manager.wait_for_selector("#rejected-rows tbody tr")
    rows = manager.locator("#rejected-rows tbody tr")
    assert rows.count() == 1
    assert rows.first.locator("[data-reason]").inner_text() == "Not a valid phone number"
    assert "not a number" in rows.first.inner_text()
    with manager.expect_download() as download:
        manager.click("#rejected-download")
    assert download.value.suggested_filename.endswith("-rejected.csv")
    saved = download.value.path().read_text()
    assert saved.startswith("reason,chunk,line,phone,name")
    assert "invalid,0,3,not a number,Bob" in saved
    # the new list is offered to the campaign form
    assert manager.input_value("#campaign-form input[name=list_id]").startswith("cl_")


def test_a_campaign_from_the_form_starts_dials_pauses_and_stops(manager, clock, carrier,
                                                                tmp_path):
    carrier.set_answer_scripts({GOOD_A: ["busy"], GOOD_B: ["no-answer"]})
    upload(manager)
    manager.on("dialog", lambda dialog: dialog.accept())
    manager.click("#new-campaign summary")
    manager.fill("#campaign-form input[name=name]", "Survey from the page")
    manager.select_option("#campaign-form select[name=kind]", "agentless")
    manager.fill("#campaign-form input[name=flow_id]", "campaign_survey")
    manager.click("#campaign-form button[type=submit]")
    manager.wait_for_selector("#campaign-detail[data-status=draft]")
    assert manager.inner_text("#detail-name") == "Survey from the page"
    manager.wait_for_selector("#campaign-table tr[data-campaign]")  # the list is read again
    assert manager.locator("#campaign-table tr[data-campaign]").count() == 1

    manager.click("#detail-actions [data-action=start]")
    manager.wait_for_selector("#campaign-detail[data-status=running]")
    assert figure(manager, "#live-figures", "dials") == "0"

    def sleep(seconds):  # the job's waits move the test's clock, not the wall's
        clock.now += timedelta(seconds=seconds)

    result = Root(clock=clock, sleep=sleep).campaigns.tick(seconds=2)
    assert result["placed"] == 2
    carrier.run_pending()  # the emulator rings both and posts each call's end to the app
    # the page polls GET /campaigns/{id} every 5 s: the dials show up without a reload
    manager.wait_for_function(
        "Number(document.querySelector('#campaign-detail').dataset.dials) === 2",
        timeout=20_000)
    assert figure(manager, "#live-figures", "dials") == "2"
    assert figure(manager, "#contact-figures", "loaded") == "2 / 2"
    manager.set_viewport_size({"width": 1280, "height": 800})
    manager.locator("#campaign-detail").scroll_into_view_if_needed()
    shot = tmp_path / "console-campaigns-1280x800.png"
    manager.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000

    manager.click("#detail-actions [data-action=pause]")
    manager.wait_for_selector("#campaign-detail[data-status=paused]")
    assert manager.is_visible("#detail-actions [data-action=resume]")
    assert not manager.is_visible("#detail-actions [data-action=pause]")
    manager.click("#detail-actions [data-action=stop]")
    manager.wait_for_selector("#campaign-detail[data-status=stopped]")
    assert not manager.is_visible("#detail-actions [data-action=start]")
    link = manager.get_attribute("#report-link", "href")
    assert link.startswith("/reports/campaigns/page?campaign=cmp_")


def test_a_bad_field_is_shown_next_to_it(manager):
    upload(manager)
    manager.click("#new-campaign summary")
    manager.fill("#campaign-form input[name=name]", "Bad caller")
    manager.fill("#campaign-form input[name=caller_id]", "12345")
    manager.click("#campaign-form button[type=submit]")
    error = manager.locator('#campaign-form .error[data-for="caller_id"]')
    error.wait_for()
    manager.wait_for_function(
        "document.querySelector('#campaign-form .error[data-for=\"caller_id\"]').textContent")
    assert "E.164" in error.inner_text()
    assert manager.get_attribute("#campaign-form input[name=caller_id]", "aria-invalid") == "true"


def test_a_reminder_batch_preview_counts_the_accounts(manager):
    for n, phones in enumerate([("+14153330191",), ("+14153330192",), ()]):
        billing.upsert_account(BillingAccount(
            f"BR-{n}", holder=f"Holder {n}", phones=phones, timezone="America/Los_Angeles",
            amount_due=5000 + n, due_date=date(2026, 11, 2)), f"v{n}", now=OPEN_HOURS)
    manager.select_option("#batch-form select[name=status]", "overdue")
    manager.fill("#batch-form input[name=due_from]", "2026-11-01")
    manager.fill("#batch-form input[name=due_to]", "2026-11-03")
    manager.select_option("#batch-form select[name=channel]", "sms")
    assert manager.is_disabled("#batch-send")
    manager.click("#batch-preview")
    manager.wait_for_selector("#batch-preview-result:not([hidden])")

    assert figure(manager, "#preview-figures", "accounts") == "2"
    assert figure(manager, "#preview-figures", "refused_no_phone") == "1"
    assert manager.locator("#preview-samples tbody tr").count() == 2
    assert "BR-0" in manager.inner_text("#preview-samples")
    assert manager.is_enabled("#batch-send")

    manager.on("dialog", lambda dialog: dialog.accept())
    manager.click("#batch-send")
    manager.wait_for_selector("#batch-result:not([hidden])")
    assert manager.inner_text("#batch-id").startswith("cmp_")
    assert figure(manager, "#batch-figures", "accounts") == "2"
    assert figure(manager, "#batch-figures", "waiting") == "2"
    assert manager.inner_text("#batch-status") == "Running"
    assert manager.is_disabled("#batch-send")  # sent: a new preview before another batch
    batch_row = manager.locator("#campaign-table tr[data-campaign]")
    batch_row.first.wait_for()
    assert "reminder batch" in batch_row.first.inner_text()


def test_an_agent_is_refused(sign_in, at_open_hours):
    page = sign_in("agent", then="campaigns")
    page.wait_for_selector("body[data-state=forbidden]")
    assert page.inner_text("main").strip() == "You may not do this."
    assert page.locator("#upload").count() == 0


def test_chinese_and_the_two_screen_sizes(sign_in, at_open_hours):
    page = sign_in("supervisor", lang="zh", then="campaigns")
    page.wait_for_selector("body[data-state=ready]")
    assert page.inner_text("#lists-title") == "联系人名单"
    assert page.inner_text("#campaigns-title") == "全部活动"
    assert page.inner_text("h1") == "外呼活动"
    assert "预览" in page.inner_text("#batch-preview")
    for width, height in ((1280, 800), (1024, 768)):
        page.set_viewport_size({"width": width, "height": height})
        assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_a_campaign_is_created_and_started_from_the_keyboard(manager):
    upload(manager)
    manager.focus("#new-campaign summary")
    manager.keyboard.press("Enter")  # opens the form
    manager.keyboard.press("Tab")
    assert manager.evaluate("document.activeElement.name") == "name"
    manager.keyboard.type("Typed campaign")
    manager.keyboard.press("Enter")  # submits the form
    manager.wait_for_selector("#campaign-detail[data-status=draft]")
    # the detail takes the focus on its first action
    assert manager.evaluate("document.activeElement.dataset.action") == "start"
    manager.keyboard.press("Enter")
    manager.wait_for_selector("#campaign-detail[data-status=running]")


def test_an_upload_cut_half_way_resumes_into_the_same_list(manager):
    cut = []

    def once(route):
        if cut:
            route.continue_()
        else:
            cut.append(route.request.url)
            route.abort()

    manager.route("**/rows?chunk=1*", once)
    manager.eval_on_selector("#upload", "form => { form.dataset.chunkRows = 2; }")
    manager.fill("#upload input[name=name]", "Cut list")
    manager.set_input_files("#upload input[name=file]", files=[{
        "name": "list.csv", "mimeType": "text/csv", "buffer": LIST_CSV}])
    manager.click("#upload button[type=submit]")
    error = manager.locator('#upload .error[data-for=""]')
    manager.wait_for_function("document.querySelector('#upload .error[data-for=\"\"]')"
                              ".textContent !== ''")
    assert error.inner_text()
    assert manager.is_hidden("#list-report")

    manager.click("#upload button[type=submit]")  # the same file again
    manager.wait_for_selector("#list-report:not([hidden])")
    list_id = cut[0].split("/contact-lists/")[1].split("/")[0]
    assert manager.inner_text("#list-report-id") == list_id
    assert figure(manager, "#list-figures", "received") == "3"  # chunk 0 counted once
    assert figure(manager, "#list-figures", "list_status") == "Complete"


def test_an_action_on_a_campaign_changed_meanwhile_says_why_not(manager):
    from chalicelib.campaigns import admin

    upload(manager)
    manager.click("#new-campaign summary")
    manager.fill("#campaign-form input[name=name]", "Changed meanwhile")
    manager.check("#campaign-form input[name=start]")
    manager.click("#campaign-form button[type=submit]")
    manager.wait_for_selector("#campaign-detail[data-status=running]")
    campaign_id = manager.inner_text("#detail-id").split(" · ")[0]
    admin.change_status(campaign_id, "pause", OPEN_HOURS)  # another supervisor, meanwhile

    # the page still offers Pause (until its next poll): pressed, the API answers 409
    manager.evaluate("document.querySelector('#detail-actions [data-action=pause]').click()")
    manager.wait_for_function("document.querySelector('#action-error').textContent !== ''")
    assert manager.inner_text("#action-error").startswith("Not possible now: ")
    manager.wait_for_selector("#campaign-detail[data-status=paused]")  # and shows it as it is
