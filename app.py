"""Switchboard: wiring only. Each capability lives in its own package under ``chalicelib/``."""

import logging

from chalice import Chalice, Rate

from chalicelib import observability
from chalicelib.callbacks.missed_routes import missed_api
from chalicelib.callbacks.routes import callbacks_api
from chalicelib.callbacks.voice_routes import callback_voice
from chalicelib.campaigns.campaign_routes import campaigns_api
from chalicelib.campaigns.routes import contact_lists_api
from chalicelib.campaigns.seat_routes import campaign_seats_api
from chalicelib.campaigns.voice_routes import campaign_voice
from chalicelib.compliance.routes import compliance_api
from chalicelib.console.routes import console_api, sign_in_guard
from chalicelib.ivr.routes import voice
from chalicelib.messaging.routes import sms
from chalicelib.messaging.ticket_routes import messaging_api
from chalicelib.openapi import openapi_api
from chalicelib.reminders.batch_routes import reminders_api
from chalicelib.reminders.routes import billing_api
from chalicelib.reminders.schedule import run_policies
from chalicelib.reports.exports import XLSX_TYPE
from chalicelib.reports.page_routes import report_pages
from chalicelib.reports.routes import reports_api
from chalicelib.routing.routes import routing_api
from chalicelib.routing.voice_routes import agent_voice
from chalicelib.settings import get_settings
from chalicelib.telephony.webhooks import twilio_signature_guard
from chalicelib.wiring import facts_stream_arn, root

app = Chalice(app_name="switchboard")
app.api.binary_types.append(XLSX_TYPE)  # report workbooks (chalicelib/reports/exports.py)
app.log.setLevel(logging.INFO)
logging.getLogger("chalicelib").setLevel(logging.INFO)
observability.setup_logging(app.log)  # JSON in Lambda, text locally: LOG_FORMAT

app.register_middleware(observability.observe_request, "http")  # first: it times the guard too
app.register_middleware(twilio_signature_guard, "http")
app.register_middleware(sign_in_guard, "http")  # sign-in and roles: every admin route
app.register_blueprint(voice)
app.register_blueprint(routing_api)
app.register_blueprint(agent_voice)
app.register_blueprint(sms)
app.register_blueprint(callbacks_api)
app.register_blueprint(messaging_api)
app.register_blueprint(missed_api)
app.register_blueprint(callback_voice)
app.register_blueprint(openapi_api)
app.register_blueprint(compliance_api)
app.register_blueprint(contact_lists_api)
app.register_blueprint(campaign_voice)
app.register_blueprint(campaign_seats_api)
app.register_blueprint(campaigns_api)
app.register_blueprint(billing_api)
app.register_blueprint(reminders_api)
app.register_blueprint(reports_api)
app.register_blueprint(report_pages)
app.register_blueprint(console_api)


@app.route("/", methods=["GET"])
def health():
    return {"service": "switchboard", "stage": get_settings().stage}


@app.schedule(Rate(5, unit=Rate.MINUTES))
@observability.job
def reconcile_calls(event):
    """Ask Twilio how calls open too long really stand (their final status may be lost)."""
    return root().voice.reconcile_calls()


@app.schedule(Rate(1, unit=Rate.MINUTES))
@observability.job
def sweep_queues(event):
    """End finished wrap-ups and expire lost reservations (only what is due), then dispatch
    the queues that changed."""
    return root().routing.sweep()


@app.schedule(Rate(1, unit=Rate.MINUTES))
@observability.job
def dispatch_callbacks(event):
    """Move due callback requests into their queues' lines (within calling hours), then dial."""
    return root().callbacks.tick()


@app.schedule(Rate(1, unit=Rate.MINUTES))
@observability.job
def run_campaigns(event):
    """Start due campaigns, copy their lists in, and pace their calls and texts (50 s)."""
    return root().campaigns.tick()


@app.schedule(Rate(1, unit=Rate.HOURS))
@observability.job
def run_reminders(event):
    """Turn today's reminder-policy steps into batches (each once a day; the hourly runs after
    the first find them made)."""
    parts = root()
    return run_policies(parts.now(), parts.settings.reminder_caller_id)


if stream_arn := facts_stream_arn():  # set for `chalice deploy` (README, "Deploying to AWS")

    @app.on_dynamodb_record(stream_arn=stream_arn, batch_size=100,
                            starting_position="TRIM_HORIZON")
    @observability.job
    def apply_facts(event):
        """Count a batch of new facts into the rollups (``reports/stream.py``: a malformed fact
        is skipped, any other error retries the batch)."""
        return root().apply_fact_records([record.to_dict() for record in event])
