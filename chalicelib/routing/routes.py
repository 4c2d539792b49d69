"""Routing's entry points share one routing service, built on first use.

The service reads settings and, when it dispatches, reaches Twilio; building it lazily keeps the
app's cold import small (see ``make bench``), and ``set_routing_service`` lets tests swap in a
fake or a service on a simulated clock.
"""

from __future__ import annotations

from chalicelib.settings import get_settings

_service = None


def routing_service():
    """The routing service, built on first use."""
    global _service
    if _service is None:
        from chalicelib.routing.service import RoutingService

        _service = RoutingService(get_settings())
    return _service


def set_routing_service(service) -> None:
    """Swap the service (tests use a fake or a simulated clock); ``None`` rebuilds it lazily."""
    global _service
    _service = service
