"""The reports API (admin, ``api_key_required=True``): ``GET /reports/queues?from=&to=
&interval=day|half-hour&queue=&format=json|csv|xlsx``. The work is ``reports.queues``'s; dates
are ``query_dates``'s (default: the last 30 days). A workbook is binary: API Gateway returns it
as such when the request's ``Accept`` names its type (``exports.XLSX_TYPE``, one of the app's
``binary_types``, ``app.py``)."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api_errors import InvalidRequest, json_answer
from chalicelib.api_input import path_id, query_dates
from chalicelib.reports import exports, queues
from chalicelib.wiring import root

reports_api = Blueprint(__name__)
FORMATS = ("json", "csv", "xlsx")
FILES = {"csv": ("text/csv; charset=utf-8", "csv"), "xlsx": (exports.XLSX_TYPE, "xlsx")}


@reports_api.route("/reports/queues", methods=["GET"], api_key_required=True)
def queues_report():
    query = dict(reports_api.current_request.query_params or {})
    fmt = query.get("format", "json")

    def report():
        if fmt not in FORMATS:
            raise InvalidRequest("format", f"must be one of {', '.join(FORMATS)}")
        first, last = query_dates(query, root().now().date())
        queue = path_id(query["queue"], "queue_id", "queue") if query.get("queue") else None
        made = queues.queue_report(first, last, query.get("interval", "day"), queue)
        file["name"] = f"queues-{made['from']}-{made['to']}"
        if fmt == "csv":
            return queues.as_csv(made)
        if fmt == "xlsx":
            file["xlsx"] = queues.as_xlsx(made)
            return ""
        return made

    file: dict = {}
    answer = json_answer(report)
    if fmt not in FILES or answer.status_code != 200:
        return answer
    content_type, extension = FILES[fmt]
    return Response(body=file.get("xlsx", answer.body), status_code=200, headers={
        "Content-Type": content_type,
        "Content-Disposition": f'attachment; filename="{file["name"]}.{extension}"'})
