#!/usr/bin/env python3
"""Switchboard's operator commands (run from the repository root, in the venv).

    python manage.py flows lint [--dir flows]      validate every flow; exit 1 on any error
    python manage.py flows publish [FLOW ...]      lint, then publish new immutable versions
    python manage.py flows versions FLOW           list a flow's published versions
    python manage.py flows bundle                  lint, then compile flows into chalicelib/
    python manage.py tables create                 create this stage's tables (local/test)
    python manage.py calls show CALL_SID           one call record, as stored
    python manage.py calls recent [--limit N]      the latest calls (a scan: local use only)
    python manage.py voicemails list [HOTLINE]     voicemails of a hotline, newest first
    python manage.py lists import FILE --name NAME [--region US]
                                                   import a contact list (CSV) through the API
    python manage.py campaigns create --file FILE [--start] | --name ... --kind ... (flags)
    python manage.py campaigns list                campaigns, newest first
    python manage.py campaigns show ID             a campaign's progress
    python manage.py campaigns start|pause|resume|stop ID
    python manage.py campaigns recycle ID DISPOSITION ...
                                                   contacts done with those dispositions wait again
    python manage.py campaigns results ID [-o FILE]
                                                   the results as CSV (stdout without -o)
    python manage.py reminders preview|send --segment overdue [--days 30] --channel sms
                     --template reminder_overdue --caller-id +1... [--flow F --name N]
                     (--channel agent --queue Q --name N: the queue's agents take the calls)
                                                   a reminder batch to a segment of accounts
    python manage.py reminders batch ID [--paid-within-days 7]
                                                   a batch's progress and who paid since
    python manage.py reminders results ID [-o FILE]
                                                   one row per account as CSV
    python manage.py reminders remind ACCOUNT --channel sms --template T --caller-id +1...
                                                   remind one account now (or --at)
    python manage.py reminders policy standard [--from D --to D] [--csv [-o FILE]]
                                                   what a policy's batches achieved, by step
    python manage.py jobs list | run NAME          a scheduled job now (run_reminders, ...)
    python manage.py reports rebuild --from D --to D
                                                   the rollups of those days again, from the facts
    python manage.py reports export KIND [--from D --to D --interval half-hour] [--queue Q]
                     [--param hotline=+1415... ...] [--csv -o F]   a report (queues, agents, ...)
    python manage.py dnc add NUMBER [--channel all] [--reason TEXT]
    python manage.py dnc remove NUMBER             our do-not-call list
    python manage.py compliance check NUMBER --channel voice [--purpose marketing]
                                                   the compliance gate's decision for a contact now
    python manage.py agents endpoint AGENT client|phone:+E164
                                                   where an agent's calls ring (client: the desk)
    python manage.py api-keys new NAME             a machine client's API key, and the line that
                                                   lets it in (the stage's API_KEY_HASHES)

Storage commands use the same settings as the app (TABLE_PREFIX, DYNAMODB_ENDPOINT, AWS_*).
On the laptop (SWITCHBOARD_STAGE unset or ``local``) they talk to ``make run``'s DynamoDB Local
at 127.0.0.1:8001 unless DYNAMODB_ENDPOINT says otherwise; for a deployed stage, export
SWITCHBOARD_STAGE, TABLE_PREFIX and AWS credentials.

``lists``, ``campaigns``, ``reminders``, ``dnc`` and ``compliance`` talk to the running stack's
API instead: ``make run``'s ``chalice local`` at http://127.0.0.1:8000 unless ``--api`` or
SWITCHBOARD_API_URL says otherwise (SWITCHBOARD_API_KEY is sent as ``x-api-key``, for a
deployed stage).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent
FLOWS_DIR = ROOT / "flows"
LOCAL_DYNAMODB = "http://127.0.0.1:8001"  # where `make run` starts DynamoDB Local
LOCAL_API = "http://127.0.0.1:8000"  # where `make run` serves the app


def settle_environment(environ=os.environ) -> None:
    """The local stack by default: an operator on the laptop needs to export nothing. DynamoDB
    Local takes any credentials (letters and digits only), so fake ones are given when none
    are set and the endpoint is this machine."""
    if environ.get("SWITCHBOARD_STAGE", "local") != "local":
        return
    environ.setdefault("DYNAMODB_ENDPOINT", LOCAL_DYNAMODB)
    host = urlsplit(environ["DYNAMODB_ENDPOINT"]).hostname or ""
    if host in ("127.0.0.1", "localhost", "::1") and not environ.get("AWS_ACCESS_KEY_ID"):
        environ["AWS_ACCESS_KEY_ID"] = environ["AWS_SECRET_ACCESS_KEY"] = "local"


def explain_storage_error(exc: Exception) -> str | None:
    """A sentence for an operator instead of a traceback, for the failures they can fix."""
    from botocore.exceptions import EndpointConnectionError, NoCredentialsError

    cause = exc
    while cause is not None and not isinstance(cause, (NoCredentialsError,
                                                       EndpointConnectionError)):
        cause = getattr(cause, "cause", None) or cause.__cause__
    endpoint = os.environ.get("DYNAMODB_ENDPOINT") or "AWS"
    if isinstance(cause, NoCredentialsError):
        return ("no AWS credentials: export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or a "
                "profile) for a deployed stage, or unset SWITCHBOARD_STAGE for the local stack")
    if isinstance(cause, EndpointConnectionError):
        return (f"DynamoDB at {endpoint} does not answer: is `make run` running? (or set "
                "DYNAMODB_ENDPOINT)")
    return None


def _lint(flows_dir: Path):
    from chalicelib.ivr.lint import lint_flows
    from chalicelib.ivr.loader import load_flows

    errors = lint_flows(flows_dir)
    for err in errors:
        print(err, file=sys.stderr)
    if errors:
        print(f"{len(errors)} error(s): nothing was published or bundled", file=sys.stderr)
        return None
    flows, _ = load_flows(flows_dir)
    return flows


def cmd_flows_lint(args) -> int:
    flows = _lint(Path(args.dir))
    if flows is None:
        return 1
    print(f"{len(flows)} flow(s) OK: {', '.join(sorted(flows))}")
    return 0


def cmd_flows_publish(args) -> int:
    flows = _lint(Path(args.dir))
    if flows is None:
        return 1
    from chalicelib.store import flows as store

    wanted = args.flow or sorted(flows)
    unknown = [f for f in wanted if f not in flows]
    if unknown:
        print(f"unknown flow(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    for flow_id in wanted:
        version, created = store.publish(flows[flow_id], published_by=args.by)
        print(f"{flow_id}: v{version} {'published' if created else 'unchanged (already live)'}")
    return 0


def cmd_flows_versions(args) -> int:
    from chalicelib.store import flows as store

    for item in store.list_versions(args.flow):
        print(f"v{item.version}\t{item.published_at:%Y-%m-%d %H:%M:%S}Z\t{item.published_by}"
              f"\t{item.checksum[:12]}")
    return 0


def cmd_flows_bundle(args) -> int:
    flows = _lint(Path(args.dir))
    if flows is None:
        return 1
    from chalicelib.ivr.bundle import write_bundle
    from chalicelib.reminders.policy import bundle_policies

    for path in write_bundle(flows):
        print(f"bundled {path.relative_to(ROOT)}")
    try:
        policies = bundle_policies()
    except ValueError as exc:
        print(f"flows/reminders/{exc}", file=sys.stderr)
        return 1
    for path in policies:
        print(f"bundled {path.relative_to(ROOT)}")
    return 0


def cmd_tables_create(args) -> int:
    from chalicelib.store.tables import create_tables

    created = create_tables()
    print(f"created: {', '.join(created)}" if created else "tables already exist")
    return 0


def _print_item(item) -> None:
    import json

    fields = item.to_simple_dict()
    for name, value in fields.items():  # JSON attributes come back as text: show them as JSON
        if isinstance(value, str) and value[:1] in "{[":
            fields[name] = json.loads(value)
    print(json.dumps(fields, ensure_ascii=False, indent=2, default=str))


def cmd_calls_show(args) -> int:
    from chalicelib.store.calls import get_call

    record = get_call(args.call_sid)
    if record is None:
        print(f"no call {args.call_sid}", file=sys.stderr)
        return 1
    _print_item(record)
    return 0


def cmd_calls_recent(args) -> int:
    from chalicelib.logs import mask_number
    from chalicelib.store.models import CallRecord

    records = sorted(CallRecord.scan(), key=lambda r: r.started_at or r.updated_at, reverse=True)
    for r in records[: args.limit]:
        started = f"{r.started_at:%Y-%m-%d %H:%M:%S}" if r.started_at else "-"
        print(f"{r.call_sid}  {started}  {mask_number(r.caller)} -> {r.hotline}  "
              f"{r.flow_id} v{r.flow_version}  {r.status}/{r.outcome or '-'}  "
              f"{' > '.join(r.path or [])}")
    return 0


def cmd_voicemails_list(args) -> int:
    from chalicelib.store.voicemails import voicemails_for_hotline

    for vm in voicemails_for_hotline(args.hotline, limit=args.limit):
        print(f"{vm.created_at:%Y-%m-%d %H:%M:%S}  {vm.recording_sid}  call {vm.call_sid}  "
              f"{vm.duration}s  {vm.language or '-'}  {vm.transcription or '(no transcription)'}")
    return 0


class ApiError(Exception):
    """The API answered with an error (``status``, its JSON body)."""

    def __init__(self, status: int, body: dict):
        super().__init__(f"{status}: {body.get('error') or body}")
        self.status = status
        self.body = body


def api_base(base: str | None = None) -> str:
    """The API's base URL: ``base``, else ``$SWITCHBOARD_API_URL``, else ``LOCAL_API``."""
    return (base or os.environ.get("SWITCHBOARD_API_URL") or LOCAL_API).rstrip("/")


def call_api(method: str, path: str, body: bytes | None = None,
             content_type: str = "application/json", *, base: str | None = None,
             retries: int = 3, raw: bool = False, headers_out: dict | None = None):
    """One request to the stack's API; the JSON answer (``raw``: the body's bytes). A
    connection error or a 5xx is tried again ``retries`` times: pass 0 for a request that is
    not idempotent (creating a campaign, a lifecycle change). ``headers_out``, when given,
    receives the answer's headers."""
    import json
    import time
    import urllib.error
    import urllib.request

    url = api_base(base) + path
    headers = {"Content-Type": content_type}
    if os.environ.get("SWITCHBOARD_API_KEY"):
        headers["x-api-key"] = os.environ["SWITCHBOARD_API_KEY"]
    for attempt in range(retries + 1):
        request = urllib.request.Request(url, data=body, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                data = response.read()
                if headers_out is not None:
                    headers_out.update(response.headers.items())
                return data if raw else json.loads(data or b"{}")
        except urllib.error.HTTPError as exc:
            answer = json.loads(exc.read() or b"{}") if exc.headers.get_content_type() == \
                "application/json" else {}
            if exc.code < 500 or attempt == retries:
                raise ApiError(exc.code, answer) from None
        except urllib.error.URLError:
            if attempt == retries:
                raise
        time.sleep(0.5 * 2 ** attempt)
    raise AssertionError("unreachable")


def progress_bar(done: int, total: int, width: int = 30) -> str:
    """``[############------------------]  42%  2.1/5.0 MB``"""
    share = done / total if total else 1.0
    filled = round(share * width)
    scale, unit = (1e6, "MB") if total >= 1e6 else (1e3, "kB")
    return (f"[{'#' * filled}{'-' * (width - filled)}] {share:4.0%}  "
            f"{done / scale:.1f}/{total / scale:.1f} {unit}")


def cmd_lists_import(args) -> int:
    import json

    from chalicelib.campaigns.list_rows import split_chunks

    data = Path(args.file).read_bytes()
    try:
        chunks = list(split_chunks(data, args.chunk_bytes, args.chunk_rows))
    except (UnicodeDecodeError, ValueError) as exc:
        print(f"manage.py: {args.file}: {exc}", file=sys.stderr)
        return 1
    if not chunks:
        print(f"manage.py: {args.file} has no rows", file=sys.stderr)
        return 1
    fields = {"name": args.name, "default_region": args.region}
    if args.timezone:
        fields["fallback_timezone"] = args.timezone
    try:
        created = call_api("POST", "/contact-lists", json.dumps(fields).encode(),
                           "application/json", base=args.api)
        list_id = created["list_id"]
        print(f"list {list_id}: sending {len(chunks)} chunk(s)", file=sys.stderr)
        sent, total = 0, sum(len(chunk) for chunk in chunks)
        for number, chunk in enumerate(chunks):
            last = "&last=true" if number == len(chunks) - 1 else ""
            answer = call_api("POST", f"/contact-lists/{list_id}/rows?chunk={number}{last}",
                              chunk, "text/csv", base=args.api)
            sent += len(chunk)
            print(f"\r{progress_bar(sent, total)}", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
    except ApiError as exc:
        print(f"\nmanage.py: the API refused: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # urllib's URLError: nothing answers
        print(f"\nmanage.py: the API does not answer ({exc}): is `make run` running? "
              "(or pass --api)", file=sys.stderr)
        return 2
    report = answer["list"]
    print(json.dumps(report, indent=2))
    if report["rejected"] or report["duplicates"]:
        print(f"rows not imported: GET /contact-lists/{list_id}/rejected", file=sys.stderr)
    return 0


def through_api(action) -> int:
    """Run ``action()`` (requests to the API); an operator's sentence for what goes wrong:
    1 when the API refuses (its error), 2 when nothing answers."""
    try:
        return action()
    except ApiError as exc:
        print(f"manage.py: the API refused: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # urllib's URLError: nothing answers
        print(f"manage.py: the API does not answer ({exc}): is `make run` running? "
              "(or pass --api)", file=sys.stderr)
        return 2


def print_json(answer) -> int:
    import json

    print(json.dumps(answer, indent=2, ensure_ascii=False))
    return 0


CAMPAIGN_FLAGS = {  # flag -> the body's field (campaigns create)
    "name": "name", "kind": "kind", "purpose": "purpose", "list": "list_id",
    "caller_id": "caller_id", "flow": "flow_id", "queue": "queue_id", "template": "template",
    "language": "language", "starts_at": "starts_at", "ends_at": "ends_at",
}


def cmd_campaigns_create(args) -> int:
    """The body is the JSON file (``--file``), with any flag given on top of it."""
    import json

    body: dict = {}
    if args.file:
        try:
            body = json.loads(Path(args.file).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            print(f"manage.py: {args.file}: {exc}", file=sys.stderr)
            return 1
        if not isinstance(body, dict):
            print(f"manage.py: {args.file}: not a JSON object", file=sys.stderr)
            return 1
    body.update({field: getattr(args, flag) for flag, field in CAMPAIGN_FLAGS.items()
                 if getattr(args, flag) is not None})
    if args.start:
        body["start"] = True
    return through_api(lambda: print_json(call_api(
        "POST", "/campaigns", json.dumps(body).encode(), base=args.api, retries=0)))


def cmd_campaigns_list(args) -> int:
    def show() -> int:
        campaigns = call_api("GET", "/campaigns", base=args.api)["campaigns"]
        if not campaigns:
            print("no campaigns yet: python manage.py campaigns create --file FILE")
        for c in campaigns:
            print(f"{c['campaign_id']}  {c['status']:<9}  {c['kind']:<11}  "
                  f"{c['created_at'][:16]}  {c['name']}")
        return 0

    return through_api(show)


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "-"


def progress_lines(report: dict) -> list[str]:
    """``campaigns show``: a campaign's report (``GET /campaigns/{id}``) as a few lines."""
    progress = report["progress"]
    contacts, live, pace = progress["contacts"], progress["live"], progress["pace"]
    lines = [
        f"{report['campaign_id']}  {report['name']}",
        f"  {report['kind']} / {report['purpose']}, {report['status']}; caller ID "
        f"{report['caller_id']}; list {report['list_id']} "
        f"({contacts['list_size'] if contacts['list_size'] is not None else '?'} rows, "
        f"{contacts['loaded']} loaded{'' if contacts['load_done'] else ' so far'})",
        "  contacts      " + "  ".join(f"{status} {count}" for status, count
                                       in contacts["by_status"].items()),
        "  dispositions  " + ("  ".join(f"{name} {count}" for name, count
                                        in contacts["by_disposition"].items()) or "-"),
        f"  last {live['window_hours']} h    dials {live['dials']}  live answers "
        f"{live['live_answers']}  abandoned {live['abandoned']} "
        f"({_share(live['abandoned'], live['live_answers'])} of live answers, target "
        f"{report['abandon_target']:.1%})  machines {live['machine_answers']}  answer rate "
        f"{_share(live['live_answers'], live['dials'])}",
        f"  now           ringing {live['ringing']}" + (
            f"  dial level {pace['dial_level']} ({pace['mode']})" if pace else ""),
    ]
    if progress.get("segments") is not None:
        import json

        lines.append(f"  texts         {json.dumps(progress['segments'], ensure_ascii=False)}")
    return lines


def cmd_campaigns_show(args) -> int:
    def show() -> int:
        report = call_api("GET", f"/campaigns/{args.campaign_id}", base=args.api)
        if args.json:
            return print_json(report)
        print("\n".join(progress_lines(report)))
        return 0

    return through_api(show)


def cmd_campaigns_lifecycle(args) -> int:
    def act() -> int:
        answer = call_api("POST", f"/campaigns/{args.campaign_id}/{args.command}",
                          base=args.api, retries=0)
        print(f"{answer['campaign_id']}: {answer['status']}")
        return 0

    return through_api(act)


def cmd_campaigns_recycle(args) -> int:
    import json

    def recycle() -> int:
        body = json.dumps({"dispositions": args.disposition}).encode()
        total, more = 0, True
        while more:  # the API moves a batch a request
            answer = call_api("POST", f"/campaigns/{args.campaign_id}/recycle", body,
                              base=args.api)
            total, more = total + answer["recycled"], answer["more"] and answer["recycled"]
        print(f"{args.campaign_id}: {total} contact(s) waiting again")
        return 0

    return through_api(recycle)


def download_csv(path: str, output: str | None, api: str | None, rows_are: str) -> int:
    """GET a CSV from the API into ``output`` (saying how many ``rows_are``) or stdout."""
    def download() -> int:
        data = call_api("GET", path, base=api, raw=True)
        if output:
            Path(output).write_bytes(data)
            rows = max(0, data.count(b"\r\n") - 1)
            print(f"{output}: {rows} {rows_are}", file=sys.stderr)
        else:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        return 0

    return through_api(download)


def cmd_campaigns_results(args) -> int:
    return download_csv(f"/campaigns/{args.campaign_id}/results", args.output, args.api,
                        "contact(s)")


REMINDER_FLAGS = {  # flag -> the body's field (reminders preview|send)
    "channel": "channel", "template": "template", "flow": "flow", "queue": "queue",
    "caller_id": "caller_id",
    "purpose": "purpose", "starts_at": "starts_at", "name": "name", "language": "language",
}


def reminder_batch_body(args) -> dict:
    """``reminders preview|send``'s flags as a ``POST /reminder-batches`` body."""
    segment: dict = {"status": args.segment}
    if args.days is not None:
        segment["overdue_more_than_days"] = args.days
    if args.due_from:
        segment["due_from"] = args.due_from
    if args.due_to:
        segment["due_to"] = args.due_to
    body = {"segment": segment, **{field: getattr(args, flag)
                                   for flag, field in REMINDER_FLAGS.items()
                                   if getattr(args, flag) is not None}}
    if args.command == "preview":
        body["preview"] = True
    return body


def cmd_reminders_batch_create(args) -> int:
    import json

    body = json.dumps(reminder_batch_body(args)).encode()
    return through_api(lambda: print_json(call_api(
        "POST", "/reminder-batches", body, base=args.api, retries=0)))


def cmd_reminders_batch(args) -> int:
    return through_api(lambda: print_json(call_api(
        "GET", f"/reminder-batches/{args.batch_id}?paid_within_days={args.paid_within_days}",
        base=args.api)))


def cmd_reminders_results(args) -> int:
    return download_csv(f"/reminder-batches/{args.batch_id}/results", args.output, args.api,
                        "account(s)")


def cmd_reminders_remind(args) -> int:
    import json

    body = {"account_id": args.account_id, "channel": args.channel,
            "caller_id": args.caller_id}
    for flag, field in (("template", "template"), ("flow", "flow"), ("queue", "queue"),
                        ("name", "name"), ("at", "at"), ("language", "language")):
        if getattr(args, flag) is not None:
            body[field] = getattr(args, flag)
    return through_api(lambda: print_json(call_api(
        "POST", "/reminders", json.dumps(body).encode(), base=args.api, retries=0)))


def cmd_reminders_policy(args) -> int:

    query = {key: value for key, value in (
        ("from", args.from_), ("to", args.to), ("paid_within_days", args.paid_within_days))
        if value is not None}
    return get_report(f"/reminder-policies/{args.policy_id}/results", query, args, "batch(es)")


def get_report(path: str, query: dict, args, rows_are: str) -> int:
    """GET a report through the API: its CSV into ``args.output`` (or stdout) with ``--csv``,
    else its JSON printed."""
    from urllib.parse import urlencode

    if args.csv:
        return download_csv(f"{path}?{urlencode({**query, 'format': 'csv'})}", args.output,
                            args.api, rows_are)
    return through_api(lambda: print_json(call_api(
        "GET", f"{path}?{urlencode(query)}" if query else path, base=args.api)))


def add_reminder_commands(sub) -> list:
    """``reminders``: reminder batches (README: Payment reminders)."""
    reminders = sub.add_parser("reminders", help="payment reminder batches through the API"
                               ).add_subparsers(dest="command", required=True)
    parsers = []
    for command, about in (("preview", "count and sample the accounts a batch would reach "
                                       "(sends nothing)"),
                           ("send", "send a reminder batch (a campaign) to a segment")):
        create = reminders.add_parser(command, help=about)
        create.add_argument("--segment", required=True, choices=["overdue", "open", "current"])
        create.add_argument("--days", type=int, help="overdue more than this many days")
        create.add_argument("--due-from", help="YYYY-MM-DD")
        create.add_argument("--due-to", help="YYYY-MM-DD")
        create.add_argument("--channel", required=True, choices=["sms", "voice", "agent"])
        create.add_argument("--template", help="sms: reminder_due, reminder_overdue, ...")
        create.add_argument("--flow", help="voice: the flow (default reminder_call)")
        create.add_argument("--queue", help="agent: the queue whose agents take the calls "
                                            "(they join with POST /campaigns/{id}/seats)")
        create.add_argument("--caller-id", required=True, help="E.164, shown to the people")
        create.add_argument("--purpose", choices=["collections", "informational"])
        create.add_argument("--starts-at", help="ISO 8601 with offset")
        create.add_argument("--name", help="the campaign's name (voice, agent: the business "
                                           "name the voicemail says)")
        create.add_argument("--language", help="the campaign's language (en-US, zh-CN)")
        create.set_defaults(func=cmd_reminders_batch_create)
        parsers.append(create)
    batch = reminders.add_parser("batch", help="a batch's progress and who paid since")
    batch.add_argument("batch_id")
    batch.add_argument("--paid-within-days", type=int, default=7)
    batch.set_defaults(func=cmd_reminders_batch)
    results = reminders.add_parser("results", help="one row per account as CSV")
    results.add_argument("batch_id")
    results.add_argument("-o", "--output", help="write to this file (default: stdout)")
    results.set_defaults(func=cmd_reminders_results)
    one = reminders.add_parser("remind", help="remind one account now (or --at)")
    one.add_argument("account_id")
    one.add_argument("--channel", required=True, choices=["sms", "voice", "agent"])
    one.add_argument("--template", help="sms: reminder_due, reminder_overdue, ...")
    one.add_argument("--flow", help="voice: the flow (default reminder_call)")
    one.add_argument("--queue", help="agent: the queue whose agents take the call")
    one.add_argument("--caller-id", required=True, help="E.164, shown to the person")
    one.add_argument("--name", help="voice, agent: the business name the voicemail says")
    one.add_argument("--at", help="ISO 8601 with offset (default: now)")
    one.add_argument("--language", help="en-US, zh-CN")
    one.set_defaults(func=cmd_reminders_remind)
    policy = reminders.add_parser("policy", help="what a policy's batches achieved, by step")
    policy.add_argument("policy_id")
    policy.add_argument("--from", dest="from_", help="YYYY-MM-DD (default: 30 days ago)")
    policy.add_argument("--to", help="YYYY-MM-DD (default: today)")
    policy.add_argument("--paid-within-days", type=int)
    policy.add_argument("--csv", action="store_true", help="a row per batch as CSV")
    policy.add_argument("-o", "--output", help="with --csv: write to this file")
    policy.set_defaults(func=cmd_reminders_policy)
    return [*parsers, batch, results, one, policy]


def cmd_dnc_add(args) -> int:
    import json

    body = {"number": args.number, "channel": args.channel}
    if args.reason:
        body["reason"] = args.reason
    return through_api(lambda: print_json(call_api(
        "POST", "/dnc", json.dumps(body).encode(), base=args.api)))


def cmd_dnc_remove(args) -> int:
    from urllib.parse import quote

    return through_api(lambda: print_json(call_api(
        "DELETE", f"/dnc/{quote(args.number, safe='')}", base=args.api)))


def cmd_compliance_check(args) -> int:
    from urllib.parse import urlencode

    query = {"number": args.number, "channel": args.channel, "purpose": args.purpose}
    if args.caller_id:
        query["caller_id"] = args.caller_id
    if args.subject:
        query["subject"] = args.subject
    return through_api(lambda: print_json(call_api(
        "GET", f"/compliance/check?{urlencode(query)}", base=args.api)))


def cmd_campaigns_seats(args) -> int:
    """``join``, ``leave``, ``seats``: agents on a campaign's open lines."""
    import json
    from urllib.parse import quote

    def act() -> int:
        base = f"/campaigns/{args.campaign_id}/seats"
        if args.command == "seats":
            return print_json(call_api("GET", base, base=args.api))
        for agent_id in args.agent_id:
            if args.command == "join":
                answer = call_api("POST", base, json.dumps({"agent_id": agent_id}).encode(),
                                  base=args.api, retries=0)
            else:
                answer = call_api("DELETE", f"{base}/{quote(agent_id)}", base=args.api)
            print(f"{agent_id}: {answer.get('state', 'left')}")
        return 0

    return through_api(act)


def cmd_agents_add(args) -> int:
    """Create the agents of a JSON file (a list of ``POST /agents`` bodies); one that exists
    already is left as it is."""
    import json

    agents = json.loads(Path(args.file).read_text(encoding="utf-8"))

    def add() -> int:
        for agent in agents:
            try:
                call_api("POST", "/agents", json.dumps(agent).encode(), base=args.api,
                         retries=0)
                print(f"{agent['agent_id']}: created")
            except ApiError as exc:
                if exc.status != 409:
                    raise
                print(f"{agent['agent_id']}: exists")
        return 0

    return through_api(add)


# what a profile PUT takes back from a GET (the rest is live state)
PROFILE_FIELDS = ("name", "endpoint", "skills", "queues", "languages", "regions",
                  "wrap_up_seconds", "mobile", "timezone")


def cmd_agents_endpoint(args) -> int:
    """Where an agent's calls ring: ``client`` (their browser desk's softphone, identity = the
    agent id unless given as ``client:IDENTITY``) or ``phone:+E164``."""
    import json

    kind, _, address = args.endpoint.partition(":")
    if kind not in ("client", "phone", "sip") or (kind != "client" and not address):
        print("manage.py: ENDPOINT is client, client:IDENTITY, phone:+E164 or sip:URI",
              file=sys.stderr)
        return 2

    def change() -> int:
        agent = call_api("GET", f"/agents/{args.agent_id}", base=args.api)
        profile = {key: agent[key] for key in PROFILE_FIELDS if agent.get(key) is not None}
        profile["endpoint"] = {"kind": kind, "address": address or args.agent_id}
        changed = call_api("PUT", f"/agents/{args.agent_id}", json.dumps(profile).encode(),
                           base=args.api, retries=0)
        endpoint = changed["endpoint"]
        print(f"{args.agent_id}: calls ring {endpoint['kind']}:{endpoint['address']}")
        return 0

    return through_api(change)


def add_api_commands(sub) -> None:
    """``campaigns``, ``dnc`` and ``compliance``: the admin API's operations."""
    api_help = f"the API's base URL (default {LOCAL_API})"
    campaigns = sub.add_parser("campaigns", help="outbound campaigns through the API"
                               ).add_subparsers(dest="command", required=True)
    create = campaigns.add_parser("create", help="create a campaign from a JSON file and/or "
                                                 "flags (README: Campaigns)")
    create.add_argument("--file", help="the campaign as JSON (infra/local/examples/)")
    create.add_argument("--name")
    create.add_argument("--kind", help="agentless, preview, progressive, predictive or sms")
    create.add_argument("--purpose", help="informational, marketing or collections")
    create.add_argument("--list", help="the contact list's id (cl_...)")
    create.add_argument("--caller-id", help="E.164, shown to the people called")
    create.add_argument("--flow", help="agentless: the published flow")
    create.add_argument("--queue", help="agent kinds: the queue whose agents take the calls")
    create.add_argument("--template", help="sms: the text's template")
    create.add_argument("--language")
    create.add_argument("--starts-at", help="ISO 8601 with offset")
    create.add_argument("--ends-at", help="ISO 8601 with offset")
    create.add_argument("--start", action="store_true", help="start it at once")
    create.set_defaults(func=cmd_campaigns_create)
    listing = campaigns.add_parser("list", help="campaigns, newest first")
    listing.set_defaults(func=cmd_campaigns_list)
    show = campaigns.add_parser("show", help="a campaign's progress")
    show.add_argument("campaign_id")
    show.add_argument("--json", action="store_true", help="the API's answer as it is")
    show.set_defaults(func=cmd_campaigns_show)
    parsers = [create, listing, show]
    for action in ("start", "pause", "resume", "stop"):
        lifecycle = campaigns.add_parser(action, help=f"{action} a campaign")
        lifecycle.add_argument("campaign_id")
        lifecycle.set_defaults(func=cmd_campaigns_lifecycle)
        parsers.append(lifecycle)
    recycle = campaigns.add_parser("recycle", help="contacts done with these dispositions "
                                                   "(busy, no_answer, ...) wait again")
    recycle.add_argument("campaign_id")
    recycle.add_argument("disposition", nargs="+")
    recycle.set_defaults(func=cmd_campaigns_recycle)
    results = campaigns.add_parser("results", help="the results as CSV")
    results.add_argument("campaign_id")
    results.add_argument("-o", "--output", help="write to this file (default: stdout)")
    results.set_defaults(func=cmd_campaigns_results)
    parsers += [recycle, results]
    for command, about in (("join", "agents join the campaign: each is called into their "
                                    "own open line"),
                           ("leave", "agents leave the campaign (their line is hung up)"),
                           ("seats", "the campaign's agents: state, contact offered")):
        seats = campaigns.add_parser(command, help=about)
        seats.add_argument("campaign_id")
        if command != "seats":
            seats.add_argument("agent_id", nargs="+")
        seats.set_defaults(func=cmd_campaigns_seats)
        parsers.append(seats)
    agents = sub.add_parser("agents", help="agents, through the API"
                            ).add_subparsers(dest="command", required=True)
    agents_add = agents.add_parser("add", help="create the agents of a JSON file")
    agents_add.add_argument("file")
    agents_add.set_defaults(func=cmd_agents_add)
    parsers.append(agents_add)
    agents_endpoint = agents.add_parser(
        "endpoint", help="where an agent's calls ring: client (the browser desk) or phone:+E164")
    agents_endpoint.add_argument("agent_id")
    agents_endpoint.add_argument("endpoint", help="client, client:IDENTITY, phone:+E164, sip:URI")
    agents_endpoint.set_defaults(func=cmd_agents_endpoint)
    parsers.append(agents_endpoint)
    parsers += add_reminder_commands(sub)

    dnc = sub.add_parser("dnc", help="our do-not-call list, through the API"
                         ).add_subparsers(dest="command", required=True)
    add = dnc.add_parser("add", help="put a number on the list (at once, every path)")
    add.add_argument("number", help="E.164")
    add.add_argument("--channel", default="all", choices=["voice", "sms", "all"])
    add.add_argument("--reason")
    add.set_defaults(func=cmd_dnc_add)
    remove = dnc.add_parser("remove", help="take a number off the list")
    remove.add_argument("number", help="E.164")
    remove.set_defaults(func=cmd_dnc_remove)
    parsers += [add, remove]

    compliance = sub.add_parser("compliance", help="the compliance gate, through the API"
                                ).add_subparsers(dest="command", required=True)
    check = compliance.add_parser("check", help="may this number be contacted now?")
    check.add_argument("number", help="E.164")
    check.add_argument("--channel", required=True, choices=["voice", "sms"])
    check.add_argument("--purpose", default="informational",
                       choices=["informational", "marketing", "collections", "requested"])
    check.add_argument("--caller-id", help="the number shown (checked if given)")
    check.add_argument("--subject", help="what it is about (a debt, for collections)")
    check.set_defaults(func=cmd_compliance_check)
    parsers.append(check)
    for parser in parsers:
        parser.add_argument("--api", help=api_help)


def cmd_reports_rebuild(args) -> int:
    """Rewrite the rollups of local days FROM..TO from the stored facts (storage, in-process)."""
    from datetime import date

    from chalicelib.reports.rebuild import rebuild

    try:
        first, last = date.fromisoformat(args.from_), date.fromisoformat(args.to)
        done = rebuild(first, last)
    except ValueError as exc:
        print(f"manage.py: {exc}", file=sys.stderr)
        return 1
    print(f"rebuilt {done['partitions']} rollup partition(s) of {first}..{last} from "
          f"{done['facts']} fact(s)")
    return 0


def cmd_reports_export(args) -> int:

    query = {key: value for key, value in (
        ("from", args.from_), ("to", args.to), ("interval", args.interval),
        ("queue", args.queue)) if value}
    for pair in args.param or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            print(f"manage.py: --param {pair!r}: expected NAME=VALUE", file=sys.stderr)
            return 1
        query[key] = value
    return through_api(lambda: export_report(f"/reports/{args.kind}", query, args))


def export_report(path: str, query: dict, args) -> int:
    """Every page of a report (``GET /reports/{kind}`` pages: ``next`` in JSON, a ``Link``
    header in CSV) as one file: the CSV's header once, or one JSON report whose ``rows`` are
    every page's, whose other lists (``totals``, ``funnel``...) hold each item once, and whose
    ``ranking`` ranks every agent's totals."""
    from urllib.parse import urlencode

    if not args.csv:
        answer = call_api("GET", f"{path}?{urlencode(query)}" if query else path,
                          base=args.api)
        merged = dict(answer)
        while answer.get("next"):
            answer = call_api("GET", answer["next"], base=args.api)
            merge_report_page(merged, answer)
        return print_json(merged)
    target: str | None = f"{path}?{urlencode({**query, 'format': 'csv'})}"
    pages: list[bytes] = []
    while target:
        headers: dict = {}
        pages.append(call_api("GET", target, base=args.api, raw=True, headers_out=headers))
        target = next_link(headers, api_base(args.api) + target, api_base(args.api))
    data, rows = join_csv_pages(pages)
    if args.output:
        Path(args.output).write_bytes(data)
        print(f"{args.output}: {rows} row(s) in {len(pages)} page(s)", file=sys.stderr)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return 0


def join_csv_pages(pages: list[bytes]) -> tuple[bytes, int]:
    """One CSV of a report's CSV pages, and its row count. A page may have columns the others
    lack (a disposition code only its agents gave): the header is every page's columns in the
    order first seen, and a row leaves the ones its page lacks empty."""
    import csv
    import io

    tables = [list(csv.DictReader(io.StringIO(page.decode("utf-8")))) for page in pages]
    columns: list[str] = []
    for page in pages:
        header = next(csv.reader(io.StringIO(page.decode("utf-8"))), [])
        columns += [name for name in header if name not in columns]
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, restval="", lineterminator="\r\n")
    writer.writeheader()
    rows = [row for table in tables for row in table]
    writer.writerows(rows)
    return out.getvalue().encode("utf-8"), len(rows)


def merge_report_page(merged: dict, page: dict) -> None:
    """Add a report's next ``page`` to ``merged`` (see ``export_report``)."""
    from chalicelib.reports.agent_figures import ranking

    for name, value in page.items():
        if name == "rows":
            merged["rows"] = merged["rows"] + value
        elif isinstance(value, list):
            merged[name] = merged.get(name, []) + [item for item in value
                                                   if item not in merged.get(name, [])]
    if "ranking" in merged:
        merged["ranking"] = ranking(merged["totals"])
    merged["next"] = page.get("next")


def next_link(headers: dict, url: str, base: str) -> str | None:
    """The path (after ``base``) of a ``Link: <...>; rel="next"`` header answering ``url``."""
    import re
    from urllib.parse import urljoin

    link = next((value for name, value in headers.items() if name.lower() == "link"), "")
    found = re.match(r'\s*<([^>]*)>\s*;\s*rel="?next"?', link)
    if not found:
        return None
    target = urljoin(url, found.group(1))
    return target[len(base):] if target.startswith(base) else None


def add_report_commands(sub) -> None:
    reports = sub.add_parser("reports", help="reports: rebuild the rollups, export a report"
                             ).add_subparsers(dest="command", required=True)
    rebuild = reports.add_parser("rebuild", help="rewrite the rollups of a date range from "
                                                 "the stored facts")
    rebuild.add_argument("--from", dest="from_", required=True, help="YYYY-MM-DD")
    rebuild.add_argument("--to", required=True, help="YYYY-MM-DD")
    rebuild.set_defaults(func=cmd_reports_rebuild)
    export = reports.add_parser("export", help="a report through the API (JSON, or --csv), "
                                                "every page of it in one file")
    export.add_argument("kind", choices=["queues", "agents", "ivr", "staffing", "campaigns",
                                         "opt-outs", "repeat-callers", "missed"])
    export.add_argument("--from", dest="from_", help="YYYY-MM-DD (default: 30 days ago)")
    export.add_argument("--to", help="YYYY-MM-DD (default: today)")
    export.add_argument("--interval", choices=["day", "half-hour"])
    export.add_argument("--queue")
    export.add_argument("--param", action="append", metavar="NAME=VALUE",
                        help="any other query parameter: agent=, flow=, hotline=, campaign=, "
                             "channel=, times=, days=, target_sl=, ...")
    export.add_argument("--csv", action="store_true")
    export.add_argument("-o", "--output", help="with --csv: write to this file")
    export.add_argument("--api", help=f"the API's base URL (default {LOCAL_API})")
    export.set_defaults(func=cmd_reports_export)


def cmd_jobs(args) -> int:
    """``jobs list`` / ``jobs run NAME``: a scheduled job of ``app.py`` run once, here, with the
    settings ``make run`` gives its scheduler (what the developer exported wins)."""
    import json

    from infra.local.scheduler import discover_jobs, lambda_context, load_app, scheduled_event

    if os.environ.get("SWITCHBOARD_STAGE", "local") == "local":
        from infra.local.stack import local_environment

        for key, value in local_environment().items():
            os.environ.setdefault(key, value)
    jobs = {job.name: job for job in discover_jobs(load_app(str(ROOT)))}
    if args.command == "list":
        for job in jobs.values():
            print(f"{job.name:<24} {job.expression}")
        return 0
    job = jobs.get(args.name)
    if job is None:
        print(f"manage.py: no job {args.name!r}; one of {', '.join(jobs)}", file=sys.stderr)
        return 1
    import time

    now = time.time()
    result = job.handler(scheduled_event(job, now, "switchboard"),
                         lambda_context("switchboard", job, 900))
    print(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    return 0


def cmd_api_keys_new(args) -> int:
    """A new API key for a machine client: shown once; the stage keeps only its SHA-256."""
    import re
    import secrets

    from chalicelib.console.sign_in import api_key_hash

    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,40}", args.name):
        print("manage.py: NAME is 1-41 lowercase letters, digits, - or _", file=sys.stderr)
        return 2
    key = "sbk_" + secrets.token_urlsafe(32)
    entry = f"{args.name}:{api_key_hash(key)}"
    print(f"API key for {args.name} (shown once; send it as x-api-key):\n  {key}\n"
          f"Add this entry to the stage's API_KEY_HASHES (SSM <SSM_PREFIX>/console/"
          f"api-key-hashes, entries comma separated):\n  {entry}")
    return 0


def add_job_commands(sub) -> None:
    keys = sub.add_parser("api-keys", help="machine clients' API keys"
                          ).add_subparsers(dest="command", required=True)
    new_key = keys.add_parser("new", help="a new API key and its stage entry")
    new_key.add_argument("name", help="who uses it (shown in logs as api-key:NAME)")
    new_key.set_defaults(func=cmd_api_keys_new)
    jobs = sub.add_parser("jobs", help="the scheduled jobs: list them, run one now"
                          ).add_subparsers(dest="command", required=True)
    jobs.add_parser("list", help="every scheduled job and its schedule").set_defaults(
        func=cmd_jobs)
    run = jobs.add_parser("run", help="run one job once, now (e.g. run_reminders)")
    run.add_argument("name")
    run.set_defaults(func=cmd_jobs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="manage.py", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="group", required=True)

    flows = sub.add_parser("flows", help="lint, publish and bundle IVR flows").add_subparsers(
        dest="command", required=True
    )
    lint = flows.add_parser("lint", help="validate every flow")
    lint.set_defaults(func=cmd_flows_lint)
    publish = flows.add_parser("publish", help="publish new versions to DynamoDB")
    publish.add_argument("flow", nargs="*")
    publish.add_argument("--by", default="cli", help="who published (kept with the version)")
    publish.set_defaults(func=cmd_flows_publish)
    versions = flows.add_parser("versions", help="list published versions")
    versions.add_argument("flow")
    versions.set_defaults(func=cmd_flows_versions)
    bundle = flows.add_parser("bundle", help="compile flows into the Lambda package")
    bundle.set_defaults(func=cmd_flows_bundle)
    for p in (lint, publish, bundle):
        p.add_argument("--dir", default=str(FLOWS_DIR), help="flows directory")

    tables = sub.add_parser("tables").add_subparsers(dest="command", required=True)
    tables.add_parser("create", help="create missing tables").set_defaults(func=cmd_tables_create)

    calls = sub.add_parser("calls").add_subparsers(dest="command", required=True)
    show = calls.add_parser("show", help="one call record")
    show.add_argument("call_sid")
    show.set_defaults(func=cmd_calls_show)
    recent = calls.add_parser("recent", help="latest calls (scans the table)")
    recent.add_argument("--limit", type=int, default=10)
    recent.set_defaults(func=cmd_calls_recent)

    vms = sub.add_parser("voicemails").add_subparsers(dest="command", required=True)
    vm_list = vms.add_parser("list", help="voicemails of a hotline, newest first")
    vm_list.add_argument("hotline", nargs="?", default="+14155550100")
    vm_list.add_argument("--limit", type=int, default=20)
    vm_list.set_defaults(func=cmd_voicemails_list)

    lists = sub.add_parser("lists").add_subparsers(dest="command", required=True)
    list_import = lists.add_parser("import", help="import a contact list (CSV) through the API")
    list_import.add_argument("file")
    list_import.add_argument("--name", required=True)
    list_import.add_argument("--region", default="US", help="reads national numbers (ISO)")
    list_import.add_argument("--timezone", help="zone for numbers whose zones are unknown")
    list_import.add_argument("--api", help=f"the API's base URL (default {LOCAL_API})")
    list_import.add_argument("--chunk-bytes", type=int, default=5 * 1024 * 1024,
                             help=argparse.SUPPRESS)
    # each row costs a few DynamoDB requests: a chunk must finish within API Gateway's 29 s
    list_import.add_argument("--chunk-rows", type=int, default=2000,
                             help="rows per chunk at most (default 2000)")
    list_import.set_defaults(func=cmd_lists_import)
    add_api_commands(sub)
    add_job_commands(sub)
    add_report_commands(sub)

    args = parser.parse_args(argv)
    settle_environment()
    try:
        return args.func(args)
    except Exception as exc:
        reason = explain_storage_error(exc)
        if reason is None:
            raise
        print(f"manage.py: {reason}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
