"""Switchboard: wiring only. Each capability lives in its own package under ``chalicelib/``."""

import logging

from chalice import Chalice, Rate

from chalicelib.ivr.routes import voice, voice_service
from chalicelib.messaging.routes import sms
from chalicelib.routing.api import routing_api
from chalicelib.routing.routes import routing_service
from chalicelib.routing.voice_routes import agent_voice
from chalicelib.settings import get_settings
from chalicelib.telephony.webhooks import twilio_signature_guard

app = Chalice(app_name="switchboard")
app.log.setLevel(logging.INFO)
logging.getLogger("chalicelib").setLevel(logging.INFO)

app.register_middleware(twilio_signature_guard, "http")
app.register_blueprint(voice)
app.register_blueprint(routing_api)
app.register_blueprint(agent_voice)
app.register_blueprint(sms)


@app.route("/", methods=["GET"])
def health():
    return {"service": "switchboard", "stage": get_settings().stage}


@app.schedule(Rate(15, unit=Rate.MINUTES))
def sweep_stale_calls(event):
    """Close call records whose final status callback was lost."""
    return voice_service().sweep_stale_calls()


@app.schedule(Rate(1, unit=Rate.MINUTES))
def sweep_queues(event):
    """End finished wrap-ups, expire lost reservations, then dispatch every queue."""
    return routing_service().sweep()
