"""The time zone a hotline's facts count in (``chalicelib.facts``): hotlines carry no zone of
their own, so it is the zone of the first ``hours`` node of the hotline's live entry flow (a
valid IANA zone), else UTC: ``ivr.model.flow_zone`` of that flow. Used
for the facts scoped to a hotline alone (``callers`` and ``missed_call``, whose partitions have no
flow to take a zone from), so every one of them lands on the same local calendar.

Cost: the hotline's GetItem (cached per Lambda, ``directory``) and the flow's live version (cached
``FLOW_MAX_AGE`` seconds, ``flows.get_live``).
"""

from __future__ import annotations

from chalicelib.ivr.model import flow_zone
from chalicelib.store import directory, flows

DEFAULT_ZONE = "UTC"
FLOW_MAX_AGE = 60.0


def hotline_zone(number: str) -> str:
    """The IANA zone of hotline ``number``'s local days: see the module's docstring. UTC for an
    unknown hotline or an entry flow that is not published."""
    line = directory.get_hotline(number)
    if line is None:
        return DEFAULT_ZONE
    try:
        flow = flows.get_live(line.entry_flow, FLOW_MAX_AGE)
    except LookupError:
        return DEFAULT_ZONE
    return flow_zone(flow)
