"""Loading and linting flows: every check points at the file, line and node to fix.

Each broken flow under ``tests/fixtures/flows/`` holds one kind of mistake; the tests assert the
exact ``(line, node)`` reported, so line tracking regressions show up as well as missed checks.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chalicelib.ivr.lint import LintError, lint_flow, lint_flows
from chalicelib.ivr.loader import load_flow_file, load_flows
from chalicelib.ivr.model import Flow, FlowError

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "flows"
SHIPPED = ROOT / "flows"


@pytest.fixture(scope="module")
def fixture_errors() -> list[LintError]:
    return lint_flows(FIXTURES)


def reported(errors: list[LintError], file: str) -> list[tuple[int | None, str | None]]:
    """``(line, node)`` of the errors reported against ``file`` (a path under the fixtures)."""
    return [(e.line, e.node) for e in errors if Path(e.file) == FIXTURES / file]


def messages(errors: list[LintError], file: str) -> str:
    return "\n".join(e.message for e in errors if Path(e.file) == FIXTURES / file)


def test_shipped_flows_lint_clean():
    assert lint_flows(SHIPPED) == []


def test_shipped_flows_load_with_their_templates_in_every_language():
    flows, errors = load_flows(SHIPPED)
    assert errors == []
    assert set(flows) == {"main", "billing", "campaign_survey", "pay_bill", "reminder_call"}
    for flow in flows.values():
        assert flow.languages == ["en-US", "zh-CN"]
        for language in flow.languages:
            assert set(flow.templates[language]) == flow.template_names()


def test_yaml_syntax_error(fixture_errors):
    assert reported(fixture_errors, "yaml_syntax.yaml") == [(10, None)]
    assert "YAML syntax error" in messages(fixture_errors, "yaml_syntax.yaml")


def test_schema_missing_unknown_and_mistyped_keys(fixture_errors):
    assert reported(fixture_errors, "schema.yaml") == [
        (7, "hello"),  # the node: missing 'template'
        (9, "hello"),  # the typo
        (14, "ask"),
        (15, "ask"),
    ]
    text = messages(fixture_errors, "schema.yaml")
    assert "missing required key 'template'" in text
    assert "unknown key 'tempalte'" in text
    assert "'timeout' must be an integer" in text
    assert "'input' must be one of: dtmf, speech, both" in text


def test_unknown_node_kind(fixture_errors):
    assert reported(fixture_errors, "unknown_kind.yaml") == [(8, "hello")]
    assert "unknown node kind 'speak'" in messages(fixture_errors, "unknown_kind.yaml")


def test_duplicate_node_id_is_not_silently_dropped(fixture_errors):
    assert reported(fixture_errors, "duplicate_node.yaml") == [(13, "hello")]
    assert "duplicate node id 'hello' (first on line 7)" in messages(
        fixture_errors, "duplicate_node.yaml"
    )


def test_flow_id_must_match_file_name(fixture_errors):
    assert reported(fixture_errors, "wrong_id.yaml") == [(1, None)]
    assert "must match the file name 'wrong_id'" in messages(fixture_errors, "wrong_id.yaml")


def test_dangling_targets(fixture_errors):
    assert reported(fixture_errors, "dangling.yaml") == [(15, "ask"), (23, "check")]
    text = messages(fixture_errors, "dangling.yaml")
    assert "'options.1.next' points to unknown node 'nowhere'" in text
    assert "'cases.0.next' points to unknown node 'missing_case'" in text


def test_goto_to_a_flow_not_in_the_directory(fixture_errors):
    assert reported(fixture_errors, "goto_unknown.yaml") == [(13, "elsewhere")]
    assert "unknown flow 'no_such_flow'" in messages(fixture_errors, "goto_unknown.yaml")


def test_unreachable_node(fixture_errors):
    assert reported(fixture_errors, "unreachable.yaml") == [(11, "orphan")]


def test_loop_with_no_way_out(fixture_errors):
    assert reported(fixture_errors, "dead_end_loop.yaml") == [(7, "first")]
    assert "loop with no way out: first -> second" in messages(fixture_errors, "dead_end_loop.yaml")


def test_loop_that_never_waits_for_the_caller(fixture_errors):
    assert reported(fixture_errors, "spinning_loop.yaml") == [(7, "hello")]
    assert "loop never waits for the caller: hello -> check" in messages(
        fixture_errors, "spinning_loop.yaml"
    )


def test_template_syntax_error_names_the_template_file_and_line(fixture_errors):
    assert reported(fixture_errors, "templates/en-US/broken.j2") == [(2, "hello")]
    assert "template syntax error" in messages(fixture_errors, "templates/en-US/broken.j2")
    assert reported(fixture_errors, "template_syntax.yaml") == []


def test_missing_template_file(fixture_errors):
    assert reported(fixture_errors, "missing_template.yaml") == [(13, "bye")]
    assert "missing template 'nowhere'" in messages(fixture_errors, "missing_template.yaml")


def test_missing_translation(fixture_errors):
    assert reported(fixture_errors, "missing_translation.yaml") == [(14, "bye")]
    text = messages(fixture_errors, "missing_translation.yaml")
    assert "template 'only_english' has no zh-CN version" in text


def test_undeclared_variables_in_templates_and_conditions(fixture_errors):
    # customer.name is built in; loyalty_tier is set by no node in any flow
    assert reported(fixture_errors, "templates/en-US/greet_by_name.j2") == [(2, "hello")]
    assert reported(fixture_errors, "undeclared_var.yaml") == [(14, "check")]
    assert "undefined variable 'loyalty_tier'" in messages(fixture_errors, "undeclared_var.yaml")


def test_invalid_regex_in_collect(fixture_errors):
    assert reported(fixture_errors, "bad_regex.yaml") == [(11, "ask")]
    assert "invalid regex" in messages(fixture_errors, "bad_regex.yaml")


def test_invalid_time_zone_weekly_hours_and_holiday(fixture_errors):
    assert reported(fixture_errors, "bad_hours.yaml") == [
        (9, "office"),
        (11, "office"),
        (12, "office"),
        (13, "office"),
    ]
    text = messages(fixture_errors, "bad_hours.yaml")
    assert "unknown time zone 'America/New_Yrok'" in text
    assert "'mon-fry' is not a day" in text
    assert "'17:00-09:00' ends before it starts" in text
    assert "holiday '2026-13-01'" in text


def test_invalid_e164_transfer_number(fixture_errors):
    assert reported(fixture_errors, "bad_transfer.yaml") == [(9, "operator")]
    assert "not a valid E.164 number" in messages(fixture_errors, "bad_transfer.yaml")


def test_menu_may_only_switch_to_flow_languages_and_not_set_builtins(fixture_errors):
    assert reported(fixture_errors, "bad_language.yaml") == [(11, "choose"), (12, "choose")]
    text = messages(fixture_errors, "bad_language.yaml")
    assert "language 'fr-FR' is not one of en-US" in text
    assert "'caller' is built in" in text


def test_every_fixture_error_is_expected(fixture_errors):
    expected_files = {p.name for p in FIXTURES.glob("*.yaml")} - {"template_syntax.yaml"}
    expected_files |= {"broken.j2", "greet_by_name.j2", "say_balance.j2"}
    assert {Path(e.file).name for e in fixture_errors} == expected_files


def test_lint_error_reads_like_a_compiler_message():
    error = LintError("flows/main.yaml", 42, "main_menu", "'next' points to unknown node 'x'")
    assert str(error) == "flows/main.yaml:42: node 'main_menu': 'next' points to unknown node 'x'"
    assert str(LintError("flows/main.yaml", 3, None, "bad")) == "flows/main.yaml:3: bad"


def test_load_flow_file_raises_flow_error_with_every_schema_problem():
    with pytest.raises(FlowError) as raised:
        load_flow_file(FIXTURES / "schema.yaml", FIXTURES / "templates")
    assert [(e.line, e.node) for e in raised.value.errors] == [
        (7, "hello"),
        (9, "hello"),
        (14, "ask"),
        (15, "ask"),
    ]


def test_lint_flow_checks_a_flow_in_memory_without_lines():
    document = json.loads(json.dumps(load_flows(SHIPPED)[0]["main"].to_document()))
    document["nodes"]["goodbye"] = {"kind": "say", "template": "goodbye", "next": "gone"}
    errors = lint_flow(Flow.from_document(document))
    assert errors == [
        LintError("flow main", None, "goodbye", "'next' points to unknown node 'gone'")
    ]


def test_document_round_trip_keeps_content_and_checksum_ignores_version():
    flow = load_flows(SHIPPED)[0]["billing"]
    document = json.loads(json.dumps(flow.to_document()))
    assert document["templates"]["zh-CN"]["ask_pin"].startswith("请输入")
    again = Flow.from_document({**document, "version": 3})
    assert again.version == 3
    assert again.nodes == flow.nodes and again.templates == flow.templates
    assert again.checksum == flow.checksum
    document["templates"]["en-US"]["ask_pin"] = "Your PIN, please."
    assert Flow.from_document(document).checksum != flow.checksum


def test_sensitive_vars_come_from_collects_and_lookup_fields_marked_sensitive():
    flows, _ = load_flows(SHIPPED)
    assert flows["billing"].sensitive_vars == {"pin", "pin_hash"}
    assert flows["main"].sensitive_vars == set()


# ---- variables along the graph -------------------------------------------------------------


def test_a_variable_not_set_on_every_path_is_reported_where_it_is_read(fixture_errors):
    # the template says {{ balance }} on line 2; a failed collect reaches it with no look-up
    assert reported(fixture_errors, "templates/en-US/say_balance.j2") == [(2, "balance")]
    # a condition reached through on_missing, which sets nothing
    assert reported(fixture_errors, "unset_variable.yaml") == [(23, "sorry")]
    text = messages(fixture_errors, "unset_variable.yaml")
    assert "'balance' is not set on every path to this node, e.g. ask -> find -> sorry" in text
    assert "e.g. ask -> balance" in "\n".join(
        e.message for e in fixture_errors if Path(e.file).name == "say_balance.j2")


def test_a_sensitive_variable_read_after_the_caller_was_asked_again(fixture_errors):
    assert reported(fixture_errors, "stale_sensitive.yaml") == [(24, "check")]
    text = messages(fixture_errors, "stale_sensitive.yaml")
    assert "reads sensitive variable 'pin' in a later webhook step" in text
    assert "'confirm' waits for the caller in between: ask_pin -> confirm -> check" in text


VOICES = {"en-US": {"voice": "Polly.Joanna", "language": "en-US"}}


def flow_of(nodes: dict, templates: dict[str, str], start: str = "ask") -> Flow:
    return Flow.from_document({"flow": "t", "languages": ["en-US"], "voices": VOICES,
                               "start": start, "nodes": nodes,
                               "templates": {"en-US": templates}})


def lint_messages(flow: Flow) -> list[tuple[str | None, str]]:
    return [(error.node, error.message) for error in lint_flow(flow)]


def menu(options: dict, prompt: str = "menu", **fields) -> dict:
    return {"kind": "menu", "prompt": prompt, "options": options, "on_timeout": "bye",
            "on_invalid": "bye", **fields}


def test_a_menu_variable_set_by_some_options_only():
    nodes = {
        "ask": menu({"1": {"next": "tell", "set": {"topic": "billing"}}, "2": {"next": "tell"}}),
        "tell": {"kind": "say", "template": "topic", "next": "bye"},
        "bye": {"kind": "hangup"},
    }
    templates = {"menu": "Press 1 or 2.", "topic": "You chose {{ topic }}."}
    [(node, message)] = lint_messages(flow_of(nodes, templates))
    assert node == "tell" and "'topic' is not set on every path" in message
    assert "e.g. ask -> tell" in message
    nodes["ask"]["options"]["2"]["set"] = {"topic": "other"}
    assert lint_messages(flow_of(nodes, templates)) == []


def test_a_variable_set_on_every_way_round_a_loop_is_fine():
    nodes = {
        "ask": {"kind": "collect", "prompt": "menu", "into": "code", "next": "find",
                "on_fail": "bye"},
        "find": {"kind": "lookup", "source": "accounts", "key": "{{ code }}",
                 "into": {"owner": "name"}, "next": "greet", "on_missing": "ask"},
        "greet": {"kind": "say", "template": "greet", "next": "ask"},
        "bye": {"kind": "hangup"},
    }
    templates = {"menu": "Your code?", "greet": "Hello {{ owner }}, code {{ code }}."}
    assert lint_messages(flow_of(nodes, templates)) == []


def test_overflow_reason_is_known_on_the_overflow_path_only():
    nodes = {
        "ask": menu({"1": {"next": "line"}, "2": {"next": "sorry"}}),
        "line": {"kind": "queue", "queue": "support", "hold_prompt": "hold",
                 "on_overflow": "sorry"},
        "sorry": {"kind": "hangup", "template": "sorry"},
        "bye": {"kind": "hangup"},
    }
    templates = {"menu": "Press 1.", "hold": "Please hold.",
                 "sorry": "{% if overflow_reason == 'closed' %}We are closed.{% endif %}"}
    [(node, message)] = lint_messages(flow_of(nodes, templates))
    assert node == "sorry" and "'overflow_reason' is not set on every path" in message
    nodes["ask"]["options"]["2"]["next"] = "bye"
    assert lint_messages(flow_of(nodes, templates)) == []


def test_built_in_variables_cannot_be_set_by_a_menu():
    nodes = {
        "ask": menu({"1": {"next": "bye", "set": {"overflow_reason": "closed"}},
                     "2": {"next": "bye", "set": {"queue_position": 1}}}),
        "bye": {"kind": "hangup"},
    }
    found = lint_messages(flow_of(nodes, {"menu": "Press 1."}))
    assert [message for _, message in found] == [
        "'overflow_reason' is built in and cannot be set",
        "'queue_position' is built in and cannot be set",
    ]


def test_lookup_optional_and_sensitive_name_its_own_variables():
    nodes = {
        "ask": {"kind": "lookup", "source": "accounts", "key": "{{ caller }}",
                "into": {"balance": "balance_due"}, "optional": ["name"],
                "sensitive": ["pin_hash"], "next": "bye", "on_missing": "bye"},
        "bye": {"kind": "hangup"},
    }
    assert lint_messages(flow_of(nodes, {})) == [
        ("ask", "'optional' names 'name', which is not a variable of 'into'"),
        ("ask", "'sensitive' names 'pin_hash', which is not a variable of 'into'"),
    ]


def pin_then(node: dict, templates: dict[str, str]) -> Flow:
    """A sensitive PIN collected, then ``node`` as ``next``."""
    nodes = {
        "ask": {"kind": "collect", "prompt": "ask", "into": "pin", "sensitive": True,
                "next": "then", "on_fail": "bye"},
        "then": node,
        "bye": {"kind": "hangup"},
    }
    return flow_of(nodes, {"ask": "Your PIN?", **templates})


def test_a_sensitive_variable_may_be_read_in_the_step_that_set_it():
    flow = pin_then({"kind": "branch", "cases": [{"if": "pin == '1234'", "next": "bye"}],
                     "else": "bye"}, {})
    assert lint_messages(flow) == []
    flow = pin_then(menu({"1": {"next": "bye"}}, prompt="echo", retries=0),
                    {"echo": "You entered {{ pin }}."})
    assert lint_messages(flow) == []


def test_a_menu_that_asks_again_speaks_its_prompt_a_step_later():
    flow = pin_then(menu({"1": {"next": "bye"}}, prompt="echo"), {"echo": "You entered {{ pin }}."})
    [(node, message)] = lint_messages(flow)
    assert node == "then" and "reads sensitive variable 'pin' in a later webhook step" in message
    assert "'then' waits for the caller in between" in message


def test_a_voicemails_thanks_is_said_after_it_waited():
    flow = pin_then({"kind": "voicemail", "prompt": "record", "thanks": "thanks"},
                    {"record": "Speak now.", "thanks": "Thanks, {{ pin }}."})
    [(node, message)] = lint_messages(flow)
    assert node == "then" and "sensitive variable 'pin'" in message


def test_a_sensitive_lookup_field_read_after_a_wait():
    nodes = {
        "ask": {"kind": "lookup", "source": "accounts", "key": "{{ caller }}",
                "into": {"pin_hash": "pin_hash"}, "sensitive": ["pin_hash"],
                "next": "pin", "on_missing": "bye"},
        "pin": {"kind": "collect", "prompt": "ask", "into": "pin", "next": "check",
                "on_fail": "bye"},
        "check": {"kind": "branch", "cases": [{"if": "pin | sha256 == pin_hash", "next": "bye"}],
                  "else": "bye"},
        "bye": {"kind": "hangup"},
    }
    [(node, message)] = lint_messages(flow_of(nodes, {"ask": "Your PIN?"}))
    assert node == "check" and "sensitive variable 'pin_hash'" in message
    assert "'pin' waits for the caller in between: ask -> pin -> check" in message


def test_node_ids_must_be_url_safe():
    document = json.loads(json.dumps(load_flows(SHIPPED)[0]["main"].to_document()))
    document["nodes"]["Bad-Id"] = {"kind": "hangup"}
    with pytest.raises(FlowError) as raised:
        Flow.from_document(document)
    assert raised.value.errors[0].node == "Bad-Id"
    assert "must be lowercase letters" in raised.value.errors[0].message
