"""The webhook URLs of the agent connection, handed to Twilio in TwiML and REST requests.

The waiting caller is redirected (REST) to ``connect``, which dials every agent reserved for them
(``telephony.twiml_routing.render_connect``); each agent leg first fetches ``whisper`` (played to
the agent only, and the moment we learn who answered); ``dialed`` receives how the agent leg
ended. A warm transfer's consulted party joins through ``consult_join``. The paths match the
routes in ``routing/voice_routes.py``: Twilio signs the exact URL it calls.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.telephony.retries import retried


@dataclass(frozen=True)
class RoutingUrls:
    base: str  # PUBLIC_BASE_URL

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

    def monitor_status(self, call_sid: str) -> str:
        return retried(f"{self.base}/twilio/voice/agent/monitor/{call_sid}/status")

    @property
    def recording_status(self) -> str:
        return retried(f"{self.base}/twilio/voice/recording")
