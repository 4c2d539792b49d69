"""Browser softphones on the emulated carrier: client identities that ring, answer and hang up.

On Twilio an agent desk's Voice SDK device registers a client identity, and a
``<Dial><Client>identity</Client></Dial>`` rings that browser until the person there answers,
rejects or lets it ring out. Here a registered identity plays the device's part: a Dial that
rings it (with no ``dial:`` step in the caller's script) really waits for the desk's decision,
given through this registry (``carrier.clients``) or the control API (``server.py``). Identities
never registered keep the scripted behaviour (answer scripts), so a softphone is opt-in.

The desk's side (``register``, ``answer``, ``reject``, ``hangup``, ...) may be called from any
thread; the Dial side (``dial``) runs in the ringing caller's thread and waits on its mailbox,
which every desk decision nudges. Media never flows: the tests stop at the SDK's boundary.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .session import CallEnded, EndCall, Redirect

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

    from .session import Call, Document
    from .twiml import Follower

PREFIX = "client:"


class SoftphoneConflict(Exception):
    """The desk asked for something the softphone cannot do now (answering when nothing rings,
    the second of two racing answers, hanging up with no call): HTTP 409 on the control API."""

    status = 409


@dataclass
class Nudge:
    """Mailbox message: a desk decision changed a ring group (the Dial re-reads its state)."""

    identity: str


@dataclass
class Invite:
    """One softphone leg of a ringing Dial (the ``incoming`` of its identity, then ``active``)."""

    identity: str
    leg: Call
    waiter: Call  # waits for the decision: the Dial's caller, or the REST-created leg itself
    group: RingGroup
    since: float  # wall clock, epoch seconds

    def to_dict(self) -> dict[str, Any]:
        return {"call_sid": self.leg.sid, "parent_call_sid": self.leg.parent_sid,
                "from": self.leg.from_, "to": self.leg.to, "since": round(self.since, 3)}


@dataclass
class RingGroup:
    """The softphones one Dial rings at once: the first answer takes the call."""

    waiter: Call
    invites: dict[str, Invite] = field(default_factory=dict)
    rejected: set[str] = field(default_factory=set)
    outcome: str | None = None  # answered | rejected | no-answer | canceled
    winner: str | None = None


class Softphones:
    """Registered client identities, their incoming invite and their active call.

    ``pace``: virtual seconds per real second while a softphone rings (1.0: a 30 s Dial timeout
    rings 30 real seconds; tests may raise it). A ring never waits longer than the Dial's
    ``timeout`` / ``pace`` real seconds, nor ``live_seconds``. Every change is kept in ``events``
    (dicts with ``action``, ``identity``, ``call_sid``) and emitted on the ringing caller's
    transcript as a ``client`` event.
    """

    def __init__(self, pace: float = 1.0) -> None:
        self.pace = pace
        self._changed = threading.Condition()
        self._online: set[str] = set()
        self._devices: dict[str, set[str]] = {}  # identity -> registered devices (browser tabs)
        self._versions: dict[str, int] = {}  # identity -> version of its state (see ``watch``)
        self._counter = itertools.count(1)  # versions never repeat, not even after ``reset``
        self._incoming: dict[str, Invite] = {}
        self._active: dict[str, Invite] = {}
        self.events: list[dict[str, Any]] = []

    # ---- the desk's side -----------------------------------------------------------------

    def register(self, identity: str, device: str | None = None) -> dict[str, Any]:
        """The SDK's device registers: calls to ``client:identity`` ring it from now on.
        ``device`` names one of several devices (browser tabs) of the identity: all ring
        together, and the identity stays online until the last of them unregisters."""
        with self._changed:
            self._online.add(identity)
            if device:
                self._devices.setdefault(identity, set()).add(device)
            self._record("registered", identity, **({"device": device} if device else {}))
            return self._state(identity)

    def unregister(self, identity: str, device: str | None = None) -> dict[str, Any]:
        """The device goes offline: an incoming invite is rejected, an active call hung up;
        later Dials use the identity's answer script again. With ``device``, only that
        device goes while others of the identity remain registered."""
        with self._changed:
            others = self._devices.get(identity, set()) - {device}
            if device and others:
                self._devices[identity] = others
                self._record("unregistered", identity, device=device)
                return self._state(identity)
            self._devices.pop(identity, None)
            self._online.discard(identity)
            self._record("unregistered", identity)
        try:
            self.hangup(identity)
        except SoftphoneConflict:
            pass
        return self.state(identity)

    def online(self, identity: str) -> bool:
        with self._changed:
            return identity in self._online

    def state(self, identity: str) -> dict[str, Any]:
        """``{"identity", "online", "devices", "version", "incoming": {call_sid,
        parent_call_sid, from, to, since} | None, "active": {...} | None}`` (``call_sid`` is
        the softphone's own leg; ``version`` changes with every change of this state)."""
        with self._changed:
            return self._state(identity)

    def watch(self, identity: str, version: int | None, timeout: float) -> dict[str, Any]:
        """The state once its ``version`` differs from ``version`` (at once when it already
        does, or ``version`` is None), or after ``timeout`` seconds unchanged: a browser's
        long poll, which learns of a ring or its end without asking again and again."""
        with self._changed:
            if version is not None:
                self._changed.wait_for(
                    lambda: self._versions.get(identity, 0) != version, timeout)
            return self._state(identity)

    def states(self) -> list[dict[str, Any]]:
        with self._changed:
            names = sorted(self._online | set(self._incoming) | set(self._active))
            return [self._state(n) for n in names]

    def answer(self, identity: str) -> dict[str, Any]:
        """Answer the incoming call: exactly one answer wins a ring group (two tabs, or two
        identities rung at once); raises ``SoftphoneConflict`` when nothing rings here."""
        with self._changed:
            invite = self._incoming.get(identity)
            if invite is None or invite.group.outcome is not None:
                raise SoftphoneConflict(f"nothing is ringing for {identity!r}")
            group = invite.group
            group.outcome, group.winner = "answered", identity
            self._withdraw(group)
            self._active[identity] = invite
            self._record("answer", identity, invite)
            state = self._state(identity)
        group.waiter.post(Nudge(identity))
        return state

    def reject(self, identity: str) -> dict[str, Any]:
        """Decline the incoming call (the Dial ends ``busy`` once every softphone it rings has
        declined); raises ``SoftphoneConflict`` when nothing rings here."""
        with self._changed:
            invite = self._incoming.pop(identity, None)
            if invite is None:
                raise SoftphoneConflict(f"nothing is ringing for {identity!r}")
            group = invite.group
            group.rejected.add(identity)
            if group.rejected >= set(group.invites) and group.outcome is None:
                group.outcome = "rejected"
            self._record("reject", identity, invite)
            state = self._state(identity)
        group.waiter.post(Nudge(identity))
        return state

    def hangup(self, identity: str) -> dict[str, Any]:
        """Hang up: while ringing the same as ``reject``; on a call the softphone's leg ends
        (the caller's Dial ends ``completed``). ``SoftphoneConflict`` with neither."""
        with self._changed:
            ringing = identity in self._incoming
            invite = self._active.get(identity)
            if invite is not None:
                self._record("hangup", identity, invite)
        if ringing:
            return self.reject(identity)
        if invite is None:
            raise SoftphoneConflict(f"{identity!r} has no call to hang up")
        if not invite.leg.done.is_set():
            invite.leg.post(EndCall("completed", by="client"))
        return self.state(identity)

    def place_call(self, identity: str, to: str) -> dict[str, Any]:
        """The desk dialling out (``device.connect``): not emulated yet. It would create an
        inbound leg ``From=client:identity`` to the app's voice URL (``Carrier.new_inbound_call``
        with ``from_="client:" + identity``) and make it this identity's ``active`` call."""
        raise NotImplementedError("softphones do not place calls yet")

    def wait_for(self, identity: str, predicate: Callable[[dict[str, Any]], Any],
                 timeout: float = 10.0) -> dict[str, Any]:
        """Wait (really) until ``predicate(state(identity))`` holds and return that state;
        TimeoutError if it never does. Tests act once an invite shows up, say."""
        with self._changed:
            if not self._changed.wait_for(lambda: predicate(self._state(identity)), timeout):
                raise TimeoutError(f"softphone {identity!r}: condition not met after "
                                   f"{timeout}s: {self._state(identity)}")
            return self._state(identity)

    def wait_for_event(self, predicate: Callable[[dict[str, Any]], Any],
                       timeout: float = 10.0) -> dict[str, Any]:
        """Wait until one of ``events`` satisfies ``predicate``; returns it."""
        def found() -> dict[str, Any] | None:
            return next((e for e in self.events if predicate(e)), None)

        with self._changed:
            event = self._changed.wait_for(found, timeout)
            if not event:
                raise TimeoutError(f"no softphone event matched after {timeout}s: "
                                   f"{self.events}")
            return event

    def reset(self) -> None:
        with self._changed:
            self._online.clear()
            self._devices.clear()
            self._versions.clear()
            self._incoming.clear()
            self._active.clear()
            self.events.clear()
            self._changed.notify_all()

    # ---- the carrier's side --------------------------------------------------------------

    def rings(self, target: str) -> bool:
        """Is ``target`` (a Dial target such as ``client:ag-1``) a registered softphone?"""
        return target.startswith(PREFIX) and self.online(target[len(PREFIX):])

    def ring(self, waiter: Call, legs: dict[str, Call]) -> RingGroup:
        """Offer each identity's softphone its leg (``legs``: identity -> leg); ``waiter`` is
        the call that waits for the decision (a Dial's caller, or a REST call itself)."""
        group = RingGroup(waiter)
        with self._changed:
            for identity, leg in legs.items():
                invite = Invite(identity, leg, waiter, group, time.time())
                group.invites[identity] = invite
                busy = (identity in self._incoming or identity in self._active
                        or identity not in self._online)
                if busy:  # one call at a time, as a Device that takes no call while busy
                    group.rejected.add(identity)
                    self._record("busy", identity, invite)
                else:
                    self._incoming[identity] = invite
                    self._record("ringing", identity, invite)
            if group.rejected >= set(group.invites):
                group.outcome = "rejected"
        return group

    def settle(self, group: RingGroup, outcome: str) -> str:
        """End the ringing with ``outcome`` unless the desk decided first; returns the group's
        outcome. ``canceled`` (the caller left) also drops an answer not yet bridged."""
        with self._changed:
            if group.outcome is None or outcome == "canceled":
                if group.outcome != outcome:
                    group.outcome = outcome
                    for identity, invite in group.invites.items():
                        if identity not in group.rejected:
                            self._record(outcome, identity, invite)
                if outcome == "canceled" and group.winner:
                    self._active.pop(group.winner, None)
                    group.winner = None
            self._withdraw(group)
            return group.outcome

    def leg_finished(self, leg: Call) -> None:
        """A leg ended (any way): if a softphone was on it, that softphone is free again."""
        if not leg.to.startswith(PREFIX):
            return
        identity = leg.to[len(PREFIX):]
        with self._changed:
            invite = self._active.get(identity)
            if invite is None or invite.leg is not leg:
                return
            del self._active[identity]
            self._record("ended", identity, invite, by=leg.transcript.ended_by,
                         duration=leg.transcript.duration)

    # ---- internals -----------------------------------------------------------------------

    def _state(self, identity: str) -> dict[str, Any]:
        incoming, active = self._incoming.get(identity), self._active.get(identity)
        return {"identity": identity, "online": identity in self._online,
                "devices": len(self._devices.get(identity, ())),
                "version": self._versions.get(identity, 0),
                "incoming": incoming.to_dict() if incoming else None,
                "active": active.to_dict() if active else None}

    def _withdraw(self, group: RingGroup) -> None:
        for identity, invite in group.invites.items():
            if self._incoming.get(identity) is invite:
                del self._incoming[identity]
                self._versions[identity] = next(self._counter)
        self._changed.notify_all()

    def _record(self, action: str, identity: str, invite: Invite | None = None,
                **extra: Any) -> None:
        """Keep an event (under the lock) and emit it on the ringing caller's transcript."""
        event = {"action": action, "identity": identity, **extra}
        self._versions[identity] = next(self._counter)
        if invite is not None:
            event.update(call_sid=invite.leg.sid, parent_call_sid=invite.leg.parent_sid)
            if not invite.waiter.done.is_set():
                invite.waiter.emit("client", **event)
        self.events.append({"t": time.time(), **event})
        self._changed.notify_all()


# --------------------------------------------------------------------------- the Dial side


def dial(follower: Follower, el: Element, nouns: list[Element], targets: list[str],
         doc: Document, timeout: float, time_limit: float) -> tuple[dict, dict]:
    """A ``<Dial>`` ringing registered softphones (``targets``: ``client:`` identities, each
    with its noun): ring them for real until the desk answers, rejects or the timeout passes,
    or the caller leaves. Answered: the noun's ``url`` whisper, then a live bridge (as
    ``dial:completed:live``) until a softphone or REST hang-up or redirect. Returns the
    Dial action's parameters and the ``dial`` event's fields."""
    call = follower.call
    carrier = call.carrier
    phones = carrier.clients
    legs = {t[len(PREFIX):]: carrier.child_leg(call, to=t, caller_id=el.get("callerId"))
            for t in targets}
    for leg in legs.values():
        leg.status = "ringing"
    group = phones.ring(call, legs)
    started = time.monotonic()
    outcome = _await_decision(follower, el, doc, group, legs, started + _limit(call, timeout))
    rang = min(timeout, (time.monotonic() - started) * phones.pace)
    call.advance(timeout if outcome == "no-answer" else rang)
    winner = group.winner if outcome == "answered" else None
    _end_losers(legs, group, winner)
    event: dict[str, Any] = {"softphones": sorted(legs)}
    if winner is None:
        status = "busy" if outcome == "rejected" else "no-answer"
        event.update(outcome=status, bridged=False)
        return {"DialCallStatus": status, "DialBridged": "false"}, event
    child = legs[winner]
    child.clock.epoch, child.clock.now = call.clock.epoch + call.clock.now, 0.0
    noun = nouns[targets.index(PREFIX + winner)]
    params, connected = follower.connect(el, doc, noun, child, math.inf, time_limit,
                                         phones.pace)
    return params, {**event, **connected, "answered": PREFIX + winner}


def _await_decision(follower: Follower, el: Element, doc: Document, group: RingGroup,
                    legs: dict[str, Call], deadline: float) -> str:
    """Wait on the caller's mailbox for a desk decision, the timeout, or the caller leaving
    (a REST hang-up or redirect: the invites are withdrawn, the legs canceled)."""
    call, phones = follower.call, follower.call.carrier.clients
    while True:
        if group.outcome is not None:
            return group.outcome
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return phones.settle(group, "no-answer")
        message = call.wait_mail(remaining)
        if isinstance(message, (EndCall, Redirect)):
            phones.settle(group, "canceled")
            _end_losers(legs, group, None)
            if isinstance(message, EndCall):  # as for a live Dial: the action is still told
                action = follower.resolve(doc, el.get("action"))
                call.notify(action, (el.get("method") or "POST").upper(), {
                    **call.voice_params("completed"), "DialCallStatus": "canceled",
                    "DialCallDuration": "0"}, "dial")
            call.obey(message)
        # a Nudge (or stale control): look at the group again


def _end_losers(legs: dict[str, Call], group: RingGroup, winner: str | None) -> None:
    """Every softphone leg but the winner's ends unanswered (rejected ones ``busy``)."""
    for identity, leg in legs.items():
        if identity == winner or leg.done.is_set():
            continue
        status = ("busy" if identity in group.rejected else
                  "canceled" if group.outcome in ("canceled", "answered") else "no-answer")
        leg._finish(status, "softphone", callback=False)


def ring_alone(call: Call) -> str:
    """A REST-created call (``Calls.json``) to a registered softphone rings it (its ``Timeout``
    at most) until the desk answers (returns ``human``), rejects (``busy``) or lets it ring out
    (``no-answer``). A REST hang-up meanwhile cancels it (raises ``CallEnded``); a REST
    redirect changes the TwiML it fetches once answered."""
    phones = call.carrier.clients
    group = phones.ring(call, {call.to[len(PREFIX):]: call})
    started = time.monotonic()
    deadline = started + _limit(call, call.ring_timeout)
    while group.outcome is None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            phones.settle(group, "no-answer")
            break
        message = call.wait_mail(remaining)
        if isinstance(message, EndCall):
            phones.settle(group, "canceled")
            raise CallEnded(message.status, by=message.by, answered=False)
        if isinstance(message, Redirect):
            call.url, call.method, call.twiml = message.url, message.method, message.twiml
    rang = min(call.ring_timeout, (time.monotonic() - started) * phones.pace)
    call.clock.advance(call.ring_timeout if group.outcome == "no-answer" else rang)
    return {"answered": "human", "rejected": "busy"}.get(group.outcome or "", "no-answer")


def _limit(call: Call, timeout: float) -> float:
    """Real seconds a ring of ``timeout`` virtual seconds may last."""
    pace = call.carrier.clients.pace
    return min(timeout / pace if pace > 0 else math.inf, call.carrier.limits.live_seconds)
