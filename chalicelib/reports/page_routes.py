"""The report pages, for people in a browser: ``GET /reports/{kind}/page?...&lang=en|zh`` for
``queues``, ``agents``, ``staffing``, ``ivr``, ``campaigns``, ``opt-outs``, ``repeat-callers``
and ``missed`` (``pages.PAGE_KINDS``; HTML; the query as ``pages.KIND_PARAMS``; 404 for a kind
without a page) and ``GET /reports/static/chart.js``
(the bundled Chart.js, cached for a year: the page asks for it with ``?v=<version>``).

No API key on either: a browser cannot send one when it opens a page. They are safe without it
because they hold no figures: the page's own script fetches ``GET /reports/{kind}`` (admin)
from the same origin with the console session's bearer token (``/console`` signs in) or an API
key the user types into the page, which stays in that tab's ``sessionStorage``.
What the pages are is in ``reports.pages``.
"""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api_errors import json_answer
from chalicelib.reports import pages

report_pages = Blueprint(__name__)
JS_TYPE = "application/javascript; charset=utf-8"


@report_pages.route("/reports/{kind}/page", methods=["GET"])
def report_page(kind):
    query: dict[str, str] = dict(report_pages.current_request.query_params or {})
    answer = json_answer(lambda: pages.render(kind, query))
    if answer.status_code != 200:
        return answer
    return Response(body=answer.body, status_code=200, headers={
        "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"})


@report_pages.route("/reports/static/chart.js", methods=["GET"])
def chart_library():
    library = pages.chart_library()
    if library is None:
        return Response(body="// Chart.js is not bundled: run make bundle\n", status_code=404,
                        headers={"Content-Type": JS_TYPE, "Cache-Control": "no-store"})
    return Response(body=library, status_code=200, headers={
        "Content-Type": JS_TYPE, "Cache-Control": "public, max-age=31536000, immutable",
        "X-Content-Type-Options": "nosniff"})
