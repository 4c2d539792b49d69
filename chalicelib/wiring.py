"""The composition root: the one place that builds Switchboard's parts and hands them out.

A container builds one ``Root`` on first use: the settings, one clock, the Twilio connector and
each service, every part built once, when first asked for. The modules are imported with this
one, during Lambda's init phase (importing ``app``), so the first webhook a container serves
costs little more than the next (``make bench`` prints both). The storage layer keeps one
DynamoDB connection, one botocore client, for every table (``store/connection.py``).

Route modules and scheduled jobs ask ``root()`` for what they need; nothing else constructs a
service. **Tests have one seam**: ``install(Root(clock=..., connector=...))`` swaps the parts
(a simulated clock, Twilio's REST edge faked, or a whole fake service) and ``install(None)``
goes back to the real ones.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import cached_property

from chalicelib.callbacks.dispatcher import CallbackDispatcher
from chalicelib.callbacks.requests import cancel_open_for_number
from chalicelib.campaigns.calls import CampaignCalls
from chalicelib.campaigns.dialer import VoiceDialer
from chalicelib.campaigns.recovery import Recovery
from chalicelib.campaigns.runner import CampaignRunner
from chalicelib.campaigns.seats import Seats
from chalicelib.campaigns.texting import TextSender
from chalicelib.campaigns.throttle import RateLimiter
from chalicelib.compliance.gate import ComplianceGate
from chalicelib.ivr.service import VoiceService
from chalicelib.reminders.accounts_api import account_on_screen
from chalicelib.reminders.check import BillCheck
from chalicelib.reminders.payment_sink import BillingPaymentSink
from chalicelib.reminders.promise_sink import BillingPromiseSink
from chalicelib.reports import stream
from chalicelib.routing.agents import AGENT_RING_SECONDS
from chalicelib.routing.consult import WarmTransfers
from chalicelib.routing.service import RoutingService
from chalicelib.settings import Settings, get_settings
from chalicelib.store import facts, rollups
from chalicelib.store.ratelimits import bump_window
from chalicelib.telephony.rest import Connector, TwilioConnector


def utcnow() -> datetime:
    """The real clock: an aware UTC datetime."""
    return datetime.now(UTC)


class Root:
    """Switchboard's parts for one container. Anything passed in is used as given; everything
    else is built on first use from the settings."""

    def __init__(
        self,
        *,
        settings: Settings | None = None,
        clock: Callable[[], datetime] | None = None,
        connector: Connector | None = None,
        routing: RoutingService | None = None,
        voice: VoiceService | None = None,
        cancel_callbacks: Callable[[str, datetime], int] | None = None,
        sleep: Callable[[float], None] | None = None,
    ):
        self._settings = settings
        self.clock: Callable[[], datetime] = clock or utcnow
        self.sleep: Callable[[float], None] = sleep or time.sleep
        given = {"connector": connector, "routing": routing, "voice": voice,
                 "cancel_callbacks": cancel_callbacks}
        # a part passed in takes the place of the cached property of the same name
        self.__dict__.update({name: part for name, part in given.items() if part is not None})

    @property
    def settings(self) -> Settings:
        return self._settings or get_settings()

    def now(self) -> datetime:
        """What time it is for every part of this container (aware, UTC)."""
        return self.clock()

    # Parts are built on first use; their modules are imported with this one, in Lambda's init
    # phase, so a container's first webhook does not pay for them (``make bench``).
    @cached_property
    def connector(self) -> Connector:
        """Twilio's REST API, as the ``Connector`` that moves and places calls."""
        return TwilioConnector(self.settings, AGENT_RING_SECONDS)

    @cached_property
    def routing(self) -> RoutingService:
        """Queues and agents: joining, holding, dispatch, the sweeper (``routing/service.py``),
        with the callback dispatcher plugged into its port."""
        return RoutingService(self.settings, self.clock, self.connector,
                              callbacks=self._callbacks_for)

    def _callbacks_for(self, routing: RoutingService) -> CallbackDispatcher:
        self._dispatcher = CallbackDispatcher(routing, self.compliance)
        return self._dispatcher

    @property
    def callbacks(self) -> CallbackDispatcher:
        """Calling customers back (``callbacks/dispatcher.py``): routing's own dispatcher."""
        routing = self.routing
        dispatcher = getattr(self, "_dispatcher", None)
        if dispatcher is None or dispatcher.service is not routing:
            raise LookupError("the routing service was given, not built: it has no dispatcher")
        return dispatcher

    @cached_property
    def voice(self) -> VoiceService:
        """The IVR: calls, flow steps, statuses, reconciliation (``ivr/service.py``)."""
        return VoiceService(self.settings, clock=self.clock, routing=self.routing,
                            callbacks=self.callbacks, gate=self.compliance,
                            payments=BillingPaymentSink(), promises=BillingPromiseSink())

    @cached_property
    def account_on_screen(self) -> Callable[[dict | None, datetime], dict | None]:
        """``(customer, now) -> account view | None``: the billing account on an agent's
        screen pop (``reminders/accounts_api.py``)."""
        return account_on_screen

    @cached_property
    def cancel_callbacks(self) -> Callable[[str, datetime], int]:
        """``cancel(number, now) -> how many``: a customer's "CANCEL CALL" text closes their
        open callback requests (``callbacks/requests.py``)."""
        return cancel_open_for_number

    @cached_property
    def compliance(self) -> ComplianceGate:
        """The one compliance gate every outbound call and text passes (``compliance/``)."""
        return ComplianceGate(self.clock)

    @cached_property
    def dialer(self) -> VoiceDialer:
        """Placing campaign calls under the account's calls per second
        (``campaigns/dialer.py``), counted in DynamoDB so every Lambda shares one limit."""
        limiter = RateLimiter(self.settings.outbound_cps,
                              lambda second: bump_window("outbound-cps", second, self.clock()))
        return VoiceDialer(self.settings, self.clock, self.connector, self.compliance, limiter,
                           sleep=self.sleep, check=BillCheck())

    @cached_property
    def campaign_calls(self) -> CampaignCalls:
        """Answered and ended campaign calls (``campaigns/calls.py``)."""
        return CampaignCalls(self.clock, self.compliance, self.connector,
                             seats=lambda: self.seats, voice=lambda: self.voice)

    @cached_property
    def campaigns(self) -> CampaignRunner:
        """The every-minute ``run_campaigns`` job (``campaigns/runner.py``)."""
        return CampaignRunner(self.settings, self.clock, self.dialer,
                              texts=lambda: self.texts, seats=lambda: self.seats,
                              recovery=Recovery(self.connector, lambda: self.campaign_calls),
                              sleep=self.sleep)

    @cached_property
    def seats(self) -> Seats:
        """Agents on agent campaigns' open lines (``campaigns/seats.py``)."""
        return Seats(self.settings, self.clock, self.connector)

    @cached_property
    def texts(self) -> TextSender:
        """SMS campaigns' texts, and what comes back to them (``campaigns/texting.py``)."""
        return TextSender(self.settings, self.clock, self.compliance, check=BillCheck())

    @property
    def warm(self) -> WarmTransfers:
        """Warm transfers (``routing/consult.py``)."""
        return self.routing.warm

    def apply_fact_records(self, records: list[dict]) -> dict[str, int]:
        """One batch of the facts table's stream records (Lambda's dicts) into the rollups:
        ``{"applied": n, "failed": m}``. A malformed fact is counted as failed; any other error
        propagates so the batch is retried (``reports/stream.py``)."""
        return stream.handle(records, facts.from_image, self.apply_facts)

    def apply_facts(self, found: list) -> int:
        """Count a batch of facts into the rollups, each once (``store.rollups.apply_facts``):
        how many were added now."""
        return rollups.apply_facts(found)


def facts_stream_arn(environ: Mapping[str, str] = os.environ) -> str | None:
    """The facts table's stream ARN that ``app.py`` registers ``apply_facts`` for, or None
    (no stream handler). ``chalice deploy`` reads it from ``FACTS_STREAM_ARN`` (the data stack's
    output ``FactsTableStreamArn``, README "Deploying to AWS"). Inside Lambda the decorator's ARN
    is never read, but ``app.apply_facts`` must exist for Lambda to call it, and the deploy
    shell's variable is not there: any non-empty placeholder registers it."""
    arn = environ.get("FACTS_STREAM_ARN", "").strip()
    if arn:
        return arn
    if environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        return "arn:aws:dynamodb:::table/facts/stream/deployed"
    return None


_root: Root | None = None


def root() -> Root:
    """This container's parts (built on first use)."""
    global _root
    if _root is None:
        _root = Root()
    return _root


def install(new: Root | None) -> Root | None:
    """The test seam: use ``new`` from now on (``None``: a fresh real root on next use).
    Returns the root it replaces."""
    global _root
    previous, _root = _root, new
    return previous
