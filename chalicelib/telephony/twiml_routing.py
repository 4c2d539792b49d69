"""TwiML of calls between callers and agents: connecting, transfers, consultations, callbacks.

``telephony.twiml`` renders the flows' verbs; this renders what routing and callbacks decide:
ring the reserved agents with a whisper, put a caller (back) in a Twilio queue, dial out, meet
in a conference room, hold music, and the calls we place to return a customer's call. The
callers decide what is said, how long a phone rings and which URLs come back to us; nothing
here reads storage or settings. Each function returns the TwiML document as a string.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from twilio.twiml.voice_response import Dial, VoiceResponse

Prompt = tuple[str, str, str]  # (text, voice, language), as ``prompts.render_prompt`` returns


class Endpoint(Protocol):
    """Where an agent answers (``routing.model.Endpoint``)."""

    # read-only, as in the frozen dataclass
    @property
    def kind(self) -> str: ...  # phone | client | sip

    # E.164 number, Twilio Client identity, or SIP URI (with or without sip:)
    @property
    def address(self) -> str: ...


def dial_address(endpoint: Endpoint) -> str:
    """The ``To`` of a REST call to an agent endpoint (a number, ``client:id`` or a SIP URI)."""
    if endpoint.kind == "client":
        return f"client:{endpoint.address}"
    if endpoint.kind == "sip" and not endpoint.address.startswith("sip:"):
        return f"sip:{endpoint.address}"
    return endpoint.address


def _dial_endpoint(dial: Dial, endpoint: Endpoint, whisper_url: str) -> None:
    if endpoint.kind == "client":
        dial.client(endpoint.address, url=whisper_url, method="POST")
    elif endpoint.kind == "sip":
        dial.sip(endpoint.address, url=whisper_url, method="POST")
    else:
        dial.number(endpoint.address, url=whisper_url, method="POST")


def _say(response: VoiceResponse, prompt: Prompt) -> None:
    text, voice, language = prompt
    response.say(text, voice=voice, language=language)


def render_connect(
    legs: Iterable[tuple[Endpoint, str]],
    *,
    action: str,
    timeout: int,
    record: bool,
    recording_status: str,
) -> str:
    """Ring every ``(endpoint, whisper URL)`` at once for ``timeout`` seconds (one agent for
    most strategies, all for ring-all); the whisper URL plays to the agent who answers, before
    the bridge. ``record``: both channels from the answer, reported to ``recording_status``."""
    response = VoiceResponse()
    options = {"action": action, "method": "POST", "timeout": timeout, "answer_on_bridge": True}
    if record:
        options.update(record="record-from-answer-dual",
                       recording_status_callback=recording_status)
    dial = response.dial(**options)
    for endpoint, whisper_url in legs:
        _dial_endpoint(dial, endpoint, whisper_url)
    return str(response)


def render_enqueue(queue: str, *, action: str, wait_url: str,
                   greeting: Prompt | None = None) -> str:
    """(Back) into Twilio queue ``queue``: ``wait_url`` plays while waiting, ``action`` hears
    how the wait ended; ``greeting`` is said first (a customer we called back)."""
    response = VoiceResponse()
    if greeting:
        _say(response, greeting)
    response.enqueue(queue, action=action, method="POST", wait_url=wait_url,
                     wait_url_method="POST")
    return str(response)


def render_dial_out(number: str, *, timeout: int) -> str:
    """A transfer to an outside number: dial it; afterwards the call ends."""
    response = VoiceResponse()
    dial = response.dial(timeout=timeout, answer_on_bridge=True)
    dial.number(number)
    response.hangup()
    return str(response)


def conference_room(call_sid: str) -> str:
    """One conference room per call: a warm transfer brings everyone together there."""
    return f"switchboard-{call_sid}"


def render_conference(room: str, *, end_on_exit: bool, action: str | None,
                      intro: Prompt | None = None) -> str:
    """Join ``room``. The caller ends it on leaving; agents do not, so a consultation survives
    either agent. ``action`` tells us when an agent's leg leaves the room."""
    response = VoiceResponse()
    if intro:
        _say(response, intro)
    options = {"action": action, "method": "POST"} if action else {}
    dial = response.dial(**options)
    dial.conference(room, start_conference_on_enter=True, end_conference_on_exit=end_on_exit,
                    beep=False)
    if not action:
        response.hangup()
    return str(response)


def render_on_hold(music_url: str) -> str:
    """The caller waits on music (looped) while their agent consults someone else."""
    response = VoiceResponse()
    response.play(music_url, loop=0)
    return str(response)


def render_dial_customer(whisper: Prompt, phone: str, *, caller_id: str, action: str,
                         timeout: int) -> str:
    """A callback, agent first: the agent hears what the callback is about, then the customer's
    ``phone`` rings for ``timeout`` seconds, showing ``caller_id``."""
    response = VoiceResponse()
    _say(response, whisper)
    dial = response.dial(caller_id=caller_id, action=action, method="POST", timeout=timeout)
    dial.number(phone)
    return str(response)


def render_callback_hold(prompt: Prompt, music_url: str) -> str:
    """A called-back customer's wait: the place in line, then the music (Twilio loops it)."""
    response = VoiceResponse()
    _say(response, prompt)
    response.play(music_url)
    return str(response)


def render_open_line(room: str, *, hold_music_url: str) -> str:
    """An agent's open line on a campaign: into their own conference ``room``, which starts as
    they enter and ends when they leave; customers are bridged in and out of it. The music (a
    static file, fetched with GET so Twilio caches it) plays only until the room starts."""
    response = VoiceResponse()
    dial = response.dial()
    dial.conference(room, start_conference_on_enter=True, end_conference_on_exit=True,
                    beep=False, wait_url=hold_music_url, wait_method="GET")
    response.hangup()
    return str(response)


def render_into_room(room: str) -> str:
    """A customer into an agent's ``room``: the room stays (the agent with it) when they
    leave; when the agent leaves the room ends and so does the customer's call."""
    response = VoiceResponse()
    dial = response.dial()
    dial.conference(room, start_conference_on_enter=True, end_conference_on_exit=False,
                    beep=False)
    response.hangup()
    return str(response)
