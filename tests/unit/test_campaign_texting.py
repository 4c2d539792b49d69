"""SMS campaigns' texts: templates in each language, the opt-out line marketing texts must carry
(MIIT Order 31: 回复TD退订; US: Reply STOP), the template check made when a campaign is created,
reply choices, and the segment preview (GSM-7 160/153, UCS-2 70/67)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from chalicelib.campaigns import text_templates
from chalicelib.campaigns.campaign import Campaign
from chalicelib.campaigns.contact import CampaignContact
from chalicelib.campaigns.texting import check_template, render_text, segment_preview

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def campaign(template: str = "appointment_survey", purpose: str = "informational",
             **changes) -> Campaign:
    return Campaign("cmp1", "November", "sms", purpose, "lst1", "+14155550100", NOW,
                    template=template, **changes)


def contact(phone: str = "+14155551234", **changes) -> CampaignContact:
    return CampaignContact("cmp1", phone, **changes)


@pytest.fixture
def own_templates(tmp_path, monkeypatch):
    """A templates folder of the test's own: ``write(name, language, text)``."""
    monkeypatch.setattr(text_templates, "CAMPAIGN_TEMPLATES", tmp_path)
    for cached in (text_templates._environment, text_templates.replies):
        cached.cache_clear()

    def write(name: str, file: str, text: str) -> None:
        (tmp_path / name).mkdir(exist_ok=True)
        (tmp_path / name / file).write_text(text, encoding="utf-8")

    yield write
    for cached in (text_templates._environment, text_templates.replies):
        cached.cache_clear()


# ---- rendering --------------------------------------------------------------------------------


def test_a_text_in_the_contacts_language_with_the_lists_columns():
    ada = contact(name="Ada", language="en-US",
                  attributes={"appointment": "Tue 1 Dec 10:00", "place": "the Main St clinic"})
    assert render_text(campaign(), ada) == (
        "Hi Ada, a reminder of your appointment on Tue 1 Dec 10:00 at the Main St clinic.\n"
        "Reply 1 to confirm or 2 if you need another time.")
    wang = contact(name="王芳", language="zh-CN", attributes={"appointment": "12月1日上午10点"})
    assert render_text(campaign(), wang) == (
        "王芳，您好！提醒您12月1日上午10点的预约。确认请回复1，需要改期请回复2。")


def test_missing_columns_and_names_leave_no_gaps():
    assert render_text(campaign(), contact()) == (
        "Hi, a reminder of your appointment.\nReply 1 to confirm or 2 if you need another time.")


@pytest.mark.parametrize(("language", "starts"), [
    ("zh", "您好"),  # the same language, another tag
    ("zh-TW", "您好"),
    ("fr-FR", "Hi"),  # not written in French: the campaign's language
    (None, "Hi"),
])
def test_the_language_falls_back_to_a_close_one_then_the_campaigns(language, starts):
    assert render_text(campaign(), contact(language=language)).startswith(starts)
    assert render_text(campaign(language="zh-CN"), contact(language="fr-FR")).startswith("您好")


def test_a_marketing_text_gets_the_opt_out_line_of_its_language():
    offer = campaign("plan_offer", "marketing")
    english = render_text(offer, contact(language="en-US"))
    chinese = render_text(offer, contact(language="zh-CN"))
    assert english.endswith("\nReply STOP to opt out.")
    assert chinese.endswith("\n回复TD退订")
    # an informational text does not need one
    assert "STOP" not in render_text(campaign("plan_offer"), contact(language="en-US"))


@pytest.mark.parametrize("text", [
    "Sale today! Reply STOP to opt out", "Sale today. To stop these texts, text stop to 555",
    "Sale today. Reply “STOP” to unsubscribe", "大促销，回复TD退订", "大促销，退订请回复T",
])
def test_a_marketing_text_with_its_own_opt_out_gets_no_second_one(own_templates, text):
    own_templates("sale", "en-US.j2", text)
    assert render_text(campaign("sale", "marketing"), contact()) == text


@pytest.mark.parametrize("text", ["Visit our bus stop store", "Stop by today!", "TD Bank news"])
def test_stop_in_passing_is_not_an_opt_out_instruction(own_templates, text):
    own_templates("sale", "en-US.j2", text)
    assert render_text(campaign("sale", "marketing"), contact()) == \
        text + "\nReply STOP to opt out."


# ---- the check when a campaign is created -------------------------------------------------------


def test_the_shipped_templates_pass_the_check():
    for name in ("appointment_survey", "outage_notice", "plan_offer"):
        check_template(campaign(name))
        check_template(campaign(name, "marketing", language="zh-CN"))


@pytest.mark.parametrize(("template", "language", "message"), [
    ("no_such_text", "en-US", "no campaign template 'no_such_text'"),
    ("../en-US/sms_help", "en-US", "is not a template name"),
    ("Appointment", "en-US", "is not a template name"),
    ("", "en-US", "an SMS campaign needs one"),
    (None, "en-US", "an SMS campaign needs one"),
    ("outage_notice", "fr-FR", "is not written in fr-FR (only en-US, zh-CN)"),
])
def test_an_unknown_template_is_refused(template, language, message):
    with pytest.raises(ValueError, match="^template: ") as refused:
        check_template(campaign(template, language=language))
    assert message in str(refused.value)


def test_a_voice_campaign_without_a_template_passes():
    check_template(replace(campaign(None), kind="agentless"))


@pytest.mark.parametrize(("text", "message"), [
    ("Hi {{ nmae }}", "'nmae' is undefined"),  # a typo: only the context's names exist
    ("Hi {{ name | no_such_filter }}", "No filter named 'no_such_filter'"),
    ("Hi {% if name %}", "does not render"),
    ("{# nothing #}", "renders no text"),
])
def test_a_template_that_does_not_render_is_refused(own_templates, text, message):
    own_templates("broken", "en-US.j2", "Fine, {{ name }}.")
    own_templates("broken", "zh-CN.j2", text)
    with pytest.raises(ValueError, match=r"^template: broken \(zh-CN\)") as refused:
        check_template(campaign("broken"))
    assert message in str(refused.value)


@pytest.mark.parametrize(("replies", "message"), [
    ('{"1": "yes", "YES": "yes"}', "'YES' is a keyword the SMS channel keeps"),
    ('{"1": "yes", "退订": "no"}', "'退订' is a keyword"),
    ('{"1": "yes", "cancel": "no"}', "'cancel' is a keyword"),
    ('{"1": 1}', "maps replies to answers"),
    ('["1"]', "maps replies to answers"),
    ('{"1": "yes",}', "is not JSON"),
])
def test_reply_choices_must_be_text_and_not_keywords(own_templates, replies, message):
    own_templates("survey", "en-US.j2", "Happy? Reply 1 or 2.")
    own_templates("survey", "replies.json", replies)
    with pytest.raises(ValueError, match="^template: survey/replies.json") as refused:
        check_template(campaign("survey"))
    assert message in str(refused.value)


# ---- replies ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "choice"), [
    ("1", "confirmed"), ("１", "confirmed"), (" 1. ", "confirmed"), ("2!", "reschedule"),
    ("y", "confirmed"), ("Confirm", "confirmed"), ("是", "confirmed"), ("改期。", "reschedule"),
    ("12", None), ("maybe tomorrow", None), ("", None),
])
def test_a_reply_is_read_in_folded_form(body, choice):
    assert text_templates.choice_of("appointment_survey", body) == choice


def test_a_template_without_choices_reads_no_reply():
    assert text_templates.replies("outage_notice") == {}
    assert text_templates.choice_of("outage_notice", "1") is None


def test_the_replies_file_keys_are_folded(own_templates):
    own_templates("survey", "en-US.j2", "Happy? Reply A or B.")
    own_templates("survey", "replies.json", json.dumps({"Ａ": "happy", " b ": "unhappy"}))
    assert text_templates.choice_of("survey", "a") == "happy"
    assert text_templates.choice_of("survey", "B.") == "unhappy"


# ---- the segment preview ------------------------------------------------------------------------


def test_chinese_takes_seventy_characters_a_segment(own_templates):
    own_templates("notice", "zh-CN.j2", "{{ attributes.text }}")
    own_templates("notice", "en-US.j2", "{{ attributes.text }}")
    people = [contact(f"+1415555{i:04d}", language="zh-CN", attributes={"text": "您" * n})
              for i, n in enumerate((70, 71, 134, 135))]
    people.append(contact("+14155559999", attributes={"text": "a" * 161}))
    preview = segment_preview(campaign("notice", language="zh-CN"), people)
    assert preview["encoding_counts"] == {"GSM-7": 1, "UCS-2": 4}
    assert preview["texts"] == 5
    assert preview["segments_total"] == 1 + 2 + 2 + 3 + 2
    assert preview["max_segments"] == 3
    assert (preview["sampled"], preview["contacts"], preview["segments_estimate"]) == \
        (False, 5, 10)
    assert preview["note"] is None
    samples = preview["samples"]
    assert [(s["encoding"], s["segments"]) for s in samples] == [
        ("UCS-2", 3), ("GSM-7", 2), ("UCS-2", 2)]
    assert samples[0]["phone_last4"] == "0003" and samples[0]["text"] == "您" * 135


def test_the_opt_out_line_is_counted(own_templates):
    own_templates("offer", "zh-CN.j2", "{{ attributes.text }}")
    # 64 characters + a line break + 回复TD退订 (6) = 71: a second segment
    preview = segment_preview(campaign("offer", "marketing", language="zh-CN"),
                              [contact(attributes={"text": "优" * 64})])
    assert preview["samples"][0]["text"].endswith("\n回复TD退订")
    assert preview["segments_total"] == 2


def test_a_large_campaign_is_counted_on_its_first_texts_and_extrapolated():
    people = [contact(f"+1415555{i:04d}", language="zh-CN" if i % 4 == 0 else "en-US")
              for i in range(40)]
    preview = segment_preview(campaign(), people, limit=8)
    assert preview["texts"] == 8 and preview["sampled"] is True
    assert preview["encoding_counts"] == {"GSM-7": 6, "UCS-2": 2}
    assert preview["segments_total"] == 8
    assert (preview["contacts"], preview["segments_estimate"]) == (40, 40)
    assert "first 8 texts" in preview["note"] and "all 40 contacts" in preview["note"]
    assert len({s["text"] for s in preview["samples"]}) == len(preview["samples"]) == 2


def test_a_stream_of_contacts_extrapolates_to_the_loaded_campaign_or_says_it_cannot():
    def stream():
        for i in range(30):
            yield contact(f"+1415555{i:04d}")

    loaded = campaign(loaded=30, load_done=True)
    assert segment_preview(loaded, stream(), limit=10)["segments_estimate"] == 30
    loading = campaign(loaded=10, load_done=False)
    preview = segment_preview(loading, stream(), limit=10)
    assert (preview["contacts"], preview["segments_estimate"]) == (None, 10)
    assert "not fully loaded" in preview["note"]


def test_an_empty_campaign_previews_nothing():
    preview = segment_preview(campaign(), [])
    assert preview["texts"] == preview["segments_total"] == preview["max_segments"] == 0
    assert preview["samples"] == [] and preview["sampled"] is False
