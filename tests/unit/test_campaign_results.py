"""The results CSV of a campaign (``campaigns/results.py``): columns, answers, history, and
text a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io

from chalicelib.campaigns.contact import CampaignContact
from chalicelib.campaigns.results import answer_keys, csv_pieces


def contact(n: int, **fields) -> CampaignContact:
    return CampaignContact(campaign_id="cmp_AAAAAAAAAAAAAAAA", phone=f"+1415555{n:04d}", **fields)


def read(pieces) -> list[dict]:
    return list(csv.DictReader(io.StringIO("".join(pieces))))


def test_answer_columns_are_every_key_seen_in_a_stable_order():
    contacts = [contact(1, answers={"zeta": 1}), contact(2, answers={"alpha": "x", "zeta": 2}),
                contact(3)]
    assert answer_keys(contacts) == ["alpha", "zeta"]
    assert answer_keys(reversed(contacts)) == ["alpha", "zeta"]
    rows = read(csv_pieces(contacts, answer_keys(contacts)))
    assert [(r["answer_alpha"], r["answer_zeta"]) for r in rows] == [("", "1"), ("x", "2"),
                                                                      ("", "")]


def test_answers_of_any_json_type_are_written_as_json_and_people_s_text_as_is():
    [row] = read(csv_pieces([contact(1, answers={"ok": True, "score": 4.5, "pick": [1, 2],
                                                 "said": "très bien, 谢谢"})],
                            ["ok", "pick", "said", "score"]))
    assert (row["answer_ok"], row["answer_pick"], row["answer_said"], row["answer_score"]) \
        == ("true", "[1, 2]", "très bien, 谢谢", "4.5")


def test_text_that_a_spreadsheet_would_run_is_neutralised_but_the_phone_is_not():
    rows = read(csv_pieces([contact(1, name="=1+1", answers={"a": "@SUM(A1)"},
                                    agent_id="-x"),
                            contact(2, name="+44 7700", answers={"a": "\tx"})], ["a"]))
    assert [(r["phone"], r["name"], r["answer_a"], r["agent_id"]) for r in rows] == [
        ("+14155550001", "'=1+1", "'@SUM(A1)", "'-x"),
        ("+14155550002", "'+44 7700", "'\tx", "")]


def test_the_last_answered_attempt_and_the_history():
    history = ({"at": "2026-11-23T15:00:00+00:00", "attempt": 1, "outcome": "answered",
                "duration": 30},
               {"at": "2026-11-24T15:00:00+00:00", "attempt": 2, "outcome": "no_answer"})
    [row] = read(csv_pieces([contact(1, attempts=2, history=history)], []))
    assert row["answered_at"] == "2026-11-23T15:00:00+00:00"
    assert row["last_attempt_at"] == "2026-11-24T15:00:00+00:00"
    assert row["history"] == ("#1 answered 2026-11-23T15:00:00+00:00 (30 s); "
                              "#2 no_answer 2026-11-24T15:00:00+00:00")


def test_the_csv_comes_in_pieces_that_add_up_to_one_file():
    contacts = [contact(n) for n in range(7)]
    pieces = list(csv_pieces(iter(contacts), [], rows_per_piece=3))
    assert len(pieces) == 3  # header + 3, 3, then the last row
    assert pieces[0].count("\r\n") == 4
    assert [r["phone"] for r in read(pieces)] == [c.phone for c in contacts]
