"""A campaign's results as CSV (``GET /campaigns/{id}/results``): one row per contact.

Columns: ``phone``, ``name``, ``status``, ``attempts``, ``outcome`` (of the last attempt),
``disposition`` (how the contact ended), ``answered_at`` (the last attempt a person answered or
replied to), ``last_attempt_at``, ``agent_id``, then one ``answer_<key>`` column per survey
answer key any contact has (sorted, so the same campaign always gives the same columns), and
``history``: every attempt as ``#1 busy 2026-11-23T15:00:00+00:00; #2 answered ... (45 s)``.

Text that people typed or said (names, answers) is kept from being read as a spreadsheet
formula: a cell beginning with ``=``, ``+``, ``-``, ``@`` or a control character gets a
leading ``'`` (OWASP, "CSV injection"). Plain Python: it reads contacts, not storage.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from chalicelib.campaigns.contact import ANSWERED, REPLIED, CampaignContact

FIXED = ("phone", "name", "status", "attempts", "outcome", "disposition", "answered_at",
         "last_attempt_at", "agent_id")
ANSWER_PREFIX = "answer_"
PERSON_REACHED = (ANSWERED, REPLIED)
ROWS_PER_PIECE = 500
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def answer_keys(contacts: Iterable[CampaignContact]) -> list[str]:
    """Every survey answer key of ``contacts``, sorted."""
    keys: set[str] = set()
    for contact in contacts:
        keys.update(contact.answers)
    return sorted(keys)


def header(keys: list[str]) -> list[str]:
    return [*FIXED, *(ANSWER_PREFIX + key for key in keys), "history"]


def row(contact: CampaignContact, keys: list[str]) -> list[str]:
    """One contact's cells under ``header(keys)``."""
    history = list(contact.history)
    reached = [entry for entry in history if entry.get("outcome") in PERSON_REACHED]
    return [
        contact.phone, _typed(contact.name), contact.status, str(contact.attempts),
        contact.outcome or "", contact.disposition or "",
        str(reached[-1].get("at") or "") if reached else "",
        str(history[-1].get("at") or "") if history else "",
        _typed(contact.agent_id),
        *(_answer(contact.answers.get(key)) for key in keys),
        "; ".join(_attempt(entry) for entry in history),
    ]


def csv_pieces(contacts: Iterable[CampaignContact], keys: list[str],
               rows_per_piece: int = ROWS_PER_PIECE) -> Iterator[str]:
    """The CSV (``\\r\\n`` line ends) a few hundred rows at a time, the header first."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header(keys))
    for count, contact in enumerate(contacts, start=1):
        writer.writerow(row(contact, keys))
        if count % rows_per_piece == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def _typed(text: str | None) -> str:
    """Text a person gave, safe to open in a spreadsheet."""
    if not text:
        return ""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _answer(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    if isinstance(value, str):
        return _typed(value)
    return _typed(json.dumps(value, ensure_ascii=False, sort_keys=True))


def _attempt(entry: dict) -> str:
    # an attempt's outcome, or an event of the contact's (``dialled``, a refusal's reason)
    what = entry.get("outcome") or entry.get("event") or "?"
    number = f"#{entry['attempt']} " if "attempt" in entry else ""
    text = f"{number}{what} {entry.get('at') or ''}"
    duration = entry.get("duration")
    if isinstance(duration, int | float) and duration:
        text += f" ({duration:g} s)"
    return text.strip()
