"""The errors every JSON admin API answers with, and the one place that turns them into HTTP.

Domain modules (``routing.admin``, ``callbacks.missed``, ``messaging.tickets``) raise these; each
API blueprint runs its handler through ``json_answer``: 400 ``{"error", "field"}``, 404 and 409
``{"error"}``. Plain Python, no PynamoDB: importing it costs nothing at cold start.
"""

from __future__ import annotations

from collections.abc import Callable


class InvalidRequest(ValueError):
    """The request body (or a query parameter) is wrong; ``field`` names what."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


class NotFound(LookupError):
    """``NotFound("queue", "sales")`` says "no queue 'sales'"; one argument is the message."""

    def __init__(self, kind: str, ident: str | None = None):
        super().__init__(kind if ident is None else f"no {kind} '{ident}'")


class Conflict(Exception):
    """The request contradicts what is stored: a duplicate, or a state change not possible now."""


def json_answer(action: Callable[[], object], status: int = 200):
    """Run ``action`` and turn its result, or one of the errors above, into a JSON response."""
    from chalice import Response

    try:
        return Response(body=action(), status_code=status)
    except InvalidRequest as exc:
        return Response(body={"error": str(exc), "field": exc.field}, status_code=400)
    except NotFound as exc:
        return Response(body={"error": str(exc)}, status_code=404)
    except Conflict as exc:
        return Response(body={"error": str(exc)}, status_code=409)
