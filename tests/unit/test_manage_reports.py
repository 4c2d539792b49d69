"""``manage.py reports export``: any report kind, any query parameter, through the API."""

from __future__ import annotations

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
