"""TwiML and URLs of the agent connection: dial the reserved agents, whisper, then bridge.

The waiting caller is redirected (REST) to ``/twilio/voice/agent/connect/...``, which dials every
agent reserved for them; each agent leg first fetches ``whisper`` (played to the agent only, and
the moment we learn who answered); ``dialed`` receives how the agent leg ended.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from twilio.twiml.voice_response import Dial, VoiceResponse

from chalicelib.routing.model import Agent
from chalicelib.telephony.retries import retried
from chalicelib.telephony.twiml import VoiceUrls

AGENT_RING_SECONDS = 20


@dataclass(frozen=True)
class RoutingUrls:
    base: str

    def connect(self, queue_id: str, call_sid: str) -> str:
        return f"{self.base}/twilio/voice/agent/connect/{queue_id}/{call_sid}"

    def whisper(self, queue_id: str, call_sid: str, agent_id: str) -> str:
        return f"{self.base}/twilio/voice/agent/whisper/{queue_id}/{call_sid}/{agent_id}"

    def dialed(self, queue_id: str, call_sid: str) -> str:
        return f"{self.base}/twilio/voice/agent/dialed/{queue_id}/{call_sid}"

    def consult_join(self, call_sid: str) -> str:
        return f"{self.base}/twilio/voice/agent/consult/{call_sid}/join"

    def consult_status(self, call_sid: str) -> str:
        return retried(f"{self.base}/twilio/voice/agent/consult/{call_sid}/status")

    def conference_left(self, call_sid: str, party: str) -> str:
        return f"{self.base}/twilio/voice/agent/consult/{call_sid}/left/{party}"

    @property
    def recording_status(self) -> str:
        return retried(f"{self.base}/twilio/voice/recording")


def _dial_agent(dial: Dial, agent: Agent, whisper_url: str) -> None:
    if agent.endpoint.kind == "client":
        dial.client(agent.endpoint.address, url=whisper_url, method="POST")
    elif agent.endpoint.kind == "sip":
        dial.sip(agent.endpoint.address, url=whisper_url, method="POST")
    else:
        dial.number(agent.endpoint.address, url=whisper_url, method="POST")


def render_connect(
    agents: list[Agent],
    *,
    action: str,
    whisper: Callable[[Agent], str],
    record: bool,
    recording_status: str,
) -> str:
    """Ring every reserved agent at once (one for most strategies, all for ring-all)."""
    response = VoiceResponse()
    options = {"action": action, "method": "POST", "timeout": AGENT_RING_SECONDS,
               "answer_on_bridge": True}
    if record:
        options.update(record="record-from-answer-dual",
                       recording_status_callback=recording_status)
    dial = response.dial(**options)
    for agent in agents:
        _dial_agent(dial, agent, whisper(agent))
    return str(response)


def render_requeue(queue: str, urls: VoiceUrls, step: int, node: str) -> str:
    """Back to hold music in the same Twilio queue, resuming the flow's queue node."""
    response = VoiceResponse()
    response.enqueue(queue, action=urls.step(step, node), method="POST",
                     wait_url=urls.hold(node), wait_url_method="POST")
    return str(response)


def render_dial_out(number: str, base: str) -> str:
    """A transfer to an outside number: dial it; afterwards the call ends."""
    response = VoiceResponse()
    dial = response.dial(timeout=AGENT_RING_SECONDS * 2, answer_on_bridge=True)
    dial.number(number)
    response.hangup()
    return str(response)


def conference_room(call_sid: str) -> str:
    """One conference room per call: a warm transfer brings everyone together there."""
    return f"switchboard-{call_sid}"


def render_conference(room: str, *, end_on_exit: bool, action: str | None,
                      intro: tuple[str, str, str] | None = None) -> str:
    """Join ``room``. The caller ends it on leaving; agents do not, so a consultation survives
    either agent. ``action`` tells us when an agent's leg leaves the room."""
    response = VoiceResponse()
    if intro:
        text, voice, language = intro
        response.say(text, voice=voice, language=language)
    options = {"action": action, "method": "POST"} if action else {}
    dial = response.dial(**options)
    dial.conference(room, start_conference_on_enter=True, end_conference_on_exit=end_on_exit,
                    beep=False)
    if not action:
        response.hangup()
    return str(response)


def render_on_hold(music_url: str) -> str:
    """The caller waits on music while their agent consults someone else."""
    response = VoiceResponse()
    response.play(music_url, loop=0)
    return str(response)


def dial_address(endpoint) -> str:
    """The ``To`` of a REST call to an agent endpoint (a number, ``client:id`` or a SIP URI)."""
    if endpoint.kind == "client":
        return f"client:{endpoint.address}"
    if endpoint.kind == "sip" and not endpoint.address.startswith("sip:"):
        return f"sip:{endpoint.address}"
    return endpoint.address
