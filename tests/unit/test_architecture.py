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


def test_storage_answers_with_domain_objects_never_pynamodb_items():
    """Every public function of ``store/`` takes and returns plain values or the domain's
    dataclasses: a PynamoDB item never crosses the boundary (README: How the code is
    organised). Transactions are the exception: a ``TransactWrite`` is passed in so that
    several stores write in one."""
    import importlib
    import inspect
    import pkgutil
    import typing

    from pynamodb.models import Model

    import chalicelib.store as store

    def models_in(hint) -> list[str]:
        if isinstance(hint, type) and issubclass(hint, Model):
            return [hint.__name__]
        return [name for arg in typing.get_args(hint) for name in models_in(arg)]

    leaks = {}
    for info in pkgutil.iter_modules(store.__path__):
        if info.name in ("models", "tables", "connection"):
            continue  # the models themselves; table admin for the local stack and tests
        module = importlib.import_module(f"chalicelib.store.{info.name}")
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("_") or function.__module__ != module.__name__:
                continue
            hints = typing.get_type_hints(function)
            assert "return" in hints, f"store.{info.name}.{name} says what it returns"
            found = [model for hint in hints.values() for model in models_in(hint)]
            if found:
                leaks[f"{info.name}.{name}"] = found
    assert leaks == {}
