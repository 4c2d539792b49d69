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
