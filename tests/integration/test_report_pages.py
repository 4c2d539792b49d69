"""The report pages' routes through Chalice: ``GET /reports/{kind}/page`` (HTML, English or
Chinese, no figures and no URL off our own origin) and ``GET /reports/static/chart.js`` (the
bundled Chart.js). What the page draws is tested in Chromium (tests/browser/test_report_page.py).
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from chalicelib.reports import pages

PAGE = "/reports/queues/page"


def get(client, path: str, headers: dict | None = None):
    response = client.http.get(path, headers=headers or {})
    body = response.body.decode() if isinstance(response.body, bytes) else response.body
    return response.status_code, response.headers, body


class _Links(HTMLParser):
    """Every src, href and action attribute of a page."""

    def __init__(self):
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.links += [value for name, value in attrs if name in ("src", "href", "action")]


EMPTY_ICON = "data:,"  # <link rel="icon">: the browser asks for no /favicon.ico (a 403 there)


def links(html: str) -> list[str]:
    """The page's links but its empty icon, which is no URL at all."""
    parser = _Links()
    parser.feed(html)
    assert parser.links.count(EMPTY_ICON) == 1
    return [link for link in parser.links if link != EMPTY_ICON]


def config(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="config">(.*?)</script>', html, re.S)
    assert found, "the page's config"
    return json.loads(found.group(1))


@pytest.mark.parametrize("lang, locale, title, words", [
    ("en", "en-US", "Queues report", ["Answered", "Abandoned", "Service level"]),
    ("zh", "zh-CN", "队列报表", ["已接通", "放弃", "服务水平", "放弃率"]),
])
def test_the_queues_page_is_html_in_english_or_chinese(client, lang, locale, title, words):
    status, headers, html = get(client, f"{PAGE}?lang={lang}&from=2026-11-01&to=2026-11-07"
                                        "&interval=half-hour&queue=support")
    assert status == 200, html
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Cache-Control"] == "no-store"
    assert f'<html lang="{locale}">' in html and f"<title>{title}</title>" in html
    settings = config(html)
    assert settings["params"] == {"from": "2026-11-01", "to": "2026-11-07",
                                  "interval": "half-hour", "queue": "support"}
    assert (settings["kind"], settings["lang"], settings["locale"]) == ("queues", lang, locale)
    for word in words:
        assert word in settings["strings"].values()
    assert 'id="volume-chart"' in html and 'id="levels-chart"' in html \
        and 'id="outcome-chart"' in html and 'id="callbacks-chart"' in html


def test_the_page_holds_no_figures_and_is_not_behind_the_sign_in(client):
    from chalicelib.console.access import needs_principal

    assert not needs_principal("GET", "/reports/{kind}/page")
    assert not needs_principal("GET", "/reports/static/chart.js")
    assert needs_principal("GET", "/reports/{kind}")  # where the figures are
    _, _, html = get(client, PAGE)
    assert "<td" not in html and html.count("<tbody></tbody>") == 2  # the script fills them
    assert set(config(html)) == {"kind", "target", "params", "lang", "locale", "strings"}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_nothing_on_the_page_comes_from_another_origin(client, lang):
    _, _, html = get(client, f"{PAGE}?lang={lang}&queue=support")
    assert not re.search(r"https?:|//[a-z0-9]", html, re.I), "an absolute URL in the page"
    found = links(html)
    assert found, "the page links its library and its other language"
    for link in found:
        assert not re.match(r"[a-z][a-z0-9+.-]*:|//", link, re.I), link
    if pages.chart_version():
        assert f'src="../static/chart.js?v={pages.chart_version()}"' in html


def test_ill_formed_parameters_are_left_out_of_the_page(client):
    status, _, html = get(client, f"{PAGE}?queue=%22%3E%3Cscript%3Ealert(1)%3C/script%3E"
                                  "&from=yesterday&interval=week&to=2026-11-07&lang=fr")
    assert status == 200
    assert "<script>alert" not in html
    settings = config(html)
    assert settings["params"] == {"to": "2026-11-07"} and settings["lang"] == "en"


@pytest.mark.parametrize("kind", ["nope", "rebuild"])
def test_a_kind_without_a_page_is_404(client, kind):
    status, headers, body = get(client, f"/reports/{kind}/page")
    assert status == 404 and headers["Content-Type"] == "application/json"
    assert kind in json.loads(body)["error"]


def test_the_chart_library_is_served_with_a_long_cache(client, tmp_path, monkeypatch):
    library = tmp_path / "chart.umd.js"
    library.write_text("/*!\n * Chart.js v9.8.7\n * Released under the MIT License\n */\n"
                       "window.Chart = function () {};\n", encoding="utf-8")
    monkeypatch.setattr(pages, "CHART_JS", library)
    status, headers, body = get(client, "/reports/static/chart.js")
    assert status == 200 and body == library.read_text(encoding="utf-8")
    assert headers["Content-Type"] == "application/javascript; charset=utf-8"
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    _, _, html = get(client, PAGE)  # the version in the URL: a new library is a new URL
    assert 'src="../static/chart.js?v=9.8.7"' in html and 'id="charts-unavailable"' not in html


def test_without_the_library_the_page_says_charts_are_unavailable(client, tmp_path, monkeypatch):
    monkeypatch.setattr(pages, "CHART_JS", tmp_path / "absent.js")
    status, headers, body = get(client, "/reports/static/chart.js")
    assert status == 404 and headers["Content-Type"].startswith("application/javascript")
    _, _, html = get(client, PAGE)
    assert "static/chart.js" not in html and 'id="charts-unavailable"' in html
    _, _, html = get(client, f"{PAGE}?lang=zh")
    assert "图表不可用" in html


def test_the_bundled_library_is_chart_js_4_with_its_licence():
    library = pages.chart_library()
    if library is None:
        pytest.skip("Chart.js is not bundled here: make bundle copies it")
    assert re.match(r"/\*!\n \* Chart\.js v4\.\d+\.\d+\n", library)
    assert "Released under the MIT License" in library[:300]
    assert "sourceMappingURL" not in library


@pytest.mark.parametrize("lang, kind, query, title, canvases, words", [
    ("en", "agents", "from=2026-11-01&to=2026-11-07&interval=day&agent=ag-1", "Agents report",
     ["handled-chart", "time-chart", "occupancy-chart"], ["Handled", "Talk time (s)", "Occupancy"]),
    ("zh", "agents", "from=2026-11-01&to=2026-11-07&interval=day&agent=ag-1", "坐席报表",
     ["handled-chart", "time-chart", "occupancy-chart"], ["坐席", "已处理", "通话时长（秒）",
                                                          "话后处理（秒）", "占用率"]),
    ("en", "staffing", "queue=support&from=2026-12-07&target_sl=0.9&answer_within=30"
     "&shrinkage=0.25&patience=120", "Staffing plan", ["forecast-chart", "staff-chart"],
     ["Forecast calls", "Agents needed", "Agents scheduled"]),
    ("zh", "staffing", "queue=support&from=2026-12-07&target_sl=0.9&answer_within=30"
     "&shrinkage=0.25&patience=120", "排班预测", ["forecast-chart", "staff-chart"],
     ["预测来电", "所需坐席", "排班坐席", "服务水平目标"]),
    ("en", "ivr", "from=2026-11-01&to=2026-11-07&interval=day&flow=main", "IVR report",
     ["funnel-chart", "contained-chart", "calls-chart"], ["Reached", "Left here", "Containment"]),
    ("zh", "repeat-callers", "hotline=%2B14155550100&times=3&days=7", "重复来电",
     ["repeat-chart", "fcr-chart"], ["首次解决率", "再次来电"]),
    ("en", "missed", "hotline=%2B14155550100&from=2026-11-01", "Missed calls report",
     ["missed-day-chart", "follow-up-chart", "reasons-chart"], ["Missed", "Followed up"]),
    ("zh", "opt-outs", "channel=voice", "退订报表", ["channel-chart", "opt-out-day-chart"],
     ["退订", "语音"]),
    ("en", "campaigns", "campaign=cmp_abcdef123456", "Campaigns report",
     ["campaign-chart", "abandon-chart"], ["Dials", "Live answers"]),
])
def test_every_other_page(client, lang, kind, query, title, canvases, words):
    status, headers, html = get(client, f"/reports/{kind}/page?lang={lang}&{query}")
    assert status == 200, html
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert f"<title>{title}</title>" in html
    settings = config(html)
    assert settings["kind"] == kind and settings["params"] == dict(
        pair.replace("%2B", "+").split("=") for pair in query.split("&"))
    for word in words:
        assert word in settings["strings"].values()
    for canvas in canvases:
        assert f'id="{canvas}"' in html
    assert "<td" not in html  # the script fills the tables
    assert not re.search(r"https?:|//[a-z0-9]", html, re.I), "an absolute URL in the page"
    for link in links(html):
        assert not re.match(r"[a-z][a-z0-9+.-]*:|//", link, re.I), link


@pytest.mark.parametrize("kind, query, kept", [
    ("agents", "agent=%22%3E%3Cscript%3E&from=monday&interval=week&to=2026-11-07&queue=support",
     {"to": "2026-11-07"}),
    ("staffing", "queue=support&target_sl=80%25&answer_within=-1&shrinkage=lots&patience=1e9"
     "&interval=day&to=2026-12-13&from=2026-12-07", {"queue": "support", "from": "2026-12-07"}),
])
def test_the_new_pages_drop_what_is_not_theirs_or_ill_formed(client, kind, query, kept):
    status, _, html = get(client, f"/reports/{kind}/page?{query}")
    assert status == 200 and "<script>alert" not in html and '"><script>' not in html
    assert config(html)["params"] == kept
