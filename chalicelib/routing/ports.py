"""What routing needs from the callbacks capability, as a port.

Callbacks build on routing: their requests wait in routing's lines and are offered to routing's
agents. Routing in turn must hand a callback entry to them when it reaches an agent, let the
sweeper repair one, and merge a caller with their own open request ("one person, one offer").
It does so through this interface only, so the dependency runs one way (callbacks -> routing);
``callbacks.dispatcher.CallbackDispatcher`` implements it and the composition root
(``wiring.py``) plugs it in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from chalicelib.calls.model import Call
from chalicelib.routing.model import LineEntry, QueueConfig


class CallbackDesk(Protocol):
    """Callbacks as routing sees them. ``entry``: a line entry of kind ``callback`` (its
    ``call_sid`` is the callback id); ``record``: the call's record."""

    def allowed_now(self, entry: LineEntry, queue: QueueConfig, now: datetime) -> bool:
        """May this callback entry be dialled now? If not, it leaves the line for later."""
        ...

    def offer_to_agent(self, entry: LineEntry, agents: list, queue: QueueConfig,
                       now: datetime) -> bool:
        """Agent-first: ``agents`` were reserved with ``entry``; ring the first of them."""
        ...

    def call_customers_first(self, queue: QueueConfig, entries: list[LineEntry],
                             agents: list, now: datetime) -> int:
        """Customer-first: dial as many waiting callbacks as agents are free; how many."""
        ...

    def agent_took_call(self, record: Call, now: datetime) -> None:
        """An agent answered a called-back customer."""
        ...

    def repair(self, entry: LineEntry, now: datetime) -> None:
        """The sweeper found a callback entry whose webhooks never came."""
        ...

    def requeue_twiml(self, record: Call, queue_id: str | None) -> str:
        """TwiML that puts a called-back customer back on hold in their line."""
        ...

    def open_request_in(self, queue_id: str, phone: str | None) -> Any | None:
        """The number's open request in ``queue_id``, which a call from it replaces."""
        ...

    def close_as_called_in(self, request: Any, now: datetime) -> bool:
        """Close ``request``: its customer called and waits in the same line."""
        ...

    def keep_place(self, record: Call, queue_id: str, language: str | None, name: str | None,
                   joined_at: datetime, ticket: int | None = None) -> bool:
        """A caller on hold asked to be called back: a queue-callback request keeps their
        place (``joined_at``, and the line ticket of the call's entry, if it had one); False
        when the caller's number cannot be called."""
        ...

    def abandoned(self, record: Call, entry: LineEntry, now: datetime) -> None:
        """A caller hung up in line: a missed call for the hotline's follow-up."""
        ...
