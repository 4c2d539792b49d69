"""The baseline handlers ``make bench`` compares real webhooks with, mounted on the real app.

Both sit under ``/twilio/`` so they pass the same signature check as every Twilio webhook:

* ``/twilio/bench/constant`` answers constant TwiML and touches nothing else;
* ``/twilio/bench/stateful`` reads one item first (the least a stateful webhook can do).

Standard library only at import: the cold-start bench loads this file into a fresh interpreter
after timing ``import app`` and must not warm anything the first webhook would load.
"""

from __future__ import annotations

CONSTANT_PATH = "/twilio/bench/constant"
STATEFUL_PATH = "/twilio/bench/stateful"
CONSTANT_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Hello</Say></Response>'
FORM = ["application/x-www-form-urlencoded"]


def add_constant_route(app) -> None:
    from chalice import Response

    @app.route(CONSTANT_PATH, methods=["POST"], content_types=FORM)
    def constant_twiml():
        return Response(body=CONSTANT_TWIML, headers={"Content-Type": "text/xml"})


def add_stateful_route(app, hotline: str) -> None:
    from chalice import Response

    @app.route(STATEFUL_PATH, methods=["POST"], content_types=FORM)
    def constant_after_one_read():
        from chalicelib.store.models import Hotline

        Hotline.get(hotline)
        return Response(body=CONSTANT_TWIML, headers={"Content-Type": "text/xml"})
