"""Twilio's Conference Participants (and a Conferences list) over the emulator's conference rooms.

``POST Conferences/{name or CF sid}/Participants.json`` calls ``To`` (a number, or a registered
``client:`` softphone that then really rings) from ``From``; answered, the leg runs
``<Dial><Conference>`` into the room with the given ``StartConferenceOnEnter``,
``EndConferenceOnExit`` and ``Beep``, and stays until the room ends, a REST hang-up or the
participant being removed. A create by name makes the room if none runs (as Twilio creates
the conference); otherwise the CF sid or name must be a running room (else 20404). ``Muted``,
``Coaching`` and ``CallSidToCoach`` (required with ``Coaching=true``) are kept as the
participant's flags (no media here: tests read them back) and changed by ``POST
.../Participants/{CallSid}.json``; ``GET`` reads one or all, ``DELETE`` removes one (its call
ends). A participant whose call ended is gone (20404), as on Twilio. ``StatusCallback``,
``StatusCallbackEvent``, ``Timeout`` and ``Label`` behave as on ``Calls.json``; ``EarlyMedia``
is accepted and ignored.
"""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape, quoteattr

from .clock import rfc2822
from .signing import API_VERSION

if TYPE_CHECKING:
    from . import Carrier
    from .server import Reply, Request
    from .session import Call

PATH = re.compile(r"/Conferences/(?P<conf>[^/]+)/Participants(?:/(?P<call>CA[0-9a-f]{32}))?\.json")


def _flag(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    if value.lower() not in ("true", "false"):
        raise ValueError(f"'{value}' is not a boolean")
    return value.lower() == "true"


class Participants:
    """The flags of each participant added over REST, by CallSid (one carrier's)."""

    def __init__(self, carrier: Carrier) -> None:
        self.carrier = carrier
        self.flags: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def room_of(self, conference: str, *, create: bool) -> str:
        """The room a path names: a CF sid or the name of a running room (``create``: any
        name; Twilio creates the conference)."""
        from . import CarrierError

        if re.fullmatch(r"CF[0-9a-f]{32}", conference):
            name = self.carrier.rooms.named(conference)
            if name is None:
                raise CarrierError(20404, f"The requested resource Conferences/{conference} "
                                          "was not found", 404)
            return name
        if not create and not self.carrier.rooms.present(conference):
            raise CarrierError(20404, f"The requested resource Conferences/{conference} "
                                      "was not found", 404)
        return conference

    def create(self, conference: str, r: Request) -> dict[str, Any]:
        room = self.room_of(conference, create=True)
        coach = r.get("CallSidToCoach")
        # Twilio: Coaching defaults to false unless CallSidToCoach is given
        muted, coaching = _flag(r.get("Muted")), _flag(r.get("Coaching"), bool(coach))
        if coaching and not coach:
            raise ValueError("CallSidToCoach is required when Coaching is true")
        start, end = _flag(r.get("StartConferenceOnEnter"), True), \
            _flag(r.get("EndConferenceOnExit"))
        twiml = (f'<Response><Dial><Conference startConferenceOnEnter="{str(start).lower()}" '
                 f'endConferenceOnExit="{str(end).lower()}" '
                 f"beep={quoteattr(r.get('Beep') or 'true')}>{escape(room)}</Conference>"
                 "</Dial></Response>")
        sid = self.carrier.rooms.sid_of(room)
        with self._lock:  # a request about the new leg (its status callback's) waits for this
            call = self.carrier.create_outbound_call(
                to=r.get("To", "") or "", from_=r.get("From", "") or "", twiml=twiml,
                status_callback=r.get("StatusCallback"),
                status_callback_event=r.getall("StatusCallbackEvent"),
                status_callback_method=r.get("StatusCallbackMethod") or "POST",
                timeout=float(r.get("Timeout") or 60))
            self.flags[call.sid] = {"room": room, "conference_sid": sid, "muted": muted,
                                    "coaching": coaching,
                                    "call_sid_to_coach": coach, "label": r.get("Label"),
                                    "start_conference_on_enter": start,
                                    "end_conference_on_exit": end}
        call.emit("participant", action="create", **self.flags[call.sid])
        return self.resource(call, status="queued")

    def update(self, conference: str, call_sid: str, r: Request) -> dict[str, Any]:
        call, flags = self._live(conference, call_sid)
        changes: dict[str, Any] = {}
        if r.get("Muted") is not None:
            changes["muted"] = _flag(r.get("Muted"))
        if r.get("CallSidToCoach"):
            changes["call_sid_to_coach"] = r.get("CallSidToCoach")
        if r.get("Coaching") is not None:
            changes["coaching"] = _flag(r.get("Coaching"))
            if not changes["coaching"]:
                changes["call_sid_to_coach"] = None
        coach = changes.get("call_sid_to_coach", flags["call_sid_to_coach"])
        if changes.get("coaching") and not coach:
            raise ValueError("CallSidToCoach is required when Coaching is true")
        if coach and coach not in {c.sid for c in self.carrier.rooms.present(flags["room"])}:
            raise ValueError(f"CallSidToCoach {coach} is not a participant of this conference")
        with self._lock:
            flags.update(changes)
        call.emit("participant", action="update", **flags)
        return self.resource(call)

    def remove(self, conference: str, call_sid: str) -> None:
        self._live(conference, call_sid)
        self.carrier.end_call(call_sid)

    def fetch(self, conference: str, call_sid: str) -> dict[str, Any]:
        return self.resource(self._live(conference, call_sid)[0])

    def listed(self, conference: str) -> list[dict[str, Any]]:
        room = self.room_of(conference, create=False)
        present = self.carrier.rooms.present(room)
        return [self.resource(c) for c in present if c.sid in self.flags]

    def _live(self, conference: str, call_sid: str) -> tuple[Call, dict[str, Any]]:
        from . import CarrierError

        room = self.room_of(conference, create=False)
        call = self.carrier.calls.get(call_sid)
        with self._lock:
            flags = self.flags.get(call_sid)
        if call is None or flags is None or flags["room"] != room or call.done.is_set():
            raise CarrierError(20404, f"The requested resource Participants/{call_sid} was "
                                      "not found", 404)
        return call, flags

    def resource(self, call: Call, status: str | None = None) -> dict[str, Any]:
        flags = self.flags[call.sid]
        if status is None:
            status = "connected" if call in self.carrier.rooms.present(flags["room"]) else \
                "ringing" if call.answered_at is None else "connecting"
        epoch = call.clock.epoch
        uri = (f"/{API_VERSION}/Accounts/{self.carrier.account_sid}/Conferences/"
               f"{flags['conference_sid']}/Participants/{call.sid}.json")
        return {"account_sid": self.carrier.account_sid, "call_sid": call.sid,
                "conference_sid": flags["conference_sid"], "label": flags["label"],
                "muted": flags["muted"], "hold": False, "coaching": flags["coaching"],
                "call_sid_to_coach": flags["call_sid_to_coach"],
                "start_conference_on_enter": flags["start_conference_on_enter"],
                "end_conference_on_exit": flags["end_conference_on_exit"],
                "status": status, "queue_time": None, "date_created": rfc2822(epoch),
                "date_updated": rfc2822(epoch + call.clock.now), "uri": uri}


def conference_rest(carrier: Carrier, r: Request, rest_path: str) -> Reply | None:
    """Answer a Conferences/Participants request, or None when the path is not one."""
    from .server import page

    participants: Participants = carrier.participants
    if rest_path == "/Conferences.json" and r.method == "GET":
        wanted = r.get("FriendlyName")
        rooms = [name for name in list(carrier.rooms.members) if wanted in (None, name)]
        if r.get("Status") not in (None, "in-progress"):
            rooms = []
        items = [{"sid": carrier.rooms.sid_of(name), "friendly_name": name,
                  "status": "in-progress", "account_sid": carrier.account_sid}
                 for name in rooms]
        return 200, page(carrier, "conferences", "Conferences", items), {}
    m = PATH.fullmatch(rest_path)
    if m is None:
        return None
    conf, call_sid = m["conf"], m["call"]
    if call_sid is None and r.method == "POST":
        return 201, participants.create(conf, r), {}
    if call_sid is None and r.method == "GET":
        return 200, page(carrier, "participants", f"Conferences/{conf}/Participants",
                         participants.listed(conf)), {}
    if call_sid and r.method == "POST":
        return 200, participants.update(conf, call_sid, r), {}
    if call_sid and r.method == "GET":
        return 200, participants.fetch(conf, call_sid), {}
    if call_sid and r.method == "DELETE":
        participants.remove(conf, call_sid)
        return 204, b"", {}
    return None
