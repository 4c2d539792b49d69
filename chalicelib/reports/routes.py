"""The reports API (admin: signed in): ``GET /reports/{kind}?from=&to=
&interval=day|half-hour&<target>=&format=json|csv|xlsx|text``, one kind per report module
(``KINDS``), each answering ``report(first, last, interval, target) -> dict`` with ``rows`` and
``totals``, ``columns(report)`` and ``TOTAL_COLUMNS``, and naming its ``TARGET`` parameter
(``queue``, ``agent``, ``flow``...). Dates are ``query_dates``'s (default: the last 30 days). A
workbook is binary: API Gateway returns it as such when the request's ``Accept`` names its type
(``exports.XLSX_TYPE``, one of the app's ``binary_types``, ``app.py``).

Pages (``reports.cursors``): a report whose module is ``PAGED`` answers at most ``limit`` rows
(whole members), with ``"next"``, the path and query of the next page (None on the last;
it names the range the first page resolved, so a default ``to`` stays put past midnight); a
file (CSV, text, XLSX) holds the same page and says the next in a ``Link: <...>; rel="next"``
header (resolved against the request's own URL, stage prefix included). Other kinds are one
page (``"next": null``); a ``cursor`` sent to them is refused (400 naming ``cursor``)."""

from __future__ import annotations

from types import ModuleType

from chalice import Blueprint, Response

from chalicelib.api_errors import InvalidRequest, NotFound, json_answer
from chalicelib.api_input import path_id, query_dates
from chalicelib.reports import (
    agent_today,
    agents,
    campaigns,
    cursors,
    exports,
    ivr,
    missed,
    opt_outs,
    queues,
    repeat_callers,
    staffing_report,
)
from chalicelib.wiring import root

reports_api = Blueprint(__name__)
KINDS: dict[str, ModuleType] = {"queues": queues, "agents": agents, "ivr": ivr,
                                 "staffing": staffing_report, "campaigns": campaigns,
                                 "opt-outs": opt_outs, "repeat-callers": repeat_callers,
                                 "missed": missed}
FORMATS = ("json", "csv", "xlsx", "text")
FILES = {"csv": ("text/csv; charset=utf-8", "csv"), "xlsx": (exports.XLSX_TYPE, "xlsx"),
         "text": ("text/plain; charset=utf-8", "txt")}


def _kind(name: str) -> ModuleType:
    module = KINDS.get(name)
    if module is None:
        raise NotFound("report", name)
    return module


def _total_columns(module: ModuleType, made: dict) -> list[str]:
    """The totals' columns: the module's ``total_columns(report)`` where the columns depend on
    the report (disposition codes), else its ``TOTAL_COLUMNS``."""
    columns = getattr(module, "total_columns", None)
    return columns(made) if columns is not None else list(module.TOTAL_COLUMNS)


@reports_api.route("/reports/{kind}", methods=["GET"])
def report(kind):
    query = dict(reports_api.current_request.query_params or {})
    fmt = query.get("format", "json")
    file: dict = {}

    def make():
        module = _kind(kind)
        if fmt not in FORMATS:
            raise InvalidRequest("format", f"must be one of {', '.join(FORMATS)}")
        today = root().now().date()
        default_range = getattr(module, "default_range", None)
        if default_range is not None and not query.get("to"):
            start = query_dates({"from": query["from"], "to": query["from"]}, today)[0] \
                if query.get("from") else None
            first, last = default_range(today, start)
        else:
            first, last = query_dates(query, today)
        name = module.TARGET
        value = query.get(name) or ""
        if value.startswith(" "):  # a "+" sent unencoded arrives as a space (+1415...)
            value = "+" + value[1:]
        target = path_id(value, f"{name}_id", name) if value else None
        interval = query.get("interval", getattr(module, "DEFAULT_INTERVAL", "day"))
        options: dict[str, object] = {}
        if getattr(module, "OPTIONS", False):
            options["options"] = query
        # the range resolved: every page covers the first page's days, even past midnight
        page = cursors.request_page(kind, {**query, "from": first.isoformat(),
                                           "to": last.isoformat()})
        if getattr(module, "PAGED", False):
            options["page"] = page
        elif page.start is not None:
            raise InvalidRequest("cursor", f"a {kind} report is one page")
        made = module.report(first, last, interval, target, **options)
        file["name"] = f"{kind}-{made['from']}-{made['to']}"
        file["next"] = made.get("next")
        if fmt == "csv":
            return exports.csv_text(made["rows"], module.columns(made))
        if fmt == "text":
            return exports.text_table([
                (f"{kind}, {made['from']} to {made['to']}, by {made['interval']}",
                 made["rows"], module.columns(made)),
                ("totals", made["totals"], _total_columns(module, made))])
        if fmt == "xlsx":
            file["xlsx"] = exports.xlsx_bytes([
                (f"{kind} by {made['interval']}", made["rows"], module.columns(made)),
                ("totals", made["totals"], _total_columns(module, made))])
            return ""
        return made

    answer = json_answer(make)
    if fmt not in FILES or answer.status_code != 200:
        return answer
    content_type, extension = FILES[fmt]
    headers: dict[str, str | list[str]] = {
        "Content-Type": content_type,
        "Content-Disposition": f'attachment; filename="{file["name"]}.{extension}"'}
    if file["next"]:
        headers["Link"] = f'<{_base_path(kind)}{file["next"]}>; rel="next"'
    return Response(body=file.get("xlsx", answer.body), status_code=200, headers=headers)


@reports_api.route("/agents/{agent_id}/today", methods=["GET"])
def agent_day(agent_id):
    """The agent's own figures so far today, in their zone (``reports.agent_today``)."""
    return json_answer(lambda: agent_today.agent_today(path_id(agent_id, "agent_id", "agent"),
                                                       root().now()))


def _base_path(kind: str) -> str:
    """What precedes ``/reports/{kind}`` in the path asked (API Gateway's stage: ``/api``)."""
    asked = (reports_api.current_request.context or {}).get("path") or ""
    route = f"/reports/{kind}"
    return asked[:-len(route)] if asked.endswith(route) else ""
