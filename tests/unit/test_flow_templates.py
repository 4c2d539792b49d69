"""Prompt templates and conditions: spoken text, forgiving at run time, sandboxed, cached."""

from __future__ import annotations

import pytest
from jinja2 import TemplateSyntaxError

from chalicelib.ivr import templates
from chalicelib.ivr.model import Flow


def flow_with(sources: dict[str, dict[str, str]]) -> Flow:
    """A one-node flow carrying ``sources`` as its templates (language -> name -> source)."""
    return Flow.from_document(
        {
            "flow": "prompts",
            "languages": list(sources),
            "voices": {lang: {"voice": "Polly.Joanna", "language": lang} for lang in sources},
            "start": "bye",
            "nodes": {"bye": {"kind": "hangup"}},
            "templates": sources,
        }
    )


def test_whitespace_is_collapsed_to_one_spoken_line():
    flow = flow_with({"en-US": {"menu": "For billing,\n   press 1.\n\nFor sales, press 2.\n"}})
    assert (
        templates.render(flow, "en-US", "menu", {}) == "For billing, press 1. For sales, press 2."
    )


def test_no_spaces_are_left_between_chinese_phrases():
    flow = flow_with({"zh-CN": {"balance": "您的应付金额为\n{{ amount }}美元，\n请按时付款。"}})
    text = templates.render(flow, "zh-CN", "balance", {"amount": "42.17"})
    assert text == "您的应付金额为42.17美元，请按时付款。"


def test_undefined_variables_render_as_nothing():
    flow = flow_with({"en-US": {"hi": "Hello {{ name }}{{ customer.name.first }}!"}})
    assert templates.render(flow, "en-US", "hi", {"customer": {}}) == "Hello !"


def test_none_renders_as_nothing():
    flow = flow_with({"en-US": {"hi": "Hello {{ name }}."}})
    assert templates.render(flow, "en-US", "hi", {"name": None}) == "Hello ."


def test_a_template_that_fails_at_run_time_is_skipped_not_raised():
    flow = flow_with({"en-US": {"broken": "{{ missing() }} {{ 1 / 0 }}"}})
    assert templates.render(flow, "en-US", "broken", {}) == ""


def test_the_sandbox_hides_python_internals():
    flow = flow_with({"en-US": {"probe": "x{{ ''.__class__.__mro__ }}y"}})
    assert templates.render(flow, "en-US", "probe", {}) == "xy"


def test_templates_may_include_others_of_the_same_language():
    flow = flow_with({"en-US": {"outer": "{% include 'inner' %} Goodbye.", "inner": "Thanks."}})
    assert templates.render(flow, "en-US", "outer", {}) == "Thanks. Goodbye."


def test_compiled_once_per_flow_content_language_and_name():
    flow = flow_with({"en-US": {"hi": "Hi."}, "zh-CN": {"hi": "你好。"}})
    first = templates.compiled(flow, "en-US", "hi")
    assert templates.compiled(flow_with(flow.templates), "en-US", "hi") is first
    assert templates.compiled(flow, "zh-CN", "hi") is not first
    changed = flow_with({"en-US": {"hi": "Hello."}, "zh-CN": {"hi": "你好。"}})
    assert templates.compiled(changed, "en-US", "hi") is not first


@pytest.mark.parametrize(
    ("customer", "expected"),
    [(None, False), ({}, False), ({"vip": False}, False), ({"vip": True}, True)],
)
def test_customer_vip_condition_works_without_a_customer(customer, expected):
    assert templates.evaluate("customer.vip", {"customer": customer or {}}) is expected


def test_conditions_see_variables_and_fail_closed():
    context = {"caller_country": "CN", "language": "en-US", "attempts": 3}
    assert templates.evaluate("caller_country == 'CN' and language != 'zh-CN'", context)
    assert templates.evaluate("attempts > 2", context)
    assert templates.evaluate("attempts / 0", context) is False
    assert templates.evaluate("customer.flags.overdue", {"customer": {}}) is False


def test_inline_templates_render_node_fields():
    assert templates.render_string("{{ account_number }}", {"account_number": "42"}) == "42"
    assert templates.render_string("{{ nothing }}", {}) == ""


@pytest.mark.parametrize(
    ("value", "format", "expected"),
    [
        ("2026-07-01", "%B %-d, %Y", "July 1, 2026"),
        ("2026-07-01", "%Y年%-m月%-d日", "2026年7月1日"),
        ("2026-07-01T09:30:00Z", "%B %-d", "July 1"),
        ("soon", "%B %-d", ""),
        (None, "%B %-d", ""),
    ],
)
def test_date_filter_speaks_iso_dates_per_language(value, format, expected):
    flow = flow_with({"en-US": {"due": "{{ due | date(fmt) }}"}})
    assert templates.render(flow, "en-US", "due", {"due": value, "fmt": format}) == expected


def test_parse_condition_rejects_trailing_text():
    with pytest.raises(TemplateSyntaxError):
        templates.parse_condition("vip }}{{ other")
