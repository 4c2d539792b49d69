"""The figures of a report row, from the sums of facts (GLOSSARY.md names them).

Pure arithmetic on one slot's rollup values (``chalicelib.facts`` and
``routing.queue_facts`` name them): shares are 0..1 (None when there is nothing to divide by),
times in seconds rounded to a tenth. Service level is answered within the queue's threshold over
answered, as the live board counts it (``routing.admin``), so a report of today and the board
agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

QUEUE_COLUMNS = ("offered", "answered", "abandoned", "service_level", "asa_seconds",
                 "abandon_rate", "average_abandon_wait_seconds", "abandoned_in_sl",
                 "callbacks_requested", "callbacks_completed", "callbacks_failed",
                 "callbacks_cancelled", "average_callback_wait_seconds", "dispositions")


CODE_PREFIX = "disposition_"  # ``routing.wrap_up.value_name``


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _mean(total: int, count: int) -> float | None:
    return round(total / count, 1) if count else None


def disposition_counts(values: Mapping[str, int]) -> dict:
    """``{"dispositions": n, "disposition_<code>": n, ...}``: the codes agents set for the
    slot's calls (``routing/wrap_up.py``), each code that occurred and their total."""
    return {"dispositions": values.get("dispositions", 0),
            **{name: n for name, n in sorted(values.items()) if name.startswith(CODE_PREFIX)}}


def every_code(rows: list[dict], totals: list[dict]) -> None:
    """Give every row and total each ``disposition_<code>`` any of the totals has (0 where
    that queue or agent had none), so tables and CSV columns line up."""
    codes = disposition_columns(totals)
    for row in [*rows, *totals]:
        for code in codes:
            row.setdefault(code, 0)


def disposition_columns(rows: Iterable[Mapping]) -> list[str]:
    """The ``disposition_<code>`` columns of a report: every code that occurred, sorted."""
    return sorted({name for row in rows for name in row if name.startswith(CODE_PREFIX)})


def queue_figures(values: Mapping[str, int]) -> dict:
    """``QUEUE_COLUMNS`` of one slot's sums (absent sums: 0): the queue's callers, the
    callbacks its callers asked for (requested, and how they closed: completed, failed,
    cancelled; the mean time from asking to a completed callback, seconds), and the codes its
    agents gave its calls (``disposition_counts``)."""
    get = values.get
    offered, answered, abandoned = get("offered", 0), get("answered", 0), get("abandoned", 0)
    return {
        "offered": offered, "answered": answered, "abandoned": abandoned,
        "service_level": _share(get("answered_in_sl", 0), answered),
        "asa_seconds": _mean(get("wait_seconds", 0), answered),
        "abandon_rate": _share(abandoned, offered),
        "average_abandon_wait_seconds": _mean(get("abandon_wait_seconds", 0), abandoned),
        "abandoned_in_sl": get("abandoned_in_sl", 0),
        "callbacks_requested": get("callbacks_requested", 0),
        "callbacks_completed": get("callbacks_completed", 0),
        "callbacks_failed": get("callbacks_failed", 0),
        "callbacks_cancelled": get("callbacks_cancelled", 0),
        "average_callback_wait_seconds": _mean(get("callback_wait_seconds", 0),
                                               get("callbacks_completed", 0)),
        **disposition_counts(values),
    }
