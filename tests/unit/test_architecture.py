"""The code's shape, checked: no module reaches into another's private names.

The layers themselves are import-linter contracts (``pyproject.toml``, run by ``make lint`` and
``make test``); this test covers what an import graph cannot see: ``other._private`` calls.
"""

from __future__ import annotations

import ast
from pathlib import Path

CHALICELIB = Path(__file__).resolve().parents[2] / "chalicelib"

# PynamoDB's own private API, which store/ needs and PITFALLS.md explains: the table schema and
# TTL attribute (creating tables locally) and the per-model connection cache (rebinding).
THIRD_PARTY_PRIVATE = {"_ttl_attribute", "_get_schema", "_connection"}


def private_reaches(source: str) -> list[str]:
    """``x._name`` where ``x`` is not ``self``, ``cls`` or ``super()``, and ``from chalicelib...
    import _name``: what a module takes from another's insides."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("chalicelib"):
            found += [f"import {a.name}" for a in node.names if a.name.startswith("_")]
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") \
                and not node.attr.startswith("__"):
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
                continue
            if isinstance(owner, ast.Call) and getattr(owner.func, "id", None) == "super":
                continue
            found.append(ast.unparse(node))
    return found


def test_the_check_sees_a_private_reach():
    assert private_reaches("def f(service):\n    service._free_agent('a')\n") == [
        "service._free_agent"]
    assert private_reaches("from chalicelib.routing.service import _round\n") == [
        "import _round"]
    assert private_reaches("class A:\n    def f(self):\n        return self._x\n") == []


def test_no_module_calls_another_modules_private_names():
    reaches = {}
    for path in sorted(CHALICELIB.rglob("*.py")):
        found = [r for r in private_reaches(path.read_text())
                 if r.rsplit(".", 1)[-1] not in THIRD_PARTY_PRIVATE]
        if found:
            reaches[str(path.relative_to(CHALICELIB))] = found
    assert reaches == {}
