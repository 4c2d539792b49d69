"""The facts a call through the IVR leaves for the reports (``chalicelib.facts``): which flows
it ran, which nodes it reached in each, where it left, and whether the IVR handled it alone.

Built once, when the call's final status is applied (``ivr.service``), from the call record:

- **one fact per flow the call ran** (kind ``ivr_call``, id ``call:<CallSid>:ivr:<flow>``), so a
  retried final status, or the stream delivering it twice, counts nothing twice. The path is cut
  into flows at its ``goto`` nodes (``split_path``): a caller who went from ``main`` to
  ``billing`` counts in both funnels, each with its own nodes. A flow run twice in one call
  (a goto back) counts once.
- scopes ``{"flow": <flow id>, "hotline": <number dialled>}``;
- ``at``: when the call started, so it counts in the half-hour it began;
- ``zone``: the flow's own (``flow_zone``: the zone of its first ``hours`` node, else UTC).
  Hotlines carry no time zone; a flow's business hours are the nearest thing the flow has to a
  local day, and one zone per flow keeps every fact of a flow's rollup day on the same calendar.

Values (whole numbers): ``calls: 1``; ``contained: 1`` when the IVR handled the call alone
(``is_contained``); ``reached_<node>: 1`` for each distinct node of the flow the call ran;
``left_<node>: 1`` for the last node of the whole path, in the flow the call ended in.

Node ids become value names through ``node_key`` (at most 32 characters, so both prefixes fit
the 40-character limit): lower-case ``[a-z0-9_]`` ids of up to 32 characters are kept as they
are; anything else is lower-cased, other characters become ``_``, and it is cut to 25
characters plus ``_`` and the first 6 hex digits of the id's SHA-1, so two ids that differ only
in what was mapped away never share a name.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

from chalicelib.calls.model import Call
from chalicelib.facts import Fact
from chalicelib.ivr.model import Flow, GotoNode, flow_zone

KEY_LENGTH = 32  # 40 (a value name's limit) minus "reached_"
_PLAIN = re.compile(r"[a-z][a-z0-9_]{0,31}")
_OTHER = re.compile(r"[^a-z0-9_]")
# handed to a person: an agent answered, the caller queued for one, was dialled out, or asked
# to be called back
NOT_CONTAINED = frozenset({"agent", "queue", "transfer", "callback"})


def node_key(node: str) -> str:
    """The value-name part for node id ``node``: see the module's docstring."""
    if _PLAIN.fullmatch(node):
        return node
    mapped = _OTHER.sub("_", node.lower())
    if not mapped[:1].isalpha():
        mapped = "n" + mapped
    digest = hashlib.sha1(node.encode()).hexdigest()[:6]
    return f"{mapped[:KEY_LENGTH - 7]}_{digest}"


def reached(node: str) -> str:
    return "reached_" + node_key(node)


def left(node: str) -> str:
    return "left_" + node_key(node)


def is_contained(call: Call) -> bool:
    """The IVR handled the call alone: no agent served it, it never waited in a queue, and it did
    not end by reaching a person (``NOT_CONTAINED``). A caller who hung up in a menu or left a
    voicemail counts as contained (no live person was needed)."""
    return call.agent_id is None and call.queue_id is None and \
        call.outcome not in NOT_CONTAINED


def split_path(path: list[str], start: Flow, flow_of: Callable[[str], Flow]
               ) -> list[tuple[Flow, list[str]]]:
    """``path`` cut into the flows it ran, in order, from ``start``: each ``goto`` node of the
    current flow switches to its target (``flow_of(flow_id)``). A flow met again is merged into
    its first segment; the flow holding the path's last node comes last. ValueError when a node
    is not in the flow it should be in (the call did not start in ``start``)."""
    segments: dict[str, tuple[Flow, list[str]]] = {}
    current, ended_in = start, start.id
    for node_id in path:
        node = current.nodes.get(node_id)
        if node is None:
            raise ValueError(f"node {node_id!r} is not in flow {current.id!r}")
        segments.setdefault(current.id, (current, []))[1].append(node_id)
        ended_in = current.id
        if isinstance(node, GotoNode):
            current = flow_of(node.flow)
    last = segments.pop(ended_in, None)
    return [*segments.values(), *([last] if last else [])]


def ivr_facts(call: Call, segments: list[tuple[Flow, list[str]]]) -> list[Fact]:
    """One ``ivr_call`` fact per segment (``split_path``; the last is the flow the call ended
    in). No facts for a call that never started (no ``started_at``) or ran no nodes."""
    if call.started_at is None or not segments or not call.path:
        return []
    contained = int(is_contained(call))
    facts = []
    for index, (flow, nodes) in enumerate(segments):
        values = {"calls": 1, "contained": contained}
        values.update({reached(node): 1 for node in nodes})
        if index == len(segments) - 1:
            values[left(call.path[-1])] = 1
        scopes = {"flow": flow.id}
        if call.hotline:
            scopes["hotline"] = call.hotline
        facts.append(Fact(fact_id(call.call_sid, flow.id), "ivr_call", call.started_at,
                          flow_zone(flow), scopes, values).check())
    return facts


def fact_id(call_sid: str, flow_id: str) -> str:
    return f"call:{call_sid}:ivr:{flow_id}"
