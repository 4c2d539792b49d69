"""The figures of a report row from its sums."""

from __future__ import annotations

from chalicelib.reports.figures import (
    QUEUE_COLUMNS,
    disposition_columns,
    every_code,
    queue_figures,
)


def test_queue_figures_from_the_sums():
    figures = queue_figures({"offered": 10, "answered": 8, "answered_in_sl": 6,
                             "wait_seconds": 100, "abandoned": 2, "abandon_wait_seconds": 45,
                             "abandoned_in_sl": 1})
    assert figures == {"offered": 10, "answered": 8, "abandoned": 2, "service_level": 0.75,
                       "asa_seconds": 12.5, "abandon_rate": 0.2,
                       "average_abandon_wait_seconds": 22.5, "abandoned_in_sl": 1,
                       "callbacks_requested": 0, "callbacks_completed": 0,
                       "callbacks_failed": 0, "callbacks_cancelled": 0,
                       "average_callback_wait_seconds": None, "dispositions": 0}
    assert tuple(figures) == QUEUE_COLUMNS


def test_nothing_to_divide_is_none_not_zero():
    assert queue_figures({}) == {"offered": 0, "answered": 0, "abandoned": 0,
                                 "service_level": None, "asa_seconds": None,
                                 "abandon_rate": None, "average_abandon_wait_seconds": None,
                                 "abandoned_in_sl": 0, "callbacks_requested": 0,
                                 "callbacks_completed": 0, "callbacks_failed": 0,
                                 "callbacks_cancelled": 0,
                                 "average_callback_wait_seconds": None, "dispositions": 0}


def test_callbacks_are_counted_with_the_mean_wait_of_the_completed():
    figures = queue_figures({"callbacks_requested": 3, "callbacks_completed": 2,
                             "callbacks_failed": 1, "callback_wait_seconds": 900})
    assert (figures["callbacks_requested"], figures["callbacks_completed"],
            figures["callbacks_failed"], figures["average_callback_wait_seconds"]) == \
        (3, 2, 1, 450.0)


def test_disposition_codes_are_counted_each_in_a_column_of_its_own():
    figures = queue_figures({"dispositions": 3, "disposition_resolved": 2,
                             "disposition_escalated": 1, "offered": 3})
    assert (figures["dispositions"], figures["disposition_resolved"],
            figures["disposition_escalated"]) == (3, 2, 1)
    assert disposition_columns([figures, {"disposition_paid": 1}, queue_figures({})]) == [
        "disposition_escalated", "disposition_paid", "disposition_resolved"]


def test_every_row_and_total_gets_each_code_of_the_report():
    rows = [{"queue_id": "a", "disposition_paid": 1}, {"queue_id": "b"}]
    totals = [{"queue_id": "a", "disposition_paid": 1}, {"queue_id": "b",
                                                         "disposition_resolved": 2}]
    every_code(rows, totals)
    assert rows == [{"queue_id": "a", "disposition_paid": 1, "disposition_resolved": 0},
                    {"queue_id": "b", "disposition_paid": 0, "disposition_resolved": 0}]
    assert totals[1] == {"queue_id": "b", "disposition_resolved": 2, "disposition_paid": 0}


def test_a_report_as_aligned_plain_text():
    from chalicelib.reports.exports import text_table

    rows = [{"queue_id": "support", "offered": 12, "service_level": 0.8125},
            {"queue_id": "vip", "offered": 3, "service_level": None}]
    text = text_table([("queues, 2026-11-30", rows, ["queue_id", "offered", "service_level"]),
                       ("totals", [], ["queue_id"])])
    assert text == (
        "queues, 2026-11-30\n"
        "queue_id  offered  service_level\n"
        "--------  -------  -------------\n"
        "support        12          81.2%\n"
        "vip             3              -\n"
        "\n"
        "totals\n"
        "queue_id\n"
        "--------\n"
        "(no rows)\n")


def test_every_share_is_a_percentage_in_text():
    from chalicelib.reports.exports import SHARES, text_table

    assert {"occupancy", "utilisation", "abandon_share", "containment",
            "first_contact_resolution"} <= SHARES
    text = text_table([("agents", [{"agent_id": "a", "occupancy": 0.8692}],
                        ["agent_id", "occupancy"])])
    assert "86.9%" in text
