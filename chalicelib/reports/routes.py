"""The reports API (admin, ``api_key_required=True``): ``GET /reports/queues?from=&to=
&interval=day|half-hour&queue=&format=json|csv``. The work is ``reports.queues``'s; dates are
``query_dates``'s (default: the last 30 days)."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api_errors import InvalidRequest, json_answer
from chalicelib.api_input import path_id, query_dates
from chalicelib.reports import queues
from chalicelib.wiring import root

reports_api = Blueprint(__name__)
FORMATS = ("json", "csv")


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
        return queues.as_csv(made) if fmt == "csv" else made

    answer = json_answer(report)
    if fmt != "csv" or answer.status_code != 200:
        return answer
    return Response(body=answer.body, status_code=200, headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": 'attachment; filename="queues-report.csv"'})
