"""``reports.pages.render`` without a server: every kind's page, its parameters kept or left out,
404 for a kind without one, and every text a page shows in both languages."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from chalicelib.api_errors import NotFound
from chalicelib.reports import pages
from chalicelib.reports.routes import KINDS

CONFIG = re.compile(r'<script type="application/json" id="config">(.*?)</script>', re.S)
NEW_KINDS = {  # kind: (a query of its own parameters, its canvases)
    "ivr": ("from=2026-11-01&to=2026-11-07&interval=half-hour&flow=main",
            ["funnel-chart", "contained-chart", "calls-chart"]),
    "campaigns": ("from=2026-11-01&to=2026-11-07&campaign=cmp_abcdef123456",
                  ["campaign-chart", "abandon-chart"]),
    "opt-outs": ("from=2026-11-01&to=2026-11-07&channel=sms",
                 ["channel-chart", "opt-out-day-chart"]),
    "repeat-callers": ("hotline=+14155550100&from=2026-11-01&to=2026-11-07&times=4&days=10",
                       ["repeat-chart", "fcr-chart"]),
    "missed": ("from=2026-11-01&to=2026-11-07&hotline=+14155550100",
               ["missed-day-chart", "follow-up-chart", "reasons-chart"]),
}


def query_of(text: str) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in text.split("&"))


def config(html: str) -> dict:
    found = CONFIG.search(html)
    assert found, "the page's config"
    return json.loads(found.group(1))


def test_every_report_kind_has_a_page_named_by_its_target():
    assert set(pages.PAGE_KINDS) == set(KINDS)
    for kind, module in KINDS.items():
        assert pages.PAGE_KINDS[kind] == module.TARGET, kind
        assert pages.SHARED_SCRIPT[kind] == "common.js"


@pytest.mark.parametrize("kind", sorted(NEW_KINDS))
@pytest.mark.parametrize("lang, locale", [("en", "en-US"), ("zh", "zh-CN")])
def test_each_new_page_keeps_its_own_parameters(kind, lang, locale):
    query, canvases = NEW_KINDS[kind]
    html = pages.render(kind, {**query_of(query), "lang": lang})
    settings = config(html)
    assert settings["params"] == query_of(query)
    assert (settings["kind"], settings["lang"], settings["locale"]) == (kind, lang, locale)
    assert f"<title>{pages.strings()[lang]['title_' + kind]}</title>" in html
    for canvas in canvases:
        assert f'id="{canvas}"' in html
    assert "<td" not in html  # the figures come from the page's script, not the page
    assert '<link rel="icon" href="data:,">' in html  # no request for /favicon.ico
    assert "function reportPage(" in html  # common.js, then the kind's script


@pytest.mark.parametrize("kind, query, kept", [
    ("ivr", "flow=%22%3E&interval=week&from=2026-11-01&campaign=cmp_x12345678&hotline=+1415",
     {"from": "2026-11-01"}),
    ("campaigns", "campaign=nope&interval=half-hour&to=2026-11-07&flow=main",
     {"to": "2026-11-07"}),
    ("opt-outs", "channel=fax&interval=day&from=2026-11-01", {"from": "2026-11-01"}),
    ("repeat-callers", "hotline=call-me&times=lots&days=100&queue=support&to=2026-11-07",
     {"to": "2026-11-07"}),
    ("missed", "hotline=%2B14155550100&interval=day&channel=sms", {}),
])
def test_what_is_not_the_kinds_or_ill_formed_is_left_out(kind, query, kept):
    params = dict(pair.split("=", 1) for pair in query.split("&"))
    assert config(pages.render(kind, params))["params"] == kept


def test_a_hotline_plus_sent_unencoded_is_put_back():
    # a "+" in a query string decodes to a space: the page asks for the number as typed
    html = pages.render("missed", {"hotline": " 14155550100"})
    assert config(html)["params"] == {"hotline": "+14155550100"}
    assert 'value="+14155550100"' in html


@pytest.mark.parametrize("kind", ["nope", "rebuild", "queues/page", ""])
def test_a_kind_without_a_page_is_not_found(kind):
    with pytest.raises(NotFound):
        pages.render(kind, {})


def test_every_english_text_is_in_chinese_too():
    texts = pages.strings()
    assert set(texts["en"]) == set(texts["zh"])
    assert all(value.strip() for lang in texts.values() for value in lang.values())


def test_every_text_a_page_uses_is_in_both_languages():
    # t.name / t["name"] in the templates and scripts, page.t[...] built from a column name
    used: set[str] = set()
    for path in pages.PAGE_DIR.iterdir():
        source = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"\bt\.([a-z_]+)\b", source))
        used |= set(re.findall(r"\bt\[\"([a-z_-]+)\"\]", source))
    used |= {f"title_{kind}" for kind in pages.PAGE_KINDS}
    used -= {"get"}  # Jinja's dict method in t.get(...)
    for lang, texts in pages.strings().items():
        assert used <= set(texts), (lang, sorted(used - set(texts)))


def test_every_page_has_its_form_body_and_script():
    for kind in pages.PAGE_KINDS:
        for name in (f"{kind}_form.html", f"{kind}_body.html", f"{kind}.js"):
            assert Path(pages.PAGE_DIR, name).is_file(), name
