"""SMS segments: GSM-7 and UCS-2, single and split (3GPP TS 23.038 / 23.040)."""

from __future__ import annotations

import pytest

from chalicelib.messaging.segments import GSM7, UCS2, SegmentCount, count_segments


@pytest.mark.parametrize(("text", "encoding", "units", "segments"), [
    ("", GSM7, 0, 0),
    ("a" * 160, GSM7, 160, 1),
    ("a" * 161, GSM7, 161, 2),  # 153 + 8
    ("a" * 306, GSM7, 306, 2),
    ("a" * 307, GSM7, 307, 3),
    ("{" * 80, GSM7, 160, 1),  # extension characters count twice
    ("€" * 81, GSM7, 162, 2),
    ("您" * 70, UCS2, 70, 1),  # Chinese: 70 characters a segment
    ("您" * 71, UCS2, 71, 2),  # 67 + 4
    ("您" * 134, UCS2, 134, 2),
    ("您" * 135, UCS2, 135, 3),
    ("a" * 69 + "😀", UCS2, 71, 2),  # one emoji makes the whole text UCS-2, and takes two units
])
def test_segments(text, encoding, units, segments):
    assert count_segments(text) == SegmentCount(encoding, units, segments)


def test_a_reminder_with_an_opt_out_line_in_chinese():
    text = "【电力公司】您的电费账单已出，应缴金额128.50元，请于12月5日前缴纳。回复TD退订"
    counted = count_segments(text)
    assert counted.encoding == UCS2 and counted.segments == 1
