"""Constants shared by the test harness and the tests (importable, unlike conftest modules)."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST_TOKEN = "test-auth-token-not-a-secret"
TEST_API_KEY_SID = "SK" + "ab" * 16
TEST_API_KEY_SECRET = "test-api-key-secret-not-a-secret"
TEST_CONSOLE_SIGNING_KEY = "test-console-signing-key-not-a-secret-0123456789"
TEST_ACCOUNT = "AC" + "7e57" * 8
PUBLIC_BASE_URL = "https://switchboard.test/api"  # a stage prefix, as behind API Gateway


class Clock:
    """A settable clock for the services under test (hours, timestamps, dispatch)."""

    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


class FakeTwilio:
    """Twilio's REST edge for routing tests: records the redirects, calls and hang-ups we would
    send (DynamoDB stays real). ``gone`` legs refuse redirects as Twilio does (21220);
    ``fail_with`` makes placing a call raise; ``states`` is what the Calls resource answers
    (``unreachable``: nothing answers)."""

    def __init__(self):
        import threading

        self.urls: dict[str, str] = {}
        self.twiml: dict[str, str] = {}
        self.placed: list[dict] = []
        self.hung_up: list[str] = []
        self.gone: set[str] = set()
        self.states: dict[str, tuple[str, int]] = {}  # call sid -> (CallStatus, duration)
        self.unreachable = False
        self.fail_with: Exception | None = None
        self.fail_for: dict[str, Exception] = {}  # number -> what placing a call to it raises
        self.participants: dict[str, dict] = {}  # conference participants we added
        self.lock = threading.Lock()

    def redirect(self, call_sid, url):
        if call_sid in self.gone:
            from chalicelib.telephony.rest import CallGone

            raise CallGone(call_sid)
        self.urls[call_sid] = url

    def redirect_twiml(self, call_sid, twiml):
        if call_sid in self.gone:
            from chalicelib.telephony.rest import CallGone

            raise CallGone(call_sid)
        self.twiml[call_sid] = twiml

    def place_call(self, *, to, from_, url, status_callback, machine_detection=None,
                   ring_seconds=None, amd_callback=None):
        if self.fail_with is not None:
            raise self.fail_with
        if to in self.fail_for:
            raise self.fail_for[to]
        import uuid

        sid = "CA" + uuid.uuid4().hex
        with self.lock:
            self.placed.append({"sid": sid, "to": to, "from": from_, "url": url,
                                "status_callback": status_callback, "amd": machine_detection,
                                "ring_seconds": ring_seconds, "amd_callback": amd_callback})
        return sid

    def hangup(self, call_sid):
        self.hung_up.append(call_sid)

    def add_participant(self, room, *, to, from_, muted, coach, status_callback, ring_seconds):
        """A conference participant is called (``participants``: sid -> its flags)."""
        if self.fail_with is not None:
            raise self.fail_with
        import uuid

        sid = "CA" + uuid.uuid4().hex
        with self.lock:
            self.participants[sid] = {"room": room, "to": to, "from": from_, "muted": muted,
                                      "coach": coach, "status_callback": status_callback,
                                      "conference_sid": "CF" + uuid.uuid4().hex}
        return sid, self.participants[sid]["conference_sid"]

    def update_participant(self, conference_sid, call_sid, *, muted, coach):
        if call_sid in self.gone:
            from chalicelib.telephony.rest import CallGone

            raise CallGone(call_sid)
        assert self.participants[call_sid]["conference_sid"] == conference_sid
        self.participants[call_sid].update(muted=muted, coach=coach)

    def call_state(self, call_sid):
        """What Twilio's Calls resource says: ``states[sid]`` or, unknown, None."""
        if self.unreachable:
            raise ConnectionError("Twilio's API is unreachable")
        return self.states.get(call_sid)


class TableSnapshot:
    """Every item of every table, captured once; before each test the items written since are
    put back as they were: each test starts from the same data (the demo) and sees nothing
    another test wrote, whatever the order.

    Jobs such as the sweeper and the callback dispatcher walk every queue and every due request,
    so per-test ids alone cannot keep tests apart; a database holding only the demo can. Writes
    are noted as they happen (every botocore client in this process), so a restore is one
    BatchWriteItem per table touched, with no scan.
    """

    WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")

    def __init__(self):
        self.items: dict[str, dict[tuple, dict]] = {}  # table -> key -> item
        self.keys: dict[str, list[str]] = {}  # table -> key attribute names
        self.written: dict[str, set[tuple]] = {}  # table -> keys written since the restore

    def capture(self) -> TableSnapshot:
        from chalicelib.store.models import ALL_MODELS, transaction_connection

        client = transaction_connection().client
        for model in ALL_MODELS:
            table = model.Meta.table_name
            self.keys[table] = [model._hash_keyname] + (
                [model._range_keyname] if model._range_keyname else [])
            self.items[table] = {self._key(table, item): item for item in _scan(client, table)}
        return self

    def _key(self, table: str, item: dict) -> tuple:
        return tuple(next(iter(item[name].items())) for name in self.keys[table])

    def track_writes(self) -> TableSnapshot:
        from botocore.client import BaseClient

        original = BaseClient._make_api_call
        snapshot = self

        def make_api_call(client, operation, params):
            result = original(client, operation, params)
            # only writes DynamoDB took: a refused one (a failed condition, an impossible key)
            # changed nothing, and its key may not even be valid to delete
            if operation in snapshot.WRITES:
                for table, item in _written_keys(operation, params):
                    if table in snapshot.keys:
                        snapshot.written.setdefault(table, set()).add(snapshot._key(table, item))
            return result

        BaseClient._make_api_call = make_api_call
        return self

    def restore(self) -> None:
        from chalicelib.store.models import transaction_connection

        client = transaction_connection().client
        written, self.written = self.written, {}
        for table, keys in written.items():
            names = self.keys[table]
            baseline = self.items.get(table, {})
            requests = [
                {"PutRequest": {"Item": baseline[key]}} if key in baseline else
                {"DeleteRequest": {"Key": {name: dict([part])
                                           for name, part in zip(names, key, strict=True)}}}
                for key in keys
            ]
            for start in range(0, len(requests), 25):
                pending = {table: requests[start:start + 25]}
                while pending:
                    pending = client.batch_write_item(RequestItems=pending).get(
                        "UnprocessedItems") or None
        # writes made by the restore itself are not news
        self.written = {}


def _scan(client, table: str) -> list[dict]:
    items, start = [], None
    while True:
        page = client.scan(TableName=table, ConsistentRead=True,
                           **({"ExclusiveStartKey": start} if start else {}))
        items.extend(page.get("Items", []))
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


def _written_keys(operation: str, params: dict):
    """(table, item or key) for every item an operation may write."""
    if operation == "BatchWriteItem":
        for table, requests in params.get("RequestItems", {}).items():
            for request in requests:
                if "PutRequest" in request:
                    yield table, request["PutRequest"]["Item"]
                else:
                    yield table, request["DeleteRequest"]["Key"]
    elif operation == "TransactWriteItems":
        for item in params.get("TransactItems", []):
            for kind, action in item.items():
                if kind != "ConditionCheck":
                    yield action["TableName"], action.get("Item") or action["Key"]
    elif operation == "PutItem":
        yield params["TableName"], params["Item"]
    else:
        yield params["TableName"], params["Key"]
