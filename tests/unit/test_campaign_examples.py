"""The example campaigns under ``infra/local/examples/`` (README: Campaigns) stay valid: each
file passes the API's field checks, the example list imports without a rejected row, and the
emulator's answer scripts cover exactly the list's numbers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chalicelib.campaigns.campaign_input import parse_campaign
from chalicelib.campaigns.list_rows import parse_chunk

EXAMPLES = Path(__file__).resolve().parents[2] / "infra" / "local" / "examples"
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize("name", ["survey-campaign.json", "predictive-campaign.json",
                                  "sms-campaign.json"])
def test_the_example_campaigns_pass_the_field_checks(name):
    body = json.loads((EXAMPLES / name).read_text())
    assert "list_id" not in body  # given on the command line: --list cl_...
    fields, start = parse_campaign({**body, "list_id": "cl_" + "A" * 16}, NOW)
    assert fields["kind"] == body["kind"] and start is False


def test_the_example_list_imports_whole_and_every_number_has_an_answer_script():
    parsed = parse_chunk(0, (EXAMPLES / "survey-list.csv").read_bytes(), "US", ())
    assert parsed.rejected == [] and len(parsed.rows) == 20
    scripts = json.loads((EXAMPLES / "survey-answers.json").read_text())
    assert set(scripts) == {row.phone for row in parsed.rows}
    firsts = [script.split(",")[0] for script in scripts.values()]
    assert {"human", "machine", "busy", "no-answer"} <= set(firsts)
    assert sum("sms:STOP" in script for script in scripts.values()) == 1


def test_the_predictive_example_list_has_scripts_and_agents_that_can_join():
    parsed = parse_chunk(0, (EXAMPLES / "predictive-list.csv").read_bytes(), "US", ())
    assert parsed.rejected == [] and len(parsed.rows) == 200
    scripts = json.loads((EXAMPLES / "predictive-answers.json").read_text())
    assert set(scripts) == {row.phone for row in parsed.rows}
    talking = [s for s in scripts.values() if s.startswith("human,dial:completed:")]
    assert 0.2 < len(talking) / len(scripts) < 0.4  # people leave the agent's room by themselves
    agents = json.loads((EXAMPLES / "campaign-agents.json").read_text())
    campaign = json.loads((EXAMPLES / "predictive-campaign.json").read_text())
    assert all(campaign["queue_id"] in agent["queues"] for agent in agents)
