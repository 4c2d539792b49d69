"""The REST emulator: Twilio's API paths (calls, messages, queue members, conference participants)
on a local port, plus a small control API under ``/_emulator/`` for tests and humans.

Shapes follow Twilio's JSON resources closely enough that the official ``twilio`` client parses
them, and refusals carry Twilio's error codes (20003, 20404, 21211, 21610, ...), so the app's
error handling is exercised as it would be in production.
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from . import amd
from .clock import rfc2822
from .participants import conference_rest
from .scripts import parse_text
from .session import Action, HoldPlan, parse_reply
from .signing import API_VERSION, mask_text

if TYPE_CHECKING:
    from . import Carrier
    from .session import Call

log = logging.getLogger("switchboard.carrier.rest")

Reply = tuple[int, dict[str, Any] | list[Any] | bytes, dict[str, str]]

ACCOUNT = re.compile(rf"^/{API_VERSION}/Accounts/(?P<account>[^/]+)(?P<rest>/.*)$")
SILENT_MP3 = bytes.fromhex("fffb9064") + bytes(413)  # one silent MPEG frame, enough for players
LONG_POLL_SECONDS = 25.0  # a softphone's long poll waits at most this long (under proxies' 30 s)
# The console's pages (another origin: the API's port) call the softphone control API from the
# browser. This is the local emulator, never exposed beyond the laptop, so any origin may.
CORS = {"Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Methods": "GET, POST, DELETE, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type", "Access-Control-Max-Age": "600"}


def twilio_error(code: int, message: str, status: int) -> Reply:
    body = {"code": code, "message": message, "status": status,
            "more_info": f"https://www.twilio.com/docs/errors/{code}"}
    headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'} if status == 401 else {}
    return status, body, headers


class Request:
    """What a handler needs: method, path, query, form (lists) and JSON, plus auth."""

    def __init__(self, method: str, target: str, headers: dict[str, str], body: bytes):
        parts = urlsplit(target)
        self.method, self.path = method.upper(), parts.path
        self.query = parse_qs(parts.query, keep_blank_values=True)
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.body = body
        ctype = self.headers.get("content-type", "")
        text = body.decode("utf-8", "replace")
        self.text = text
        plain = "json" in ctype or "csv" in ctype or "text/plain" in ctype
        self.form = parse_qs(text, keep_blank_values=True) if not plain else {}
        self.json: Any = None
        if "json" in ctype and body:
            self.json = json.loads(text)

    def get(self, name: str, default: str | None = None) -> str | None:
        values = self.form.get(name) or self.query.get(name)
        return values[0] if values else default

    def getall(self, name: str) -> list[str]:
        return self.form.get(name, []) + self.query.get(name, [])

    def basic_auth(self) -> tuple[str, str] | None:
        header = self.headers.get("authorization", "")
        if not header.lower().startswith("basic "):
            return None
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return None
        return user, password


def dispatch(carrier: Carrier, method: str, target: str, headers: dict[str, str],
             body: bytes) -> Reply:
    """Answer one HTTP request; usable without a socket (an in-process twilio http client)."""
    from . import CarrierError

    request = Request(method, target, headers, body)
    try:
        if request.path.startswith("/_emulator/"):
            return control(carrier, request)
        if request.path.startswith("/recordings/"):
            return 200, SILENT_MP3, {"Content-Type": "audio/mpeg"}
        match = ACCOUNT.match(request.path)
        if not match:
            return twilio_error(20404, f"The requested resource {request.path} was not found",
                                404)
        if not authorized(carrier, request):
            return twilio_error(20003, "Authenticate", 401)
        if match["account"] != carrier.account_sid:
            return twilio_error(20404, f"The requested resource {request.path} was not found",
                                404)
        return rest(carrier, request, match["rest"])
    except CarrierError as exc:
        return twilio_error(exc.code, exc.message, exc.status)
    except (ValueError, KeyError) as exc:
        return twilio_error(21100, f"Bad request: {exc}", 400)


def authorized(carrier: Carrier, request: Request) -> bool:
    creds = request.basic_auth()
    if creds is None:
        return False
    return (hmac.compare_digest(creds[0], carrier.account_sid)
            and hmac.compare_digest(creds[1], carrier.auth_token))


# --------------------------------------------------------------------------- Twilio's API


def rest(carrier: Carrier, r: Request, rest_path: str) -> Reply:
    from . import CarrierError

    m = re.fullmatch(r"/Calls/(CA[0-9a-f]{32})\.json", rest_path)
    if rest_path == "/Calls.json" and r.method == "POST":
        call = carrier.create_outbound_call(
            to=r.get("To", ""), from_=r.get("From", ""), url=r.get("Url"),
            twiml=r.get("Twiml"), method=r.get("Method") or "POST",
            status_callback=r.get("StatusCallback"),
            status_callback_event=r.getall("StatusCallbackEvent"),
            status_callback_method=r.get("StatusCallbackMethod") or "POST",
            fallback_url=r.get("FallbackUrl"), fallback_method=r.get("FallbackMethod") or "POST",
            machine_detection=r.get("MachineDetection"),
            async_amd=(r.get("AsyncAmd") or "").lower() == "true",
            amd_callback=r.get("AsyncAmdStatusCallback"),
            amd_callback_method=r.get("AsyncAmdStatusCallbackMethod") or "POST",
            machine_detection_timeout=float(r.get("MachineDetectionTimeout")
                                            or amd.DEFAULT_TIMEOUT),
            timeout=float(r.get("Timeout") or 60))
        return 201, call_resource(carrier, call, status="queued"), {}
    if rest_path == "/Calls.json" and r.method == "GET":
        calls = [call_resource(carrier, c) for c in list(carrier.calls.values())]
        return 200, page(carrier, "calls", "Calls", calls), {}
    if m and r.method == "GET":
        call = carrier.calls.get(m[1])
        if call is None:
            raise CarrierError(20404, f"The requested resource {r.path} was not found", 404)
        return 200, call_resource(carrier, call), {}
    if m and r.method == "POST":
        sid = m[1]
        if r.get("Status"):
            call = carrier.end_call(sid, r.get("Status", "completed"))
        elif r.get("Url") or r.get("Twiml"):
            call = carrier.redirect_call(sid, r.get("Url"), r.get("Method") or "POST",
                                         r.get("Twiml"))
        else:
            call = carrier._live_call(sid)
        return 200, call_resource(carrier, call), {}
    if rest_path == "/Messages.json" and r.method == "POST":
        message = carrier.send_message(
            r.get("To", ""), r.get("From"), r.get("Body") or "",
            messaging_service_sid=r.get("MessagingServiceSid"),
            status_callback=r.get("StatusCallback"), media_urls=r.getall("MediaUrl"))
        return 201, message_resource(carrier, message, initial=True), {}
    if rest_path == "/Messages.json" and r.method == "GET":
        messages = [message_resource(carrier, m) for m in list(carrier.messages)]
        for key, field in (("To", "to"), ("From", "from")):
            if r.get(key):
                messages = [m for m in messages if m[field] == r.get(key)]
        return 200, page(carrier, "messages", "Messages", messages), {}
    mm = re.fullmatch(r"/Messages/(SM[0-9a-f]{32})\.json", rest_path)
    if mm and r.method == "GET":
        found = [m for m in carrier.messages if m["sid"] == mm[1]]
        if not found:
            raise CarrierError(20404, f"The requested resource {r.path} was not found", 404)
        return 200, message_resource(carrier, found[0]), {}
    return queue_rest(carrier, r, rest_path)


def queue_rest(carrier: Carrier, r: Request, rest_path: str) -> Reply:
    from . import CarrierError

    qm = re.fullmatch(r"/Queues/(QU[0-9a-f]{32})/Members(?:/(CA[0-9a-f]{32}|Front))?\.json",
                      rest_path)
    if qm and qm[2] and r.method == "POST":
        if not r.get("Url"):
            raise CarrierError(21205, "Url parameter is required", 400)
        call, position, waited = carrier.dequeue_member(qm[1], qm[2], r.get("Url"),
                                                        r.get("Method") or "POST")
        return 200, member_resource(carrier, qm[1], call, position, waited), {}
    if qm and r.method == "GET":
        name = carrier.queues.name_of(qm[1])
        members = list(carrier.queues.members.get(name, [])) if name else []
        if qm[2]:
            members = members[:1] if qm[2] == "Front" else [c for c in members
                                                            if c.sid == qm[2]]
            if not members:
                raise CarrierError(20404, f"The requested resource {r.path} was not found", 404)
            call = members[0]
            return 200, member_resource(carrier, qm[1], call,
                                        carrier.queues.position(name, call),
                                        call.clock.elapsed(call.enqueued_at)), {}
        items = [member_resource(carrier, qm[1], c, i + 1, c.clock.elapsed(c.enqueued_at))
                 for i, c in enumerate(members)]
        return 200, page(carrier, "queue_members", f"Queues/{qm[1]}/Members", items), {}
    reply = conference_rest(carrier, r, rest_path)
    if reply is not None:
        return reply
    raise CarrierError(20404, f"The requested resource {r.path} was not found", 404)


def page(carrier: Carrier, key: str, path: str, items: list[Any]) -> dict[str, Any]:
    uri = f"/{API_VERSION}/Accounts/{carrier.account_sid}/{path}.json"
    return {key: items, "page": 0, "page_size": max(50, len(items)), "start": 0,
            "end": max(0, len(items) - 1), "uri": uri, "first_page_uri": uri,
            "next_page_uri": None, "previous_page_uri": None}


def call_resource(carrier: Carrier, call: Call, status: str | None = None) -> dict[str, Any]:
    uri = f"/{API_VERSION}/Accounts/{carrier.account_sid}/Calls/{call.sid}"
    epoch = call.clock.epoch
    started = call.answered_at
    done = call.done.is_set()
    return {
        "sid": call.sid, "account_sid": carrier.account_sid, "api_version": API_VERSION,
        "to": call.to, "to_formatted": call.to, "from": call.from_,
        "from_formatted": call.from_, "status": status or call.status,
        "direction": call.direction, "parent_call_sid": call.parent_sid,
        "date_created": rfc2822(epoch), "date_updated": rfc2822(epoch + call.clock.now),
        "start_time": rfc2822(epoch + started) if started is not None else None,
        "end_time": rfc2822(epoch + call.clock.now) if done else None,
        "duration": str(call.transcript.duration) if done else None,
        "answered_by": call.transcript.answered_by, "forwarded_from": call.forwarded_from,
        "caller_name": call.caller_name, "price": None, "price_unit": "USD",
        "phone_number_sid": None, "group_sid": None, "trunk_sid": None, "queue_time": "0",
        "annotation": None, "uri": uri + ".json",
        "subresource_uris": {name: f"{uri}/{name.title().replace('_', '')}.json"
                             for name in ("notifications", "recordings", "events")},
    }


def message_resource(carrier: Carrier, m: dict[str, Any],
                     initial: bool = False) -> dict[str, Any]:
    uri = f"/{API_VERSION}/Accounts/{carrier.account_sid}/Messages/{m['sid']}"
    status = ("queued" if m["from"] else "accepted") if initial else m["status"]
    return {
        "sid": m["sid"], "account_sid": carrier.account_sid, "api_version": API_VERSION,
        "to": m["to"], "from": m["from"], "body": m["body"], "status": status,
        "messaging_service_sid": m["messaging_service_sid"], "direction": "outbound-api",
        "num_media": str(len(m["media_urls"])), "num_segments": m["num_segments"],
        "date_created": m["date_created"], "date_updated": m["date_updated"],
        "date_sent": None if initial else m["date_sent"], "error_code": None,
        "error_message": None, "price": None, "price_unit": "USD", "uri": uri + ".json",
        "subresource_uris": {"media": f"{uri}/Media.json"},
    }


def member_resource(carrier: Carrier, qsid: str, call: Call, position: int,
                    waited: int) -> dict[str, Any]:
    uri = f"/{API_VERSION}/Accounts/{carrier.account_sid}/Queues/{qsid}/Members/{call.sid}"
    return {"call_sid": call.sid, "queue_sid": qsid, "position": position,
            "wait_time": waited, "date_enqueued": rfc2822(call.clock.epoch + call.enqueued_at),
            "uri": uri + ".json"}


# --------------------------------------------------------------------------- control API


class RemoteInput:
    """Input for an interactive call driven over HTTP (``call`` CLI against ``serve``): the
    call waits at each input point until a line is posted, or hangs up after ``patience``."""

    interactive = True

    def __init__(self, patience: float = 600.0) -> None:
        self.patience = patience
        self._cond = threading.Condition()
        self._line: str | None = None
        self._answered = False
        self.waiting: dict[str, Any] | None = None
        self._counter = 0

    def _ask(self, kind: str, spec: dict[str, Any]) -> Action:
        with self._cond:
            self._counter += 1
            self.waiting = {"id": self._counter, "kind": kind, "spec": spec}
            self._answered = False
            while True:
                if not self._cond.wait_for(lambda: self._answered, self.patience):
                    self.waiting = None
                    return Action("hangup", raw="timeout")
                self._answered = False
                try:
                    action = parse_reply(kind, self._line)
                except ValueError as exc:  # ask again (a new id makes the CLI re-prompt)
                    self._counter += 1
                    self.waiting = {"id": self._counter, "kind": kind, "spec": spec,
                                    "error": str(exc)}
                    continue
                self.waiting = None
                return action

    def provide(self, line: str | None) -> None:
        with self._cond:
            self._line, self._answered = line, True
            self._cond.notify_all()

    def answer(self) -> str:
        return "human"

    def gather(self, spec: dict[str, Any]) -> Action:
        return self._ask("gather", spec)

    def record(self, spec: dict[str, Any]) -> Action:
        return self._ask("record", spec)

    def dial(self, spec: dict[str, Any]) -> None:
        return None

    def hold(self, spec: dict[str, Any]) -> HoldPlan:
        return HoldPlan()


def control(carrier: Carrier, r: Request) -> Reply:
    """``/_emulator/``: inspect calls and texts, script callees, place calls, reset."""
    route = (r.method, r.path[len("/_emulator/"):].rstrip("/"))
    data = r.json if isinstance(r.json, dict) else {}
    if route == ("GET", "health"):
        return 200, {"ok": True, "account_sid": carrier.account_sid,
                     "app_url": carrier.app_url, "calls": len(carrier.calls),
                     "messages": len(carrier.messages),
                     "answer_scripts": len(carrier.answer_scripts)}, {}
    if route == ("GET", "calls"):
        return 200, [summary(c) for c in list(carrier.calls.values())], {}
    if route[1].startswith("calls/"):
        return call_control(carrier, r, route[1][len("calls/"):], data)
    if route == ("GET", "clients"):
        return 200, carrier.clients.states(), {}
    if route[1].startswith("clients/"):
        return client_control(carrier, r, route[1][len("clients/"):])
    if route == ("GET", "messages"):
        return 200, list(carrier.messages), {}
    if route == ("GET", "errors"):
        return 200, list(carrier.errors), {}
    if route == ("GET", "stats"):
        return 200, carrier.stats(), {}
    if route == ("GET", "inbound-sms"):
        return 200, list(carrier.inbound_texts), {}
    if route == ("POST", "reset"):
        carrier.reset()
        return 200, {"ok": True}, {}
    if route == ("POST", "answer-scripts"):
        # JSON {number: [steps] | "a,b"}, or a CSV body (text/csv): number,script per line
        scripts = r.json if r.json is not None else parse_text(r.text)
        count = carrier.set_answer_scripts(scripts)
        return 200, {"ok": True, "set": count, "total": len(carrier.answer_scripts)}, {}
    if route == ("POST", "opt-outs"):
        for number in data.get("numbers", []):
            carrier.opt_out(number)
        return 200, {"ok": True, "opted_out": sorted(carrier.opted_out)}, {}
    if route == ("POST", "inbound-sms"):
        status, body = carrier.send_inbound_sms(data["to"], data["from"], data.get("body", ""))
        return 200, {"status": status, "body": body}, {}
    if route == ("POST", "inbound"):
        options = {k: data[k] for k in ("voice_url", "status_url", "fallback_url",
                                        "forwarded_from", "caller_name") if k in data}
        if "hold_pace" in data:
            options["hold_pace"] = float(data["hold_pace"])
        args = (data["to"], data["from"], data.get("script"))
        if data.get("interactive"):
            options["input"] = RemoteInput()
            data["async"] = True
        if data.get("async"):
            call = carrier.start_inbound_call(*args, **options)
            return 202, {"call_sid": call.sid}, {}
        return 200, carrier.place_inbound_call(*args, **options).to_dict(), {}
    return twilio_error(20404, f"no control route {r.method} {r.path}", 404)


def call_control(carrier: Carrier, r: Request, rest: str, data: dict[str, Any]) -> Reply:
    """``calls/{sid}`` (transcript), ``calls/{sid}/poll?since=N`` (new events and the input
    the call waits for), ``calls/{sid}/input`` ({"line": ...}) and ``calls/{sid}/hangup``."""
    sid, _, action = rest.partition("/")
    call = carrier.calls.get(sid)
    if call is None:
        return twilio_error(20404, "no such call", 404)
    remote = call.input if isinstance(call.input, RemoteInput) else None
    if r.method == "GET" and not action:
        return 200, call.transcript.to_dict(), {}
    if r.method == "GET" and action == "poll":
        since = int((r.query.get("since") or ["0"])[0])
        events = call.transcript.events[since:]
        return 200, {"events": events, "next": since + len(events),
                     "waiting": remote.waiting if remote else None,
                     "done": call.done.is_set(), "status": call.status,
                     "duration": call.transcript.duration,
                     "errors": call.transcript.errors}, {}
    if r.method == "POST" and action == "input" and remote is not None:
        remote.provide(data.get("line"))
        return 200, {"ok": True}, {}
    if r.method == "POST" and action == "hangup":
        if remote is not None and remote.waiting:
            remote.provide("h")
        elif not call.done.is_set():
            carrier.end_call(sid)
        return 200, {"ok": True}, {}
    return twilio_error(20404, f"no control route {r.method} {r.path}", 404)


def client_control(carrier: Carrier, r: Request, rest: str) -> Reply:
    """A softphone (``carrier.clients``): ``GET clients/{identity}`` (its state; with
    ``?version=N&wait=S`` a long poll: answered once the state's ``version`` is no longer N, or
    after S seconds, at most ``LONG_POLL_SECONDS``), ``POST clients/{identity}`` (register;
    ``?device=ID`` names one browser tab of several) / ``DELETE`` (offline; with ``?device=ID``
    only that tab, while others remain), ``POST
    clients/{identity}/answer|reject|hangup`` (409 when there is nothing to do, e.g. the second
    of two racing answers). ``POST clients/{identity}/calls`` (the desk dialling out) is 501."""
    from .softphones import SoftphoneConflict

    encoded, _, action = rest.partition("/")
    identity, phones = unquote(encoded), carrier.clients
    desk: dict[str, Any] = {"answer": phones.answer, "reject": phones.reject,
                            "hangup": phones.hangup}
    if not identity:
        return twilio_error(20404, "no identity", 404)
    try:
        if not action and r.method == "GET":
            version = r.get("version")
            wait = max(0.0, min(float(r.get("wait") or 0), LONG_POLL_SECONDS))
            return 200, phones.watch(identity, int(version) if version else None, wait), {}
        if not action and r.method == "POST":
            return 200, phones.register(identity, r.get("device")), {}
        if not action and r.method == "DELETE":
            return 200, phones.unregister(identity, r.get("device")), {}
        if r.method == "POST" and action in desk:
            return 200, desk[action](identity), {}
        if r.method == "POST" and action == "calls":
            return 501, {"ok": False, "error": "softphones do not place calls yet"}, {}
    except SoftphoneConflict as exc:
        return 409, {"ok": False, "error": str(exc), **phones.state(identity)}, {}
    return twilio_error(20404, f"no control route {r.method} {r.path}", 404)


def summary(call: Call) -> dict[str, Any]:
    t = call.transcript
    return {"call_sid": call.sid, "direction": call.direction, "from": call.from_,
            "to": call.to, "status": call.status, "duration": t.duration,
            "done": call.done.is_set(), "errors": len(t.errors), "queue": call.queue_name}


# --------------------------------------------------------------------------- HTTP server


class Handler(BaseHTTPRequestHandler):
    server: EmulatorServer
    server_version = "SwitchboardCarrier/1.0"

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        control_api = self.path.startswith("/_emulator/")
        if control_api and self.command == "OPTIONS":  # a browser's CORS preflight
            status, payload, headers = 204, b"", {}
        else:
            status, payload, headers = dispatch(self.server.carrier, self.command, self.path,
                                                dict(self.headers.items()), body)
        if control_api:
            headers = {**headers, **CORS}
        if isinstance(payload, bytes):
            data, ctype = payload, headers.pop("Content-Type", "application/octet-stream")
        else:
            data, ctype = json.dumps(payload).encode(), "application/json"
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # a browser left a long poll (tab shut)
            self.close_connection = True

    do_GET = do_POST = do_DELETE = do_OPTIONS = _handle

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), mask_text(format % args))


class EmulatorServer(ThreadingHTTPServer):
    """``ThreadingHTTPServer`` bound to a carrier; ``start()`` serves from a daemon thread."""

    daemon_threads = True
    request_queue_size = 128  # socketserver's default backlog of 5 resets a burst of dials

    def __init__(self, carrier: Carrier, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__((host, port), Handler)
        self.carrier = carrier
        self.url = f"http://{host}:{self.server_address[1]}"
        if carrier.emulator_url is None:
            carrier.emulator_url = self.url
        self._thread: threading.Thread | None = None

    def start(self) -> EmulatorServer:
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,),
                                        daemon=True, name="carrier-rest")
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(5)
