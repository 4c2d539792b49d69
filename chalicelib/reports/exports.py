"""Report rows as files: CSV, plain text and Excel workbooks (XlsxWriter, in memory).

``columns`` name the row keys in order; a share (a column named in ``SHARES``) is written as a
number formatted as a percentage in Excel and as a plain decimal (0.8125) in CSV; a missing
value (None: nothing to divide) is a blank cell. The workbook has the rows on one sheet and,
when given, the totals on a second, each with a header row, frozen, and an autofilter.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

import xlsxwriter

SHARES = frozenset({"service_level", "abandon_rate", "occupancy", "utilisation",
                    "abandon_share", "containment", "reached_share",
                    "first_contact_resolution"})
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csv_text(rows: Sequence[dict], columns: Sequence[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    return out.getvalue()


def _cell(column: str, value: object) -> str:
    if value is None:
        return "-"
    if column in SHARES and isinstance(value, (int, float)):
        return f"{value * 100:.1f}%"
    return str(value)


def _aligned(values: Sequence[str], widths: Sequence[int], numeric: Sequence[bool]) -> str:
    return "  ".join(v.rjust(w) if right else v.ljust(w)
                     for v, w, right in zip(values, widths, numeric, strict=True))


def text_table(sections: Sequence[tuple[str, Sequence[dict], Sequence[str]]]) -> str:
    """Aligned plain-text tables, one per ``(title, rows, columns)``: a title line, a header,
    a rule and the rows, columns padded to their widest cell (numbers to the right), shares as
    percentages, ``-`` for nothing to divide. For a terminal, an e-mail or a text message."""
    blocks = []
    for title, rows, columns in sections:
        cells = [[_cell(c, row.get(c)) for c in columns] for row in rows]
        widths = [max([len(c)] + [len(line[n]) for line in cells])
                  for n, c in enumerate(columns)]
        numeric = [all(isinstance(row.get(c), (int, float)) or row.get(c) is None
                       for row in rows) and bool(rows) for c in columns]

        out = [title, _aligned(list(columns), widths, numeric),
               "  ".join("-" * w for w in widths)]
        out += [_aligned(values, widths, numeric) for values in cells] or ["(no rows)"]
        blocks.append("\n".join(text.rstrip() for text in out))
    return "\n\n".join(blocks) + "\n"


def xlsx_bytes(sheets: Sequence[tuple[str, Sequence[dict], Sequence[str]]]) -> bytes:
    """A workbook of ``(sheet name, rows, columns)`` sheets (names at most 31 characters)."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    header = book.add_format({"bold": True, "bottom": 1})
    percent = book.add_format({"num_format": "0.0%"})
    for name, rows, columns in sheets:
        sheet = book.add_worksheet(name[:31])
        sheet.write_row(0, 0, list(columns), header)
        for r, row in enumerate(rows, start=1):
            for c, column in enumerate(columns):
                value = row.get(column)
                if value is None:
                    continue
                if column in SHARES:
                    sheet.write_number(r, c, value, percent)
                else:
                    sheet.write(r, c, value)
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, max(len(rows), 1), len(columns) - 1)
        sheet.set_column(0, len(columns) - 1, 14)
    book.close()
    return buffer.getvalue()
