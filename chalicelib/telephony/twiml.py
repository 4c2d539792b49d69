"""TwiML: the flow engine's verbs, the fallbacks, the small answers, and SMS replies.

With ``twiml_routing`` (agents, transfers, callback calls) this is the one place that knows
TwiML's verbs and attributes; the rest of the code decides what to say and calls these. Every
function returns the TwiML document as a string. ``VoiceUrls`` is the flows' webhook URL scheme:
``/twilio/voice/step/{step}/{node}`` for anything that resumes a flow (the step number lets a
retried request be recognised) and ``/twilio/voice/hold/{node}`` for queue hold music.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from chalicelib.telephony import verbs as v
from chalicelib.telephony.retries import retried


@dataclass(frozen=True)
class VoiceUrls:
    base: str  # PUBLIC_BASE_URL

    def step(self, step: int, node: str) -> str:
        return f"{self.base}/twilio/voice/step/{step}/{node}"

    def hold(self, node: str) -> str:
        return f"{self.base}/twilio/voice/hold/{node}"

    def hold_choice(self, node: str) -> str:
        return f"{self.base}/twilio/voice/hold/{node}/choice"

    @property
    def transcription(self) -> str:
        return retried(f"{self.base}/twilio/voice/transcription")

    @property
    def fallback_recorded(self) -> str:
        return f"{self.base}/twilio/voice/fallback/recorded"

    @property
    def fallback_dialed(self) -> str:
        return f"{self.base}/twilio/voice/fallback/dialed"


def _say(parent, verb: v.Say) -> None:
    kwargs = {}
    if verb.voice:
        kwargs["voice"] = verb.voice
    if verb.language:
        kwargs["language"] = verb.language
    parent.say(verb.text, **kwargs)


def _prompt(parent, verb) -> None:
    if isinstance(verb, v.Say):
        _say(parent, verb)
    elif isinstance(verb, v.Play):
        parent.play(verb.url, loop=verb.loop)
    elif isinstance(verb, v.Pause):
        parent.pause(length=verb.seconds)
    else:
        raise TypeError(f"{type(verb).__name__} cannot be nested in a prompt")


def render(verbs: list, urls: VoiceUrls, step: int) -> str:
    """TwiML for one step; ``step`` is the number the next request must carry."""
    response = VoiceResponse()
    for verb in verbs:
        if isinstance(verb, (v.Say, v.Play, v.Pause)):
            _prompt(response, verb)
        elif isinstance(verb, v.Gather):
            gather = response.gather(
                input=verb.input,
                action=urls.step(step, verb.node),
                method="POST",
                timeout=verb.timeout,
                action_on_empty_result=True,
                num_digits=verb.num_digits,
                finish_on_key=verb.finish_on_key,
                language=verb.language,
                hints=",".join(verb.hints) or None,
                speech_timeout=verb.speech_timeout,
            )
            for prompt in verb.prompts:
                _prompt(gather, prompt)
        elif isinstance(verb, v.Record):
            response.record(
                action=urls.step(step, verb.node),
                method="POST",
                max_length=verb.max_length,
                timeout=verb.timeout,
                finish_on_key=verb.finish_on_key,
                play_beep=verb.play_beep,
                transcribe=verb.transcribe,
                transcribe_callback=urls.transcription if verb.transcribe else None,
            )
        elif isinstance(verb, v.Enqueue):
            response.enqueue(
                verb.queue,
                action=urls.step(step, verb.node),
                method="POST",
                wait_url=urls.hold(verb.node),
                wait_url_method="POST",
            )
        elif isinstance(verb, v.Dial):
            dial = response.dial(
                action=urls.step(step, verb.node),
                method="POST",
                timeout=verb.timeout,
                caller_id=verb.caller_id,
            )
            dial.number(verb.number)
        elif isinstance(verb, v.Pay):
            _pay(response, verb, pay_action(urls.step(step, verb.node), verb))
        elif isinstance(verb, v.Leave):
            response.leave()
        elif isinstance(verb, v.Hangup):
            response.hangup()
        else:
            raise TypeError(f"cannot render {type(verb).__name__}")
    return str(response)


def pay_action(step_url: str, verb: v.Pay) -> str:
    """The ``<Pay>`` action URL: the step's, with what is charged (``account``, ``amount`` in
    major units, ``currency``) in its query. Twilio signs the URL with its query, so a charge
    whose result arrives after the call's final status (the flow's variables gone) can still
    be recorded from it, trusted as much as the result itself."""
    if not verb.account:
        return step_url
    return step_url + "?" + urlencode({"account": verb.account, "amount": verb.charge_amount,
                                       "currency": verb.currency.upper()})


def _pay(response: VoiceResponse, verb: v.Pay, action: str) -> None:
    """``<Pay>`` (needs PCI mode on the Twilio account) with our card-number prompt; Twilio's
    own prompts ask for the expiry date, security code and postal code."""
    pay = response.pay(
        input="dtmf",
        action=action,
        method="POST",
        payment_connector=verb.connector,
        charge_amount=verb.charge_amount,
        currency=verb.currency,
        description=verb.description,
        payment_method="credit-card",
        timeout=verb.timeout,
        max_attempts=verb.max_attempts,
        security_code=verb.security_code,
        postal_code=verb.postal_code,
    )
    if verb.prompts:
        prompt = pay.prompt(for_="payment-card-number")
        for say in verb.prompts:
            _prompt(prompt, say)


def render_hold(verbs: list, offer: v.Say | None = None, choice_url: str | None = None) -> str:
    """TwiML for a queue's waitUrl: only Say, Play, Pause, Gather and Leave are used there.

    With a ``choice_url`` the prompts, the ``offer`` (if it is spoken this time) and the music
    play inside a one-key Gather, so the caller can press a key (callback, voicemail) at any
    moment of the wait.
    """
    response = VoiceResponse()
    if not choice_url:
        for verb in verbs:
            response.leave() if isinstance(verb, v.Leave) else _prompt(response, verb)
        return str(response)
    gather = response.gather(num_digits=1, action=choice_url, method="POST", timeout=1,
                             input="dtmf")
    spoken = [verb for verb in verbs if isinstance(verb, v.Say)]
    music = [verb for verb in verbs if not isinstance(verb, v.Say)]
    for verb in [*spoken, *([offer] if offer else []), *music]:
        _prompt(gather, verb)
    return str(response)


def say_and_hangup(text: str, voice: str | None = None, language: str | None = None) -> str:
    response = VoiceResponse()
    _say(response, v.Say(text, voice, language))
    response.hangup()
    return str(response)


def fallback_transfer(say: v.Say, number: str, urls: VoiceUrls) -> str:
    """Apologise and transfer; if the transfer fails, ``fallback_dialed`` offers voicemail."""
    response = VoiceResponse()
    _say(response, say)
    dial = response.dial(action=urls.fallback_dialed, method="POST", timeout=20)
    dial.number(number)
    return str(response)


def fallback_voicemail(say: v.Say, urls: VoiceUrls) -> str:
    """Apologise and record a message; the recording is kept by ``fallback_recorded``."""
    response = VoiceResponse()
    _say(response, say)
    response.record(
        action=urls.fallback_recorded,
        method="POST",
        max_length=120,
        play_beep=True,
        transcribe=True,
        transcribe_callback=urls.transcription,
    )
    response.hangup()
    return str(response)


def say(text: str, voice: str | None = None, language: str | None = None) -> str:
    response = VoiceResponse()
    _say(response, v.Say(text, voice, language))
    return str(response)


def hangup() -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response)


def leave() -> str:
    response = VoiceResponse()
    response.leave()
    return str(response)


def empty() -> str:
    return str(VoiceResponse())


def sms_reply(text: str | None = None) -> str:
    """A messaging webhook's answer: the one reply ``text``, or no reply at all."""
    response = MessagingResponse()
    if text:
        response.message(text)
    return str(response)
