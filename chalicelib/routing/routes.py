"""Routing's entry points share one routing service, built on first use.

The service reads settings and, when it dispatches, reaches Twilio; building it lazily keeps the
app's cold import small (see ``make bench``), and ``set_routing_service`` lets tests swap in a
fake or a service on a simulated clock.
"""

from __future__ import annotations

_service = None


def routing_service():
    """The routing service: the one the voice service dispatches with, unless a test set one."""
    if _service is not None:
        return _service
    from chalicelib.ivr.routes import voice_service

    return voice_service().routing


def set_routing_service(service) -> None:
    """Swap the service (tests use a fake); ``None`` goes back to the voice service's."""
    global _service
    _service = service
