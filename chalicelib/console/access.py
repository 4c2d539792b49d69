"""Who may do what on the admin API: the three roles and the rule of every admin route.

Plain Python. A request is made by a :class:`Principal`: a person signed in to the console (an
``agent``, a ``supervisor`` or an ``admin``) or a machine client with an API key (acts as an
admin). Issue 13's rule: an agent sees their own desk, a supervisor their queues, an admin
everything.

Every route outside :data:`PUBLIC` and the Twilio webhooks is an admin route and needs a
principal; :func:`rule_for` names the check a route's (method, resource path) gets. A route
this table does not name is ``admin`` only, so a new route is closed until someone opens it.
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("agent", "supervisor", "admin")  # each may do all the one before it may

# Reached by anyone: the health check, the API document, the web-callback widget's API (it has
# its own origin and rate checks), the pages (they hold no figures: their scripts fetch them
# with the user's token) and signing in itself.
PUBLIC = frozenset({
    ("GET", "/"), ("GET", "/openapi.json"),
    ("POST", "/callbacks"), ("OPTIONS", "/callbacks"), ("GET", "/callbacks/widget"),
    ("GET", "/callbacks/widget.js"), ("GET", "/callbacks/{callback_id}"),
    ("DELETE", "/callbacks/{callback_id}"), ("OPTIONS", "/callbacks/{callback_id}"),
    ("GET", "/reports/{kind}/page"), ("GET", "/reports/static/chart.js"),
    ("POST", "/console/session"), ("GET", "/console"), ("GET", "/console/{page}"),
    ("GET", "/console/static/{name}"),
})
TWILIO_PREFIX = "/twilio/"  # Twilio's webhooks: signed requests, checked by their own guard

# The checks, from the widest to the narrowest:
SIGNED_IN = "signed-in"  # anyone signed in (``GET /console/session``: who am I)
AGENT_SELF = "agent-self"  # the agent named in the path, a supervisor of their queues, an admin
AGENT_OWN = "agent-own"  # the agent named in the path (or an admin): never on their behalf
AGENT_SUPERVISOR = "agent-supervisor"  # a supervisor of the named agent's queues, an admin
QUEUE_SUPERVISOR = "queue-supervisor"  # a supervisor of the named queue, an admin
SUPERVISOR = "supervisor"  # any supervisor (answers are cut to their queues), an admin
ADMIN = "admin"

_AGENT = "/agents/{agent_id}"
_SEAT = "/campaigns/{campaign_id}/seats/{agent_id}"
RULES: dict[tuple[str, str], str] = {
    ("GET", "/console/session"): SIGNED_IN,
    # the agent's desk: their state, calls, wrap-up, softphone and figures
    ("GET", _AGENT): AGENT_SELF,
    ("POST", f"{_AGENT}/state"): AGENT_SELF,
    ("POST", f"{_AGENT}/transfer"): AGENT_SELF,
    ("POST", f"{_AGENT}/transfer/{{step}}"): AGENT_SELF,
    ("POST", f"{_AGENT}/hold"): AGENT_SELF,
    ("DELETE", f"{_AGENT}/hold"): AGENT_SELF,
    ("POST", f"{_AGENT}/disposition"): AGENT_SELF,
    # a softphone token rings the agent's calls wherever it is used: theirs alone
    ("POST", f"{_AGENT}/voice-token"): AGENT_OWN,
    ("GET", f"{_AGENT}/history"): AGENT_SELF,
    ("GET", f"{_AGENT}/context"): AGENT_SELF,
    ("GET", f"{_AGENT}/today"): AGENT_SELF,
    ("GET", f"{_AGENT}/seats"): AGENT_SELF,
    ("GET", _SEAT): AGENT_SELF,
    ("DELETE", _SEAT): AGENT_SELF,
    ("POST", f"{_SEAT}/accept"): AGENT_SELF,
    ("POST", f"{_SEAT}/skip"): AGENT_SELF,
    ("POST", f"{_SEAT}/disposition"): AGENT_SELF,
    # a supervisor on an agent's live call: never the agent themself
    ("POST", f"{_AGENT}/monitor"): AGENT_SUPERVISOR,
    ("DELETE", f"{_AGENT}/monitor"): AGENT_SUPERVISOR,
    ("GET", "/queues/{queue_id}"): QUEUE_SUPERVISOR,
    ("GET", "/queues/{queue_id}/board"): QUEUE_SUPERVISOR,
    ("GET", "/board"): SUPERVISOR,
    ("GET", "/queues"): SUPERVISOR,
    ("GET", "/agents"): SUPERVISOR,
}
# Outbound work and the figures are the supervisors' too; configuration (agents, queues, the
# do-not-call list, consents, accounts, payments) stays with admins.
_SUPERVISED_PREFIXES = ("/campaigns", "/contact-lists", "/reminder-batches", "/reminders",
                        "/reminder-policies", "/reports/", "/missed-calls", "/tickets")


class Denied(Exception):
    """The principal may not do this: ``status`` 401 (nobody signed in) or 403 (the role may
    not); the message says which, for the person reading it."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Principal:
    """Who makes a request. ``subject``: the user name (or ``api-key:<name>``); ``role``: one
    of :data:`ROLES`; ``agent_id``: the agent profile a person works as (agents; may be None
    for others); ``queues``: the queue ids a supervisor oversees (ignored for admins);
    ``via``: ``token`` (signed in), ``api-key`` or ``open`` (a laptop's unguarded API)."""

    subject: str
    role: str
    name: str = ""
    agent_id: str | None = None
    queues: tuple[str, ...] = ()
    via: str = "token"

    def at_least(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)

    def public(self) -> dict:
        """The JSON the console shows: ``{username, name, role, agent_id, queues}``."""
        return {"username": self.subject, "name": self.name or self.subject, "role": self.role,
                "agent_id": self.agent_id, "queues": list(self.queues)}


def machine(name: str, via: str = "api-key") -> Principal:
    """A machine client (an API key, or anyone on a laptop's open API): an admin."""
    return Principal(subject=f"{via}:{name}", role="admin", name=name, via=via)


def needs_principal(method: str, path: str) -> bool:
    """Whether a route (its resource path, e.g. ``/agents/{agent_id}``) is an admin route."""
    return not (path.startswith(TWILIO_PREFIX) or (method, path) in PUBLIC)


def rule_for(method: str, path: str) -> str:
    """The check an admin route gets (one of the constants above); unnamed routes: ADMIN."""
    named = RULES.get((method, path))
    if named:
        return named
    if method == "GET" and path.startswith("/compliance/"):
        return SUPERVISOR  # reading the gate's answer; changing the lists is an admin's
    if path.startswith(_SUPERVISED_PREFIXES):
        return SUPERVISOR
    return ADMIN


def check(principal: Principal | None, rule: str, params: dict[str, str],
          queues_of_agent) -> None:
    """Raise :class:`Denied` unless ``principal`` passes ``rule`` for the path's ``params``.

    ``queues_of_agent(agent_id) -> set[str]`` reads an agent's queues; it is called only when
    a supervisor acts on an agent (one read)."""
    if principal is None:
        raise Denied(401, "sign in: this API needs a console session or an API key")
    if principal.role == "admin":
        return
    if rule == SIGNED_IN:
        return
    if rule == ADMIN:
        raise Denied(403, "only an admin may do this")
    agent_id = params.get("agent_id")
    if rule in (AGENT_SELF, AGENT_OWN) and principal.agent_id and agent_id == principal.agent_id:
        return
    if rule == AGENT_OWN:
        raise Denied(403, "only the agent themself may do this")
    if principal.role != "supervisor":
        raise Denied(403, "an agent may act only on their own desk")
    if rule == SUPERVISOR:
        return
    if rule == QUEUE_SUPERVISOR:
        if params.get("queue_id") in principal.queues:
            return
        raise Denied(403, "this queue is not one you supervise")
    if agent_id and set(principal.queues) & set(queues_of_agent(agent_id)):
        return
    raise Denied(403, "this agent serves none of the queues you supervise")


def visible_queues(principal: Principal | None) -> frozenset[str] | None:
    """The queues a principal's answers are cut to; None: every queue (admins)."""
    if principal is None or principal.role == "admin":
        return None
    return frozenset(principal.queues)
