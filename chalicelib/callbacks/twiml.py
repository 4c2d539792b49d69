"""TwiML of callback calls: the agent's leg dialling the customer, and a called-back customer
waiting in line (the hold URLs are the callback's own: such a call runs no IVR flow)."""

from __future__ import annotations

from twilio.twiml.voice_response import VoiceResponse


def render_dial_customer(whisper: tuple[str, str, str], phone: str, *, caller_id: str,
                         action: str, timeout: int) -> str:
    """Agent-first: the agent hears what the callback is about, then the customer rings."""
    response = VoiceResponse()
    text, voice, language = whisper
    response.say(text, voice=voice, language=language)
    dial = response.dial(caller_id=caller_id, action=action, method="POST", timeout=timeout)
    dial.number(phone)
    return str(response)


def render_callback_enqueue(greeting: tuple[str, str, str] | None, queue_id: str,
                            urls: dict) -> str:
    """Customer-first: greet the customer we called, then hold in the queue's Twilio queue."""
    response = VoiceResponse()
    if greeting:
        text, voice, language = greeting
        response.say(text, voice=voice, language=language)
    response.enqueue(queue_id, action=urls["action"], method="POST", wait_url=urls["wait"],
                     wait_url_method="POST")
    return str(response)


def render_callback_hold(prompt: tuple[str, str, str], music_url: str) -> str:
    response = VoiceResponse()
    text, voice, language = prompt
    response.say(text, voice=voice, language=language)
    response.play(music_url)
    return str(response)
