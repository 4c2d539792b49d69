"""How long the callback dispatcher waits between attempts (chalicelib.callbacks.backoff)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.callbacks.backoff import retry_at

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("attempt", "seconds"), [
    (1, 120), (2, 240), (3, 480), (5, 1920), (6, 3600), (7, 3600), (10_000, 3600),
])
def test_backoff_doubles_up_to_the_cap(attempt, seconds):
    assert retry_at(attempt, NOW) == NOW + timedelta(seconds=seconds)


def test_jitter_pulls_the_delay_down_by_up_to_half_never_past_the_cap():
    assert retry_at(2, NOW, jitter=1.0) == NOW + timedelta(seconds=120)
    assert retry_at(2, NOW, jitter=0.5) == NOW + timedelta(seconds=180)
    assert retry_at(50, NOW, jitter=0.25) == NOW + timedelta(seconds=3150)
    assert retry_at(3, NOW, base_seconds=10, factor=3.0, cap_seconds=60) == \
        NOW + timedelta(seconds=60)
    assert retry_at(2, NOW, base_seconds=10, factor=3.0, cap_seconds=60) == \
        NOW + timedelta(seconds=30)


@pytest.mark.parametrize("kwargs", [{"attempt": 0}, {"attempt": 1, "jitter": 1.5},
                                    {"attempt": 1, "jitter": -0.1}])
def test_backoff_refuses_nonsense(kwargs):
    with pytest.raises(ValueError):
        retry_at(kwargs.pop("attempt"), NOW, **kwargs)
