"""The errors every JSON admin API answers with, and the one place that turns them into HTTP.

Domain modules (``routing.admin``, ``callbacks.missed``, ``messaging.tickets``) and the edge
checks in ``api_input`` raise these; each API blueprint runs its handler through ``json_answer``:
400 ``{"error", "field"}``, 413 ``{"error", "field": "body"}``, 404 and 409 ``{"error"}``. Plain
Python, no PynamoDB: importing it costs nothing at cold start.
"""

from __future__ import annotations

from collections.abc import Callable

from chalice import Response


class InvalidRequest(ValueError):
    """The request body (or a query parameter) is wrong; ``field`` names what."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


class TooLarge(InvalidRequest):
    """The request body is over the API's size limit (413)."""


class NotFound(LookupError):
    """``NotFound("queue", "sales")`` says "no queue 'sales'"; one argument is the message."""

    def __init__(self, kind: str, ident: str | None = None):
        super().__init__(kind if ident is None else f"no {kind} '{ident}'")


class Conflict(Exception):
    """The request contradicts what is stored: a duplicate, or a state change not possible now."""


def json_answer(action: Callable[[], object], status: int = 200):
    """Run ``action`` and turn its result, or one of the errors above, into a JSON response."""

    try:
        body = action()
    except TooLarge as exc:
        body, status = {"error": str(exc), "field": exc.field}, 413
    except InvalidRequest as exc:
        body, status = {"error": str(exc), "field": exc.field}, 400
    except NotFound as exc:
        body, status = {"error": str(exc)}, 404
    except Conflict as exc:
        body, status = {"error": str(exc)}, 409
    # said outright: API Gateway assumes JSON, but chalice local sends no type at all
    return Response(body=body, status_code=status, headers={"Content-Type": "application/json"})
