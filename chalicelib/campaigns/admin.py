"""The campaign admin API's work, without HTTP: create a campaign, list them, report one's
progress, move it through its lifecycle, recycle contacts, and give its results as CSV.

Everything a campaign names is checked when it is created, never at dial time (issue 10, "when
things go wrong"): the contact list exists, an agentless campaign's flow is published (a flow
shipped in the Lambda package is published from its bundled copy, as the IVR does on first
use) and speaks the campaign's language, the queue exists, the voice templates exist, an SMS
campaign's template renders (``campaigns.texting.check_template``), and the gate's policy can
be built from the window and overrides (``campaigns.policy``).

Lifecycle changes go through ``campaign.transition`` and one version-conditional save; a save
that loses a race is read again and retried once, then answered 409. ``InvalidRequest`` (400),
``NotFound`` (404) and ``Conflict`` (409) are the API's errors (``api_errors.py``).
"""

from __future__ import annotations

import importlib
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import datetime, timedelta
from itertools import islice
from types import ModuleType

from chalicelib.api_errors import Conflict, InvalidRequest, NotFound
from chalicelib.campaigns import lists, results
from chalicelib.campaigns.campaign import (
    ACTIONS,
    AGENTLESS,
    BUSY,
    FAILED,
    FINAL,
    MACHINE,
    NO_ANSWER,
    SMS_KIND,
    Campaign,
    LifecycleError,
    past_end,
    transition,
)
from chalicelib.campaigns.campaign_input import check_policy, parse_campaign
from chalicelib.campaigns.contact import (
    ABANDONED,
    ANSWERED,
    BLOCKED,
    DELIVERED,
    DONE,
    INVALID_NUMBER,
    MESSAGE_LEFT,
    OPTED_OUT,
    REPLIED,
    SENT,
    SKIPPED,
    UNDELIVERED,
    WAITING,
    CampaignContact,
)
from chalicelib.campaigns.model import COMPLETE
from chalicelib.campaigns.pacer import estimated_false_positives
from chalicelib.ivr.bundle import load_bundled
from chalicelib.prompts import DEFAULT_LANGUAGE, TEMPLATES_DIR
from chalicelib.store import campaigns as store
from chalicelib.store import contact_lists, flows, routing

ID_PREFIX = "cmp_"
# Dispositions a person may send back to waiting, and those never: a person reached, or a
# refusal that waiting does not cure (an opt-out, a do-not-call entry, a dead number).
RECYCLABLE = (BUSY, NO_ANSWER, MACHINE, FAILED, ABANDONED, MESSAGE_LEFT, SKIPPED, SENT,
              DELIVERED, UNDELIVERED)
NEVER_RECYCLED = (ANSWERED, REPLIED, OPTED_OUT, BLOCKED, INVALID_NUMBER)
RECYCLE_BATCH = 2000  # contacts moved a request, within API Gateway's 29 s; call again for more
RECYCLE_WORKERS = 8
# bookkeeping of the list copy: not the campaign's settings
_INTERNAL = ("load_cursor", "load_pending", "load_lease_until")


def new_campaign_id() -> str:
    """``cmp_`` and 96 random bits (URL-safe base64, 16 characters)."""
    return ID_PREFIX + secrets.token_urlsafe(12)


# ---- create ---------------------------------------------------------------------------------
def create_campaign(body: dict, now: datetime) -> dict:
    """``POST /campaigns``: the new campaign (``view``), started at once with
    ``"start": true``. 400 naming the field at fault; 409 when asked to start on a list that is
    not completely imported."""
    fields, start = parse_campaign(body, now)
    contact_list = contact_lists.get_list(fields["list_id"])
    if contact_list is None:
        raise InvalidRequest("list_id", f"no contact list '{fields['list_id']}'")
    fields.setdefault("fallback_tz", contact_list.fallback_tz)
    campaign = Campaign(campaign_id=new_campaign_id(), created_at=now, updated_at=now, **fields)
    check_policy(campaign)
    check_references(campaign)
    if start:
        campaign = _moved(campaign, "start", now)
    if not store.create(campaign):
        raise Conflict("a campaign with this id exists already; send the request again")
    return view(campaign)


def check_references(campaign: Campaign) -> None:
    """What the campaign names exists (InvalidRequest naming the field otherwise): the flow
    (published, in the campaign's language), the queue, the voice templates, the SMS
    template."""
    if campaign.kind == AGENTLESS and campaign.flow_id:
        languages = _published_flow_languages(campaign.flow_id)
        if languages is None:
            raise InvalidRequest("flow_id", f"no published flow '{campaign.flow_id}'")
        if campaign.language not in languages:
            raise InvalidRequest("language", f"flow '{campaign.flow_id}' speaks "
                                             f"{', '.join(languages)}")
    if campaign.queue_id and routing.get_queue(campaign.queue_id) is None:
        raise InvalidRequest("queue_id", f"no queue '{campaign.queue_id}'")
    for field in ("machine_template", "abandon_template"):
        name = getattr(campaign, field)
        if name and not voice_template_exists(name, campaign.language):
            raise InvalidRequest(field, f"no voice template '{name}' (chalicelib/templates/"
                                        f"{campaign.language}/{name}.j2)")
    if campaign.kind == SMS_KIND:
        _check_text_template(campaign)


def _published_flow_languages(flow_id: str) -> list[str] | None:
    """The languages of the flow's live version; a flow shipped in the package but never
    published is published from its bundled copy (``ivr.service.StorePorts.live_flow`` does
    the same on a call); None for a flow nobody can run."""
    try:
        return list(flows.get_live(flow_id, 0).languages)
    except flows.FlowNotPublished:
        seed = load_bundled(flow_id)
        if seed is None:
            return None
    try:
        flows.publish(seed, published_by="bundle")
    except flows.PublishConflict:
        pass  # another request seeded it first
    return list(seed.languages)


def voice_template_exists(name: str, language: str) -> bool:
    """A system prompt ``name`` the campaign's calls can speak: in ``language``, or in English
    (``prompts.render_prompt`` falls back to it)."""
    return any((TEMPLATES_DIR / lang / f"{name}.j2").is_file()
               for lang in (language, DEFAULT_LANGUAGE))


def _texting() -> ModuleType | None:
    """``campaigns.texting`` (SMS campaigns), None in a build without it; imported on first
    use: nothing else here needs it."""
    try:
        return importlib.import_module("chalicelib.campaigns.texting")
    except ModuleNotFoundError as exc:
        if exc.name != "chalicelib.campaigns.texting":
            raise
        return None


def _check_text_template(campaign: Campaign) -> None:
    texting = _texting()
    if texting is None:
        raise InvalidRequest("template", "cannot be checked: this build has no SMS campaigns")
    try:
        texting.check_template(campaign)
    except ValueError as exc:
        message = str(exc)  # "template: no campaign template 'x'"
        raise InvalidRequest("template", message.removeprefix("template: ")) from None


# ---- read -----------------------------------------------------------------------------------
def view(campaign: Campaign) -> dict:
    """The campaign as JSON: its settings, status, dates (ISO 8601) and how much of its list is
    copied in (``loaded``, ``load_done``)."""
    body = asdict(campaign)
    for name in _INTERNAL:
        body.pop(name)
    for name, value in body.items():
        if isinstance(value, datetime):
            body[name] = value.isoformat()
    body["channel"] = campaign.channel
    return body


def summary(campaign: Campaign) -> dict:
    """One line of ``GET /campaigns``."""
    return {name: value for name, value in view(campaign).items() if name in (
        "campaign_id", "name", "kind", "purpose", "status", "list_id", "created_at",
        "starts_at", "ends_at", "started_at", "ended_at", "loaded", "load_done")}


def list_campaigns() -> dict:
    """``GET /campaigns``: every campaign (the newest 200), newest first."""
    return {"campaigns": [summary(c) for c in store.all_campaigns()]}


def get_campaign(campaign_id: str) -> Campaign:
    found = store.get(campaign_id)
    if found is None:
        raise NotFound("campaign", campaign_id)
    return found


def report(campaign_id: str, now: datetime) -> dict:
    """``GET /campaigns/{id}``: the campaign and its ``progress``:

    - ``contacts``: by status (waiting, in progress, done) and by disposition;
      ``loaded`` of ``list_size`` (the list's accepted rows) copied in so far;
    - ``live``: over the campaign's abandonment window (``abandon_window_hours``, rounded down
      to the hour): dials, live answers (a person, abandoned calls included), abandoned,
      machine answers, texts; ``abandon_rate`` = abandoned / live answers (the target's
      measure), ``answer_rate`` = live answers / dials; ``ringing`` now;
    - ``pace``: the pacer's last decision (``dial_level``, ``mode``...) or null;
    - ``segments``: for an SMS campaign, what its texts cost in segments (GSM-7 or UCS-2),
      counted over the list's first rows and extrapolated to all
      (``campaigns.texting.segment_preview``); null in a build without SMS campaigns.
    """
    campaign = get_campaign(campaign_id)
    totals = store.totals(campaign_id)
    since = now - timedelta(hours=campaign.abandon_window_hours)
    figures = store.figures_since(campaign_id, since)
    live, dials = figures["live_answers"], figures["dials"]
    try:
        listed = lists.report(campaign.list_id)
    except NotFound:
        listed = None
    progress = {
        "contacts": {
            "by_status": _by_status(campaign, totals),
            "by_disposition": {name.removeprefix("disposition_"): count
                               for name, count in sorted(totals.items())
                               if name.startswith("disposition_") and count > 0},
            "loaded": campaign.loaded, "load_done": campaign.load_done,
            "list_size": listed["accepted"] if listed else None,
            "list_status": listed["status"] if listed else None,
        },
        "live": {
            "since": since.isoformat(), "window_hours": campaign.abandon_window_hours,
            **figures,
            # the target's measure: AMD's estimated false verdicts on people count too
            "estimated_amd_false_positives": round(
                estimated_false_positives(figures["machine_answers"]), 2),
            "abandon_rate": round((figures["abandoned"] + estimated_false_positives(
                figures["machine_answers"])) / live, 4) if live else 0.0,
            "answer_rate": round(live / dials, 4) if dials else 0.0,
            "ringing": store.ringing(campaign_id),
        },
        "pace": store.pace(campaign_id),
        "segments": (_segments(campaign, listed["accepted"] if listed else 0)
                     if campaign.kind == SMS_KIND else None),
    }
    return {**view(campaign), "progress": progress}


def _by_status(campaign: Campaign, totals: dict[str, int]) -> dict[str, int]:
    """Contacts waiting, done, and in progress (being dialled, ringing, talking: the rest of
    those copied in; the store counts the two ends only)."""
    waiting = max(0, totals.get(f"status_{WAITING}", 0))
    done = max(0, totals.get(f"status_{DONE}", 0))
    return {WAITING: waiting, "in_progress": max(0, campaign.loaded - waiting - done),
            DONE: done}


def _segments(campaign: Campaign, list_size: int) -> dict | None:
    texting = _texting()
    if texting is None:
        return None
    return texting.segment_preview(campaign, ListContacts(campaign, list_size))


class ListContacts:
    """The campaign's list as the contacts it makes (``loader`` copies the same columns), read
    lazily in one paged Query; its length is the list's size, so a preview that reads only
    the first rows can extrapolate to all of them."""

    def __init__(self, campaign: Campaign, size: int):
        self.campaign, self.size = campaign, size

    def __len__(self) -> int:
        return self.size

    def __iter__(self) -> Iterator[CampaignContact]:
        for row in contact_lists.rows(self.campaign.list_id):
            yield CampaignContact(campaign_id=self.campaign.campaign_id, phone=row.phone,
                                  name=row.name, language=row.language, timezone=row.timezone,
                                  attributes=dict(row.attributes))


# ---- lifecycle ------------------------------------------------------------------------------
def change_status(campaign_id: str, action: str, now: datetime) -> dict:
    """``POST /campaigns/{id}/start|pause|resume|stop``: the campaign after ``action``. 409
    when the action does not apply to its status (or starting it cannot work: its list is
    not completely imported, its end date has passed), or when it keeps changing under us."""
    if action not in ACTIONS:
        raise ValueError(f"not an action a person takes: {action!r}")
    for _ in range(2):
        campaign = get_campaign(campaign_id)
        saved = store.save(_moved(campaign, action, now), campaign.version)
        if saved is not None:
            return view(saved)
    raise Conflict("the campaign changed meanwhile (the job or another person): try again")


def _moved(campaign: Campaign, action: str, now: datetime) -> Campaign:
    try:
        moved = transition(campaign, action, now)
    except LifecycleError as exc:
        raise Conflict(str(exc)) from None
    if action in ("start", "resume") and past_end(campaign, now):
        raise Conflict(f"the campaign ended at {campaign.ends_at.isoformat()}"
                       if campaign.ends_at else "the campaign has ended")
    if action == "start":
        listed = lists.report(campaign.list_id)
        if listed["status"] != COMPLETE:
            raise Conflict(f"contact list {campaign.list_id} is {listed['status']}: start the "
                           "campaign once every chunk is imported (the last one marked "
                           "last=true)")
    return moved


# ---- recycle --------------------------------------------------------------------------------
def recycle(campaign_id: str, body: dict, now: datetime) -> dict:
    """``POST /campaigns/{id}/recycle`` ``{"dispositions": ["busy", "no_answer"]}``: contacts
    done with one of them wait again, due now, with their attempts reset (the gate still
    decides each call: caps, opt-outs, the 72 h hold). At most ``RECYCLE_BATCH`` a request:
    ``more`` says whether to send it again. 400 for a disposition never recycled (a person
    reached, an opt-out, a block, a dead number); 409 for a completed or stopped campaign."""
    wanted = _dispositions(body)
    campaign = get_campaign(campaign_id)
    if campaign.status in FINAL:
        raise Conflict(f"a {campaign.status} campaign cannot recycle contacts")
    matching = (contact for contact in store.contacts(campaign_id)
                if contact.status == DONE and contact.disposition in wanted)
    batch = list(islice(matching, RECYCLE_BATCH + 1))
    more = len(batch) > RECYCLE_BATCH

    def back_to_waiting(contact: CampaignContact) -> bool:
        return store.change_contact(contact, now, status=WAITING, attempts=0,
                                    disposition=None, due_at=now) is not None

    with ThreadPoolExecutor(RECYCLE_WORKERS) as pool:
        moved = sum(pool.map(back_to_waiting, batch[:RECYCLE_BATCH]))
    return {"campaign_id": campaign_id, "recycled": moved, "more": more}


def _dispositions(body: dict) -> set[str]:
    unknown = set(body) - {"dispositions"}
    if unknown:
        raise InvalidRequest(sorted(unknown)[0], "is not a field of a recycle request")
    wanted = body.get("dispositions")
    if not isinstance(wanted, list) or not wanted or not all(isinstance(d, str)
                                                             for d in wanted):
        raise InvalidRequest("dispositions", f"is required: a list among {RECYCLABLE}")
    for disposition in wanted:
        if disposition in NEVER_RECYCLED:
            raise InvalidRequest("dispositions", f"{disposition!r} contacts are never "
                                                 "recycled")
        if disposition not in RECYCLABLE:
            raise InvalidRequest("dispositions", f"{disposition[:40]!r} is not one of "
                                                 f"{', '.join(RECYCLABLE)}")
    return set(wanted)


# ---- results --------------------------------------------------------------------------------
def results_csv(campaign_id: str) -> Iterator[str]:
    """``GET /campaigns/{id}/results``: the CSV, a piece at a time (``campaigns.results``).
    NotFound at once for an unknown campaign. Two passes over the contacts (one Query each,
    paged): the first finds the answer columns, so memory holds no more than a page."""
    get_campaign(campaign_id)
    keys = results.answer_keys(store.contacts(campaign_id))
    return results.csv_pieces(store.contacts(campaign_id), keys)
