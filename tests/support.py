"""Constants shared by the test harness and the tests (importable, unlike conftest modules)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST_TOKEN = "test-auth-token-not-a-secret"
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
    ``fail_with`` makes placing a call raise."""

    def __init__(self):
        import threading

        self.urls: dict[str, str] = {}
        self.twiml: dict[str, str] = {}
        self.placed: list[dict] = []
        self.hung_up: list[str] = []
        self.gone: set[str] = set()
        self.fail_with: Exception | None = None
        self.lock = threading.Lock()

    def redirect(self, call_sid, url):
        self.urls[call_sid] = url

    def redirect_twiml(self, call_sid, twiml):
        if call_sid in self.gone:
            raise RuntimeError("21220 Call is not in-progress")
        self.twiml[call_sid] = twiml

    def place_call(self, *, to, from_, url, status_callback, machine_detection=None):
        if self.fail_with is not None:
            raise self.fail_with
        import uuid

        sid = "CA" + uuid.uuid4().hex
        with self.lock:
            self.placed.append({"sid": sid, "to": to, "from": from_, "url": url,
                                "status_callback": status_callback, "amd": machine_detection})
        return sid

    def hangup(self, call_sid):
        self.hung_up.append(call_sid)
