"""Read flows from ``flows/*.yaml`` and their prompts from ``flows/templates/<lang>/<name>.j2``.

``yaml.safe_load`` forgets where things were and silently keeps the last of two equal keys, so
the loader composes the YAML node tree itself and builds plain values from it, recording the line
of every mapping key and list item under its document path (``("nodes", "main_menu", "next")``).
Those marks travel with the Flow (never in its published document) so that every error, from the
schema to the graph checks in ``lint``, points at a line. Duplicate keys are errors: in ``nodes``
a duplicate is a second node with the same id, which would otherwise vanish without a word.
Timestamps stay strings (holidays are written ``2026-12-25`` and published as JSON).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import yaml
from yaml.constructor import ConstructorError, SafeConstructor

from chalicelib.ivr.model import Flow, FlowError, LintError

_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_SET_BY_PUBLISHING = ("templates", "version")  # document keys a flow file must not carry


def load_flows(flows_dir: str | Path) -> tuple[dict[str, Flow], list[LintError]]:
    """Every ``*.yaml`` flow in ``flows_dir`` that loads, and the errors of those that don't."""
    flows_dir = Path(flows_dir)
    flows: dict[str, Flow] = {}
    errors: list[LintError] = []
    for path in sorted(flows_dir.glob("*.yaml")):
        try:
            flow = load_flow_file(path, flows_dir / "templates")
        except FlowError as exc:
            errors.extend(exc.errors)
        else:
            flows[flow.id] = flow
    return flows, errors


def load_flow_file(path: str | Path, templates_dir: str | Path) -> Flow:
    """One flow with the templates its nodes name, in each of its languages (those that exist).

    Missing template files are not an error here: lint reports them with the node that needs them.
    """
    path, file = Path(path), str(path)
    document, marks = _read_yaml(path.read_text(encoding="utf-8"), file)
    if not isinstance(document, dict):
        raise FlowError(
            [LintError(file, 1, None, "a flow file must be a mapping (flow, nodes...)")]
        )
    errors = [
        LintError(file, marks[(key,)], None, f"'{key}' is set when publishing, not in the file")
        for key in _SET_BY_PUBLISHING
        if key in document
    ]
    if "flow" in document and document["flow"] != path.stem:
        message = f"flow id '{document['flow']}' must match the file name '{path.stem}'"
        errors.append(LintError(file, marks[("flow",)], None, message))
    try:
        flow = Flow.from_document(
            document, source=file, templates_dir=str(templates_dir), marks=marks
        )
    except FlowError as exc:
        errors.extend(exc.errors)
    if errors:
        raise FlowError(sorted(errors, key=lambda error: error.line or 0))
    return replace(flow, templates=_read_templates(flow, Path(templates_dir)))


def _read_templates(flow: Flow, templates_dir: Path) -> dict[str, dict[str, str]]:
    sources: dict[str, dict[str, str]] = {}
    for language in flow.languages:
        for name in sorted(flow.template_names()):
            template = templates_dir / language / f"{name}.j2"
            if template.is_file():
                sources.setdefault(language, {})[name] = template.read_text(encoding="utf-8")
    return sources


def _read_yaml(text: str, file: str) -> tuple[object, dict[tuple[str, ...], int]]:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise FlowError(
            [LintError(file, line, None, f"YAML syntax error: {exc.problem}")]
        ) from None
    marks: dict[tuple[str, ...], int] = {(): 1}
    errors: list[LintError] = []
    value = _Builder(file, marks, errors).build(root, ()) if root is not None else None
    if errors:
        raise FlowError(errors)
    return value, marks


class _Builder:
    """Plain Python values from a composed YAML tree, recording lines and duplicate keys."""

    def __init__(self, file: str, marks: dict, errors: list[LintError]):
        self.file, self.marks, self.errors = file, marks, errors
        self.scalars = SafeConstructor()

    def build(self, node: yaml.Node, path: tuple[str, ...]) -> object:
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                self.marks[path + (str(index),)] = item.start_mark.line + 1
                items.append(self.build(item, path + (str(index),)))
            return items
        if node.tag == _TIMESTAMP:
            return node.value
        try:
            return self.scalars.construct_object(node)
        except ConstructorError as exc:
            self._error(path, node.start_mark.line + 1, f"unsupported YAML value: {exc.problem}")
            return None

    def _mapping(self, node: yaml.MappingNode, path: tuple[str, ...]) -> dict:
        result: dict = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                self._error(path, line, "mapping keys must be plain values")
                continue
            key = self.build(key_node, path)
            name = str(key)
            if path + (name,) in self.marks:
                first = self.marks[path + (name,)]
                what = "duplicate node id" if path == ("nodes",) else "duplicate key"
                self._error(path + (name,), line, f"{what} '{name}' (first on line {first})")
                continue
            self.marks[path + (name,)] = line
            result[key] = self.build(value_node, path + (name,))
        return result

    def _error(self, path: tuple[str, ...], line: int, message: str) -> None:
        node = path[1] if len(path) > 1 and path[0] == "nodes" else None
        self.errors.append(LintError(self.file, line, node, message))
