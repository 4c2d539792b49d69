"""``manage.py reports export``: any report kind, any query parameter, through the API."""

from __future__ import annotations

import json

import manage
from tests.unit.test_manage import FakeApi


def test_any_kind_with_its_own_parameters(monkeypatch, capsys):
    path = "/reports/repeat-callers?from=2026-11-01&hotline=%2B14155550100&times=2"
    api = FakeApi({("GET", path): {"totals": [{"repeat_callers": 1}]}})
    monkeypatch.setattr(manage, "call_api", api)
    assert manage.main(["reports", "export", "repeat-callers", "--from", "2026-11-01",
                        "--param", "hotline=+14155550100", "--param", "times=2"]) == 0
    assert '"repeat_callers": 1' in capsys.readouterr().out


def test_a_parameter_without_a_value_is_refused(monkeypatch, capsys):
    monkeypatch.setattr(manage, "call_api", FakeApi({}))
    assert manage.main(["reports", "export", "agents", "--param", "agent"]) == 1
    assert "expected NAME=VALUE" in capsys.readouterr().err


def test_export_follows_next_and_merges_the_pages(monkeypatch, capsys):
    first = {"kind": "agents", "rows": [{"agent_id": "a", "day": "2026-11-01"}],
             "totals": [{"agent_id": "a", "handled": 1, "aht_seconds": 60.0}],
             "ranking": [{"rank": 1, "agent_id": "a", "handled": 1, "aht_seconds": 60.0}],
             "notes": ["the same on every page"], "next": "/reports/agents?limit=1&cursor=X"}
    second = {"kind": "agents", "rows": [{"agent_id": "b", "day": "2026-11-01"}],
              "totals": [{"agent_id": "b", "handled": 2, "aht_seconds": 90.0}],
              "ranking": [{"rank": 1, "agent_id": "b", "handled": 2, "aht_seconds": 90.0}],
              "notes": ["the same on every page"], "next": None}
    api = FakeApi({("GET", "/reports/agents?limit=1"): first,
                   ("GET", "/reports/agents?limit=1&cursor=X"): second})
    monkeypatch.setattr(manage, "call_api", api)
    assert manage.main(["reports", "export", "agents", "--param", "limit=1"]) == 0
    merged = json.loads(capsys.readouterr().out)
    assert [r["agent_id"] for r in merged["rows"]] == ["a", "b"]
    assert [t["agent_id"] for t in merged["totals"]] == ["a", "b"]
    assert [(r["rank"], r["agent_id"]) for r in merged["ranking"]] == [(1, "b"), (2, "a")]
    assert merged["notes"] == ["the same on every page"] and merged["next"] is None


def test_a_csv_export_follows_the_link_header_through_a_stage_prefix(monkeypatch, tmp_path,
                                                                     capsys):
    base = "https://api.example.com/api"
    page1 = b"queue_id,day\r\nq1,2026-11-01\r\n"
    page2 = b"queue_id,day\r\nq2,2026-11-01\r\n"
    api = FakeApi({
        ("GET", "/reports/queues?limit=1&format=csv"): (
            page1, {"Link": '</api/reports/queues?limit=1&format=csv&cursor=Y>; rel="next"'}),
        ("GET", "/reports/queues?limit=1&format=csv&cursor=Y"): (page2, {})})
    monkeypatch.setattr(manage, "call_api", api)
    out = tmp_path / "q.csv"
    assert manage.main(["reports", "export", "queues", "--param", "limit=1", "--csv",
                        "-o", str(out), "--api", base]) == 0
    assert out.read_bytes() == b"queue_id,day\r\nq1,2026-11-01\r\nq2,2026-11-01\r\n"
    assert "2 row(s) in 2 page(s)" in capsys.readouterr().err


def test_csv_pages_with_different_disposition_columns_join_under_one_header():
    page1 = b"agent_id,handled,disposition_paid\r\na,1,1\r\n"
    page2 = b"agent_id,handled,disposition_resolved\r\nb,2,2\r\n"
    data, rows = manage.join_csv_pages([page1, page2])
    assert rows == 2
    assert data == (b"agent_id,handled,disposition_paid,disposition_resolved\r\n"
                    b"a,1,1,\r\nb,2,,2\r\n")
