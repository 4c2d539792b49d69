"""Answer scripts for a whole campaign: how each called number answers, from a file or a request.

Shapes accepted (the same for ``serve --answer-scripts FILE``, the ``scripts`` command and
``POST /_emulator/answer-scripts``):

- JSON: ``{"+14155550100": ["human", "1", "2#"], "+14155550101": "busy"}`` (a list of steps or
  one comma-separated string);
- CSV: ``number,script`` per line; the script may be quoted (``"human,1,2#"``) or left as the
  rest of the line (``+14155550100,human,1,2#``); a header line (``number,script``), blank
  lines and lines starting with ``#`` are skipped.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from .session import parse_script


def normalize_scripts(scripts: Any) -> dict[str, list[str]]:
    """``{number: [steps]}`` from ``{number: [steps] | "a,b"}``; every step is parsed, so a
    typo raises ValueError naming the number before anything is set."""
    if not isinstance(scripts, dict):
        raise ValueError("answer scripts must be an object {number: [steps] or \"a,b\"}")
    parsed: dict[str, list[str]] = {}
    for number, steps in scripts.items():
        if isinstance(steps, str):
            steps = [s.strip() for s in steps.split(",")] if steps.strip() else []
        elif isinstance(steps, list) and all(isinstance(s, str) for s in steps):
            steps = list(steps)
        else:
            raise ValueError(f"{number}: steps must be a list of strings or a string")
        try:
            parse_script(steps)
        except ValueError as exc:
            raise ValueError(f"{number}: {exc}") from None
        parsed[str(number).strip()] = steps
    return parsed


def parse_csv(text: str) -> dict[str, list[str]]:
    scripts: dict[str, Any] = {}
    for row in csv.reader(io.StringIO(text)):
        if not row or not row[0].strip() or row[0].lstrip().startswith("#"):
            continue
        number = row[0].strip()
        if number.lower() in ("number", "phone", "to"):  # a header
            continue
        scripts[number] = ",".join(cell.strip() for cell in row[1:])
    return normalize_scripts(scripts)


def parse_text(text: str, kind: str | None = None) -> dict[str, list[str]]:
    """JSON or CSV text (``kind`` "json" / "csv"; guessed from the first character if None)."""
    kind = kind or ("json" if text.lstrip().startswith("{") else "csv")
    if kind == "json":
        return normalize_scripts(json.loads(text))
    return parse_csv(text)


def load_answer_scripts(path: str | Path) -> dict[str, list[str]]:
    """Read a JSON (``.json``) or CSV file of answer scripts (see the module's shapes)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8-sig")  # spreadsheets save CSV with a BOM
    kind = {".json": "json", ".csv": "csv"}.get(path.suffix.lower())
    return parse_text(text, kind)
