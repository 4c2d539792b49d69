"""Everything that can be wrong with a flow, found before a caller finds it.

``lint_flows`` is what ``manage.py flows lint`` and publishing run: any error refuses the publish.
Loading already rejects bad YAML, duplicate keys and schema errors (see ``loader`` and
``model``); the checks here need a whole flow: the graph (dangling targets, unreachable nodes,
loops a caller can never leave, loops that never wait for the caller and would spin inside one
webhook), the templates (syntax, missing files and translations, variables no node sets) and the
values only meaningful to the outside world (regexes, time zones, opening hours, phone numbers).

Two checks follow the variables along the graph (``_unset_variables``, ``_stale_sensitive``).
Leaving a node through a target sets variables: a collect's ``next`` its ``into``, a lookup's
``next`` its ``into`` (``on_missing`` nothing), a menu option's ``next`` its ``set``, a queue's
``on_overflow`` ``overflow_reason``; other targets set nothing. A template or condition may read
a variable the flow sets only if it is set on *every* path from the start to the node (else a
caller on the other path hears an empty slot: "your balance is $, due on ."). A sensitive
variable (a PIN, its hash) lives only in the webhook step that set it, so it may be read only
where no node that waits for the caller (menu, collect, a retry of either, voicemail, queue,
transfer) lies between where it was set and where it is read. Paths start at the flow's start
with none of the flow's own variables set (a flow reached by ``goto`` sets what it reads);
variables only other flows set are not followed.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from datetime import date
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from jinja2 import TemplateSyntaxError, meta
from jinja2 import nodes as jinja_nodes

from chalicelib.hours.weekly import parse_days, parse_span
from chalicelib.ivr import templates
from chalicelib.ivr.engine import BUILTIN_VARS, HOLD_VARS, OVERFLOW_VARS
from chalicelib.ivr.loader import load_flows
from chalicelib.ivr.model import (
    PAY_VARS,
    PROMISE_VARS,
    CollectNode,
    Flow,
    GotoNode,
    HangupNode,
    HoursNode,
    LintError,
    LookupNode,
    MenuNode,
    Node,
    PayNode,
    PromiseNode,
    QueueNode,
    TransferNode,
)

__all__ = ["LintError", "lint_flow", "lint_flows"]

VAR_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,63}$")


def lint_flows(flows_dir: str | Path) -> list[LintError]:
    """All errors in a flows directory, ordered by file and line. Empty means publishable."""
    flows, errors = load_flows(flows_dir)
    present: dict[str, Flow | None] = {path.stem: None for path in Path(flows_dir).glob("*.yaml")}
    present.update(flows)
    for flow in flows.values():
        errors.extend(lint_flow(flow, present))
    return sorted(errors, key=lambda error: (error.file, error.line or 0))


def lint_flow(flow: Flow, flows: Mapping[str, Flow | None] | None = None) -> list[LintError]:
    """The errors of one loaded flow.

    ``flows`` are the flows beside it by id (None for a file that failed to load): ``goto``
    targets must be among them, and variables they set count as set (state survives a goto).
    Without it, ``goto`` targets are not checked.
    """
    others = [other for other in (flows or {}).values() if other is not None]
    known = _set_vars(flow, others) | set(BUILTIN_VARS) | set(OVERFLOW_VARS) | templates.GLOBALS
    checks = (
        _targets(flow, flows),
        _unreachable(flow),
        _loops(flow),
        _templates(flow),
        _template_variables(flow, known),
        _expression_variables(flow, known),
        _variable_names(flow),
        _lookup_lists(flow),
        _unset_variables(flow),
        _stale_sensitive(flow),
        _languages(flow),
        _collects(flow),
        _hours(flow),
        _transfers(flow),
        _pays(flow),
        _promises(flow),
    )
    return list(dict.fromkeys(error for check in checks for error in check))


# ---- the graph -----------------------------------------------------------------------------


def _edges(flow: Flow) -> Iterator[tuple[str, tuple[str, ...], str]]:
    """``(node, path of the field, target)`` for every target field."""
    for node_id, node in flow.nodes.items():
        for path, target in node.references("target"):
            yield node_id, path, target


def _graph(flow: Flow) -> dict[str, list[str]]:
    graph: dict[str, list[str]] = {node_id: [] for node_id in flow.nodes}
    for node_id, _, target in _edges(flow):
        if target in flow.nodes:
            graph[node_id].append(target)
    return graph


def _targets(flow: Flow, flows: Mapping[str, Flow | None] | None) -> Iterator[LintError]:
    if flow.start not in flow.nodes:
        yield flow.error(("start",), f"start node '{flow.start}' does not exist")
    for node_id, path, target in _edges(flow):
        if target not in flow.nodes:
            where = ".".join(path)
            yield flow.error(
                ("nodes", node_id, *path), f"'{where}' points to unknown node '{target}'"
            )
    for node_id, node in flow.nodes.items():
        if isinstance(node, GotoNode) and flows is not None and node.flow not in flows:
            message = f"goto to unknown flow '{node.flow}' (no {node.flow}.yaml beside this flow)"
            yield flow.error(("nodes", node_id, "flow"), message)


def _unreachable(flow: Flow) -> Iterator[LintError]:
    graph = _graph(flow)
    seen, todo = set(), [flow.start] if flow.start in graph else []
    while todo:
        node_id = todo.pop()
        if node_id not in seen:
            seen.add(node_id)
            todo.extend(graph[node_id])
    for node_id in flow.nodes:
        if node_id not in seen:
            yield flow.error(("nodes", node_id), f"unreachable from start node '{flow.start}'")


def _loops(flow: Flow) -> Iterator[LintError]:
    graph = _graph(flow)
    for component in _cycles(graph):
        inside = set(component)
        leaves = any(t not in inside for node_id in component for t in graph[node_id])
        if not leaves and not any(flow.nodes[n].may_end_call() for n in component):
            yield flow.error(
                ("nodes", component[0]),
                f"loop with no way out: {' -> '.join(component)} (no exit, nothing ends the call)",
            )
    spinning = {
        node_id: [t for t in targets if not flow.nodes[t].waits]
        for node_id, targets in graph.items()
        if not flow.nodes[node_id].waits
    }
    for component in _cycles(spinning):
        yield flow.error(
            ("nodes", component[0]),
            f"loop never waits for the caller: {' -> '.join(component)} "
            "(it would run forever within one request)",
        )


def _cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """Strongly connected components that contain a cycle (Tarjan), each in file order."""
    order = {node_id: i for i, node_id in enumerate(graph)}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node_id: str) -> None:
        index[node_id] = low[node_id] = len(index)
        stack.append(node_id)
        for target in graph[node_id]:
            if target not in index:
                visit(target)
                low[node_id] = min(low[node_id], low[target])
            elif target in stack:
                low[node_id] = min(low[node_id], index[target])
        if low[node_id] == index[node_id]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node_id:
                    break
            if len(component) > 1 or node_id in graph[node_id]:
                found.append(sorted(component, key=order.__getitem__))

    for node_id in graph:
        if node_id not in index:
            visit(node_id)
    return sorted(found, key=lambda component: order[component[0]])


# ---- templates and variables ---------------------------------------------------------------


def _template_uses(flow: Flow) -> dict[str, list[tuple[str, tuple[str, ...]]]]:
    """Template name -> [(node, path of the field)] in file order."""
    uses: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for node_id, node in flow.nodes.items():
        for path, name in node.references("template"):
            uses.setdefault(name, []).append((node_id, path))
    return uses


def _templates(flow: Flow) -> Iterator[LintError]:
    for name, uses in _template_uses(flow).items():
        have = [language for language in flow.languages if name in flow.templates.get(language, {})]
        for language in flow.languages:
            if language in have:
                continue
            file = flow.template_file(language, name)
            if have:
                message = (
                    f"missing translation: template '{name}' has no {language} version ({file})"
                )
            else:
                message = f"missing template '{name}': no file {file}"
            for node_id, path in uses:
                yield flow.error(("nodes", node_id, *path), message)


def _template_variables(flow: Flow, known: set[str]) -> Iterator[LintError]:
    """Syntax and undefined variables of every template, at its own file and line."""
    for name, uses in _template_uses(flow).items():
        node_id = uses[0][0]
        in_hold = any(
            isinstance(flow.nodes[n], QueueNode) and p == ("hold_prompt",) for n, p in uses
        )
        allowed = known | set(HOLD_VARS) if in_hold else known
        for language in flow.languages:
            source = flow.templates.get(language, {}).get(name)
            if source is None:
                continue
            file = flow.template_file(language, name)
            try:
                tree = templates.parse(source)
            except TemplateSyntaxError as exc:
                yield LintError(file, exc.lineno, node_id, f"template syntax error: {exc.message}")
                continue
            for line, variable in _undeclared(tree, allowed):
                message = f"undefined variable '{variable}' (no node sets it)"
                yield LintError(file, line, node_id, message)


def _expression_variables(flow: Flow, known: set[str]) -> Iterator[LintError]:
    """The same for inline templates (look-up keys, media URLs) and branch conditions."""
    for node_id, node in flow.nodes.items():
        for role, parse in (("inline", templates.parse), ("condition", templates.parse_condition)):
            for path, source in node.references(role):
                where = ("nodes", node_id, *path)
                try:
                    tree = parse(source)
                except TemplateSyntaxError as exc:
                    yield flow.error(where, f"syntax error in '{source}': {exc.message}")
                    continue
                for _, variable in _undeclared(tree, known):
                    message = f"'{source}' uses undefined variable '{variable}' (no node sets it)"
                    yield flow.error(where, message)


def _undeclared(tree: jinja_nodes.Template, allowed: set[str]) -> list[tuple[int, str]]:
    """``(first line, name)`` of each variable the template reads but nothing provides."""
    names = meta.find_undeclared_variables(tree) - allowed
    lines: dict[str, int] = {}
    for use in tree.find_all(jinja_nodes.Name):
        if use.name in names:
            lines[use.name] = min(use.lineno, lines.get(use.name, use.lineno))
    return sorted((line, name) for name, line in lines.items())


def _settings(flow: Flow) -> Iterator[tuple[str, tuple[str, ...], str]]:
    """``(node, path, variable)`` for every variable a node sets."""
    for node_id, node in flow.nodes.items():
        if isinstance(node, CollectNode):
            yield node_id, ("into",), node.into
        elif isinstance(node, LookupNode):
            for variable in node.into:
                yield node_id, ("into", variable), variable
        elif isinstance(node, MenuNode):
            for key, option in node.options.items():
                for variable in option.set:
                    yield node_id, ("options", key, "set", variable), variable
        elif isinstance(node, PayNode):
            for variable in PAY_VARS:
                yield node_id, ("on_success",), variable
        elif isinstance(node, PromiseNode):
            for variable in PROMISE_VARS:
                yield node_id, ("next",), variable


def _set_vars(flow: Flow, others: list[Flow]) -> set[str]:
    return {variable for f in (flow, *others) for _, _, variable in _settings(f)}


def _variable_names(flow: Flow) -> Iterator[LintError]:
    for node_id, path, variable in _settings(flow):
        where = ("nodes", node_id, *path)
        if not VAR_NAME.match(variable):
            yield flow.error(where, f"'{variable}' is not a variable name (lowercase, digits, _)")
        elif variable in (*BUILTIN_VARS, *HOLD_VARS, *OVERFLOW_VARS) and variable != "language":
            yield flow.error(where, f"'{variable}' is built in and cannot be set")


def _lookup_lists(flow: Flow) -> Iterator[LintError]:
    """A lookup's ``optional`` and ``sensitive`` name variables of its own ``into``."""
    for node_id, node in flow.nodes.items():
        if not isinstance(node, LookupNode):
            continue
        for key in ("optional", "sensitive"):
            for index, variable in enumerate(getattr(node, key)):
                if variable not in node.into:
                    message = f"'{key}' names '{variable}', which is not a variable of 'into'"
                    yield flow.error(("nodes", node_id, key, str(index)), message)


# ---- variables along the graph ----------------------------------------------------------------


def _edge_sets(node: Node, path: tuple[str, ...]) -> frozenset[str]:
    """The variables set when the call leaves ``node`` through the target field at ``path``."""
    if isinstance(node, CollectNode) and path == ("next",):
        return frozenset({node.into})
    if isinstance(node, LookupNode) and path == ("next",):
        return frozenset(node.into)  # ``optional`` ones too: declared as possibly empty
    if isinstance(node, MenuNode) and len(path) == 3 and path[0] == "options":
        return frozenset(node.options[path[1]].set) - {"language"}  # language is always set
    if isinstance(node, QueueNode) and path == ("on_overflow",):
        return frozenset(OVERFLOW_VARS)
    if isinstance(node, PayNode) and path == ("on_success",):
        return frozenset(PAY_VARS)
    if isinstance(node, PromiseNode) and path == ("next",):
        return frozenset(PROMISE_VARS)
    return frozenset()


def _flow_edges(flow: Flow, retries: bool = False) -> dict[str, list[tuple[str, frozenset]]]:
    """Node -> [(target, variables set on the way)]; with ``retries``, a menu or collect that
    asks again also leads to itself (in the next webhook step)."""
    edges: dict[str, list[tuple[str, frozenset]]] = {node_id: [] for node_id in flow.nodes}
    for node_id, path, target in _edges(flow):
        if target in flow.nodes:
            edges[node_id].append((target, _edge_sets(flow.nodes[node_id], path)))
    if retries:
        for node_id, node in flow.nodes.items():
            if isinstance(node, MenuNode | CollectNode) and node.retries > 0:
                edges[node_id].append((node_id, frozenset()))
    return edges


def _reads(flow: Flow) -> Iterator[tuple[str, str, bool, Callable[[str], LintError]]]:
    """``(node, variable, said later, error at the use)`` for every variable a template, inline
    template or condition of a node reads; "said later" when spoken only after the node waited."""
    for node_id, node in flow.nodes.items():
        for path, name in node.references("template"):
            later = path[0] in node.said_later
            for language in flow.languages:
                source = flow.templates.get(language, {}).get(name)
                tree = _parsed(templates.parse, source) if source is not None else None
                if tree is None:
                    continue
                file = flow.template_file(language, name)
                for line, variable in _undeclared(tree, set()):
                    yield node_id, variable, later, partial(LintError, file, line, node_id)
        for role, parse in (("inline", templates.parse), ("condition", templates.parse_condition)):
            for path, source in node.references(role):
                tree = _parsed(parse, source)
                if tree is None:
                    continue
                where = ("nodes", node_id, *path)
                for _, variable in _undeclared(tree, set()):
                    yield node_id, variable, False, partial(flow.error, where)


def _parsed(parse, source: str) -> jinja_nodes.Template | None:
    try:
        return parse(source)
    except TemplateSyntaxError:
        return None  # reported by the template checks


def _search(start: tuple, step: Callable[[tuple], Iterator[tuple]]) -> dict[tuple, tuple | None]:
    """Breadth-first search from ``start`` over states; each reached state -> the one before."""
    before: dict[tuple, tuple | None] = {start: None}
    todo = deque([start])
    while todo:
        state = todo.popleft()
        for following in step(state):
            if following not in before:
                before[following] = state
                todo.append(following)
    return before


def _way(before: dict[tuple, tuple | None], state: tuple) -> list[tuple]:
    """The states on the way the search took to ``state``, from the start."""
    way: list[tuple] = []
    at: tuple | None = state
    while at is not None:
        way.append(at)
        at = before[at]
    return way[::-1]


def _unset_variables(flow: Flow) -> Iterator[LintError]:
    """Reads of a variable this flow sets (lookup, collect, menu, queue overflow) at a node
    some path from the start reaches without setting it."""
    if flow.start not in flow.nodes:
        return
    edges = _flow_edges(flow)
    settable = {variable for targets in edges.values() for _, sets in targets for variable in sets}

    def step(state: tuple, variable: str) -> Iterator[tuple]:  # state: (node,)
        return ((target,) for target, sets in edges[state[0]] if variable not in sets)

    unset_at: dict[str, dict[tuple, tuple | None]] = {}
    for node_id, variable, _, error in _reads(flow):
        if variable not in settable:
            continue  # built in, or set by another flow
        if variable not in unset_at:
            unset_at[variable] = _search((flow.start,), partial(step, variable=variable))
        if (node_id,) in unset_at[variable]:
            way = " -> ".join(state[0] for state in _way(unset_at[variable], (node_id,)))
            yield error(f"'{variable}' is not set on every path to this node, e.g. {way}: "
                        "set it on that path too, or read it only after the node that sets it")


def _stale_sensitive(flow: Flow) -> Iterator[LintError]:
    """Reads of a sensitive variable in a later webhook step than the one that set it: by then
    ``ivr.service`` has dropped the value, so the prompt or condition would see nothing."""
    if flow.start not in flow.nodes:
        return
    sensitive = flow.sensitive_vars
    edges = _flow_edges(flow, retries=True)

    def step(state, variable):  # state: (node, "unset" | "fresh" | "stale")
        node_id, status = state
        for target, sets in edges[node_id]:
            if variable in sets:
                yield target, "fresh"
            elif flow.nodes[node_id].waits and status != "unset":
                yield target, "stale"
            else:
                yield target, status

    searches: dict[str, dict[tuple, tuple | None]] = {}
    for node_id, variable, later, error in _reads(flow):
        if variable not in sensitive:
            continue
        if variable not in searches:
            searches[variable] = _search((flow.start, "unset"), partial(step, variable=variable))
        reached = searches[variable]
        stale = [(node_id, "stale")] + ([(node_id, "fresh")] if later else [])
        found = next((state for state in stale if state in reached), None)
        if found is None:
            continue
        way = _way(reached, found)
        # the node that waited: the last one still holding a fresh value (or the reader itself)
        waited = next((way[i][0] for i in range(len(way) - 2, -1, -1)
                       if way[i][1] == "fresh" and way[i + 1][1] == "stale"), node_id)
        path = " -> ".join(state[0] for state in way)
        yield error(
            f"reads sensitive variable '{variable}' in a later webhook step than the one that "
            f"set it ('{waited}' waits for the caller in between: {path}); "
            "sensitive values are dropped when the step that set them ends, so read it before "
            "the next node that waits")


def _languages(flow: Flow) -> Iterator[LintError]:
    """Every language has a voice; menus switch to and listen for the flow's languages only."""
    for index, language in enumerate(flow.languages):
        if language not in flow.voices:
            yield flow.error(("languages", str(index)), f"no voice for language '{language}'")
    for node_id, node in flow.nodes.items():
        if not isinstance(node, MenuNode):
            continue
        for key, option in node.options.items():
            where = ("nodes", node_id, "options", key)
            chosen = option.set.get("language")
            if chosen is not None and chosen not in flow.languages:
                message = f"language '{chosen}' is not one of {', '.join(flow.languages)}"
                yield flow.error((*where, "set", "language"), message)
            for language in option.speech:
                if language not in flow.languages:
                    message = f"speech words for '{language}', which is not a flow language"
                    yield flow.error((*where, "speech", language), message)


# ---- values the outside world must accept --------------------------------------------------


def _collects(flow: Flow) -> Iterator[LintError]:
    for node_id, node in flow.nodes.items():
        if not isinstance(node, CollectNode):
            continue
        if node.pattern is not None:
            try:
                re.compile(node.pattern)
            except re.error as exc:
                yield flow.error(("nodes", node_id, "pattern"), f"invalid regex: {exc}")
        if node.max_length is not None and node.max_length < node.min_length:
            yield flow.error(("nodes", node_id, "max_length"), "max_length is below min_length")


def _hours(flow: Flow) -> Iterator[LintError]:
    for node_id, node in flow.nodes.items():
        if not isinstance(node, HoursNode):
            continue
        try:
            ZoneInfo(node.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            message = (
                f"unknown time zone '{node.timezone}' (use an IANA name like America/New_York)"
            )
            yield flow.error(("nodes", node_id, "timezone"), message)
        for days, spans in node.weekly.items():
            try:
                parse_days(days)
            except ValueError as exc:
                yield flow.error(("nodes", node_id, "weekly", days), f"weekly hours: {exc}")
            for index, span in enumerate(spans):
                try:
                    parse_span(span)
                except ValueError as exc:
                    where = ("nodes", node_id, "weekly", days, str(index))
                    yield flow.error(where, f"weekly hours: {exc}")
        for index, day in enumerate(node.holidays):
            if not _is_iso_date(day):
                message = f"holiday '{day}' is not a date like 2026-12-25"
                yield flow.error(("nodes", node_id, "holidays", str(index)), message)


def _is_iso_date(text: str) -> bool:
    try:
        return bool(re.fullmatch(r"\d{4}-\d\d-\d\d", text)) and bool(date.fromisoformat(text))
    except ValueError:
        return False


def _transfers(flow: Flow) -> Iterator[LintError]:
    for node_id, node in flow.nodes.items():
        if isinstance(node, TransferNode) and not _is_e164(node.to):
            message = f"'{node.to}' is not a valid E.164 number like +14155550100"
            yield flow.error(("nodes", node_id, "to"), message)


CURRENCY = re.compile(r"^[A-Z]{3}$")
CONNECTOR = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _pays(flow: Flow) -> Iterator[LintError]:
    """Pay nodes: values Twilio accepts, and a connector error that never leaves the caller in
    silence (issue 11: "a <Pay> that fails at the connector sends the caller to a retry or an
    agent")."""
    for node_id, node in flow.nodes.items():
        if not isinstance(node, PayNode):
            continue
        where = ("nodes", node_id)
        if "{" not in node.currency and not CURRENCY.match(node.currency):
            yield flow.error((*where, "currency"),
                             f"'{node.currency}' is not an ISO 4217 currency code like USD")
        if node.connector is not None and not CONNECTOR.match(node.connector):
            yield flow.error((*where, "connector"),
                             f"'{node.connector}' is not a Pay Connector name")
        if not 1 <= node.max_attempts <= 3:
            yield flow.error((*where, "max_attempts"), "max_attempts must be 1 to 3 (Twilio)")
        if node.timeout < 1:
            yield flow.error((*where, "timeout"), "timeout must be at least 1 second")
        silent = _silent_path(flow, node.on_error)
        if silent is not None:
            yield flow.error(
                (*where, "on_error"),
                f"a connector error ends the call without a person or a retry: "
                f"{' -> '.join([node_id, *silent])}; send it to a queue, a transfer, a menu "
                "or the pay node again")


MAX_PROMISE_DAYS = 90  # a longer pause is a payment plan, agreed with a person


def _promises(flow: Flow) -> Iterator[LintError]:
    """Promise nodes: a pause of 1 to ``MAX_PROMISE_DAYS`` days, and an account to pause."""
    for node_id, node in flow.nodes.items():
        if not isinstance(node, PromiseNode):
            continue
        where = ("nodes", node_id)
        if not 1 <= node.max_days <= MAX_PROMISE_DAYS:
            yield flow.error((*where, "max_days"),
                             f"max_days must be 1 to {MAX_PROMISE_DAYS} (longer: a payment plan)")
        if not node.account.strip():
            yield flow.error((*where, "account"), "account must name the account to pause")
        if not node.days.strip():
            yield flow.error((*where, "days"), "days must give the number of days promised")


def _silent_path(flow: Flow, start: str) -> list[str] | None:
    """A way from ``start`` through nodes that run straight through (say, branch, sms...) to a
    hangup, i.e. without reaching a node that waits for the caller or a goto; None if none."""
    graph = _graph(flow)
    before: dict[str, str | None] = {start: None}
    todo = [start]
    while todo:
        node_id = todo.pop()
        node = flow.nodes.get(node_id)
        if node is None or node.waits or isinstance(node, GotoNode):
            continue
        if isinstance(node, HangupNode):
            way: list[str] = []
            at: str | None = node_id
            while at is not None:
                way.append(at)
                at = before[at]
            return way[::-1]
        for target in graph[node_id]:
            if target not in before:
                before[target] = node_id
                todo.append(target)
    return None


def _is_e164(number: str) -> bool:
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return False
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return e164 == number and phonenumbers.is_valid_number(parsed)
