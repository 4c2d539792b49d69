"""Cold start of one Lambda container, for ``make bench`` (run from ``tests/bench/run.py``).

Every sample is a fresh interpreter doing what a new Lambda container does: ``import app`` (the
init phase), then Twilio's webhooks handed to the app as API Gateway REST events, the way the
Lambda runtime calls Chalice (no test client in between), against DynamoDB Local with the demo
data. Two kinds of sample, interleaved so both see the same machine load:

* ``voice``: the first signed ``/twilio/voice`` (a real call answer), then a second one for
  another call, then the IVR walk of the step bench; botocore clients are counted by wrapping
  ``botocore.session.Session.create_client`` before anything imports botocore;
* ``constant``: the first webhook is the constant-TwiML baseline (``baseline.py``), mounted on
  the same app behind the same signature check.

The figure with a target is the first call answer against ``import app`` plus a first constant
webhook (≤ 3×), and one botocore client per container.

With a package directory (the extracted ``make package`` zip) the same samples run from it under
``python -S`` with bytecode writing off: only the package and the standard library are on the
path, and nothing is compiled ahead, as on Lambda, whose ``/var/task`` is read-only.

This file is also the child: ``python tests/bench/cold_start.py voice|constant``, with the
settings in the environment; it prints one JSON line.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import os
import re
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
STAGE = "api"  # API Gateway's stage prefix, as in .chalice/config.json
WALK = ["1", "9", "9", "3"]  # the step bench's caller: language, menu "9" twice, "3" voicemail


def main(base: str, token: str, hotline: str, runs: int,
         sources: dict[str, Path | None]) -> dict[str, dict]:
    """Cold-start figures for each source of the app (label -> ``None`` for the work tree and
    its virtualenv, or an extracted package directory): ``runs`` fresh processes of each kind
    per source, all interleaved so every source sees the same machine load; medians printed."""
    commands = {label: _command(base, token, hotline, where) for label, where in sources.items()}
    for label, where in sources.items():
        if where is None:  # one discarded pair: the work tree's bytecode is written first
            _sample(commands[label], "voice"), _sample(commands[label], "constant")
    samples: dict[str, dict[str, list[dict]]] = {
        label: {"voice": [], "constant": []} for label in sources}
    for _ in range(runs):
        for label in sources:
            for kind in ("voice", "constant"):
                samples[label][kind].append(_sample(commands[label], kind))
    figures = {}
    for label in sources:
        figures[label] = _print_figures(label, runs, **samples[label])
    return figures


def _command(base: str, token: str, hotline: str, where: Path | None) -> dict:
    env = {**os.environ, "BENCH_BASE": base, "BENCH_TOKEN": token, "BENCH_HOTLINE": hotline}
    argv = [sys.executable, str(Path(__file__).resolve())]
    if where is not None:
        argv.insert(1, "-S")  # no site-packages: the package and the standard library only
        env.update(PYTHONPATH=str(where), PYTHONDONTWRITEBYTECODE="1", BENCH_FROM_PACKAGE="1")
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.pop("BENCH_FROM_PACKAGE", None)
    return {"argv": argv, "env": env, "cwd": where or ROOT}


def _sample(command: dict, kind: str) -> dict:
    out = subprocess.run([*command["argv"], kind], cwd=command["cwd"], env=command["env"],
                         capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise RuntimeError(f"cold-start child ({kind}) failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _print_figures(label: str, runs: int, voice: list[dict], constant: list[dict]) -> dict:
    def med(samples: list[dict], key: str) -> float:
        return statistics.median(s[key] for s in samples)

    imp, first, second = med(voice, "import_ms"), med(voice, "first_ms"), med(voice, "second_ms")
    first_cpu = med(voice, "first_cpu_ms")
    const_total = statistics.median(s["import_ms"] + s["first_ms"] for s in constant)
    const_cpu = statistics.median(s["import_cpu_ms"] + s["first_cpu_ms"] for s in constant)
    clients_first = [s["clients_after_first"] for s in voice]
    clients_walk = [s["clients_after_walk"] for s in voice]
    print(f"cold start, {label} ({runs} fresh processes of each kind, medians; CPU time in"
          " brackets):")
    print(f"  import app:                       {imp:7.1f} ms  [{med(voice, 'import_cpu_ms'):.0f}]")
    print(f"  first /twilio/voice (call answer): {first:7.1f} ms  [{first_cpu:.0f}]"
          f"   second: {second:5.1f} ms   first / second: {first / second:5.1f}x")
    print(f"  import app + first constant-TwiML webhook: {const_total:6.1f} ms  [{const_cpu:.0f}]"
          f";  first answer / that: {first / const_total:4.2f}x  [{first_cpu / const_cpu:4.2f}x]"
          "   (target <= 3x)")
    print(f"  import app + first answer:        {imp + first:7.1f} ms"
          f"  = {(imp + first) / const_total:4.2f}x import + constant")
    print(f"  botocore clients per container:   {statistics.median(clients_first):g} after the"
          f" first answer (range {min(clients_first)}-{max(clients_first)}),"
          f" {statistics.median(clients_walk):g} after a second answer and a"
          f" {len(WALK)}-step IVR walk   (target 1)")
    return {"import_ms": imp, "first_ms": first, "second_ms": second,
            "import_constant_ms": const_total, "clients": statistics.median(clients_walk)}


# --- the child -------------------------------------------------------------------------------

def count_botocore_clients() -> list[int]:
    """Wrap ``botocore.session.Session.create_client`` as soon as botocore.session is imported,
    without importing it now (that would move its cost out of ``import app``)."""
    import importlib.abc
    import importlib.machinery

    created = [0]

    def wrap(module) -> None:
        original = module.Session.create_client

        def create_client(self, *args, **kwargs):
            created[0] += 1
            return original(self, *args, **kwargs)

        module.Session.create_client = create_client

    class Hook(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name != "botocore.session":
                return None
            sys.meta_path.remove(self)
            spec = importlib.machinery.PathFinder.find_spec(name, path)
            exec_module = spec.loader.exec_module

            def exec_and_wrap(module):
                exec_module(module)
                wrap(module)

            spec.loader.exec_module = exec_and_wrap
            return spec

    sys.meta_path.insert(0, Hook())
    return created


def twilio_signature(token: str, url: str, params: dict[str, str]) -> str:
    """Twilio's webhook signature (HMAC-SHA1 of the URL and the sorted parameters)."""
    payload = url + "".join(key + params[key] for key in sorted(params))
    digest = hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def api_gateway_event(path: str, params: dict[str, str], signature: str, host: str,
                      resource: str, path_params: dict | None) -> dict:
    """A REST API (v1) proxy event for a form POST, as API Gateway hands it to Lambda."""
    split = urlsplit(path)
    query = parse_qs(split.query, keep_blank_values=True) or None
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Host": host,
        "User-Agent": "TwilioProxy/1.1",
        "X-Twilio-Signature": signature,
        "I-Twilio-Idempotency-Token": str(uuid.uuid4()),
    }
    return {
        "resource": resource,
        "path": split.path,
        "httpMethod": "POST",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in query.items()} if query else None,
        "multiValueQueryStringParameters": query,
        "pathParameters": path_params,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": "POST",
            "path": f"/{STAGE}{split.path}",
            "stage": STAGE,
            "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": "54.172.60.0"},
        },
        "body": urlencode(params),
        "isBase64Encoded": False,
    }


def child(kind: str) -> None:
    if sys.path and Path(sys.path[0]).resolve() == HERE:
        sys.path.pop(0)  # the bench's own modules must not shadow anything
    if not os.environ.get("BENCH_FROM_PACKAGE"):
        sys.path.insert(0, str(ROOT))  # the work tree's app; else the package's, on PYTHONPATH
    clients = count_botocore_clients()
    base, token = os.environ["BENCH_BASE"], os.environ["BENCH_TOKEN"]
    hotline = os.environ["BENCH_HOTLINE"]
    host = urlsplit(base).netloc

    started, started_cpu = time.perf_counter(), time.process_time()
    import app as app_module

    import_ms = (time.perf_counter() - started) * 1000
    import_cpu_ms = (time.process_time() - started_cpu) * 1000
    app = app_module.app

    def route_of(path: str) -> tuple[str, dict | None]:
        """The route template and path parameters, as API Gateway resolves them."""
        for template in app.routes:
            match = re.fullmatch(re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template), path)
            if match:
                return template, match.groupdict() or None
        raise LookupError(path)

    context = type("LambdaContext", (), {
        "function_name": "switchboard-bench", "memory_limit_in_mb": 512,
        "aws_request_id": str(uuid.uuid4()),
        "get_remaining_time_in_millis": staticmethod(lambda: 20000)})()

    def post(path: str, params: dict[str, str]) -> tuple[float, float, str]:
        params = {"AccountSid": "AC" + "0" * 32, **params}
        resource, path_params = route_of(urlsplit(path).path)
        event = api_gateway_event(path, params, twilio_signature(token, base + path, params),
                                  host, resource, path_params)
        began, began_cpu = time.perf_counter(), time.process_time()
        response = app(event, context)
        elapsed = (time.perf_counter() - began) * 1000
        cpu = (time.process_time() - began_cpu) * 1000
        if response["statusCode"] != 200:
            raise RuntimeError(f"{path}: {response['statusCode']} {response.get('body')}")
        return elapsed, cpu, response["body"]

    def call() -> dict[str, str]:
        return {"CallSid": "CA" + uuid.uuid4().hex, "From": "+14155550177", "To": hotline,
                "CallStatus": "ringing", "Direction": "inbound"}

    result = {"import_ms": import_ms, "import_cpu_ms": import_cpu_ms}
    if kind == "constant":
        baseline = _load_baseline()
        baseline.add_constant_route(app)
        result["first_ms"], result["first_cpu_ms"], _ = post(baseline.CONSTANT_PATH, call())
    else:
        result["first_ms"], result["first_cpu_ms"], _ = post("/twilio/voice", call())
        result["clients_after_first"] = clients[0]
        second = call()
        result["second_ms"], _, body = post("/twilio/voice", second)
        action = re.compile(r'action="' + re.escape(base) + r'([^"]+)"')
        for digit in WALK:
            found = action.search(body)
            if not found:
                raise RuntimeError(f"nowhere to press {digit} in: {body}")
            step = {**second, "CallStatus": "in-progress", "Digits": digit}
            _, _, body = post(html.unescape(found.group(1)), step)
        result["clients_after_walk"] = clients[0]
    print(json.dumps(result))


def _load_baseline():
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_baseline", HERE / "baseline.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


if __name__ == "__main__":
    child(sys.argv[1])
