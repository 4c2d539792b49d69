"""The hotline's voice webhooks, from Twilio's parameters to TwiML.

Each request follows the same pipeline:

1. **load** — the call record (one GetItem) and the flow version it pinned (cached forever,
   versions are immutable);
2. **decide** — the pure flow engine computes the verbs, the new state and the side effects;
3. **save** — one conditional write moves the call a step on and stores the TwiML answered, so a
   retried request replays the same answer instead of running the step twice;
4. **act** — side effects (texts, voicemails) run only after the step is saved, keyed so that
   they happen at most once;
5. **render** — TwiML back to Twilio.

Anything that goes wrong on the way becomes the hotline's fallback TwiML (transfer or voicemail):
a caller never hears Twilio's "application error".
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from chalicelib.callbacks.dispatcher import CallbackDispatcher
from chalicelib.callbacks.missed import record_missed_call
from chalicelib.callbacks.numbers import callable_caller
from chalicelib.calls.model import Call
from chalicelib.compliance.gate import ComplianceGate
from chalicelib.compliance.rules import REQUESTED, SMS
from chalicelib.ivr import call_facts, caller_facts, engine
from chalicelib.ivr.bundle import load_bundled
from chalicelib.ivr.model import Flow
from chalicelib.ivr.payments import LoggingPaymentSink, PaymentSink, late_payment
from chalicelib.ivr.promises import LoggingPromiseSink, PromiseSink
from chalicelib.logs import mask_number
from chalicelib.messaging.outbound import send_sms
from chalicelib.prompts import render_prompt
from chalicelib.routing.service import QueueConfigs, RoutingService
from chalicelib.settings import Settings
from chalicelib.store import calls, directory, facts, flows, voicemails
from chalicelib.store.hotline_zone import hotline_zone
from chalicelib.telephony import twiml
from chalicelib.telephony import verbs as v
from chalicelib.telephony.twiml import VoiceUrls
from chalicelib.telephony.webhook_request import FormParams, MalformedWebhook, VoiceRequest

log = logging.getLogger(__name__)

REDACTED = "[redacted]"
RECONCILE_AFTER = timedelta(minutes=10)  # open this long: ask Twilio how the call stands
RECONCILE_EVERY = timedelta(minutes=15)  # a long call Twilio says is live: ask again after
LOST_AFTER = timedelta(hours=4)  # with Twilio unreachable too: closed as lost
OUTAGE_HOLD_SECONDS = 600  # on hold music through a storage outage at most this long


def _pinned_flow(record: Call) -> tuple[str, int]:
    """The flow id and version a call started on (a step always runs the version it began
    with); LookupError for a call that runs no flow (a callback leg)."""
    if record.flow_id is None or record.flow_version is None:
        raise LookupError(f"call {record.call_sid} runs no flow")
    return record.flow_id, int(record.flow_version)


class StorePorts:
    """The engine's window on storage: self-service look-ups, other flows' live versions and
    whether a caller may be texted (the compliance ``gate``)."""

    def __init__(self, settings: Settings, gate: ComplianceGate):
        self._max_age = settings.flow_cache_seconds
        self._gate = gate

    def lookup(self, source: str, key: str) -> dict | None:
        return directory.lookup(source, key)

    def live_flow(self, flow_id: str) -> Flow:
        try:
            return flows.get_live(flow_id, self._max_age)
        except flows.FlowNotPublished:
            seed = load_bundled(flow_id)
            if seed is None:
                raise
            try:
                version, _ = flows.publish(seed, published_by="bundle")
            except flows.PublishConflict:
                version = flows.live_version(flow_id, 0)  # another Lambda seeded it first
            log.info("published bundled flow %s as v%s", flow_id, version)
            return flows.get_version(flow_id, version)

    def may_text(self, number: str) -> bool:
        """A number we can text (not anonymous, ``client:...``, a short code) that the gate does
        not refuse for good (opted out, on our do-not-call list)."""
        return callable_caller(number) is not None and not self._gate.blocked(number, SMS)


def caller_inputs(vars: dict, flow: Flow) -> dict:
    """What the caller entered, for the call record: sensitive values never stored in clear."""
    sensitive = flow.sensitive_vars
    return {
        name: (REDACTED if name in sensitive else value)
        for name, value in vars.items()
        if name in flow.input_vars
    }


def fallback_of(hotline) -> dict:
    """The hotline's fallback, as copied onto each call so it survives hotline edits."""
    return {
        "number": hotline.fallback_number,
        "voicemail": bool(hotline.fallback_voicemail),
        "language": hotline.default_language,
    }


def step_outcome(
    state: engine.CallState, result: v.StepResult, flow: Flow, body: str
) -> calls.StepOutcome:
    # the service runs published flows only (flows.get_version, also behind every goto)
    assert state.flow_version is not None
    return calls.StepOutcome(
        flow_id=state.flow_id,
        flow_version=state.flow_version,
        language=state.language,
        node=result.waiting_on,
        visited=result.visited,
        vars={name: REDACTED if name in flow.sensitive_vars else value  # only in this step
              for name, value in state.vars.items()},
        attempts=state.attempts,
        inputs=caller_inputs(state.vars, flow),
        twiml=body,
        outcome=result.outcome,
    )


def _flow_after(result: v.StepResult, flow: Flow) -> Flow:
    """The flow a step ended in: ``flow``, or another one it went to (``verbs`` cannot name the
    type: telephony sits below the IVR)."""
    return result.flow if isinstance(result.flow, Flow) else flow


class VoiceService:
    """The IVR: answers calls, runs flow steps, takes statuses. ``clock``: aware UTC now;
    ``routing``: the queues callers are handed to. The composition root (``wiring.py``) builds
    it."""

    def __init__(self, settings: Settings, clock: Callable[[], datetime],
                 routing: RoutingService, callbacks: CallbackDispatcher,
                 gate: ComplianceGate, ports: StorePorts | None = None,
                 payments: PaymentSink | None = None, promises: PromiseSink | None = None):
        self.settings = settings
        self.payments: PaymentSink = payments or LoggingPaymentSink()
        self.promises: PromiseSink = promises or LoggingPromiseSink()
        self.clock = clock
        self.ports = ports or StorePorts(settings, gate)
        self.routing = routing
        self.callbacks = callbacks
        self.gate = gate

    @property
    def urls(self) -> VoiceUrls:
        return VoiceUrls(self.settings.public_base_url)

    # ---- webhooks ----------------------------------------------------------------------
    def answer(self, req: VoiceRequest) -> str:
        """A new call: pick the hotline by the number dialled and start its entry flow."""
        hotline = directory.get_hotline(req.hotline)
        if hotline is None:
            log.warning("call %s to unknown number %s", req.call_sid, mask_number(req.hotline))
            return twiml.say_and_hangup(*render_prompt("unknown_number"))
        customer = directory.get_customer(req.caller) if req.caller else None
        flow = self.ports.live_flow(hotline.entry_flow)
        language = (customer or {}).get("language") or hotline.default_language
        return self._begin(req, flow, language, customer, fallback_of(hotline))

    def answer_outbound(self, req: VoiceRequest, flow_id: str, language: str | None,
                        customer: dict) -> str:
        """A call we placed (a campaign's) was answered by a person: run the published flow
        ``flow_id`` for them, exactly as for a caller (its later steps come through the same
        webhooks). ``customer``: what the flow may read of them (name, the list's columns).
        LookupError when the flow has no published version."""
        # Twilio's From is our number and To the person's: the flow sees them the inbound way
        swapped = replace(req, caller=req.hotline, hotline=req.caller)
        flow = self.ports.live_flow(flow_id)
        return self._begin(swapped, flow, language, customer, {})

    def _begin(self, req: VoiceRequest, flow: Flow, language: str | None,
               customer: dict | None, fallback: dict) -> str:
        if language not in flow.languages:
            language = flow.languages[0]
        state = engine.CallState(flow_id=flow.id, flow_version=flow.version, language=language)
        ctx = self._context(req, customer)
        result = engine.start(flow, ctx, state, self.ports)
        queues = QueueConfigs()
        result = self._admit_or_overflow(flow, result, ctx, state, req, queues)
        flow = _flow_after(result, flow)
        body = twiml.render(result.verbs, self.urls, step=1)
        new_call = calls.NewCall(
            call_sid=req.call_sid,
            hotline=req.hotline,
            caller=req.caller,
            direction=req.direction,
            customer=customer,
            fallback=fallback,
        )
        try:
            record = calls.start_call(
                new_call,
                step_outcome(state, result, flow, body),
                now=self.clock(),
                retention_days=self.settings.call_retention_days,
            )
        except calls.StepConflict as conflict:
            if calls.is_over(conflict.record):
                return twiml.hangup()  # its final status came first: nobody is listening
            return self._replay(conflict.record, req)
        self._act(result.effects, record, flow)
        self._join_queue(result, record, state, req, queues)
        log.info(
            "call %s from %s answered by flow %s v%s",
            req.call_sid,
            mask_number(req.caller),
            flow.id,
            flow.version,
        )
        return body

    def step(self, req: VoiceRequest, step: int, node: str,
             query: Mapping[str, str] | None = None) -> str:
        """Twilio's answer to a verb that waited (Gather, Record, Dial, Enqueue, Pay);
        ``query``: the action URL's query (what a ``<Pay>`` charged)."""
        record = calls.get_call(req.call_sid)
        if record is None:
            raise LookupError(f"no call record for {req.call_sid}")
        if calls.is_over(record):
            return self._after_the_end(record, req, node, query or {})
        if record.step != step or record.node != node:
            return self._replay(record, req, step)
        queue_result = req.params.get("QueueResult")
        if queue_result == "redirected" and record.queue_id:
            # Our own dispatch pulled the caller out of the queue to ring an agent: the flow
            # stays at its queue node (the agent path may hand the caller back to it).
            return twiml.empty()
        left_for = None
        if queue_result and record.queue_entry_key:
            # left Twilio's queue (max wait, a key, a hang-up)
            left_for = self.routing.leave(record, queue_result)
        flow = flows.get_version(*_pinned_flow(record))
        state = self._state(record, flow)
        ctx = self._context(req, record.customer, record)
        queues = QueueConfigs()
        if queue_result == "leave" and left_for is None and record.queue_id and \
                self.routing.overflow_of(record.queue_id, queues):
            # The wait ran out: the queue's own overflow action (to another queue, a callback,
            # a transfer) rather than the flow's.
            result = self._overflow(flow, v.StepResult(flow=flow),
                                    v.Enqueue(node, record.queue_id), ctx, state, queues)
        else:
            # a caller who pressed 2 on hold leaves by choice, not because the wait ran out
            event = {**req.params, "OverflowReason": "voicemail"} if left_for == "voicemail" \
                else req.params
            result = engine.resume(flow, node, event, ctx, state, self.ports)
        result = self._admit_or_overflow(flow, result, ctx, state, req, queues)
        flow = _flow_after(result, flow)
        body = twiml.render(result.verbs, self.urls, step=step + 1)
        try:
            record = calls.advance_call(
                record, step, step_outcome(state, result, flow, body), now=self.clock()
            )
        except calls.StepConflict as conflict:
            return self._replay(conflict.record, req, step)
        self._act(result.effects, record, flow)
        self._join_queue(result, record, state, req, queues)
        return body

    def _after_the_end(self, record: Call, req: VoiceRequest, node: str,
                       query: Mapping[str, str]) -> str:
        """A step request that arrives after the call's final status (Twilio reorders them):
        the flow does not go on (no line entry for a call nobody is on, no text built from the
        variables the final status dropped), but a recording it carries is kept: a caller who
        hangs up to end their message must not lose it."""
        log.info("call %s is over; step at %s not run", req.call_sid, node)
        if req.params.get("Result") == "success" and req.params.get("PaymentConfirmationCode"):
            # A <Pay> charge whose action came after the final status: the flow's variables
            # are gone, but the signed action URL says what was charged. The money is taken:
            # record it (idempotent by its code) and send the receipt.
            taken = late_payment(req.params, query, record, node)
            if taken is None:
                log.error("call %s: payment %s succeeded after the call ended; its charge is "
                          "unknown, not recorded", req.call_sid,
                          req.params["PaymentConfirmationCode"])
            else:
                self._payment_taken(taken, record)
        recording_sid = req.params.get("RecordingSid", "")
        duration = req.whole_number("RecordingDuration", 0)
        if recording_sid.startswith("RE") and duration > 0:
            voicemails.save_recording(
                recording_sid=recording_sid, call_sid=record.call_sid,
                hotline=record.hotline or "", caller=record.caller,
                recording_url=req.params.get("RecordingUrl", ""),
                duration=duration, language=record.language, node=node, now=self.clock(),
                retention_days=self.settings.call_retention_days)
            self._missed_call(record, "voicemail", record.language)
        return twiml.hangup()

    def hold(self, req: VoiceRequest, node: str) -> str:
        """What a queued caller hears while waiting (Twilio loops this document)."""
        record = calls.get_call(req.call_sid)
        if record is None:
            raise LookupError(f"no call record for {req.call_sid}")
        flow = flows.get_version(*_pinned_flow(record))
        ctx = self._context(req, record.customer, record)
        # The caller is surely in Twilio's queue now: a dispatch round may ring an agent.
        facts = self.routing.hold(record)
        waited = req.whole_number("QueueTime", 0)
        if facts["max_wait"] is not None and waited >= facts["max_wait"]:
            return twiml.leave()  # the queue's own limit, on top of the flow node's max_wait
        verbs = engine.hold(flow, node, req.params, ctx, self._state(record, flow), facts["line"])
        offers = facts["offers"]
        if any(isinstance(verb, v.Leave) for verb in verbs):
            return twiml.render_hold(verbs)
        offer = None
        if _announce_now(record.announced_at, waited, facts["announce_every"]):
            calls.set_announced(record.call_sid, waited)
            if any(offers.values()):
                offer = v.Say(*render_prompt("queue_offer", record.language, **offers))
        else:
            verbs = verbs[-1:]  # between announcements: only the music
        if not any(offers.values()):
            return twiml.render_hold(verbs)
        return twiml.render_hold(verbs, offer=offer, choice_url=self.urls.hold_choice(node))

    def hold_choice(self, req: VoiceRequest, node: str) -> str:
        """A key pressed on hold: 1 keeps the place as a callback request, 2 leaves a message."""
        digits = req.params.get("Digits", "")
        record = calls.get_call(req.call_sid)
        if record is None:
            raise LookupError(f"no call record for {req.call_sid}")
        offers = self.routing.hold_offers(record.queue_id)
        if digits == "1" and offers["callback"] and self.routing.keep_place_for_callback(record):
            return twiml.say_and_hangup(*render_prompt("queue_callback_confirmed", record.language))
        if digits == "2" and offers["voicemail"]:
            self.routing.choose_voicemail(record)
            return twiml.leave()
        return twiml.empty()  # anything else: back to the hold music

    def status(self, req: VoiceRequest) -> bool:
        status = req.params.get("CallStatus", "")
        if status not in calls.STATUS_RANK:
            raise MalformedWebhook(f"unknown call status {status!r}")
        record = calls.apply_status(
            req.call_sid,
            status,
            sequence=req.whole_number("SequenceNumber", 0),
            duration=req.whole_number("CallDuration"),
            now=self.clock(),
            retention_days=self.settings.call_retention_days,
            hotline=req.hotline or None,
            caller=req.caller or None,
        )
        log.info("call %s status %s (%s)", req.call_sid, status, "applied" if record else "stale")
        if record is not None and status in calls.FINAL_STATUSES:
            self._record_ivr_facts(record)
            self._record_caller_fact(record)
        if record is not None and status in calls.FINAL_STATUSES and (
            record.queue_id or record.agent_id
        ):
            self.routing.caller_gone(record)
        return record is not None

    def _record_ivr_facts(self, record: Call) -> None:
        """The call's IVR funnel facts (``call_facts``), once: only the first final status
        applied gets here, and each fact is put-if-absent by an id derived from the CallSid.
        A failure is logged, never answered: Twilio's retry would find the status applied."""
        if record.flow_id is None or not record.path:
            return  # a callback leg, or a call that ended before its first step
        try:
            for fact in call_facts.ivr_facts(record, self._flows_run(record)):
                facts.record(fact)
        except Exception:  # noqa: BLE001 - a report figure is never worth the call's webhook
            log.exception("call %s: IVR facts not recorded", record.call_sid)

    def _record_caller_fact(self, record: Call) -> None:
        """The ``caller`` fact of an inbound call (``caller_facts``), once, like the IVR facts:
        only for a number we could call back. A failure is logged, never answered."""
        if record.direction != "inbound" or not record.hotline or record.started_at is None:
            return
        try:
            line = directory.get_hotline(record.hotline)
            number = callable_caller(record.caller, line.default_region if line else "US")
            if line is None or number is None:
                return  # an unknown hotline, or an anonymous or client: caller
            facts.record(caller_facts.caller_fact(record.call_sid, line.number, number,
                                                  record.started_at,
                                                  hotline_zone(line.number),
                                                  served=caller_facts.served(record)))
        except Exception:  # noqa: BLE001 - a report figure is never worth the call's webhook
            log.exception("call %s: caller fact not recorded", record.call_sid)

    def _flows_run(self, record: Call) -> list[tuple[Flow, list[str]]]:
        """The call's path cut into the flows it ran: from the hotline's entry flow (inbound),
        else from the flow it ended in; the whole path in the flow it ended in when the walk
        does not end there (the entry flow changed since, or a call we placed that went on)."""
        ended_in = flows.get_version(*_pinned_flow(record))
        hotline = directory.get_hotline(record.hotline) if record.hotline and \
            record.direction == "inbound" else None
        start = ended_in if hotline is None or hotline.entry_flow == ended_in.id \
            else self.ports.live_flow(hotline.entry_flow)

        def flow_of(flow_id: str) -> Flow:
            return ended_in if flow_id == ended_in.id else self.ports.live_flow(flow_id)

        try:
            segments = call_facts.split_path(record.path, start, flow_of)
        except (ValueError, LookupError):
            segments = []
        if not segments or segments[-1][0].id != ended_in.id:
            return [(ended_in, list(record.path))]
        return segments

    def transcription(self, params: FormParams) -> None:
        """Twilio's transcription of a voicemail, stored with the message (any arrival order);
        MalformedWebhook without a RecordingSid."""
        recording_sid = params.sid("RecordingSid", "RE")
        voicemails.save_transcription(
            recording_sid,
            params.get("TranscriptionText", ""),
            params.get("TranscriptionStatus", "completed"),
            self.clock(),
        )

    def reconcile_calls(self, *, check_after: timedelta = RECONCILE_AFTER,
                        recheck_every: timedelta = RECONCILE_EVERY,
                        lost_after: timedelta = LOST_AFTER, limit: int = 200) -> dict:
        """Calls still open in our records for a while (their final status callback may have
        been lost: Twilio retries one for 15 s at most, an outage can last longer): ask Twilio's
        Calls resource for the real status instead of guessing, and apply a final one exactly
        as the lost callback would have (the line, the agent, the counters, the missed call).

        A call Twilio knows nothing of is closed as lost; one Twilio says is live is asked
        about again after ``recheck_every``; while Twilio cannot be asked, only calls older
        than ``lost_after`` are closed as lost. Returns ``{checked, settled, lost}``.
        """
        now = self.clock()
        checked = settled = lost = 0
        for sid in calls.stale_open_calls(now - check_after, limit):
            record = calls.get_call(sid)
            if record is None or not record.open_bucket:
                continue  # settled meanwhile
            if record.reconciled_at and now - record.reconciled_at < recheck_every:
                continue
            checked += 1
            try:
                state = self.routing.connector.call_state(sid)
            except Exception as exc:  # noqa: BLE001 - Twilio unreachable: only the old ones
                log.warning("call %s: Twilio's status unavailable (%s)", sid, type(exc).__name__)
                if record.started_at and now - record.started_at > lost_after:
                    lost += self._close_lost(record, now)
                continue
            if state is None:
                lost += self._close_lost(record, now)
            elif state[0] in calls.FINAL_STATUSES:
                settled += self._settle(record, *state)
            else:
                calls.mark_reconciled(sid, now)
        if checked:
            log.info("reconciled %d open calls: %d settled, %d lost", checked, settled, lost)
        return {"checked": checked, "settled": settled, "lost": lost}

    def _settle(self, record: Call, status: str, duration: int) -> int:
        """Deliver a final status Twilio reported, through the webhook's own path."""
        params = {"CallSid": record.call_sid, "CallStatus": status,
                  "CallDuration": str(duration), "SequenceNumber": "0"}
        if record.callback_id and record.status_step:
            handler = {"agent-status": self.callbacks.agent_leg_status,
                       "customer-status": self.callbacks.customer_leg_status}
            handler[record.status_step](record.callback_id, params)
        else:
            self.status(VoiceRequest.from_params(params))
        log.warning("call %s: its final status (%s) came from reconciliation", record.call_sid,
                    status)
        return 1

    def _close_lost(self, record: Call, now: datetime) -> int:
        """Twilio knows nothing of the call (or cannot say, and it is hours old): close it and
        free what it held."""
        if not calls.close_stale_call(record.call_sid, now):
            return 0
        if record.queue_id or record.agent_id:
            self.routing.caller_gone(record)
        return 1

    # ---- queues ------------------------------------------------------------------------------
    def _admit_or_overflow(self, flow, result, ctx, state, req, queues) -> v.StepResult:
        """A step that ends in a queue: check the queue can take the caller; if not (closed,
        nobody logged in, full), apply the overflow within the same answer."""
        enqueue = next((verb for verb in result.verbs if isinstance(verb, v.Enqueue)), None)
        if enqueue is None:
            return result
        reason = self.routing.overflow_reason(enqueue.queue, queues)
        if reason is None:
            return result
        log.info("call %s: queue %s overflows (%s)", req.call_sid, enqueue.queue, reason)
        return self._overflow(flow, result, enqueue, ctx, state, queues, reason)

    def _overflow(self, flow, result, enqueue, ctx, state, queues,
                  reason: str = "max-wait") -> v.StepResult:
        """The queue's own overflow action if it has one, else the flow's ``on_overflow``;
        ``reason`` (routing's: closed, join-empty, full, max-wait) is for the prompt."""
        action = self.routing.overflow_of(enqueue.queue, queues)
        before = [verb for verb in result.verbs if verb is not enqueue]
        kind = action.get("kind")
        if kind == "queue" and self.routing.overflow_reason(action["queue"], queues) is None:
            result.verbs = before + [v.Enqueue(enqueue.node, action["queue"])]
            result.waiting_on, result.outcome = enqueue.node, None
            return result
        if kind == "transfer":
            result.verbs = before + [_say("queue_transfer", state.language),
                                     v.Dial(enqueue.node, action["to"])]
            result.waiting_on, result.outcome = enqueue.node, "transfer"
            return result
        if kind == "callback":
            result.verbs = before + [_say("queue_callback_confirmed", state.language),
                                     v.Hangup()]
            result.effects = result.effects + [v.KeepPlaceForCallback(enqueue.queue)]
            result.waiting_on, result.outcome = None, "callback"
            return result
        overflow = engine.resume(
            result.flow or flow, enqueue.node,
            {"QueueResult": "queue-full", "OverflowReason": reason},
            ctx, state, self.ports,
        )
        overflow.verbs = before + overflow.verbs
        overflow.effects = result.effects + overflow.effects
        overflow.visited = result.visited + overflow.visited
        return overflow

    def _join_queue(self, result, record: Call, state, req, queues) -> None:
        enqueue = next((verb for verb in result.verbs if isinstance(verb, v.Enqueue)), None)
        if enqueue is not None:
            self.routing.join(record, enqueue.queue, state.language, req.caller_country, queues)

    # ---- degraded paths: these must not depend on storage ------------------------------
    def fallback(self, req: VoiceRequest | None, known: dict | None = None) -> str:
        """Safe TwiML when a flow cannot go on: the hotline's transfer number, else voicemail."""
        known = known or self._known_fallback(req)
        language = known.get("language")
        number = known.get("number") or self.settings.fallback_number
        if number:
            return twiml.fallback_transfer(_say("fallback_transfer", language), number, self.urls)
        if known.get("voicemail", True):
            return twiml.fallback_voicemail(_say("fallback_voicemail", language), self.urls)
        return twiml.say_and_hangup(*render_prompt("fallback_goodbye", language))

    def hold_through_outage(self, req: VoiceRequest) -> str:
        """Hold music when the wait cannot be looked up (storage down or hung): the caller keeps
        their place in Twilio's queue and in ours, which dispatch reads again once storage is
        back. Only after ``OUTAGE_HOLD_SECONDS`` does the caller leave for the fallback."""
        if req.whole_number("QueueTime", 0) >= OUTAGE_HOLD_SECONDS:
            return twiml.leave()
        return twiml.render_hold([v.Play(self.settings.hold_music_url)])

    def fallback_for_number(self, req: VoiceRequest) -> str:
        """Twilio gave up on our main URL; look the hotline up once more, then fall back."""
        try:
            directory.get_hotline(req.hotline)
        except Exception:  # noqa: BLE001 - storage down: the last known settings will do
            log.warning("hotline lookup failed in the fallback for call %s", req.call_sid)
        return self.fallback(req)

    def fallback_dialed(self, req: VoiceRequest) -> str:
        """The fallback transfer ended: done if it connected, else offer voicemail."""
        if req.params.get("DialCallStatus") in ("completed", "answered"):
            return twiml.hangup()
        known = self._known_fallback(req)
        language = known.get("language")
        return twiml.fallback_voicemail(_say("fallback_voicemail", language), self.urls)

    def fallback_recorded(self, req: VoiceRequest) -> str:
        """After a fallback voicemail (or transfer): keep the message, say goodbye."""
        recording_sid = req.params.get("RecordingSid")
        if recording_sid:
            try:
                voicemails.save_recording(
                    recording_sid=recording_sid,
                    call_sid=req.call_sid,
                    hotline=req.hotline,
                    caller=req.caller,
                    recording_url=req.params.get("RecordingUrl", ""),
                    duration=req.whole_number("RecordingDuration", 0),
                    language=None,
                    node="fallback",
                    now=self.clock(),
                    retention_days=self.settings.call_retention_days,
                )
            except Exception:  # noqa: BLE001 - storage may be the very thing that is down
                # The recording stays at Twilio; its sid in the log is enough to recover it.
                log.exception("could not store fallback voicemail %s", recording_sid)
        return twiml.say_and_hangup(*render_prompt("fallback_thanks"))

    # ---- internals ---------------------------------------------------------------------
    def _known_fallback(self, req: VoiceRequest | None) -> dict:
        if req is None:
            return {}
        hotline = directory.last_known_hotline(req.hotline)
        return fallback_of(hotline) if hotline is not None else {}

    def _replay(self, record: Call | None, req: VoiceRequest, step: int | None = None) -> str:
        """A retried or stale request: answer what we answered before, run nothing again."""
        if (
            record is not None
            and record.last_response
            and (step is None or record.step == step + 1)
        ):
            log.info("call %s: replaying step %s", req.call_sid, record.step)
            return record.last_response
        log.warning("call %s: request for step %s does not match the call", req.call_sid, step)
        known = dict(record.fallback or {}) if record is not None else None
        if known is not None and record is not None and record.language:
            known["language"] = record.language
        return self.fallback(req, known)

    def _context(self, req: VoiceRequest, customer: dict | None,
                 record: Call | None = None) -> engine.CallContext:
        return engine.CallContext(
            call_sid=req.call_sid,
            caller=(record.caller if record is not None and record.caller else req.caller),
            hotline=(record.hotline if record is not None and record.hotline else req.hotline),
            now=self.clock(),
            customer=customer,
            caller_country=req.caller_country,
            hold_music_url=self.settings.hold_music_url,
            pay_connector=self.settings.pay_connector,
        )

    @staticmethod
    def _state(record: Call, flow: Flow) -> engine.CallState:
        flow_id, version = _pinned_flow(record)
        return engine.CallState(
            flow_id=flow_id,
            flow_version=version,
            language=record.language or flow.languages[0],
            vars=dict(record.vars or {}),
            attempts=dict(record.attempts or {}),
        )

    def _act(self, effects: list, record: Call, flow: Flow) -> None:
        for effect in effects:
            if isinstance(effect, v.SendSms):
                send_sms(
                    key=effect.key,
                    to=effect.to,
                    sender=record.hotline or "",
                    body=effect.body,
                    template=effect.template,
                    call_sid=record.call_sid,
                    settings=self.settings,
                    now=self.clock(),
                    gate=self.gate,
                )
            elif isinstance(effect, v.KeepPlaceForCallback):
                self.routing.keep_place(record, effect.queue, record.language)
            elif isinstance(effect, v.SaveVoicemail):
                voicemails.save_recording(
                    recording_sid=effect.recording_sid,
                    call_sid=record.call_sid,
                    hotline=record.hotline or "",
                    caller=record.caller,
                    recording_url=effect.recording_url,
                    duration=effect.duration,
                    language=effect.language,
                    node=effect.node,
                    now=self.clock(),
                    retention_days=self.settings.call_retention_days,
                )
                self._missed_call(record, "voicemail", effect.language)
            elif isinstance(effect, v.HoursClosed):
                self._missed_call(record, "after_hours", effect.language)
            elif isinstance(effect, v.PaymentTaken):
                self._payment_taken(effect, record)
            elif isinstance(effect, v.PromiseMade):
                self._promise_made(effect, record)
            else:
                raise TypeError(f"unknown effect {type(effect).__name__}")

    def _payment_taken(self, effect: v.PaymentTaken, record: Call) -> None:
        """Hand the payment to the sink, then text the receipt (once per pay node per call).
        The money is taken whatever happens here: a sink failure is logged with the confirmation
        code for reconciliation and must not cost the caller their TwiML or their receipt."""
        try:
            self.payments.payment_taken(effect, self.clock())
        except Exception:  # noqa: BLE001 - the charge stands; the log is the trail
            log.exception("call %s: payment %s (account %s) not recorded", record.call_sid,
                          effect.confirmation, effect.account_id)
        if not record.caller:
            return
        body, _, _ = render_prompt(
            "payment_receipt", effect.language or record.language,
            amount=format_amount(effect.amount, effect.currency), currency=effect.currency,
            confirmation=effect.confirmation, card_last4=effect.card_last4)
        send_sms(
            key=f"{record.call_sid}:{effect.node}:receipt",
            to=record.caller,
            sender=record.hotline or "",
            body=body,
            template="payment_receipt",
            call_sid=record.call_sid,
            settings=self.settings,
            now=self.clock(),
            gate=self.gate,
            purpose=REQUESTED,
        )

    def _promise_made(self, effect: v.PromiseMade, record: Call) -> None:
        """Hand the promise to the sink. A failure is logged, never the caller's problem: the
        worst case is one reminder too many, which the holder can answer with a new promise."""
        try:
            self.promises.promise_made(effect, self.clock())
        except Exception:  # noqa: BLE001 - the call goes on; the log is the trail
            log.exception("call %s: promise (account %s, %s days) not recorded",
                          record.call_sid, effect.account_id, effect.days)

    def _missed_call(self, record: Call, reason: str, language: str | None) -> None:
        """Record a missed call for the hotline's follow-up (``callbacks.missed``). Whatever goes
        wrong there is logged: the caller's TwiML is already decided and must not suffer."""
        try:
            record_missed_call(
                hotline=record.hotline or "", caller=record.caller or "", reason=reason,
                call_sid=record.call_sid, language=language or record.language,
                queue_id=record.queue_id, now=self.clock(), settings=self.settings,
                gate=self.gate,
            )
        except Exception:  # noqa: BLE001 - a follow-up must never break the call
            log.exception("call %s: missed call (%s) not recorded", record.call_sid, reason)


def format_amount(minor: int, currency: str) -> str:
    """Minor units as the decimal amount a receipt shows: 4217 USD -> "42.17", 500 JPY ->
    "500"."""
    if currency in engine.ZERO_DECIMAL:
        return str(minor)
    return f"{minor // 100}.{minor % 100:02d}"


def _say(name: str, language: str | None) -> v.Say:
    return v.Say(*render_prompt(name, language))


def _announce_now(announced_at, waited: int, every: int) -> bool:
    """Speak the place in line (and the offers) every ``every`` seconds of waiting, not on each
    loop of the hold music; a new wait (QueueTime restarts after a missed agent) starts over."""
    if not every or announced_at is None:
        return True
    return waited < announced_at or waited - announced_at >= every

