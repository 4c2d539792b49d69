"""The figures of a report row from its sums."""

from __future__ import annotations

from chalicelib.reports.figures import QUEUE_COLUMNS, queue_figures


def test_queue_figures_from_the_sums():
    figures = queue_figures({"offered": 10, "answered": 8, "answered_in_sl": 6,
                             "wait_seconds": 100, "abandoned": 2, "abandon_wait_seconds": 45,
                             "abandoned_in_sl": 1})
    assert figures == {"offered": 10, "answered": 8, "abandoned": 2, "service_level": 0.75,
                       "asa_seconds": 12.5, "abandon_rate": 0.2,
                       "average_abandon_wait_seconds": 22.5, "abandoned_in_sl": 1}
    assert tuple(figures) == QUEUE_COLUMNS


def test_nothing_to_divide_is_none_not_zero():
    assert queue_figures({}) == {"offered": 0, "answered": 0, "abandoned": 0,
                                 "service_level": None, "asa_seconds": None,
                                 "abandon_rate": None, "average_abandon_wait_seconds": None,
                                 "abandoned_in_sl": 0}
