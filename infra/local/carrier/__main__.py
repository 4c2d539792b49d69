"""Command line: ``serve`` the REST emulator, or place a test ``call`` into the app.

    python -m infra.local.carrier serve --port 8100 --app-url http://127.0.0.1:8000
    python -m infra.local.carrier call --to +14155550100 --from +14155550111 [--script "1,h"]
    python -m infra.local.carrier scripts campaign.csv [--emulator http://127.0.0.1:8100]

``call`` goes through a running ``serve`` (so the app's REST requests — dequeues, redirects —
reach the call) when one answers on ``--emulator`` (default ``$TWILIO_API_BASE`` or :8100),
otherwise it runs the call in this process. Exit code: 0 for a clean call, 2 when the app
produced errors (application error, failed webhook, limits), 1 for usage/connection problems.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import time
from typing import Any

from . import DEFAULT, Carrier, load_answer_scripts, make_server
from .session import Action, CallTranscript, HoldPlan, describe, parse_reply


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    if args.command == "serve":
        return serve(args)
    if args.command == "sms":
        return text(args)
    if args.command == "scripts":
        return post_scripts(args)
    return call(args)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m infra.local.carrier",
                                description="Local Twilio carrier emulator for Switchboard.")
    sub = p.add_subparsers(dest="command", required=True)
    for name in ("serve", "call"):
        s = sub.add_parser(name)
        s.add_argument("--app-url", default=None,
                       help="the app's public base URL (default http://127.0.0.1:8000)")
        s.add_argument("--voice-url", help="inbound voice URL (default APP/twilio/voice)")
        s.add_argument("--status-url", help="status callback (default APP/twilio/voice/status;"
                                            " 'none' to disable)")
        s.add_argument("--fallback-url", help="fallback (default APP/twilio/voice/fallback;"
                                              " 'none' to disable)")
        s.add_argument("--music-seconds", type=float, default=30.0,
                       help="virtual length of one <Play> loop")
        s.add_argument("--hold-pace", type=float, default=None,
                       help="real seconds to wait between hold-loop passes (default 1; 0 = "
                            "none; for `call` through a server, the server's setting)")
        s.add_argument("-v", "--verbose", action="store_true")
    serve_p = sub.choices["serve"]
    serve_p.add_argument("--host", default="127.0.0.1")
    serve_p.add_argument("--port", type=int, default=8100)
    serve_p.add_argument("--answer-scripts", metavar="FILE",
                         help="callees' answer scripts: JSON {number: [steps] or \"a,b\"} "
                              "or CSV number,script")
    serve_p.add_argument("--cps-limit", type=int, default=None,
                         help="refuse Calls.json beyond N per second (HTTP 429, code 20429)")
    serve_p.add_argument("--amd-false-positive-rate", type=float, default=0.0,
                         help="share of people AMD reports as machines (0-1)")
    serve_p.add_argument("--seed", type=int, default=0, help="seed for the AMD mistakes")
    serve_p.add_argument("--client-pace", type=float, default=1.0,
                         help="virtual seconds per real second while a softphone (a registered "
                              "client identity) rings or talks")
    serve_p.add_argument("--live-seconds", type=float, default=4 * 3600,
                         help="real seconds a live talk or an agent's open line waits "
                              "(default 4 h)")
    call_p = sub.choices["call"]
    call_p.add_argument("--to", required=True)
    call_p.add_argument("--from", dest="from_", required=True)
    call_p.add_argument("--script", help='caller steps, e.g. "1,2,79927398713#,hangup"')
    call_p.add_argument("--json", action="store_true", help="print the transcript as JSON")
    call_p.add_argument("--emulator", default=os.environ.get("TWILIO_API_BASE",
                                                             "http://127.0.0.1:8100"),
                        help="a running `serve` to place the call through")
    call_p.add_argument("--local", action="store_true",
                        help="run the call in this process even if a server answers")
    sms_p = sub.add_parser("sms", help="text the app's number (e.g. an agent's ON/OFF)")
    sms_p.add_argument("--to", required=True)
    sms_p.add_argument("--from", dest="from_", required=True)
    sms_p.add_argument("--body", required=True)
    sms_p.add_argument("--app-url", default=None)
    sms_p.add_argument("--emulator", default=os.environ.get("TWILIO_API_BASE",
                                                            "http://127.0.0.1:8100"),
                       help="a running `serve`, which signs the text with its credentials")
    sms_p.add_argument("--local", action="store_true", help="sign and send from this process")
    sms_p.add_argument("-v", "--verbose", action="store_true")
    scripts_p = sub.add_parser("scripts", help="load callees' answer scripts into a running "
                                               "`serve` (JSON or CSV file)")
    scripts_p.add_argument("file")
    scripts_p.add_argument("--emulator", default=os.environ.get("TWILIO_API_BASE",
                                                                "http://127.0.0.1:8100"))
    scripts_p.add_argument("-v", "--verbose", action="store_true")
    return p


def post_scripts(args: argparse.Namespace) -> int:
    """Check a scripts file here (a typo names its number), then post it to ``serve``."""
    import requests

    try:
        scripts = load_answer_scripts(args.file)
    except (OSError, ValueError) as exc:
        print(f"cannot use {args.file}: {exc}", file=sys.stderr)
        return 1
    url = args.emulator.rstrip("/") + "/_emulator/answer-scripts"
    try:
        response = requests.post(url, json=scripts, timeout=30)
    except requests.RequestException as exc:
        print(f"no emulator at {args.emulator}: {exc}", file=sys.stderr)
        return 1
    if not response.ok:
        print(f"the emulator refused: {response.status_code} {response.text}", file=sys.stderr)
        return 2
    body = response.json()
    print(f"set {body['set']} answer script(s); {body['total']} in all")
    return 0


def text(args: argparse.Namespace) -> int:
    """Send one inbound SMS to the app, signed as Twilio would, and print the reply."""
    import xml.etree.ElementTree as ElementTree

    import requests

    try:
        if args.local:
            raise requests.ConnectionError("--local")
        answer = requests.post(f"{args.emulator}/_emulator/inbound-sms", timeout=20, json={
            "to": args.to, "from": args.from_, "body": args.body}).json()
        status, body = answer["status"], answer["body"]
    except requests.ConnectionError:
        if not app_answers(args):
            return 2
        carrier = Carrier(app_url=args.app_url or "http://127.0.0.1:8000",
                          account_sid=os.environ.get("TWILIO_ACCOUNT_SID"),
                          auth_token=os.environ.get("TWILIO_AUTH_TOKEN"))
        status, body = carrier.send_inbound_sms(args.to, args.from_, args.body)
    if status != 200:
        print(f"the app answered {status}: {body}", file=sys.stderr)
        return 2
    replies = [m.text or "" for m in ElementTree.fromstring(body).iter("Message")]
    print("\n".join(f"↩ {reply}" for reply in replies) or "(no reply)")
    return 0


def url_option(value: str | None) -> Any:
    if value is None:
        return DEFAULT
    return None if value.lower() in ("none", "off", "") else value


def make_carrier(args: argparse.Namespace) -> Carrier:
    return Carrier(app_url=args.app_url or "http://127.0.0.1:8000",
                   cps_limit=getattr(args, "cps_limit", None),  # serve's campaign knobs
                   amd_false_positive_rate=getattr(args, "amd_false_positive_rate", 0.0),
                   seed=getattr(args, "seed", 0),
                   client_pace=getattr(args, "client_pace", 1.0),
                   account_sid=os.environ.get("TWILIO_ACCOUNT_SID"),
                   auth_token=os.environ.get("TWILIO_AUTH_TOKEN"),
                   voice_url=args.voice_url, status_url=url_option(args.status_url),
                   fallback_url=url_option(args.fallback_url),
                   music_seconds=args.music_seconds,
                   hold_pace=1.0 if args.hold_pace is None else args.hold_pace)


# --------------------------------------------------------------------------- serve


def serve(args: argparse.Namespace) -> int:
    carrier = make_carrier(args)
    # a campaign's agents wait in their rooms for as long as a shift, not a test's two minutes
    carrier.limits.live_seconds = args.live_seconds
    if args.answer_scripts:
        try:
            count = carrier.set_answer_scripts(load_answer_scripts(args.answer_scripts))
        except (OSError, ValueError) as exc:
            print(f"cannot use {args.answer_scripts}: {exc}", file=sys.stderr)
            return 1
        print(f"{count} answer script(s) from {args.answer_scripts}", flush=True)
    server = make_server(carrier, args.host, args.port)
    print(f"carrier emulator on {server.url}  (app {carrier.app_url}, "
          f"account {carrier.account_sid[:6]}…)", flush=True)
    print(f"  inbound voice {carrier.voice_url}\n  status {carrier.status_url}\n"
          f"  fallback {carrier.fallback_url}\n  control {server.url}/_emulator/health",
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


# --------------------------------------------------------------------------- call


class TerminalInput:
    """Asks the person at the terminal (or reads piped lines; EOF hangs up)."""

    interactive = True

    def __init__(self, stdin=None, stdout=None) -> None:
        self.stdin, self.stdout = stdin or sys.stdin, stdout or sys.stdout

    def _ask(self, kind: str, prompt: str) -> Action:
        while True:
            self.stdout.write(prompt)
            self.stdout.flush()
            line = self.stdin.readline()
            echo_if_piped(self.stdin, self.stdout, line)
            try:
                return parse_reply(kind, line.rstrip("\n") if line else None)
            except ValueError as exc:
                self.stdout.write(f"  ? {exc}\n")

    def answer(self) -> str:
        return "human"

    def gather(self, spec: dict[str, Any]) -> Action:
        return self._ask("gather", gather_prompt(spec))

    def record(self, spec: dict[str, Any]) -> Action:
        return self._ask("record", RECORD_PROMPT)

    def dial(self, spec: dict[str, Any]) -> None:
        return None

    def hold(self, spec: dict[str, Any]) -> HoldPlan:
        self.stdout.write("  (on hold — Ctrl-C hangs up)\n")
        return HoldPlan()


RECORD_PROMPT = "record> seconds[:transcript] (empty = silence, h = hang up) "


def gather_prompt(spec: dict[str, Any]) -> str:
    modes = "/".join(spec.get("input", ["dtmf"]))
    return f"keys> [{modes}; s:words = speech, empty = timeout, h = hang up] "


def show(event: dict[str, Any], verbose: bool = False) -> None:
    kind = event["type"]
    if kind == "say":
        tag = "/".join(x for x in (event.get("voice"), event.get("language")) if x)
        print(f"🔊 [{tag}] {event['text']}", flush=True)
    elif kind == "play":
        print(f"♪ {event.get('url') or 'digits ' + str(event.get('digits'))}", flush=True)
    elif kind in ("webhook", "pause", "gather", "record") and not verbose:
        return
    elif kind == "hangup":
        print(f"☎ call ended: {event['status']} ({event['by']}), {event['duration']}s",
              flush=True)
    else:
        print(describe(event), flush=True)


def call(args: argparse.Namespace) -> int:
    if not args.local and server_answers(args.emulator):
        return call_via_server(args)
    if not app_answers(args):
        return 2
    carrier = make_carrier(args)
    interactive = args.script is None
    options: dict[str, Any] = {}
    if interactive:
        options = {"input": TerminalInput(), "on_event": lambda e: show(e, args.verbose)}
    try:
        t = carrier.place_inbound_call(args.to, args.from_, args.script, **options)
    except KeyboardInterrupt:
        t = next(iter(carrier.calls.values())).transcript
    return report(t.to_dict(), args, printed=interactive)


def report(t: dict[str, Any], args: argparse.Namespace, printed: bool) -> int:
    if args.json:
        print(json.dumps(t, indent=2))
    elif not printed:
        print(CallTranscript(t["call_sid"], t["direction"], t["from"], t["to"],
                             status=t["status"], duration=t["duration"], events=t["events"],
                             errors=t["errors"]).format_text())
    for error in t["errors"]:
        print(f"!! error {error['code']}: {error['message']} ({error.get('url')})",
              file=sys.stderr)
    return 2 if t["errors"] or t.get("application_error") else 0


# ---- through a running server -------------------------------------------------------------


def app_answers(args: argparse.Namespace) -> bool:
    """Does anything answer at the app's URL? If not, say so in a sentence, not a traceback."""
    import requests

    url = (args.app_url or "http://127.0.0.1:8000").rstrip("/")
    try:
        requests.get(url + "/", timeout=2)
    except requests.RequestException:
        print(f"nothing answers at {url}: is `make run` running? (or pass --app-url)",
              file=sys.stderr)
        return False
    return True


def server_answers(base: str) -> bool:
    import requests

    try:
        return requests.get(base.rstrip("/") + "/_emulator/health", timeout=0.5).ok
    except requests.RequestException:
        return False


def call_via_server(args: argparse.Namespace) -> int:
    import requests

    base = args.emulator.rstrip("/") + "/_emulator"
    payload: dict[str, Any] = {"to": args.to, "from": args.from_, "script": args.script}
    if args.hold_pace is not None:
        payload["hold_pace"] = args.hold_pace
    for key in ("voice_url", "status_url", "fallback_url"):
        if getattr(args, key):
            payload[key] = url_option(getattr(args, key))
    if args.app_url and not args.voice_url:
        payload["voice_url"] = args.app_url.rstrip("/") + "/twilio/voice"
    # Ctrl-C must reach us even when a shell started us in the background (which leaves
    # SIGINT ignored, and Python then installs no KeyboardInterrupt handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if args.script is not None:
        # started at once and watched, so Ctrl-C can hang up a call a script keeps live
        # (``dial:completed:live``) instead of leaving it on the emulator
        response = requests.post(base + "/inbound", json={**payload, "async": True}, timeout=10)
        response.raise_for_status()
        sid = response.json()["call_sid"]
        try:  # said inside the try: once the line is out, Ctrl-C hangs the call up
            print(f"call {sid} placed; Ctrl-C hangs it up", file=sys.stderr, flush=True)
            while not requests.get(f"{base}/calls/{sid}/poll", params={"since": 0},
                                   timeout=10).json()["done"]:
                time.sleep(0.2)
        except KeyboardInterrupt:
            requests.post(f"{base}/calls/{sid}/hangup", timeout=10)
            time.sleep(0.5)
        return report(requests.get(f"{base}/calls/{sid}", timeout=10).json(), args,
                      printed=False)
    payload["interactive"] = True
    sid = requests.post(base + "/inbound", json=payload, timeout=10).json()["call_sid"]
    seen, asked = 0, None
    try:
        while True:
            state = requests.get(f"{base}/calls/{sid}/poll", params={"since": seen},
                                 timeout=10).json()
            for event in state["events"]:
                show(event, args.verbose)
            seen = state["next"]
            if state["done"]:
                break
            waiting = state["waiting"]
            if waiting and waiting["id"] != asked:
                asked = waiting["id"]
                prompt = (RECORD_PROMPT if waiting["kind"] == "record"
                          else gather_prompt(waiting["spec"]))
                line = input_line(prompt)
                requests.post(f"{base}/calls/{sid}/input", json={"line": line}, timeout=10)
            else:
                time.sleep(0.2)
    except KeyboardInterrupt:
        requests.post(f"{base}/calls/{sid}/hangup", timeout=10)
        time.sleep(0.5)
    transcript = requests.get(f"{base}/calls/{sid}", timeout=10).json()
    return report(transcript, args, printed=True)


def input_line(prompt: str) -> str | None:
    sys.stdout.write(prompt)
    sys.stdout.flush()
    line = sys.stdin.readline()
    echo_if_piped(sys.stdin, sys.stdout, line)
    return line.rstrip("\n") if line else None


def echo_if_piped(stdin, stdout, line: str) -> None:
    """A terminal echoes what was typed; piped input would leave the prompt line open."""
    isatty = getattr(stdin, "isatty", lambda: False)
    if not isatty():
        stdout.write(line.rstrip("\n") + "\n" if line else "(EOF: hang up)\n")


if __name__ == "__main__":
    sys.exit(main())
