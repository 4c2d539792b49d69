"""The TwiML follower: executes Voice TwiML the way Twilio does, on a virtual clock.

Each verb either falls through to the next one (returns None) or hands control to a new
document (returns a ``Fetch``); ending the call raises ``CallEnded``. Defaults follow Twilio's
documentation: a Gather or Record without ``action`` posts back to the current document, an
empty Gather falls through, an empty recording skips its action, a Dial without ``action``
continues with the next verb.
"""

from __future__ import annotations

import math
import re
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin
from xml.etree.ElementTree import Element

from . import softphones
from .clock import DIGIT_SECONDS, speech_seconds
from .session import (
    Action,
    AppError,
    Bridge,
    BridgeRequested,
    CallEnded,
    Document,
    EndCall,
    Fetch,
    HoldPlan,
    LegControl,
    Redirect,
    Redirected,
    RoomEnded,
)
from .signing import make_sid, queue_sid

if TYPE_CHECKING:
    from .session import Call

VERBS = {"Say", "Play", "Pause", "Gather", "Redirect", "Record", "Hangup", "Reject", "Enqueue",
         "Leave", "Dial", "Sms", "Pay"}
PAY_NOUNS = {"Prompt", "Parameter"}
AMOUNT = re.compile(r"^\d+(\.\d{1,2})?$")
# The emulated card: Visa's test number, of which Twilio shows only the last four digits.
TEST_CARD = ("visa", "xxxxxxxxxxxx1111", "1230")
GATHER_NESTED = {"Say", "Play", "Pause"}
DIAL_NOUNS = {"Number", "Client", "Sip", "Queue", "Conference"}
WAIT_VERBS = {"Play", "Say", "Pause", "Hangup", "Redirect", "Leave", "Gather"}
QUEUE_URL_VERBS = {"Play", "Say", "Pause", "Redirect"}
INFINITE_LOOPS = 1000
MAX_QUEUE_SIZE = 1000


def validate(root: Element) -> str | None:
    """Schema check done before executing, as Twilio does (unknown verbs are fatal)."""
    for verb in root:
        if verb.tag not in VERBS:
            return f"unknown verb <{verb.tag}>"
        if verb.tag == "Gather":
            bad = [c.tag for c in verb if c.tag not in GATHER_NESTED]
            if bad:
                return f"<{bad[0]}> is not allowed in <Gather>"
        if verb.tag == "Dial":
            bad = [c.tag for c in verb if c.tag not in DIAL_NOUNS]
            if bad:
                return f"<{bad[0]}> is not allowed in <Dial>"
        if verb.tag == "Pay":
            bad = [c.tag for c in verb if c.tag not in PAY_NOUNS]
            bad += [g.tag for c in verb if c.tag == "Prompt" for g in c
                    if g.tag not in GATHER_NESTED]
            if bad:
                return f"<{bad[0]}> is not allowed in <Pay>"
    return None


def text_of(el: Element) -> str:
    return " ".join("".join(el.itertext()).split())


def truthy(value: str | None, default: bool = False) -> bool:
    return default if value is None else value.strip().lower() in ("true", "1", "yes")


def number(value: str | None, default: float) -> float:
    try:
        return float(value) if value not in (None, "") else default
    except ValueError:
        return default


class Follower:
    """Runs documents for one call."""

    def __init__(self, call: Call) -> None:
        self.call = call
        self.clock = call.clock
        self.first_verb = True

    # ---- plumbing ------------------------------------------------------------------------

    def resolve(self, doc: Document, url: str | None) -> str | None:
        return urljoin(doc.url, url.strip()) if url and url.strip() else None

    def run(self, doc: Document) -> Fetch | None:
        """Execute a document; None means it ended without handing over (the call ends)."""
        for el in doc.root:
            self.call.checkpoint()
            if el.tag != "Reject":
                self.call.answer()
            result = getattr(self, "verb_" + el.tag.lower())(el, doc)
            self.first_verb = False
            if result is not None:
                return result
        raise CallEnded("completed", by="end-of-document")

    # ---- media ---------------------------------------------------------------------------

    def verb_say(self, el: Element, doc: Document) -> None:
        loops = int(number(el.get("loop"), 1)) or 1
        text = text_of(el)
        self.call.emit("say", text=text, voice=el.get("voice", ""),
                       language=el.get("language", "en-US"), loop=loops)
        self.call.advance(speech_seconds(text) * loops)

    def verb_play(self, el: Element, doc: Document) -> None:
        digits = el.get("digits")
        if digits:
            self.call.emit("play", url=None, digits=digits, loop=1)
            self.call.advance(DIGIT_SECONDS * len(digits))
            return
        loops = int(number(el.get("loop"), 1))
        url = self.resolve(doc, text_of(el))
        self.call.emit("play", url=url, loop=loops)
        if loops > 0:
            self.call.advance(self.call.carrier.music_seconds * loops)
            return
        # loop="0": music until something else happens (a REST redirect, the caller leaving).
        plan = self.call.input.hold({"verb": "Play"})
        start = self.clock.now
        for _ in range(INFINITE_LOOPS):
            self.call.advance(self.call.carrier.music_seconds)
            self._caller_gives_up(plan, start, first_pass_done=True)
            self.call.idle(self.call.hold_pace)
            self.call.checkpoint()

    def verb_pause(self, el: Element, doc: Document) -> None:
        length = number(el.get("length"), 1)
        self.call.emit("pause", length=length)
        self.call.advance(length)

    # ---- input ---------------------------------------------------------------------------

    def verb_gather(self, el: Element, doc: Document) -> Fetch | None:
        modes = set((el.get("input") or "dtmf").lower().split())
        finish = el.get("finishOnKey", "#")
        num_digits = int(number(el.get("numDigits"), 0))
        timeout = number(el.get("timeout"), 5)
        action = self.resolve(doc, el.get("action")) or doc.url
        method = (el.get("method") or "POST").upper()
        prompts = []
        for child in el:
            getattr(self, "verb_" + child.tag.lower())(child, doc)
            prompts.append(text_of(child) if child.tag == "Say" else child.tag)
        spec = {"input": sorted(modes), "numDigits": num_digits, "finishOnKey": finish,
                "timeout": timeout, "prompts": prompts, "language": el.get("language"),
                "hints": el.get("hints")}
        step = self.call.input.gather(spec)
        event = {"input": " ".join(sorted(modes)), "num_digits": num_digits,
                 "timeout": timeout, "finish_on_key": finish, "action": action}
        if step is None or step.kind == "hangup":
            self.call.emit("gather", outcome="hangup", result=None, **event)
            raise CallEnded("completed", by="caller")
        params = self._gather_result(step, modes, finish, num_digits)
        if params is None:
            self.call.advance(timeout)
            note = None if step.kind == "wait" else f"script step {step.raw!r} not accepted"
            self.call.emit("gather", outcome="timeout", result=None, **event,
                           **({"note": note} if note else {}))
            if truthy(el.get("actionOnEmptyResult")):
                return Fetch(action, method, {"Digits": ""}, kind="gather")
            return None
        outcome = "speech" if "SpeechResult" in params else "digits"
        self.call.emit("gather", outcome=outcome, result=params, **event)
        return Fetch(action, method, params, kind="gather")

    def _gather_result(self, step: Action, modes: set[str], finish: str,
                       num_digits: int) -> dict[str, str] | None:
        if step.kind == "digits" and "dtmf" in modes:
            digits, key = step.digits.replace("w", ""), ""
            if finish and digits and digits[-1] in finish:
                digits, key = digits[:-1], digits[-1]
            if num_digits:
                digits = digits[:num_digits]
            self.call.advance(DIGIT_SECONDS * max(1, len(step.digits)))
            params = {"Digits": digits}
            if key:
                params["FinishedOnKey"] = key
            return params
        if step.kind == "speech" and "speech" in modes:
            self.call.advance(speech_seconds(step.text) + 1.0)
            return {"SpeechResult": step.text, "Confidence": "0.9"}
        return None

    def verb_record(self, el: Element, doc: Document) -> Fetch | None:
        action = self.resolve(doc, el.get("action")) or doc.url
        method = (el.get("method") or "POST").upper()
        timeout = number(el.get("timeout"), 5)
        finish = el.get("finishOnKey", "1234567890*#")
        max_length = number(el.get("maxLength"), 3600) or 3600
        if truthy(el.get("playBeep"), True):
            self.call.advance(0.5)
        step = self.call.input.record({"maxLength": max_length, "finishOnKey": finish,
                                       "timeout": timeout})
        event = {"action": action, "max_length": max_length,
                 "transcribe": truthy(el.get("transcribe"))}
        if step is None or step.kind == "hangup":
            self.call.emit("record", outcome="hangup", duration=0, **event)
            raise CallEnded("completed", by="caller")
        if step.kind != "record" or step.seconds <= 0:
            self.call.advance(timeout)
            self.call.emit("record", outcome="silence", duration=0, **event)
            return None  # an empty recording: Twilio skips the action, goes to the next verb
        duration = int(min(step.seconds, max_length))
        key = step.key if step.key == "hangup" or (step.key and step.key in finish) else ""
        self.call.advance(duration + (0 if key else timeout))
        sid = make_sid("RE")
        url = self.call.carrier.recording_url(sid)
        params = {"RecordingUrl": url, "RecordingSid": sid, "RecordingDuration": str(duration)}
        if key:
            params["Digits"] = key
        self.call.emit("record", outcome="recorded", duration=duration, recording_sid=sid,
                       recording_url=url, digits=key, **event)
        after = self._recording_callbacks(el, doc, sid, url, duration, step.text)
        if key == "hangup":
            self.call.notify(action, method, {**self.call.voice_params("completed"), **params},
                             "record")
            for send in after:
                send()
            raise CallEnded("completed", by="caller")
        return Fetch(action, method, params, kind="record", after=after)

    def _recording_callbacks(self, el: Element, doc: Document, sid: str, url: str,
                             duration: int, text: str) -> list:
        call, after = self.call, []
        status_cb = self.resolve(doc, el.get("recordingStatusCallback"))
        if status_cb:
            params = {"AccountSid": call.carrier.account_sid, "CallSid": call.sid,
                      "RecordingSid": sid, "RecordingUrl": url, "RecordingStatus": "completed",
                      "RecordingDuration": str(duration), "RecordingChannels": "1",
                      "RecordingSource": "RecordVerb",
                      "RecordingStartTime": call.clock.timestamp()}
            method = el.get("recordingStatusCallbackMethod", "POST")
            after.append(lambda p=params: call.notify(status_cb, method, p, "recording-status"))
        transcribe_cb = self.resolve(doc, el.get("transcribeCallback"))
        if truthy(el.get("transcribe")) and transcribe_cb:
            ok = 2 <= duration <= 120
            tsid = make_sid("TR")
            params = {**call.voice_params(), "RecordingSid": sid, "RecordingUrl": url,
                      "TranscriptionSid": tsid,
                      "TranscriptionText": (text or "(no words)") if ok else "",
                      "TranscriptionStatus": "completed" if ok else "failed",
                      "TranscriptionUrl": f"{call.carrier.api_base}/Transcriptions/{tsid}",
                      "TranscriptionType": "fast", "url": transcribe_cb}
            after.append(lambda p=params: call.notify(transcribe_cb, "POST", p, "transcription"))
        return after

    # ---- payments --------------------------------------------------------------------------

    def verb_pay(self, el: Element, doc: Document) -> Fetch | None:
        """``<Pay>``: the caller's script step ``pay:<outcome>`` decides how it ends (a DTMF
        step is taken as a card typed in: success); an exhausted script hangs up, as at a
        Gather. Posts Twilio's action parameters (never a full card number) and, when given,
        the statusCallback with the same result."""
        call = self.call
        action = self.resolve(doc, el.get("action")) or doc.url
        method = (el.get("method") or "POST").upper()
        timeout = number(el.get("timeout"), 5)
        attempts = max(1, int(number(el.get("maxAttempts"), 1)))
        amount = el.get("chargeAmount")
        for prompt in el.findall("Prompt"):
            if prompt.get("for") == "payment-card-number" and prompt.get("attempt") in (None, "1"):
                for child in prompt:
                    getattr(self, "verb_" + child.tag.lower())(child, doc)
        spec = {"verb": "Pay", "chargeAmount": amount, "currency": el.get("currency", "usd"),
                "paymentConnector": el.get("paymentConnector", "Default"), "timeout": timeout,
                "maxAttempts": attempts, "input": ["dtmf"], "numDigits": 0, "finishOnKey": "#"}
        source = getattr(call.input, "pay", None) or call.input.gather
        step = source(spec)
        outcome = self._pay_outcome(step)
        if amount not in (None, "") and not (AMOUNT.match(amount) and float(amount) >= 0):
            outcome = "invalid"  # Twilio refuses the verb's attributes: validation-error
        params = self._pay_result(outcome, timeout, attempts)
        call.emit("pay", outcome=outcome, result=params["Result"], action=action,
                  charge_amount=amount, currency=spec["currency"],
                  connector=spec["paymentConnector"])
        status_cb = self.resolve(doc, el.get("statusCallback"))
        after = []
        if status_cb:
            status = {"AccountSid": call.carrier.account_sid, "CallSid": call.sid,
                      "Sid": make_sid("PK"), "For": "payment-card-number", **params}
            cb_method = (el.get("statusCallbackMethod") or "POST").upper()
            after.append(lambda: call.notify(status_cb, cb_method, status, "pay-status"))
        if outcome == "hangup":
            call.notify(action, method, {**call.voice_params("completed"), **params}, "pay")
            for send in after:
                send()
            raise CallEnded("completed", by="caller")
        return Fetch(action, method, params, kind="pay", after=after)

    @staticmethod
    def _pay_outcome(step: Action | None) -> str:
        if step is None or step.kind == "hangup":
            return "hangup"
        if step.kind == "pay":
            return step.outcome
        if step.kind == "digits":
            return "success" if step.digits.strip("#w") != "*" else "star"
        return "timeout"  # silence, or a step that means nothing at a <Pay>

    def _pay_result(self, outcome: str, timeout: float, attempts: int) -> dict[str, str]:
        """Twilio's action parameters for each outcome (PaymentError: the last try's error)."""
        card_type, masked, expiry = TEST_CARD
        if outcome == "success":
            self.call.advance(25.0)  # card, expiry, security code, then the connector
            return {"Result": "success", "PaymentConfirmationCode": make_sid("ch_")[:27],
                    "PaymentCardNumber": masked, "PaymentCardType": card_type,
                    "ExpirationDate": expiry, "PaymentToken": make_sid("tok_")[:28],
                    "PaymentMethod": "credit-card", "PaymentError": ""}
        if outcome == "decline":
            self.call.advance(25.0 * attempts)
            return {"Result": "too-many-failed-attempts", "PaymentError": "card-declined",
                    "PaymentCardNumber": masked, "PaymentCardType": card_type,
                    "PaymentMethod": "credit-card"}
        if outcome == "timeout":
            self.call.advance(timeout * attempts)
            return {"Result": "too-many-failed-attempts", "PaymentError": "timeout",
                    "PaymentMethod": "credit-card"}
        if outcome == "star":
            self.call.advance(3.0)
            return {"Result": "caller-interrupted-with-star", "PaymentMethod": "credit-card"}
        if outcome == "hangup":
            self.call.advance(3.0)
            return {"Result": "caller-hung-up", "PaymentMethod": "credit-card"}
        if outcome == "invalid":
            return {"Result": "validation-error", "PaymentError": "invalid-charge-amount",
                    "PaymentMethod": "credit-card"}
        self.call.advance(25.0)
        return {"Result": "payment-connector-error", "PaymentError": "connector-error",
                "ConnectorError": "the payment gateway did not answer",
                "PaymentMethod": "credit-card"}

    # ---- flow ----------------------------------------------------------------------------

    def verb_redirect(self, el: Element, doc: Document) -> Fetch:
        url = self.resolve(doc, text_of(el)) or doc.url
        self.call.emit("redirect", url=url, reason="twiml")
        return Fetch(url, (el.get("method") or "POST").upper(), kind="redirect")

    def verb_hangup(self, el: Element, doc: Document) -> None:
        raise CallEnded("completed", by="app")

    def verb_reject(self, el: Element, doc: Document) -> None:
        reason = el.get("reason", "rejected")
        self.call.emit("reject", reason=reason)
        if self.first_verb and self.call.answered_at is None:
            raise CallEnded("busy" if reason == "busy" else "no-answer", by="app",
                            answered=False)
        raise CallEnded("completed", by="app")

    def verb_leave(self, el: Element, doc: Document) -> None:
        self.call.emit("note", text="<Leave> outside a queue is ignored")

    def verb_sms(self, el: Element, doc: Document) -> Fetch | None:
        call = self.call
        to = el.get("to") or (call.from_ if call.direction == "inbound" else call.to)
        from_ = el.get("from") or (call.to if call.direction == "inbound" else call.from_)
        message = call.carrier.record_message(
            to=to, from_=from_, body=text_of(el), via="twiml", call_sid=call.sid,
            status_callback=self.resolve(doc, el.get("statusCallback")))
        call.emit("sms", **{"to": to, "from": from_, "body": message["body"],
                            "sid": message["sid"]})
        action = self.resolve(doc, el.get("action"))
        if action:
            return Fetch(action, (el.get("method") or "POST").upper(),
                         {"SmsSid": message["sid"], "SmsStatus": "sent"}, kind="sms")
        return None

    # ---- queues --------------------------------------------------------------------------

    def verb_enqueue(self, el: Element, doc: Document) -> Fetch | None:
        call, carrier = self.call, self.call.carrier
        name = text_of(el)
        qsid = queue_sid(name)
        action = self.resolve(doc, el.get("action"))
        method = (el.get("method") or "POST").upper()
        wait = self.resolve(doc, el.get("waitUrl"))
        wait_method = (el.get("waitUrlMethod") or "POST").upper()
        plan = call.input.hold({"queue": name})
        carrier.queues.join(name, call)
        call.emit("enqueue", queue=name, queue_sid=qsid, wait_url=wait, action=action)
        start = self.clock.now

        def result_params(result: str) -> dict[str, str]:
            return {"QueueResult": result, "QueueSid": qsid,
                    "QueueTime": str(self.clock.elapsed(start))}

        def exit_queue(result: str, **extra: Any) -> dict[str, str]:
            carrier.queues.leave(name, call, self.clock.elapsed(start))
            call.emit("leave", queue=name, result=result,
                      queue_time=self.clock.elapsed(start), **extra)
            return result_params(result)

        try:
            self._hold(name, qsid, start, wait, wait_method, plan)
            params = exit_queue("leave")
        except BridgeRequested as bridged:
            params = exit_queue("bridged", dequeuing_call_sid=bridged.bridge.dequeuer,
                                talk=bridged.bridge.talk)
            self._bridged(bridged.bridge, qsid, start, doc)
        except Redirected:
            call.notify(action, method, {**call.voice_params(), **exit_queue("redirected")},
                        "enqueue")
            raise
        except CallEnded as end:
            result = "hangup" if end.by in ("caller", "app", "api") else "error"
            call.notify(action, method,
                        {**call.voice_params("completed"), **exit_queue(result)}, "enqueue")
            raise
        except BaseException:
            carrier.queues.leave(name, call, self.clock.elapsed(start))
            raise
        return Fetch(action, method, params, kind="enqueue") if action else None

    def _hold(self, name: str, qsid: str, start: float, wait: str | None, wait_method: str,
              plan: HoldPlan) -> None:
        """The hold loop: play the wait document again and again until <Leave> (returns),
        a bridge or redirect (raises), or the caller gives up (raises CallEnded)."""
        call, carrier = self.call, self.call.carrier
        target = Fetch(wait, wait_method, kind="wait") if wait else None
        while True:
            call.checkpoint(in_queue=True)
            self._caller_gives_up(plan, start, first_pass_done=False)
            if target is None:
                call.emit("play", url="default-hold-music", loop=1)
                self.call.advance(carrier.music_seconds)
                next_target = None
            else:
                target.params = {**target.params, **carrier.queues.wait_params(
                    name, qsid, call, self.clock.elapsed(start))}
                next_target = self._run_wait_doc(call.fetch(target))
                if next_target == "leave":
                    return
            self._caller_gives_up(plan, start, first_pass_done=True)
            call.idle(call.hold_pace)
            target = next_target or (Fetch(wait, wait_method, kind="wait") if wait else None)

    def _caller_gives_up(self, plan: HoldPlan, start: float, first_pass_done: bool) -> None:
        if plan.hangup_first and first_pass_done:
            raise CallEnded("completed", by="caller")
        if plan.hangup_after is not None and self.clock.now - start >= plan.hangup_after:
            raise CallEnded("completed", by="caller")

    def _run_wait_doc(self, doc: Document) -> Fetch | str | None:
        """Wait documents allow only Play, Say, Pause, Hangup, Redirect, Leave and Gather;
        a Redirect or a Gather's action keeps the caller in the queue."""
        for el in doc.root:
            self.call.checkpoint(in_queue=True)
            if el.tag not in WAIT_VERBS:
                self.call.error(12200, f"<{el.tag}> is not allowed in a waitUrl document",
                                doc.url, fatal=True)
                raise AppError(el.tag)
            if el.tag == "Leave":
                return "leave"
            result = getattr(self, "verb_" + el.tag.lower())(el, doc)
            if result is not None:
                result.kind = "wait"
                return result
        return None

    def _bridged(self, bridge: Bridge, qsid: str, start: float, doc: Document) -> None:
        """A <Dial><Queue> picked this caller: play the Queue noun's url to them, then talk."""
        call = self.call
        target = Fetch(bridge.url, bridge.method, {
            "QueueSid": qsid, "QueueTime": str(self.clock.elapsed(start)),
            "DequeingCallSid": bridge.dequeuer}, kind="queue-url") if bridge.url else None
        for _ in range(10):
            if target is None:
                break
            queue_doc = call.fetch(target)
            target = None
            for el in queue_doc.root:
                if el.tag not in QUEUE_URL_VERBS:
                    call.error(12200, f"<{el.tag}> is not allowed in a Queue url document",
                               queue_doc.url, fatal=True)
                    raise AppError(el.tag)
                result = getattr(self, "verb_" + el.tag.lower())(el, queue_doc)
                if result is not None:
                    target = result
                    break
        call.emit("bridge", with_call_sid=bridge.dequeuer, talk=bridge.talk)
        self.call.advance(bridge.talk)

    # ---- dialing -------------------------------------------------------------------------

    def verb_dial(self, el: Element, doc: Document) -> Fetch | None:
        call = self.call
        action = self.resolve(doc, el.get("action"))
        method = (el.get("method") or "POST").upper()
        timeout = number(el.get("timeout"), 30)
        time_limit = number(el.get("timeLimit"), 14400)
        nouns = list(el)
        if not nouns:
            nouns = [Element("Number")]
            nouns[0].text = text_of(el)
        targets = [self._noun_target(n) for n in nouns]
        explicit = call.input.dial({"targets": targets, "timeout": timeout})
        if nouns[0].tag == "Queue":
            params, event = self._dial_queue(nouns[0], doc, targets[0], explicit, timeout)
        elif nouns[0].tag == "Conference":
            params, event = self._dial_conference(nouns[0], targets[0], explicit, time_limit,
                                                  action, method)
        else:
            params, event = self._dial_numbers(el, nouns, targets, doc, explicit, timeout,
                                               time_limit)
        call.emit("dial", targets=targets, action=action, caller_id=el.get("callerId"),
                  **event)
        if action:
            return Fetch(action, method, params, kind="dial")
        return None

    def _noun_target(self, noun: Element) -> str:
        """What rings: a number, ``client:identity``, a SIP URI or a queue/conference name."""
        value = text_of(noun)
        if noun.tag == "Client":
            identity = noun.find("Identity")
            value = text_of(identity) if identity is not None else value
            return "client:" + value
        if noun.tag == "Sip" and not value.startswith("sip:"):
            return "sip:" + value
        return value

    def _dial_numbers(self, el, nouns, targets, doc, explicit: Action | None, timeout,
                      time_limit):
        """Ring every noun at once; the first to answer wins. The caller's ``dial:`` step
        decides for all of them, else each callee's answer script (default: answers). With no
        ``dial:`` step, registered softphones (``carrier.clients``) ring for real when no other
        noun would answer (see ``softphones.dial``)."""
        call = self.call
        if explicit is None:
            phones = call.carrier.clients
            live = [i for i, t in enumerate(targets) if phones.rings(t)]
            others = [t for i, t in enumerate(targets) if i not in live]
            if live and "completed" not in [call.carrier.answer_disposition(t) for t in others]:
                return softphones.dial(self, el, [nouns[i] for i in live],
                                       [targets[i] for i in live], doc, timeout, time_limit)
        if explicit is not None:
            outcomes = [explicit.outcome] * len(targets)
        else:
            outcomes = [call.carrier.answer_disposition(t) for t in targets]
        talk_for = explicit.seconds if explicit is not None else 30.0
        if "completed" not in outcomes:
            outcome = outcomes[0]
            self.call.advance({"busy": 3.0, "failed": 1.0}.get(outcome, timeout))
            return ({"DialCallStatus": outcome, "DialBridged": "false"},
                    {"outcome": outcome, "bridged": False})
        index = outcomes.index("completed")
        noun, winner = nouns[index], targets[index]
        self.call.advance(4.0)
        child = call.carrier.child_leg(call, to=winner, caller_id=el.get("callerId"))
        params, event = self.connect(el, doc, noun, child, talk_for, time_limit)
        return params, {**event, "answered": winner}

    def connect(self, el: Element, doc: Document, noun: Element, child: Call,
                talk_for: float, time_limit: float,
                pace: float = 0.0) -> tuple[dict[str, str], dict[str, Any]]:
        """The answered leg ``child`` of a Dial: its noun's ``url`` whisper first, then the
        talk (``talk_for`` virtual seconds, or live when infinite, ``pace`` as in
        ``_live_bridge``). Returns the Dial action's parameters and the ``dial`` event's
        fields."""
        call = self.call
        params = {"DialCallSid": child.sid}
        event: dict[str, Any] = {"dial_call_sid": child.sid}
        whisper = self.resolve(doc, noun.get("url"))
        if whisper:
            bridged = child.run_whisper(whisper, noun.get("method") or "POST")
            self.call.advance(child.clock.now)  # the caller hears ringing meanwhile
            event["whisper"] = child.transcript.events
            call.transcript.errors.extend(child.transcript.errors)
            if not bridged:
                params.update({"DialCallStatus": "no-answer", "DialBridged": "false"})
                event.update({"outcome": "no-answer", "bridged": False})
                return params, event
        else:
            child.answer()
        if math.isinf(talk_for):
            talk, left = self._live_bridge(child, el, doc, pace)
            event["child_left"] = left
        else:
            talk = int(min(talk_for, time_limit))
            self.call.advance(talk)
            child.clock.advance(talk)
            child.finish_leg(talk)
        params.update({"DialCallStatus": "completed", "DialCallDuration": str(talk),
                       "DialBridged": "true"})
        event.update({"outcome": "completed", "duration": talk, "bridged": True})
        record = (el.get("record") or "do-not-record").lower()
        if record not in ("do-not-record", "false"):
            sid = make_sid("RE")
            params.update({"RecordingUrl": call.carrier.recording_url(sid),
                           "RecordingSid": sid, "RecordingDuration": str(talk)})
            event["recording_sid"] = sid
        return params, event

    def _live_bridge(self, child: Call, el: Element, doc: Document,
                     pace: float = 0.0) -> tuple[int, str]:
        """A ``dial:completed:live`` talk: the parties stay bridged (really waiting, on the
        parent's mailbox) until a REST request moves either leg. The child has no thread
        while bridged; its REST redirect or hang-up reaches the parent as ``LegControl``.
        A redirected child leaves the bridge and runs its new TwiML in a thread of its own;
        the parent's Dial then ends ``completed`` (its action is requested). ``pace`` > 0
        (softphones): the talk lasts the real seconds waited times ``pace`` in virtual time,
        else none. Returns the talk time and how the child left."""
        call = self.call
        start = self.clock.now

        def catch_up() -> None:
            child.clock.now = max(child.clock.now, self.clock.now + self.clock.epoch
                                  - child.clock.epoch)

        catch_up()
        child.link_to(call)
        call.emit("bridge", with_call_sid=child.sid, live=True)
        try:
            while True:
                waited = time.monotonic()
                message = call.wait_mail(call.carrier.limits.live_seconds)
                if pace > 0:
                    self.call.advance((time.monotonic() - waited) * pace)
                    catch_up()
                if message is None:
                    call.error("live", "a live talk waited too long for an event", fatal=True)
                    child.finish_leg(0)
                    return self.clock.elapsed(start), "timeout"
                if isinstance(message, LegControl) and message.leg is child:
                    break
                if isinstance(message, (EndCall, Redirect)):
                    call.unlink(child)
                    child.finish_leg(self.clock.elapsed(start))
                    if isinstance(message, EndCall):
                        self._notify_dial_action(el, doc, start, "completed")
                    call.obey(message)
        finally:
            call.unlink(child)
        inner = message.message
        if isinstance(inner, Redirect):
            call.carrier.continue_leg(child, Fetch(inner.url, inner.method, kind="redirect",
                                                   twiml=inner.twiml))
            return self.clock.elapsed(start), "redirected"
        child._finish("completed", inner.by)
        return self.clock.elapsed(start), "hung-up"

    def _notify_dial_action(self, el: Element, doc: Document, start: float,
                            status: str) -> None:
        """The call hung up during a Dial: the action is still requested, its answer ignored."""
        action = self.resolve(doc, el.get("action"))
        self.call.notify(action, (el.get("method") or "POST").upper(), {
            **self.call.voice_params(status), "DialCallStatus": "completed",
            "DialCallDuration": str(self.clock.elapsed(start))}, "dial")

    def _dial_conference(self, noun: Element, name: str, explicit: Action | None,
                         time_limit: float, action: str | None, method: str):
        """Sit in the conference room ``name``. A scripted talk time (``dial:completed:45``)
        leaves after that many virtual seconds without waiting; otherwise the participant
        waits (really, on its mailbox) until a REST redirect or hang-up, or until someone
        with endConferenceOnExit leaves (``RoomEnded``). Leaving with endConferenceOnExit
        ends the room for everyone; each Dial then ends ``completed``."""
        call = self.call
        rooms = call.carrier.rooms
        end_on_exit = truthy(noun.get("endConferenceOnExit"))
        present = rooms.join(name, call, end_on_exit)
        call.emit("conference", room=name, action="join", present=present,
                  end_on_exit=end_on_exit,
                  start_on_enter=truthy(noun.get("startConferenceOnEnter"), True),
                  beep=noun.get("beep", "true"))
        start = self.clock.now
        if explicit is not None and explicit.outcome != "completed":
            rooms.leave(name, call)
            return ({"DialCallStatus": explicit.outcome},
                    {"conference": name, "outcome": explicit.outcome})
        how = "talk-ended"
        if explicit is not None and not math.isinf(explicit.seconds):
            self.call.advance(min(explicit.seconds, time_limit))
        else:
            how = self._in_room(name, start, action, method)
        ended = rooms.leave(name, call)
        talk = self.clock.elapsed(start)
        call.emit("conference", room=name, action="leave", how=how, duration=talk,
                  ended_for=[c.sid for c in ended])
        return ({"DialCallStatus": "completed", "DialCallDuration": str(talk)},
                {"conference": name, "outcome": "completed", "duration": talk, "how": how})

    def _in_room(self, name: str, start: float, action: str | None, method: str) -> str:
        call = self.call
        while True:
            message = call.wait_mail(call.carrier.limits.live_seconds)
            if message is None:
                call.error("live", f"waited too long in conference {name!r}", fatal=True)
                return "timeout"
            if isinstance(message, RoomEnded) and message.room == name:
                return "conference-ended"
            if isinstance(message, (EndCall, Redirect)):
                ended = call.carrier.rooms.leave(name, call)
                call.emit("conference", room=name, action="leave", how="api",
                          duration=self.clock.elapsed(start), ended_for=[c.sid for c in ended])
                if isinstance(message, EndCall):
                    call.notify(action, method, {
                        **call.voice_params("completed"), "DialCallStatus": "completed",
                        "DialCallDuration": str(self.clock.elapsed(start))}, "dial")
                call.obey(message)

    def _dial_queue(self, noun, doc, name, explicit: Action | None, timeout):
        """Bridge the head of a queue held on this carrier; the member plays the noun's url
        and talks for the dialer's talk time (its own thread picks this up)."""
        call = self.call
        qsid = queue_sid(name)
        talk = 30
        if explicit is not None:
            talk = int(explicit.seconds) if explicit.outcome == "completed" else 0
        url = self.resolve(doc, noun.get("url"))
        member = call.carrier.queues.take_head(name) if talk else None
        if member is None:
            self.call.advance(timeout)
            return ({"DialCallStatus": "no-answer", "QueueSid": qsid,
                     "DequeueResult": "queue-empty" if talk else "no-answer"},
                    {"queue": name, "outcome": "no-answer"})
        member.post(Bridge(call.sid, url, (noun.get("method") or "POST").upper(), talk))
        self.call.advance(talk)
        params = {"DialCallStatus": "completed", "DialCallSid": member.sid,
                  "DialCallDuration": str(talk), "DialBridged": "true", "QueueSid": qsid,
                  "DequeueResult": "bridged", "DequeuedCallSid": member.sid,
                  "DequeuedCallQueueTime": str(member.clock.elapsed(member.enqueued_at))}
        return params, {"queue": name, "outcome": "completed", "dial_call_sid": member.sid,
                        "duration": talk, "bridged": True}
