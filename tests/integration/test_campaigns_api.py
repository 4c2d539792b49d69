"""The campaign admin API on DynamoDB Local: creation with every field checked (and what a
campaign names refused at creation, never at dial time), the lifecycle's arrows and 409s, a lost
race retried, recycling, the progress report, the results CSV and the listing order.

Contacts are seeded straight into ``store.campaigns`` (the runner that moves them is tested on
its own); ``campaigns.texting`` is replaced by a stand-in so these tests do not depend on its
templates."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
import types
from dataclasses import replace
from datetime import timedelta
from itertools import islice
from pathlib import Path

import pytest

from chalicelib.campaigns.contact import CampaignContact
from chalicelib.store import campaigns as store
from chalicelib.store import flows

JSON = {"Content-Type": "application/json"}
CSV = {"Content-Type": "text/csv"}
CALLER_ID = "+14155550100"
TEXTING = "chalicelib.campaigns.texting"
ROOT = Path(__file__).resolve().parents[2]


# ---- helpers --------------------------------------------------------------------------------
def contact_list(client, rows: int = 3, complete: bool = True) -> str:
    """A list through the API: ``rows`` numbers, the chunk marked last when ``complete``."""
    response = client.http.post("/contact-lists", headers=JSON, body=json.dumps(
        {"name": "November", "fallback_timezone": "America/Chicago"}))
    list_id = json.loads(response.body)["list_id"]
    body = "phone,name\n" + "".join(f"+1415555{3000 + i:04d},Person {i}\n" for i in range(rows))
    query = "?chunk=0" + ("&last=true" if complete else "")
    assert client.http.post(f"/contact-lists/{list_id}/rows{query}", headers=CSV,
                            body=body).status_code == 200
    return list_id


def survey(list_id: str, **changes) -> dict:
    return {"name": "November survey", "kind": "agentless", "purpose": "informational",
            "list_id": list_id, "caller_id": CALLER_ID, "flow_id": "campaign_survey",
            **changes}


def post(client, path: str, body: dict | None = None):
    return client.http.post(path, headers=JSON, body=json.dumps(body) if body else "")


def create(client, body: dict) -> dict:
    response = post(client, "/campaigns", body)
    assert response.status_code == 201, response.body
    return json.loads(response.body)


def refused(client, body: dict, status: int = 400) -> dict:
    response = post(client, "/campaigns", body)
    assert response.status_code == status, response.body
    return json.loads(response.body)


def get(client, campaign_id: str) -> dict:
    response = client.http.get(f"/campaigns/{campaign_id}")
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def seed(campaign_id: str, phone: str, now, *, status: str = "done", **changes):
    """A contact as the loader writes it, then moved to ``status`` with ``changes``."""
    contact = CampaignContact(campaign_id=campaign_id, phone=phone, name=changes.pop("name", None),
                              due_at=now, updated_at=now)
    assert store.add_contact(contact)
    store.add_totals(campaign_id, {"status_waiting": 1})
    if status == "waiting" and not changes:
        return contact
    return store.change_contact(contact, now, status=status, **changes)


@pytest.fixture
def texting(monkeypatch):
    """A stand-in ``campaigns.texting``: the template ``renewal`` exists; the preview says how
    many contacts it read of how many."""
    module = types.ModuleType(TEXTING)
    seen: dict = {}

    def check_template(campaign) -> None:
        if campaign.template != "renewal":
            raise ValueError(f"template: no campaign template {campaign.template!r}")

    def segment_preview(campaign, contacts, limit: int = 1000) -> dict:
        seen["rows"] = list(islice(contacts, limit))
        return {"texts": len(seen["rows"]), "contacts": len(contacts)}

    module.check_template, module.segment_preview, module.seen = (check_template,
                                                                  segment_preview, seen)
    monkeypatch.setitem(sys.modules, TEXTING, module)
    return module


# ---- create ---------------------------------------------------------------------------------
def test_an_agentless_survey_is_created_as_a_draft_with_the_defaults(client, clock):
    list_id = contact_list(client)
    made = create(client, survey(list_id))
    assert re.fullmatch(r"cmp_[A-Za-z0-9_-]{16}", made["campaign_id"])
    assert (made["status"], made["version"], made["channel"]) == ("draft", 1, "voice")
    assert made["created_at"] == clock.now.isoformat()
    assert made["fallback_tz"] == "America/Chicago"  # the list's
    assert made["caller_id"] == CALLER_ID and made["abandon_template"] == "abandon"
    assert made["window"] == {"mon-sun": ["08:00-21:00"]}
    assert made["retries"]["busy"] == {"delay_seconds": 1800, "max_attempts": 3}
    assert made["machine"] == "hangup" and made["machine_template"] is None
    assert "load_cursor" not in made and made["loaded"] == 0
    report = get(client, made["campaign_id"])
    assert report["progress"]["contacts"]["by_status"] == {
        "waiting": 0, "in_progress": 0, "done": 0}
    assert report["progress"]["contacts"]["list_size"] == 3
    assert report["progress"]["live"]["abandon_rate"] == 0.0
    assert report["progress"]["pace"] is None and report["progress"]["segments"] is None


def test_every_setting_is_read_back_as_given(client):
    list_id = contact_list(client)
    given = survey(
        list_id, purpose="marketing", caller_id="+1 (415) 555-0100", queue_id="support",
        starts_at="2026-11-24T09:00:00-05:00", ends_at="2026-11-30T00:00:00Z",
        window={"mon-fri": ["09:00-20:00"], "sat": ["10:00-14:00"]}, language="zh-CN",
        machine="message", retries={"machine": {"delay_seconds": 7200, "max_attempts": 1}},
        ring_seconds=25, abandon_target=0.01, abandon_window_hours=24, max_dial_level=2,
        weight=3, preview_seconds=30, wrap_up_seconds=0, fallback_tz="Asia/Shanghai",
        compliance={"caps": [{"channel": "voice", "count": 2, "days": 7}],
                    "restricted_dates": ["2026-11-26"], "abandoned_hold_hours": 24},
        subject_attribute="Account")
    made = create(client, given)
    assert made["caller_id"] == CALLER_ID  # E.164
    assert made["starts_at"] == "2026-11-24T14:00:00+00:00"
    assert made["machine_template"] == "campaign_machine_message"  # the default message
    assert made["retries"]["machine"] == {"delay_seconds": 7200, "max_attempts": 1}
    assert made["retries"]["busy"] == {"delay_seconds": 1800, "max_attempts": 3}  # default
    assert made["subject_attribute"] == "account"  # list columns are lower case
    for name in ("queue_id", "window", "language", "ring_seconds", "abandon_target",
                 "abandon_window_hours", "max_dial_level", "weight", "preview_seconds",
                 "wrap_up_seconds", "fallback_tz", "compliance", "purpose"):
        assert made[name] == given[name], name
    assert get(client, made["campaign_id"])["window"] == given["window"]


@pytest.mark.parametrize(("changes", "field"), [
    ({"name": " "}, "name"),
    ({"kind": "robocall"}, "kind"),
    ({"purpose": "requested"}, "purpose"),  # nobody asked for a campaign
    ({"list_id": "november"}, "list_id"),
    ({"caller_id": "4155550100"}, "caller_id"),  # no country
    ({"caller_id": "+1 900 555 0123"}, "caller_id"),  # premium rate: nobody calls back
    ({"caller_id": None}, "caller_id"),
    ({"starts_at": "tomorrow"}, "starts_at"),
    ({"starts_at": "2026-11-24T09:00:00"}, "starts_at"),  # no offset
    ({"ends_at": "2026-11-20T00:00:00Z"}, "ends_at"),  # past
    ({"starts_at": "2026-11-26T00:00Z", "ends_at": "2026-11-25T00:00Z"}, "ends_at"),
    ({"window": {"mon-fri": ["07:30-20:00"]}}, "window"),  # before 08:00
    ({"window": {"mon": "09:00-17:00"}}, "window"),
    ({"window": {}}, "window"),
    ({"window": {"someday": ["09:00-17:00"]}}, "window"),
    ({"flow_id": None}, "flow_id"),  # agentless: required
    ({"flow_id": "../main"}, "flow_id"),
    ({"template": "renewal"}, "template"),  # only for SMS
    ({"language": "fr-FR"}, "language"),
    ({"machine": "beep"}, "machine"),
    ({"machine": "message", "machine_template": "../../etc/passwd"}, "machine_template"),
    ({"abandon_template": "Abandon Me"}, "abandon_template"),
    ({"retries": {"busy": {"delay_seconds": 10, "max_attempts": 3}}},
     "retries.busy.delay_seconds"),
    ({"retries": {"busy": {"delay_seconds": 60, "max_attempts": 11}}},
     "retries.busy.max_attempts"),
    ({"retries": {"ringing": {"delay_seconds": 60, "max_attempts": 1}}}, "retries.ringing"),
    ({"retries": {"busy": {"delay_seconds": 60}}}, "retries.busy"),
    ({"retries": [1]}, "retries"),
    ({"ring_seconds": 14}, "ring_seconds"),
    ({"ring_seconds": 61}, "ring_seconds"),
    ({"ring_seconds": True}, "ring_seconds"),
    ({"ring_seconds": 30.5}, "ring_seconds"),
    ({"abandon_target": 0.06}, "abandon_target"),
    ({"abandon_target": "3%"}, "abandon_target"),
    ({"abandon_window_hours": 721}, "abandon_window_hours"),
    ({"max_dial_level": 0.5}, "max_dial_level"),
    ({"weight": 0}, "weight"),
    ({"preview_seconds": 301}, "preview_seconds"),
    ({"wrap_up_seconds": -1}, "wrap_up_seconds"),
    ({"fallback_tz": "Mars/Olympus"}, "fallback_tz"),
    ({"compliance": {"quiet": True}}, "compliance"),
    ({"compliance": []}, "compliance"),
    ({"compliance": {"caps": [{"channel": "fax", "count": 1, "days": 1}]}}, "compliance.caps"),
    ({"compliance": {"caps": ["4/2"]}}, "compliance.caps"),
    ({"compliance": {"restricted_dates": 5}}, "compliance.restricted_dates"),
    ({"compliance": {"restricted_dates": ["26/11/2026"]}}, "compliance.restricted_dates"),
    ({"compliance": {"consent_required": 5}}, "compliance.consent_required"),
    ({"compliance": {"consent_required": ["requested", "x"]}}, "compliance.consent_required"),
    ({"compliance": {"debt_cap": [7]}}, "compliance.debt_cap"),
    ({"compliance": {"abandoned_hold_hours": 1000}}, "compliance.abandoned_hold_hours"),
    ({"compliance": {"country_windows": {"US": {"mon": ["06:00-09:00"]}}}},
     "compliance.country_windows.US"),
    ({"compliance": {"country_windows": ["US"]}}, "compliance.country_windows"),
    ({"subject_attribute": "phone"}, "subject_attribute"),
    ({"start": "yes"}, "start"),
    ({"colour": "red"}, "colour"),
])
def test_each_field_is_checked_and_named(client, changes, field):
    list_id = contact_list(client, rows=1)
    answer = refused(client, {**survey(list_id), **changes})
    assert answer["field"] == field, answer
    assert store.all_campaigns() == []


def test_kinds_need_what_they_use_and_nothing_else(client, texting):
    list_id = contact_list(client, rows=1)
    agents = survey(list_id, kind="progressive", flow_id=None)
    del agents["flow_id"]
    assert refused(client, agents)["field"] == "queue_id"  # whose agents?
    assert refused(client, {**agents, "queue_id": "support", "flow_id": "main"})["field"] \
        == "flow_id"
    assert create(client, {**agents, "queue_id": "support"})["kind"] == "progressive"
    sms = {**agents, "kind": "sms", "template": "renewal", "queue_id": "support"}
    assert refused(client, sms)["field"] == "queue_id"
    del sms["queue_id"]
    assert refused(client, {**sms, "template": None})["field"] == "template"
    made = create(client, sms)
    assert (made["kind"], made["channel"], made["template"]) == ("sms", "sms", "renewal")


def test_what_a_campaign_names_is_refused_at_creation_when_unknown(client, texting):
    list_id = contact_list(client, rows=1)
    cases = [
        (survey("cl_" + "A" * 16), "list_id"),
        (survey(list_id, flow_id="no_such_flow"), "flow_id"),
        (survey(list_id, queue_id="nobody"), "queue_id"),  # "press 1" into nowhere
        (survey(list_id, kind="predictive", flow_id=None, queue_id="nobody"), "queue_id"),
        (survey(list_id, abandon_template="no_such_prompt"), "abandon_template"),
        (survey(list_id, machine="message", machine_template="no_such_prompt"),
         "machine_template"),
        ({**survey(list_id, kind="sms", template="unknown"), "flow_id": None}, "template"),
    ]
    for body, field in cases:
        if body.get("flow_id") is None:
            body.pop("flow_id", None)
        answer = refused(client, body)
        assert answer["field"] == field, (body, answer)
        assert answer["error"].startswith(f"{field}: no "), answer
    assert store.all_campaigns() == []


def test_an_sms_campaign_cannot_be_made_without_the_texting_module(client, monkeypatch):
    monkeypatch.setitem(sys.modules, TEXTING, None)  # as if it were not in the build
    list_id = contact_list(client, rows=1)
    body = survey(list_id, kind="sms", template="renewal")
    del body["flow_id"]
    answer = refused(client, body)
    assert answer["field"] == "template" and "cannot be checked" in answer["error"]


def test_a_flow_shipped_but_never_published_is_published_at_creation(client, monkeypatch):
    from chalicelib.campaigns import admin
    from chalicelib.ivr.loader import load_flows

    seed_flow = replace(load_flows(ROOT / "flows")[0]["campaign_survey"], id="survey_seed")
    monkeypatch.setattr(admin, "load_bundled",
                        lambda flow_id: seed_flow if flow_id == "survey_seed" else None)
    with pytest.raises(flows.FlowNotPublished):
        flows.live_version("survey_seed", 0)
    create(client, survey(contact_list(client, rows=1), flow_id="survey_seed"))
    assert flows.live_version("survey_seed", 0) == 1


def test_a_flow_that_does_not_speak_the_campaigns_language_is_refused(client, monkeypatch):
    from chalicelib.campaigns import admin
    from chalicelib.ivr.loader import load_flows

    english = replace(load_flows(ROOT / "flows")[0]["campaign_survey"], id="english_only",
                      languages=["en-US"])
    monkeypatch.setattr(admin, "load_bundled",
                        lambda flow_id: english if flow_id == "english_only" else None)
    answer = refused(client, survey(contact_list(client, rows=1), flow_id="english_only",
                                    language="zh-CN"))
    assert answer["field"] == "language"


# ---- lifecycle ------------------------------------------------------------------------------
def test_the_lifecycle_arrows_and_the_409s(client, clock):
    campaign_id = create(client, survey(contact_list(client)))["campaign_id"]

    def act(action: str, status: int = 200) -> dict:
        response = post(client, f"/campaigns/{campaign_id}/{action}")
        assert response.status_code == status, (action, response.body)
        return json.loads(response.body)

    assert "draft campaign cannot pause" in act("pause", 409)["error"]
    assert act("resume", 409)["error"] == "a draft campaign cannot resume"
    clock.now += timedelta(minutes=1)
    started = act("start")
    assert (started["status"], started["version"]) == ("running", 2)
    assert started["started_at"] == clock.now.isoformat()
    act("start", 409)
    assert act("pause")["status"] == "paused"
    act("pause", 409)
    assert act("resume")["status"] == "running"
    assert act("resume", 409)["error"] == "a running campaign cannot resume"
    stopped = act("stop")
    assert (stopped["status"], stopped["ended_at"]) == ("stopped", clock.now.isoformat())
    for action in ("start", "pause", "resume", "stop"):
        act(action, 409)
    assert get(client, campaign_id)["status"] == "stopped"


def test_start_at_creation_runs_now_or_waits_for_the_start_date(client, clock):
    list_id = contact_list(client)
    now = create(client, survey(list_id, start=True))
    assert (now["status"], now["started_at"]) == ("running", clock.now.isoformat())
    later = create(client, survey(list_id, start=True,
                                  starts_at=(clock.now + timedelta(days=1)).isoformat()))
    assert (later["status"], later["started_at"]) == ("scheduled", None)
    assert post(client, f"/campaigns/{later['campaign_id']}/pause").status_code == 200


def test_a_list_still_importing_cannot_be_started(client):
    list_id = contact_list(client, complete=False)
    answer = refused(client, survey(list_id, start=True), status=409)
    assert "importing" in answer["error"]
    assert store.all_campaigns() == []
    campaign_id = create(client, survey(list_id))["campaign_id"]  # a draft may wait for it
    assert post(client, f"/campaigns/{campaign_id}/start").status_code == 409
    assert get(client, campaign_id)["status"] == "draft"


def test_a_campaign_past_its_end_cannot_start_or_resume(client, clock):
    ends = clock.now + timedelta(hours=1)
    campaign_id = create(client, survey(contact_list(client), ends_at=ends.isoformat(),
                                        start=True))["campaign_id"]
    assert post(client, f"/campaigns/{campaign_id}/pause").status_code == 200
    clock.now += timedelta(hours=2)
    answer = post(client, f"/campaigns/{campaign_id}/resume")
    assert answer.status_code == 409 and "ended" in json.loads(answer.body)["error"]
    assert post(client, f"/campaigns/{campaign_id}/stop").status_code == 200


def test_a_change_racing_the_job_is_read_again_and_applied_once(client, clock, monkeypatch):
    campaign_id = create(client, survey(contact_list(client), start=True))["campaign_id"]
    real_save = store.save
    raced = []

    def save_after_the_job(campaign, expected_version):
        if not raced:  # the job copies a page in between our read and our write
            raced.append(True)
            job = store.get(campaign_id)
            assert real_save(replace(job, loaded=3), job.version) is not None
        return real_save(campaign, expected_version)

    monkeypatch.setattr(store, "save", save_after_the_job)
    paused = json.loads(post(client, f"/campaigns/{campaign_id}/pause").body)
    # created running (1), the job's save (2), then ours on top of it (3)
    assert (paused["status"], paused["version"], paused["loaded"]) == ("paused", 3, 3)

    monkeypatch.setattr(store, "save", lambda campaign, expected_version: None)
    answer = post(client, f"/campaigns/{campaign_id}/resume")
    assert answer.status_code == 409 and "try again" in json.loads(answer.body)["error"]


def test_unknown_and_impossible_campaigns_are_404(client):
    for path in ("/campaigns/cmp_AAAAAAAAAAAAAAAA", "/campaigns/nope",
                 "/campaigns/cmp_AAAAAAAAAAAAAAAA/results", "/campaigns/" + "x" * 3000):
        assert client.http.get(path).status_code == 404, path
    for action in ("start", "pause", "resume", "stop"):
        assert post(client, f"/campaigns/cmp_AAAAAAAAAAAAAAAA/{action}").status_code == 404
    assert post(client, "/campaigns/cmp_AAAAAAAAAAAAAAAA/recycle",
                {"dispositions": ["busy"]}).status_code == 404


# ---- listing and progress -------------------------------------------------------------------
def test_campaigns_are_listed_newest_first(client, clock):
    list_id = contact_list(client, rows=1)
    made = []
    for name in ("first", "second", "third"):
        made.append(create(client, survey(list_id, name=name))["campaign_id"])
        clock.now += timedelta(minutes=1)
    listed = json.loads(client.http.get("/campaigns").body)["campaigns"]
    assert [c["campaign_id"] for c in listed] == made[::-1]
    assert [c["name"] for c in listed] == ["third", "second", "first"]
    assert set(listed[0]) >= {"kind", "purpose", "status", "created_at", "loaded"}


def test_the_report_gives_progress_and_live_figures_over_the_abandon_window(client, clock):
    campaign_id = create(client, survey(contact_list(client), abandon_window_hours=24,
                                        start=True))["campaign_id"]
    now = clock.now
    store.count(campaign_id, now - timedelta(hours=30), dials=50, live_answers=20,
                abandoned=10)  # before the window: not counted
    store.count(campaign_id, now - timedelta(hours=3), dials=6, live_answers=2)
    store.count(campaign_id, now, dials=4, live_answers=2, abandoned=1, machine_answers=1)
    store.add_ringing(campaign_id, 2)
    store.set_pace(campaign_id, 1.8, "predictive", 0.4, 0.25, now)
    seed(campaign_id, "+14155554001", now, status="waiting")
    seed(campaign_id, "+14155554002", now, disposition="answered", attempts=1)
    seed(campaign_id, "+14155554003", now, disposition="busy", attempts=3)
    seed(campaign_id, "+14155554004", now, disposition="busy", attempts=3)
    progress = get(client, campaign_id)["progress"]
    assert progress["contacts"]["by_status"] == {"waiting": 1, "in_progress": 0, "done": 3}
    assert progress["contacts"]["by_disposition"] == {"answered": 1, "busy": 2}
    live = progress["live"]
    assert (live["dials"], live["live_answers"], live["abandoned"], live["machine_answers"]) \
        == (10, 4, 1, 1)
    # one abandoned of 4 live answers, plus AMD's estimated false verdicts (1 % of 1 machine)
    assert (live["abandon_rate"], live["answer_rate"], live["ringing"]) == (0.2525, 0.4, 2)
    assert live["estimated_amd_false_positives"] == 0.01
    assert live["window_hours"] == 24
    assert progress["pace"]["dial_level"] == 1.8 and progress["pace"]["mode"] == "predictive"


def test_an_sms_campaign_shows_its_segments_before_sending(client, texting, monkeypatch):
    body = survey(contact_list(client, rows=5), kind="sms", template="renewal")
    del body["flow_id"]
    campaign_id = create(client, body)["campaign_id"]
    assert get(client, campaign_id)["progress"]["segments"] == {"texts": 5, "contacts": 5}
    rows = texting.seen["rows"]
    assert [(c.campaign_id, c.name) for c in rows] == [(campaign_id, f"Person {i}")
                                                       for i in range(5)]
    # the preview reads the first rows of a long list and is told its size
    monkeypatch.setattr(texting, "segment_preview", lambda campaign, contacts: {
        "texts": len(list(islice(contacts, 2))), "contacts": len(contacts)})
    assert get(client, campaign_id)["progress"]["segments"] == {"texts": 2, "contacts": 5}


# ---- recycle --------------------------------------------------------------------------------
def test_recycle_sends_chosen_dispositions_back_to_waiting(client, clock):
    campaign_id = create(client, survey(contact_list(client), start=True))["campaign_id"]
    now = clock.now
    for n, disposition in enumerate(("busy", "busy", "no_answer", "answered", "opted_out",
                                     "machine")):
        seed(campaign_id, f"+1415555500{n}", now, disposition=disposition, attempts=3,
             outcome=disposition)
    seed(campaign_id, "+14155555009", now, status="calling", attempts=1)
    clock.now += timedelta(hours=1)
    answer = post(client, f"/campaigns/{campaign_id}/recycle",
                  {"dispositions": ["busy", "no_answer"]})
    assert answer.status_code == 200, answer.body
    assert json.loads(answer.body) == {"campaign_id": campaign_id, "recycled": 3,
                                       "more": False}
    contacts = {c.phone: c for c in store.contacts(campaign_id)}
    for phone in ("+14155555000", "+14155555001", "+14155555002"):
        again = contacts[phone]
        assert (again.status, again.attempts, again.disposition) == ("waiting", 0, None)
    assert contacts["+14155555003"].disposition == "answered"
    assert contacts["+14155555009"].status == "calling"
    due, _ = store.due_contacts(campaign_id, clock.now, 10)
    assert {c.phone for c in due} == {"+14155555000", "+14155555001", "+14155555002"}
    progress = get(client, campaign_id)["progress"]["contacts"]
    assert progress["by_status"]["waiting"] == 3
    assert progress["by_disposition"] == {"answered": 1, "opted_out": 1, "machine": 1}
    # again: nothing left with those dispositions
    assert json.loads(post(client, f"/campaigns/{campaign_id}/recycle",
                           {"dispositions": ["busy"]}).body)["recycled"] == 0


def test_recycle_refuses_people_reached_refusals_and_final_campaigns(client):
    campaign_id = create(client, survey(contact_list(client), start=True))["campaign_id"]
    path = f"/campaigns/{campaign_id}/recycle"
    for dispositions in (["answered"], ["busy", "opted_out"], ["blocked"], ["invalid_number"],
                         ["replied"], ["ringing"], [], "busy", [7]):
        answer = post(client, path, {"dispositions": dispositions})
        assert answer.status_code == 400, dispositions
        assert json.loads(answer.body)["field"] == "dispositions"
    assert json.loads(post(client, path, {"dispositions": ["busy"], "x": 1}).body)["field"] \
        == "x"
    assert post(client, f"/campaigns/{campaign_id}/stop").status_code == 200
    assert post(client, path, {"dispositions": ["busy"]}).status_code == 409


def test_recycle_goes_a_batch_at_a_time(client, clock, monkeypatch):
    from chalicelib.campaigns import admin

    campaign_id = create(client, survey(contact_list(client), start=True))["campaign_id"]
    for n in range(3):
        seed(campaign_id, f"+1415555600{n}", clock.now, disposition="no_answer", attempts=3)
    monkeypatch.setattr(admin, "RECYCLE_BATCH", 2)
    path = f"/campaigns/{campaign_id}/recycle"
    first = json.loads(post(client, path, {"dispositions": ["no_answer"]}).body)
    second = json.loads(post(client, path, {"dispositions": ["no_answer"]}).body)
    assert (first["recycled"], first["more"]) == (2, True)
    assert (second["recycled"], second["more"]) == (1, False)


# ---- results --------------------------------------------------------------------------------
def test_the_results_are_a_csv_with_one_column_per_answer(client, clock):
    campaign_id = create(client, survey(contact_list(client), start=True))["campaign_id"]
    now = clock.now
    at = (now + timedelta(minutes=5)).isoformat()
    seed(campaign_id, "+14155557001", now, name="Ada", disposition="answered", attempts=2,
         outcome="answered", answers={"satisfaction": 5, "recommend": "yes"},
         history=({"at": now.isoformat(), "attempt": 1, "outcome": "busy", "duration": 0},
                  {"at": at, "attempt": 2, "outcome": "answered", "duration": 45}))
    seed(campaign_id, "+14155557002", now, name="=HYPERLINK(\"http://x\")",
         disposition="answered", attempts=1, outcome="answered",
         answers={"satisfaction": 2, "wants_agent": "-1+1"}, agent_id="ag-alice",
         history=({"at": at, "attempt": 1, "outcome": "answered"},))
    seed(campaign_id, "+14155557003", now, status="waiting")
    response = client.http.get(f"/campaigns/{campaign_id}/results")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.headers["Content-Disposition"] == \
        f'attachment; filename="{campaign_id}-results.csv"'
    text = response.body.decode() if isinstance(response.body, bytes) else response.body
    reader = csv.DictReader(io.StringIO(text))
    assert reader.fieldnames == [
        "phone", "name", "status", "attempts", "outcome", "disposition", "answered_at",
        "last_attempt_at", "agent_id", "answer_recommend", "answer_satisfaction",
        "answer_wants_agent", "history"]
    rows = {row["phone"]: row for row in reader}
    ada = rows["+14155557001"]
    assert (ada["name"], ada["status"], ada["attempts"], ada["disposition"]) == \
        ("Ada", "done", "2", "answered")
    assert (ada["answer_satisfaction"], ada["answer_recommend"], ada["answer_wants_agent"]) \
        == ("5", "yes", "")
    assert ada["answered_at"] == ada["last_attempt_at"] == at
    assert ada["history"] == f"#1 busy {now.isoformat()}; #2 answered {at} (45 s)"
    formula = rows["+14155557002"]
    assert formula["name"].startswith("'=") and formula["answer_wants_agent"] == "'-1+1"
    assert formula["agent_id"] == "ag-alice"
    waiting = rows["+14155557003"]
    assert (waiting["status"], waiting["attempts"], waiting["answered_at"],
            waiting["history"]) == ("waiting", "0", "", "")


def test_results_of_a_campaign_without_contacts_are_the_header(client):
    campaign_id = create(client, survey(contact_list(client)))["campaign_id"]
    response = client.http.get(f"/campaigns/{campaign_id}/results")
    text = response.body.decode() if isinstance(response.body, bytes) else response.body
    assert text == ("phone,name,status,attempts,outcome,disposition,answered_at,"
                    "last_attempt_at,agent_id,history\r\n")


def test_the_documented_body_is_the_one_read(client):
    from chalicelib.campaigns.campaign_input import FIELDS

    document = json.loads(client.http.get("/openapi.json").body)
    schema = document["paths"]["/campaigns"]["post"]["requestBody"]["content"][
        "application/json"]["schema"]
    assert set(schema["properties"]) == FIELDS and schema["additionalProperties"] is False


ODD_VALUES = [None, True, 0, -1, 10**30, 1e308, 0.5, "", " ", "x" * 300, "é", [], [None], {},
              {"": []}, {"mon": [None]}, [{"a": 1}], {"busy": None}, {"caps": [None]},
              {"country_windows": {"US": None}}, {"debt_cap": [True, 1]}]


def test_any_json_value_in_any_field_is_a_4xx_never_a_5xx(client, texting):
    """What the fuzzer cannot reach without a real list: each field, every kind of value
    (and for the other kinds, the fields they read differently)."""
    from chalicelib.campaigns.campaign_input import FIELDS

    list_id = contact_list(client, rows=1)
    sms = {**survey(list_id, kind="sms", template="renewal")}
    del sms["flow_id"]
    predictive = {**survey(list_id, kind="predictive", queue_id="support")}
    del predictive["flow_id"]
    for base, fields in ((survey(list_id), sorted(FIELDS)),
                         (sms, ["template", "queue_id", "flow_id"]),
                         (predictive, ["queue_id", "flow_id", "template"])):
        for field in fields:
            for value in ODD_VALUES:
                response = post(client, "/campaigns", {**base, field: value})
                assert response.status_code in (201, 400), (base["kind"], field, value,
                                                             response.body)
