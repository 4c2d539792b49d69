"""PynamoDB models: the only place that knows how Switchboard's state sits in DynamoDB.

Every table name is ``TABLE_PREFIX + <short name>`` so one AWS account can hold several stages.
``infra/cloudformation/switchboard.yaml`` declares the same tables for AWS; ``tests`` check that the
two agree. Timeouts are short on purpose: Twilio gives a webhook 15 s in all, and a caller must
reach the fallback path long before that if DynamoDB is unreachable.
"""

from __future__ import annotations

from typing import Any, Protocol, cast

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    NumberSetAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.connection import Connection
from pynamodb.exceptions import DeleteError, PutError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import MetaProtocol, Model

from chalicelib.settings import Settings, get_settings
from chalicelib.store import connection


class _Base(Model):
    class Meta:
        abstract = True
        connect_timeout_seconds = connection.CONNECT_TIMEOUT_SECONDS
        read_timeout_seconds = connection.READ_TIMEOUT_SECONDS
        max_retry_attempts = connection.MAX_RETRY_ATTEMPTS
        base_backoff_ms = 25
        region: str | None  # both set by bind_models()
        host: str | None

    @classmethod
    def _get_connection(cls):
        """PynamoDB's per-table connection, running on the container's one shared connection
        (``store/connection.py``) instead of a botocore client of its own."""
        table = super()._get_connection()
        shared = connection.shared_connection()
        if table.connection is not shared:
            try:
                shared.add_meta_table(table.connection.get_meta_table(table.table_name))
            except ValueError:
                pass  # another thread, or an earlier binding of this model, added it first
            table.connection = shared
        return table

    @classmethod
    def delete_returning_old(cls, hash_key: str, range_key: str | None = None,
                             condition=None) -> Model | None:
        """Delete the item with that key (if ``condition`` holds: else ``DeleteError``) and
        return it as it was (DeleteItem with ReturnValues ALL_OLD); None when there was none."""
        data = cls._get_connection().delete_item(hash_key, range_key, condition=condition,
                                                 return_values="ALL_OLD")
        old = data.get("Attributes")
        return cls.from_raw_data(old) if old else None


class Hotline(_Base):
    """A number customers dial: which flow answers it and what to do when things break."""

    class Meta(_Base.Meta):
        short_name = "hotlines"

    number = UnicodeAttribute(hash_key=True)  # E.164
    name = UnicodeAttribute()
    entry_flow = UnicodeAttribute()
    default_language = UnicodeAttribute(default="en-US")
    default_region = UnicodeAttribute(default="US")  # for parsing national numbers
    fallback_number = UnicodeAttribute(null=True)  # transfer here when a flow fails
    fallback_voicemail = BooleanAttribute(default=True)  # else record a message
    # Web callbacks: the countries whose numbers we call back (ISO codes; empty list = any), and
    # the form's topics, each naming the queue that handles it: {"billing": "support", ...}.
    allowed_regions: ListAttribute[str] = ListAttribute(default=lambda: ["US", "CA"])
    callback_topics = JSONAttribute(null=True)
    # Missed calls (chalicelib.callbacks.missed): a "we missed you" text, at most one per number
    # per window, and/or an automatic callback request in ``missed_call_queue``.
    missed_call_sms = BooleanAttribute(default=False)
    missed_call_sms_window_hours = NumberAttribute(default=24)
    missed_call_callback = BooleanAttribute(default=False)
    missed_call_queue = UnicodeAttribute(null=True)  # else the queue the caller left, if any


class FlowVersion(_Base):
    """Immutable published flow versions; version 0 is the pointer to the live version."""

    class Meta(_Base.Meta):
        short_name = "flows"

    flow_id = UnicodeAttribute(hash_key=True)
    version = NumberAttribute(range_key=True)
    live_version = NumberAttribute(null=True)  # only on the pointer item (version 0)
    document = UnicodeAttribute(null=True)  # compiled flow as JSON
    checksum = UnicodeAttribute(null=True)
    published_at = UTCDateTimeAttribute(null=True)
    published_by = UnicodeAttribute(null=True)


class OpenCallIndex(GlobalSecondaryIndex):
    """Sparse index of calls still open, for the sweeper; a finished call drops out of it."""

    class Meta:
        index_name = "open_calls"
        projection = KeysOnlyProjection()

    open_bucket = UnicodeAttribute(hash_key=True)
    started_at = UTCDateTimeAttribute(range_key=True)


class CallRecord(_Base):
    """One item per call: what the caller did, where the flow is, how the call ended."""

    class Meta(_Base.Meta):
        short_name = "calls"

    call_sid = UnicodeAttribute(hash_key=True)
    hotline = UnicodeAttribute(null=True)
    caller = UnicodeAttribute(null=True)
    direction = UnicodeAttribute(null=True)
    flow_id = UnicodeAttribute(null=True)
    flow_version = NumberAttribute(null=True)
    language = UnicodeAttribute(null=True)
    node = UnicodeAttribute(null=True)  # the node waiting for Twilio's next request
    step = NumberAttribute(default=0)  # bumped by every IVR step; guards against replays
    path: ListAttribute[str] = ListAttribute(default=list)  # node ids in the order visited
    vars = JSONAttribute(null=True)  # live flow variables; dropped when the call ends
    attempts = JSONAttribute(null=True)  # retries per node
    inputs = JSONAttribute(null=True)  # what the caller entered, sensitive values redacted
    customer = JSONAttribute(null=True)  # snapshot of the customer record at call start
    fallback = JSONAttribute(null=True)  # the hotline's fallback, copied at call start
    last_response = UnicodeAttribute(null=True)  # TwiML of the last step, replayed on retries
    status = UnicodeAttribute(null=True)  # Twilio CallStatus
    status_rank = NumberAttribute(null=True)  # order of the last status applied
    status_seq = NumberAttribute(null=True)  # Twilio SequenceNumber of the last status applied
    outcome = UnicodeAttribute(null=True)  # how the flow ended: hangup, voicemail, queue, ...
    started_at = UTCDateTimeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)
    ended_at = UTCDateTimeAttribute(null=True)
    duration = NumberAttribute(null=True)  # seconds, from Twilio's CallDuration
    open_bucket = UnicodeAttribute(null=True)
    queue_id = UnicodeAttribute(null=True)  # set while the caller waits in a queue
    queue_entry_key = UnicodeAttribute(null=True)
    agent_id = UnicodeAttribute(null=True)  # the agent who served (or is serving) the call
    agent_leg_sid = UnicodeAttribute(null=True)  # CallSid of that agent's leg (for warm transfer)
    consult_state = UnicodeAttribute(null=True)  # dialing | talking (warm transfer), or hold
    consult = JSONAttribute(null=True)  # {conference, from_agent, to, target, target_agent, leg}
    conference = UnicodeAttribute(null=True)  # set once the call talks in a conference room
    monitor = JSONAttribute(null=True)  # a supervisor listening in: {endpoint, mode, room, ...}
    announced_at = NumberAttribute(null=True)  # QueueTime of the last position announcement
    callback_id = UnicodeAttribute(null=True)  # an outbound call placed for a callback request
    recording = JSONAttribute(null=True)  # {sid, status, url, duration, channels} if recorded
    # [{at, from_agent, to, target}] in order
    transfers: ListAttribute[dict[str, Any]] = ListAttribute(null=True)
    # [{agent_id, code, at, note}]: what the agents who handled it said became of it
    dispositions: ListAttribute[dict[str, Any]] = ListAttribute(null=True)
    status_step = UnicodeAttribute(null=True)  # a callback leg's status webhook (reconciliation)
    reconciled_at = UTCDateTimeAttribute(null=True)  # Twilio last said it was still live
    expires = TTLAttribute(null=True)

    open_calls = OpenCallIndex()


class VoicemailByHotline(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_hotline"
        projection = AllProjection()

    hotline = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class Voicemail(_Base):
    """A recorded message; the transcription arrives later and is stored on the same item."""

    class Meta(_Base.Meta):
        short_name = "voicemails"

    recording_sid = UnicodeAttribute(hash_key=True)
    call_sid = UnicodeAttribute()
    hotline = UnicodeAttribute()
    caller = UnicodeAttribute(null=True)
    recording_url = UnicodeAttribute(null=True)
    duration = NumberAttribute(null=True)
    language = UnicodeAttribute(null=True)
    flow_node = UnicodeAttribute(null=True)
    transcription = UnicodeAttribute(null=True)
    transcription_status = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    expires = TTLAttribute(null=True)

    by_hotline = VoicemailByHotline()


class Customer(_Base):
    """What we know about a caller by phone number: name, VIP flag, language, account."""

    class Meta(_Base.Meta):
        short_name = "customers"

    phone = UnicodeAttribute(hash_key=True)  # E.164
    name = UnicodeAttribute(null=True)
    vip = BooleanAttribute(default=False)
    language = UnicodeAttribute(null=True)
    account_id = UnicodeAttribute(null=True)
    account_manager = UnicodeAttribute(null=True)  # agent id of a VIP's dedicated manager
    flags: ListAttribute[str] = ListAttribute(default=list)


class AccountsByDue(GlobalSecondaryIndex):
    """Sparse: accounts with something to pay and a due date, neither paid nor held (status
    current or overdue), by due date, over ``store.billing.SHARDS`` shards: a segment ("overdue
    more than N days", "due this week") is one Query per shard, never a Scan."""

    class Meta:
        index_name = "by_due"
        projection = AllProjection()

    due_bucket = UnicodeAttribute(hash_key=True)  # "open#0" .. "open#7"
    due_date = UnicodeAttribute(range_key=True)


class Account(_Base):
    """A billing account (``store.billing``; ``reminders.model.BillingAccount``) and the
    self-service data the IVR reads aloud: ``balance_due``/``due_date`` are kept in step with
    ``amount_due`` by every write, so flows' ``lookup`` nodes read them as before."""

    class Meta(_Base.Meta):
        short_name = "accounts"

    account_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute(null=True)  # the holder
    balance_due = UnicodeAttribute(null=True)  # decimal as text: never a float for money
    currency = UnicodeAttribute(default="USD")
    due_date = UnicodeAttribute(null=True)  # ISO date
    pin_hash = UnicodeAttribute(null=True)  # sha256 of "<account_id>:<pin>", never the PIN
    phone = UnicodeAttribute(null=True)  # the primary of ``phones``
    phones: ListAttribute[str] = ListAttribute(null=True)  # E.164, primary first
    language = UnicodeAttribute(null=True)
    timezone = UnicodeAttribute(null=True)
    amount_due = NumberAttribute(null=True)  # minor units (cents, fen)
    status = UnicodeAttribute(null=True)  # reminders.model.STATUSES
    promised_until = UnicodeAttribute(null=True)  # ISO date: reminders paused until then
    version = NumberAttribute(null=True)  # bumped by every write; writes are conditional on it
    updated_at = UTCDateTimeAttribute(null=True)
    source_version = UnicodeAttribute(null=True)  # the billing system's id of its last change
    source_seq = NumberAttribute(null=True)  # its order, when the billing system gives one
    due_bucket = UnicodeAttribute(null=True)  # set only while open (the sparse by_due index)

    by_due = AccountsByDue()


class PaymentsByAccount(GlobalSecondaryIndex):
    """An account's payments, oldest first."""

    class Meta:
        index_name = "by_account"
        projection = AllProjection()

    account_id = UnicodeAttribute(hash_key=True)
    at = UTCDateTimeAttribute(range_key=True)


class PaymentItem(_Base):
    """A payment (``reminders.model.Payment``) under the payer's own id: written only if absent,
    in one transaction with the account's new balance (``store.billing``)."""

    class Meta(_Base.Meta):
        short_name = "payments"

    payment_id = UnicodeAttribute(hash_key=True)
    account_id = UnicodeAttribute()
    amount = NumberAttribute()  # minor units of ``currency``
    currency = UnicodeAttribute()
    source = UnicodeAttribute()  # pay | billing | agent
    at = UTCDateTimeAttribute()
    status = UnicodeAttribute(default="applied")  # applied | reversed
    confirmation = UnicodeAttribute(null=True)
    card_last4 = UnicodeAttribute(null=True)
    reversed_at = UTCDateTimeAttribute(null=True)

    by_account = PaymentsByAccount()


class MessageBySid(GlobalSecondaryIndex):
    """Sparse: messages Twilio accepted, by MessageSid, for delivery status callbacks."""

    class Meta:
        index_name = "by_message_sid"
        projection = KeysOnlyProjection()

    message_sid = UnicodeAttribute(hash_key=True)


class Message(_Base):
    """An SMS we sent (or tried to), keyed by an idempotency key so retries never send twice."""

    class Meta(_Base.Meta):
        short_name = "messages"

    message_key = UnicodeAttribute(hash_key=True)
    message_sid = UnicodeAttribute(null=True)
    to = UnicodeAttribute()
    sender = UnicodeAttribute(null=True)
    body_template = UnicodeAttribute(null=True)
    call_sid = UnicodeAttribute(null=True)
    # pending, opted_out (never sent: the number opted out), or Twilio's MessageStatus
    status = UnicodeAttribute(default="pending")
    status_rank = NumberAttribute(null=True)  # order of that status: a late callback never undoes
    error = UnicodeAttribute(null=True)
    error_code = UnicodeAttribute(null=True)  # Twilio's ErrorCode, e.g. 30003, 21610
    campaign_id = UnicodeAttribute(null=True)  # a campaign's text: its contact is ``to``
    created_at = UTCDateTimeAttribute()
    expires = TTLAttribute(null=True)

    by_message_sid = MessageBySid()


class OptOut(_Base):
    """A number's consent to texts and calls: the one opt-out list every outbound path checks.

    ``changed_at`` is the message time of the change in force; a change only applies when it is
    later, so a STOP and a START racing end as the later one said, whatever order they land in.
    """

    class Meta(_Base.Meta):
        short_name = "opt_outs"

    number = UnicodeAttribute(hash_key=True)  # E.164
    status = UnicodeAttribute()  # opted_out | opted_in
    keyword = UnicodeAttribute(null=True)  # the word of the change in force ("stop", "退订")
    opted_out_at = UTCDateTimeAttribute(null=True)
    opted_in_at = UTCDateTimeAttribute(null=True)
    changed_at = UTCDateTimeAttribute()
    # MessageSids applied: a retried one is a no-op
    recent_sids: ListAttribute[str] = ListAttribute(default=list)


class TicketsByStatus(GlobalSecondaryIndex):
    """Tickets by status, newest first on read: the admin list without a Scan."""

    class Meta:
        index_name = "by_status"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class Ticket(_Base):
    """A customer's text that no agent could take: kept for a person to read and close.

    The id is derived from the inbound MessageSid with a secret (``messaging.inbound``), so a
    retried webhook puts the same key and the conditional put refuses a second ticket.
    """

    class Meta(_Base.Meta):
        short_name = "tickets"

    ticket_id = UnicodeAttribute(hash_key=True)  # "TK" + 32 hex characters
    message_sid = UnicodeAttribute()
    sender = UnicodeAttribute()  # the customer (E.164)
    hotline = UnicodeAttribute()  # the number they texted
    body = UnicodeAttribute(null=True)
    media_urls: ListAttribute[str] = ListAttribute(default=list)
    language = UnicodeAttribute(null=True)
    status = UnicodeAttribute(default="open")  # open | closed
    created_at = UTCDateTimeAttribute()
    closed_at = UTCDateTimeAttribute(null=True)

    by_status = TicketsByStatus()


class AgentByMobile(GlobalSecondaryIndex):
    """Sparse: agents who registered a phone for SMS state commands."""

    class Meta:
        index_name = "by_mobile"
        projection = KeysOnlyProjection()

    mobile = UnicodeAttribute(hash_key=True)


class AgentsDue(GlobalSecondaryIndex):
    """Sparse: agents whose state ends by the clock (a reservation, a wrap-up), by when, over a
    few shards: the sweeper reads what is due with one Query per shard, never every agent."""

    class Meta:
        index_name = "due"
        projection = KeysOnlyProjection()

    due_shard = UnicodeAttribute(hash_key=True)  # "due#0" .. "due#3", derived from the id
    due_at = UTCDateTimeAttribute(range_key=True)


class AgentItem(_Base):
    """An agent: profile, skills, queues and the live state that routing reserves against."""

    class Meta(_Base.Meta):
        short_name = "agents"

    agent_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    endpoint_kind = UnicodeAttribute(default="phone")  # phone | sip | client
    endpoint_address = UnicodeAttribute()
    skills = JSONAttribute(default=dict)
    queues = JSONAttribute(default=dict)  # queue id -> tier
    languages: ListAttribute[str] = ListAttribute(default=list)
    regions: ListAttribute[str] = ListAttribute(default=list)
    wrap_up_seconds = NumberAttribute(default=30)
    mobile = UnicodeAttribute(null=True)
    state = UnicodeAttribute(default="offline")
    state_since = UTCDateTimeAttribute(null=True)
    state_reason = UnicodeAttribute(null=True)
    idle_since = UTCDateTimeAttribute(null=True)
    calls_today = NumberAttribute(default=0)
    calls_today_date = UnicodeAttribute(null=True)
    missed_in_row = NumberAttribute(default=0)
    reserved_call = UnicodeAttribute(null=True)  # the caller this agent is reserved for
    reserved_until = UTCDateTimeAttribute(null=True)
    current_call = UnicodeAttribute(null=True)
    timezone = UnicodeAttribute(null=True)  # IANA zone of the agent's day (calls today)
    # bumped by every profile save: a state change counts the agent in the queues it read
    # (``store.presence``), so it must fail if the queues changed meanwhile
    profile_version = NumberAttribute(null=True)
    due_shard = UnicodeAttribute(null=True)  # set with due_at while reserved or in wrap-up
    due_at = UTCDateTimeAttribute(null=True)

    by_mobile = AgentByMobile()
    due = AgentsDue()


class AgentEvent(_Base):
    """Each agent state change with its time and reason: the audit trail and report source."""

    class Meta(_Base.Meta):
        short_name = "agent_events"

    agent_id = UnicodeAttribute(hash_key=True)
    at = UnicodeAttribute(range_key=True)  # ISO timestamp + a short random suffix
    state = UnicodeAttribute()
    previous = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    call_sid = UnicodeAttribute(null=True)
    expires = TTLAttribute(null=True)


class QueueItem(_Base):
    """A queue's configuration (a QueueConfig as JSON) and its round-robin pointer."""

    class Meta(_Base.Meta):
        short_name = "queues"

    queue_id = UnicodeAttribute(hash_key=True)
    config = JSONAttribute()
    last_agent_id = UnicodeAttribute(null=True)
    # the last talk times (s), written before store.queue_stats sampled them: a fallback only
    handle_times = JSONAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)
    # only on the item keyed ``store.routing.DIRECTORY``: every queue id and every agent id, so
    # reports list them with one read instead of a Scan; the flags say a one-time Scan has put
    # every id written before the directory existed into it
    queue_ids = UnicodeSetAttribute(null=True)
    agent_ids = UnicodeSetAttribute(null=True)
    queues_listed = BooleanAttribute(null=True)
    agents_listed = BooleanAttribute(null=True)


class FreeMembers(GlobalSecondaryIndex):
    """Sparse: a queue's members who are available now, by since when: dispatch reads the free
    agents of a queue, not all of them."""

    class Meta:
        index_name = "free"
        projection = KeysOnlyProjection()

    queue_id = UnicodeAttribute(hash_key=True)
    free_at = UTCDateTimeAttribute(range_key=True)


class QueueMember(_Base):
    """Which agents serve a queue, at which tier: lets dispatch fetch a queue's agents by key.
    ``free_at`` is set while the agent is available, in the transaction that moves the agent."""

    class Meta(_Base.Meta):
        short_name = "queue_members"

    queue_id = UnicodeAttribute(hash_key=True)
    agent_id = UnicodeAttribute(range_key=True)
    tier = NumberAttribute(default=1)
    free_at = UTCDateTimeAttribute(null=True)

    free = FreeMembers()


class EntriesByCaller(GlobalSecondaryIndex):
    """Sparse: the calls in a line by ``<queue>#<E.164>``, so a number's callback request and its
    live call in the same queue are never offered to two agents at once."""

    class Meta:
        index_name = "by_caller"
        projection = KeysOnlyProjection()

    line_caller = UnicodeAttribute(hash_key=True)


class EntriesDue(GlobalSecondaryIndex):
    """Sparse: line entries that need a look by a time (a reservation's end, a callback being
    dialled or waiting for its calling window), over a few shards, for the sweeper."""

    class Meta:
        index_name = "due"
        projection = KeysOnlyProjection()

    due_shard = UnicodeAttribute(hash_key=True)  # "due#0" .. "due#3", derived from the key
    due_at = UTCDateTimeAttribute(range_key=True)


class QueueEntry(_Base):
    """A caller waiting in a queue. The sort key orders the line: priority, then join time."""

    class Meta(_Base.Meta):
        short_name = "queue_entries"

    queue_id = UnicodeAttribute(hash_key=True)
    entry_key = UnicodeAttribute(range_key=True)  # "<999-priority>#<joined ISO>#<call sid>"
    call_sid = UnicodeAttribute()
    caller = UnicodeAttribute()
    joined_at = UTCDateTimeAttribute()
    priority = NumberAttribute(default=0)
    status = UnicodeAttribute(default="waiting")  # waiting | reserved
    kind = UnicodeAttribute(default="call")  # call | callback (keeps its place, phone down)
    language = UnicodeAttribute(null=True)
    country = UnicodeAttribute(null=True)
    customer_name = UnicodeAttribute(null=True)
    vip = BooleanAttribute(default=False)
    dedicated_agent = UnicodeAttribute(null=True)
    sticky_agent = UnicodeAttribute(null=True)
    reserved_agents: ListAttribute[str] = ListAttribute(default=list)
    reserved_until = UTCDateTimeAttribute(null=True)
    line_caller = UnicodeAttribute(null=True)  # "<queue>#<E.164>" on calls with a number
    expires = TTLAttribute(null=True)
    due_shard = UnicodeAttribute(null=True)  # with due_at: see EntriesDue
    due_at = UTCDateTimeAttribute(null=True)
    # the entry's ticket in its priority band (``routing.tickets``); None on entries written
    # before tickets, whose place is counted instead
    ticket = NumberAttribute(null=True)

    by_caller = EntriesByCaller()
    due = EntriesDue()


class Contact(_Base):
    """What we remember of a caller across calls: who served them last, their recent contacts.
    Feeds sticky routing and the screen pop; kept for everyone, not only known customers."""

    class Meta(_Base.Meta):
        short_name = "contacts"

    phone = UnicodeAttribute(hash_key=True)
    last_agent_id = UnicodeAttribute(null=True)
    last_served_at = UTCDateTimeAttribute(null=True)
    recent = JSONAttribute(null=True)  # newest first: [{call_sid, at, queue_id, agent_id, outcome}]
    expires = TTLAttribute(null=True)


class QueueDay(_Base):
    """A queue's counters, bumped with atomic ADDs, in items of one partition (one Query reads
    a kind of them whole). ``day`` names the item: ``<ISO day>#<k>`` for the queue's counts of
    that day (its local day, ``QueueConfig.zone``: the board's service level and abandon rate
    today), ``agents#<k>`` its live agent counts, ``handle#<k>`` its handle-time samples,
    ``dispatch`` its dispatch lease (see the comments at the end)."""

    class Meta(_Base.Meta):
        short_name = "queue_stats"

    queue_id = UnicodeAttribute(hash_key=True)
    day = UnicodeAttribute(range_key=True)  # ISO date, in the queue's time zone
    offered = NumberAttribute(default=0)
    answered = NumberAttribute(default=0)
    answered_in_sl = NumberAttribute(default=0)
    abandoned = NumberAttribute(default=0)
    wait_seconds = NumberAttribute(default=0)  # summed over answered calls, for ASA
    expires = TTLAttribute(null=True)
    # the live agent counts, on items day="agents#<shard>" (``store.presence``): agents of the
    # queue by state, each agent in one shard, moved in the transaction that moves the agent
    available = NumberAttribute(null=True)
    reserved = NumberAttribute(null=True)
    on_call = NumberAttribute(null=True)
    wrap_up = NumberAttribute(null=True)
    away = NumberAttribute(null=True)
    offline = NumberAttribute(null=True)
    counted = BooleanAttribute(null=True)  # on "agents#0": the counts were taken from the agents
    # on the item day="dispatch": who runs the queue's dispatch now (``store.dispatch_lease``)
    lease_owner = UnicodeAttribute(null=True)
    lease_until = UTCDateTimeAttribute(null=True)
    lease_again = BooleanAttribute(null=True)  # another round was asked for meanwhile
    # The counters above are on items day="<ISO day>" (before sharding) and "<ISO day>#<k>",
    # k in 0..7 (store.queue_stats.count_in_queue_day). The slots below are only on items
    # day="handle#<k>", k in 0..4: one handle-time sample (talk seconds) each, written by a
    # SET of the whole attribute so the first write needs no existing item or map
    # (store.queue_stats.add_handle_time).
    handle_0 = NumberAttribute(null=True)
    handle_1 = NumberAttribute(null=True)
    handle_2 = NumberAttribute(null=True)
    handle_3 = NumberAttribute(null=True)
    handle_4 = NumberAttribute(null=True)
    handle_5 = NumberAttribute(null=True)
    handle_6 = NumberAttribute(null=True)
    handle_7 = NumberAttribute(null=True)
    handle_8 = NumberAttribute(null=True)
    handle_9 = NumberAttribute(null=True)
    # Line band items (day "line#<999-priority>", ``routing.tickets``), never expiring: tickets
    # handed out, every ticket up to ``floor`` has left the line, departed tickets above it.
    issued = NumberAttribute(null=True)
    floor = NumberAttribute(null=True)
    gone = NumberSetAttribute(null=True)


class CallbacksDue(GlobalSecondaryIndex):
    """Sparse: requests waiting for their time (status ``scheduled``), spread over a few shards
    so the dispatcher reads what is due with one Query per shard and never scans."""

    class Meta:
        index_name = "due"
        projection = AllProjection()

    due_shard = UnicodeAttribute(hash_key=True)  # "due#0" .. "due#7", derived from the id
    due_at = UTCDateTimeAttribute(range_key=True)


class CallbacksByPhone(GlobalSecondaryIndex):
    """A number's requests, newest last: the SMS ``CANCEL CALL`` reply finds them here."""

    class Meta:
        index_name = "by_phone"
        projection = AllProjection()

    phone = UnicodeAttribute(hash_key=True)
    requested_at = UTCDateTimeAttribute(range_key=True)


class CallbackRequest(_Base):
    """A customer asked to be called back (web form, "press 1" in a queue, or a missed call).

    Every status change bumps ``version`` and is conditional on it, so the dispatcher, the API
    and the SMS reply can race without one undoing the other (``store.callbacks.transition``).
    """

    class Meta(_Base.Meta):
        short_name = "callbacks"

    callback_id = UnicodeAttribute(hash_key=True)  # "cb_" + 24 random URL-safe characters
    kind = UnicodeAttribute()  # web | queue | missed
    hotline = UnicodeAttribute()  # the number we call from
    queue_id = UnicodeAttribute()
    phone = UnicodeAttribute()  # E.164
    name = UnicodeAttribute(null=True)
    topic = UnicodeAttribute(null=True)
    language = UnicodeAttribute(null=True)
    # scheduled | queued | dialing | connected | completed | failed | cancelled
    status = UnicodeAttribute()
    requested_at = UTCDateTimeAttribute()
    preferred_at = UTCDateTimeAttribute(null=True)  # null: as soon as possible
    joined_at = UTCDateTimeAttribute(null=True)  # its place in the queue's line
    attempts = NumberAttribute(default=0)
    max_attempts = NumberAttribute(default=3)
    last_error = UnicodeAttribute(null=True)
    # [{at, status, detail}] oldest first
    history: ListAttribute[dict[str, Any]] = ListAttribute(default=list)
    call_sid = UnicodeAttribute(null=True)  # the last outbound call placed for it
    entry_key = UnicodeAttribute(null=True)  # its QueueEntry while queued
    version = NumberAttribute(default=0)
    updated_at = UTCDateTimeAttribute(null=True)
    closed_at = UTCDateTimeAttribute(null=True)
    due_shard = UnicodeAttribute(null=True)  # set only while scheduled (the sparse due index)
    due_at = UTCDateTimeAttribute(null=True)
    expires = TTLAttribute(null=True)  # set when it closes

    due = CallbacksDue()
    by_phone = CallbacksByPhone()


class CallbackLock(_Base):
    """At most one open callback request per (queue, number): written in the same transaction
    as the request, deleted in the one that closes it."""

    class Meta(_Base.Meta):
        short_name = "callback_locks"

    lock_key = UnicodeAttribute(hash_key=True)  # "<queue_id>#<E.164>"
    callback_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires = TTLAttribute(null=True)  # a safety net only: closing a request deletes its lock


class Claim(_Base):
    """A side effect taken once: the key is derived from Twilio's ids (``sms-command:<MessageSid>``,
    ``handle-time:<DialCallSid>``), written with a condition that it is absent, alone or in the
    transaction that carries the effect out. A retried or replayed webhook finds it and does
    nothing again (``store.claims``)."""

    class Meta(_Base.Meta):
        short_name = "claims"

    claim_key = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute()
    expires = TTLAttribute(null=True)  # well past any retry Twilio makes


class ComplianceEntry(_Base):
    """What the compliance gate knows of one number (``store.compliance``), one Query per check:

    - ``dnc#<channel>``: a do-not-call entry (``all`` covers every channel): source, reason;
    - ``consent#<purpose>#<channel>``: a consent given (source, evidence) or revoked;
    - ``contact#<key>``: a contact we made (channel, purpose, outcome, subject), kept
      as long as the longest frequency cap looks back, for the caps and the abandoned-call hold;
    - ``refusal#<time>#<key>``: a contact the gate refused, with its reasons (the audit trail).
    """

    class Meta(_Base.Meta):
        short_name = "compliance"

    number = UnicodeAttribute(hash_key=True)  # E.164
    entry = UnicodeAttribute(range_key=True)
    at = UTCDateTimeAttribute()
    channel = UnicodeAttribute(null=True)
    purpose = UnicodeAttribute(null=True)
    outcome = UnicodeAttribute(null=True)
    subject = UnicodeAttribute(null=True)
    source = UnicodeAttribute(null=True)  # who or what recorded it: "api", "sms:STOP", a list
    detail = JSONAttribute(null=True)  # reasons of a refusal, evidence of a consent, ...
    revoked_at = UTCDateTimeAttribute(null=True)
    expires = TTLAttribute(null=True)


class RateCounter(_Base):
    """Fixed-window request counters (per client IP, per number), bumped with conditional ADDs;
    each window's item expires by TTL."""

    class Meta(_Base.Meta):
        short_name = "rate_limits"

    counter_key = UnicodeAttribute(hash_key=True)  # "<scope>#<subject>#<window start epoch>"
    hits = NumberAttribute(default=0)
    expires = TTLAttribute(null=True)


class MissedCallsByHotline(GlobalSecondaryIndex):
    """A hotline's missed calls by their latest miss: the API's list, newest first, no Scan.
    Sparse: the text-window guard items carry no ``hotline`` and stay out of it."""

    class Meta:
        index_name = "by_hotline"
        projection = AllProjection()

    hotline = UnicodeAttribute(hash_key=True)
    last_at = UTCDateTimeAttribute(range_key=True)


class MissedCall(_Base):
    """Calls we missed from one number to one hotline, merged into one record until resolved.

    ``contact`` is "<hotline digits>-<number digits>" (URL-safe). ``slot`` is ``open`` for the
    record repeat misses merge into (status open or followed_up), ``resolved#<time>`` once
    resolved (kept as history), and ``sms`` for the item that guards the "we missed you" text
    window. Every merge is one UpdateItem (``store.missed``): no read-modify-write.
    """

    class Meta(_Base.Meta):
        short_name = "missed_calls"

    contact = UnicodeAttribute(hash_key=True)
    slot = UnicodeAttribute(range_key=True)
    hotline = UnicodeAttribute(null=True)  # E.164
    caller = UnicodeAttribute(null=True)  # E.164
    status = UnicodeAttribute(null=True)  # open | followed_up | resolved
    miss_count = NumberAttribute(null=True)  # distinct calls missed
    first_at = UTCDateTimeAttribute(null=True)
    last_at = UTCDateTimeAttribute(null=True)
    reasons = UnicodeSetAttribute(null=True)  # abandoned, after_hours, voicemail, callback_failed
    last_reason = UnicodeAttribute(null=True)
    # the first calls merged (bounded), oldest first
    call_sids: ListAttribute[str] = ListAttribute(null=True)
    last_call_sid = UnicodeAttribute(null=True)
    language = UnicodeAttribute(null=True)
    queue_id = UnicodeAttribute(null=True)  # the queue the caller was in, if any
    sms_sent_at = UTCDateTimeAttribute(null=True)  # follow-up: the text sent
    sms_sid = UnicodeAttribute(null=True)
    callback_id = UnicodeAttribute(null=True)  # follow-up: the callback request made
    resolved_at = UTCDateTimeAttribute(null=True)
    resolved_by = UnicodeAttribute(null=True)
    note = UnicodeAttribute(null=True)
    window_until = UTCDateTimeAttribute(null=True)  # sms guard only: no other text before this
    version = NumberAttribute(null=True)  # bumped by every write to the open record
    expires = TTLAttribute(null=True)

    by_hotline = MissedCallsByHotline()


class ContactListEntry(_Base):
    """A contact list and everything in it, under the list's id (``store.contact_lists``):

    - ``list``: the list itself (name, default region, fallback zone);
    - ``chunk#<000042>``: one chunk received: its counts, header and digest (a re-sent chunk
      is answered from here);
    - ``row#<E.164>``: one contact; written only if absent (or by the same chunk and line, a
      retried chunk), so two chunks racing with one number store it once;
    - ``rejected#<chunk>#<line>``: a row not imported, with its reason and fields.
    """

    class Meta(_Base.Meta):
        short_name = "contact_lists"

    list_id = UnicodeAttribute(hash_key=True)
    entry = UnicodeAttribute(range_key=True)
    at = UTCDateTimeAttribute(null=True)
    name = UnicodeAttribute(null=True)  # the list's, or the contact's
    default_region = UnicodeAttribute(null=True)
    fallback_tz = UnicodeAttribute(null=True)
    allowed_regions: ListAttribute[str] = ListAttribute(null=True)
    chunk = NumberAttribute(null=True)
    line = NumberAttribute(null=True)
    language = UnicodeAttribute(null=True)
    timezone = UnicodeAttribute(null=True)
    attributes = JSONAttribute(null=True)  # a contact's free columns
    reason = UnicodeAttribute(null=True)  # a rejected row's
    fields: ListAttribute[str] = ListAttribute(null=True)  # a rejected row's, or a chunk's header
    counts = JSONAttribute(null=True)  # a chunk's: received, accepted, rejected, duplicates...
    digest = UnicodeAttribute(null=True)  # a chunk's body, SHA-256
    last = BooleanAttribute(null=True)  # a chunk: the client said no chunk follows


class CampaignsLive(GlobalSecondaryIndex):
    """Sparse: the campaigns the job looks at every minute (scheduled or running), one Query."""

    class Meta:
        index_name = "live"
        projection = KeysOnlyProjection()

    live = UnicodeAttribute(hash_key=True)  # "live" while scheduled or running


class CampaignsByCreation(GlobalSecondaryIndex):
    """Every campaign, newest last: ``GET /campaigns`` without a Scan."""

    class Meta:
        index_name = "by_creation"
        projection = KeysOnlyProjection()

    listing = UnicodeAttribute(hash_key=True)  # "campaign" on the campaign's own item
    created_at = UTCDateTimeAttribute(range_key=True)


class CampaignEntry(_Base):
    """A campaign and its running figures, under its id (``store.campaigns``):

    - ``campaign``: the campaign itself (``body``: its settings as JSON), ``status`` and
      ``version`` (every change is conditional on it);
    - ``hour#<YYYY-MM-DDTHH>``: that UTC hour's counters (dials, live answers, abandoned,
      machines...), bumped with atomic ADDs: the pacer's window and the live abandon rate;
    - ``ringing``: calls placed and not yet answered or ended (ADD +1 / -1);
    - ``seat#<agent_id>``: an agent connected to the campaign (agent campaigns).
    """

    class Meta(_Base.Meta):
        short_name = "campaigns"

    campaign_id = UnicodeAttribute(hash_key=True)
    entry = UnicodeAttribute(range_key=True)
    status = UnicodeAttribute(null=True)
    version = NumberAttribute(null=True)
    body = JSONAttribute(null=True)
    live = UnicodeAttribute(null=True)
    listing = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)
    dials = NumberAttribute(null=True)
    live_answers = NumberAttribute(null=True)
    abandoned = NumberAttribute(null=True)
    machine_answers = NumberAttribute(null=True)
    ringing = NumberAttribute(null=True)
    texts = NumberAttribute(null=True)
    talk_seconds = NumberAttribute(null=True)
    talks = NumberAttribute(null=True)
    answer_wait_seconds = NumberAttribute(null=True)
    answers_timed = NumberAttribute(null=True)
    # a seat's
    state = UnicodeAttribute(null=True)
    leg_sid = UnicodeAttribute(null=True)
    call_sid = UnicodeAttribute(null=True)
    contact = UnicodeAttribute(null=True)
    until = UTCDateTimeAttribute(null=True)
    expires = TTLAttribute(null=True)

    live_index = CampaignsLive()
    by_creation = CampaignsByCreation()


class CampaignContactsDue(GlobalSecondaryIndex):
    """Sparse: contacts waiting for their time (status ``waiting``), spread over shards per
    campaign so a 100,000-contact campaign is read with a few Queries and never a Scan."""

    class Meta:
        index_name = "due"
        projection = AllProjection()

    due_shard = UnicodeAttribute(hash_key=True)  # "<campaign_id>#0" .. "#7"
    due_at = UTCDateTimeAttribute(range_key=True)


class CampaignContactsByAccount(GlobalSecondaryIndex):
    """Sparse: the reminder contacts of one billing account, across campaigns (its reminder
    history), without a Scan."""

    class Meta:
        index_name = "by_account"
        projection = AllProjection()

    account_id = UnicodeAttribute(hash_key=True)


class CampaignContactItem(_Base):
    """One contact of one campaign (``campaigns.contact``); every change is conditional on
    ``version`` (``store.campaigns``)."""

    class Meta(_Base.Meta):
        short_name = "campaign_contacts"

    campaign_id = UnicodeAttribute(hash_key=True)
    phone = UnicodeAttribute(range_key=True)
    status = UnicodeAttribute()
    version = NumberAttribute(default=1)
    attempts = NumberAttribute(default=0)
    name = UnicodeAttribute(null=True)
    language = UnicodeAttribute(null=True)
    timezone = UnicodeAttribute(null=True)
    attributes = JSONAttribute(null=True)
    due_shard = UnicodeAttribute(null=True)  # set only while waiting (the sparse due index)
    due_at = UTCDateTimeAttribute(null=True)
    dial_by = UTCDateTimeAttribute(null=True)
    call_sid = UnicodeAttribute(null=True)
    outcome = UnicodeAttribute(null=True)
    disposition = UnicodeAttribute(null=True)
    answers = JSONAttribute(null=True)
    history = JSONAttribute(null=True)
    agent_id = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)

    account_id = UnicodeAttribute(null=True)  # a reminder contact's bill (attributes too)

    due = CampaignContactsDue()
    by_account = CampaignContactsByAccount()


class _TableMeta(MetaProtocol, Protocol):
    short_name: str  # the table's name after TABLE_PREFIX: every concrete model's Meta has one


class FactsByDay(GlobalSecondaryIndex):
    """Facts by UTC day and shard (``2026-11-30#3``): a rebuild reads a day's facts with one
    Query per shard, never a Scan."""

    class Meta:
        index_name = "by_day"
        projection = AllProjection()

    day_shard = UnicodeAttribute(hash_key=True)
    at = UTCDateTimeAttribute(range_key=True)


class FactItem(_Base):
    """One fact (``reports.facts.Fact``), written once under its own id. Its stream (new images)
    carries each fact to the rollups (``store.rollups``)."""

    class Meta(_Base.Meta):
        short_name = "facts"
        stream_view_type = "NEW_IMAGE"

    fact_id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    zone = UnicodeAttribute()
    scopes = JSONAttribute()  # {"queue": "support", "agent": "a-7", ...}
    figures = JSONAttribute()  # {"answered": 1, "wait_seconds": 12}: whole numbers
    day_shard = UnicodeAttribute()
    expires = TTLAttribute(null=True)

    by_day = FactsByDay()


class RollupItem(_Base):
    """The sums of facts per scope and local day (``key`` ``queue#support#2026-11-30``; ``slot``
    ``day`` or a half-hour ``HH:MM``), their counters as top-level numbers named like the facts'
    values; and the marks of facts applied (``key`` ``applied#<fact id>``, ``slot``
    ``applied``), so a fact delivered twice counts once."""

    class Meta(_Base.Meta):
        short_name = "rollups"

    key = UnicodeAttribute(hash_key=True)
    slot = UnicodeAttribute(range_key=True)
    expires = TTLAttribute(null=True)  # marks only: the stream redelivers for 24 h at most


ALL_MODELS: tuple[type[Model], ...] = (
    Hotline,
    FlowVersion,
    CallRecord,
    Voicemail,
    Customer,
    Account,
    PaymentItem,
    Message,
    OptOut,
    Ticket,
    AgentItem,
    AgentEvent,
    QueueItem,
    QueueMember,
    QueueEntry,
    Contact,
    QueueDay,
    CallbackRequest,
    CallbackLock,
    RateCounter,
    MissedCall,
    Claim,
    ComplianceEntry,
    ContactListEntry,
    CampaignEntry,
    CampaignContactItem,
    FactItem,
    RollupItem,
)

# Self-service sources a flow's *lookup* node may read, by the name used in flow files.
LOOKUP_SOURCES: dict[str, type[Model]] = {"accounts": Account, "customers": Customer}


def save_if_absent(item: Model, condition) -> bool:
    """Put ``item`` only if ``condition`` (its key ``does_not_exist()``) holds; False when an
    item with that key is there already (a retry, or the race's loser)."""
    try:
        item.save(condition=condition)
    except PutError as exc:
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def update_if(item: Model, actions: list, condition) -> bool:
    """Apply ``actions`` to ``item`` only if ``condition`` holds; False when it did not."""
    try:
        item.update(actions=actions, condition=condition)
    except UpdateError as exc:
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def delete_if(item: Model, condition) -> bool:
    """Delete ``item`` only if ``condition`` holds; False when it did not (or it is gone)."""
    try:
        item.delete(condition=condition)
    except DeleteError as exc:
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def transaction_connection() -> Connection:
    """The connection transactions run on: the container's shared one."""
    return connection.shared_connection()


def bind_models(settings: Settings | None = None) -> None:
    """Point every model at this stage's tables and endpoint.

    PynamoDB caches a connection per model, so it is reset here too (see PITFALLS.md).
    """
    settings = settings or get_settings()
    _Base.Meta.region = settings.aws_region
    _Base.Meta.host = settings.dynamodb_endpoint
    connection.bind(settings.aws_region, settings.dynamodb_endpoint)
    for model in ALL_MODELS:
        meta = cast(_TableMeta, model.Meta)
        meta.table_name = settings.table_prefix + meta.short_name
        meta.region = settings.aws_region
        meta.host = settings.dynamodb_endpoint
        model._connection = None


bind_models()
