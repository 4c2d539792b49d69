"""Who serves whom: the queue's strategy, with the modifiers every strategy shares.

A routing round looks at one queue at one instant: ``choose_offers`` takes the waiting callers and
the agents and returns which agents to ring for which callers. It is pure and deterministic, so
the same inputs always ring the same phones, and a simulation can drive it on a simulated clock.

Eligibility has hard rules (available, a member of the queue at an open tier, the required skills)
and preferences that narrow the choice only when somebody satisfies them (the caller's language,
then the caller's region), so a caller is never stranded for want of a nice-to-have. A dedicated
account manager or the agent who served the caller last (sticky) is held for a short window first.

The round is work-conserving: when it ends, no caller left without an offer has an eligible agent
left unused — except under ring-all, which offers everyone to the head caller and stops.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from chalicelib.routing.agent_states import calls_handled_today
from chalicelib.routing.model import (
    Agent,
    AgentState,
    Offer,
    QueueConfig,
    Strategy,
    WaitingCaller,
)

# One <Dial> rings at most ten <Number>s or <Client>s at once: ring-all rings the ten best-ranked
# free agents (and its reservation stays one transaction of well under 100 items)
RING_ALL_AT_MOST = 10

# A personal agent in one of these states will be free soon, so holding the caller is worth it;
# one who is away or offline will not, and the caller is routed normally at once.
_WORKING = frozenset(
    {AgentState.AVAILABLE, AgentState.RESERVED, AgentState.ON_CALL, AgentState.WRAP_UP}
)


def order_waiting(waiting: Iterable[WaitingCaller]) -> list[WaitingCaller]:
    """Serve order: higher ``priority`` first (already final, VIP boost included), then FIFO."""
    return sorted(waiting, key=lambda c: (-c.priority, c.joined_at, c.call_sid))


def waited_seconds(caller: WaitingCaller, now: datetime) -> float:
    return (now - caller.joined_at).total_seconds()


def eligible_agents(
    queue: QueueConfig, caller: WaitingCaller, agents: Iterable[Agent], now: datetime
) -> list[Agent]:
    """The available agents who may take ``caller`` now, in the order given.

    Pass every agent of the queue, busy ones included: a busy sticky or dedicated agent holds
    the caller for ``queue.sticky_wait_seconds`` (an empty list), while one who is away or
    offline does not.
    """
    agents = list(agents)
    personal = _personal_agent_waited_for(queue, caller, now)
    if personal is not None:
        held = _hold_for(queue, caller, personal, agents)
        if held is not None:
            return held
    waited = waited_seconds(caller, now)
    open_tiers = {1} | {t.tier for t in queue.tiers if waited >= t.after_seconds}
    needs = required_skills(queue, caller)
    pool = [
        agent
        for agent in agents
        if agent.state is AgentState.AVAILABLE
        and agent_tier(queue, agent) in open_tiers
        and has_skills(agent, needs)
    ]
    language = caller.language
    if language:
        pool = _prefer(pool, lambda agent: speaks(agent, language))
    if queue.region_routing:
        pool = _prefer(pool, lambda agent: serves_region(agent, caller))
    return pool


def choose_offers(
    queue: QueueConfig,
    waiting: Iterable[WaitingCaller],
    agents: Iterable[Agent],
    now: datetime,
    last_agent_id: str | None = None,
) -> list[Offer]:
    """One routing round: the offers to make now, in serve order. Never an agent or caller twice.

    Callers whose sticky or dedicated agent is available get that agent first, even ahead of
    callers in front of them. Then the others, in serve order, get an agent picked by the
    queue's strategy from those still unused; a caller with nobody eligible (or held for a busy
    personal agent) is skipped, never blocking those behind. ``last_agent_id`` is where
    round-robin resumes.
    """
    agents = list({agent.agent_id: agent for agent in agents}.values())
    callers = order_waiting(
        {c.call_sid: c for c in waiting if c.queue_id == queue.queue_id}.values()
    )
    used: set[str] = set()
    chosen: dict[str, tuple[Agent, ...]] = {}

    def unused(caller: WaitingCaller) -> list[Agent]:
        return [a for a in eligible_agents(queue, caller, agents, now) if a.agent_id not in used]

    for caller in callers:
        personal = _personal_agent_waited_for(queue, caller, now)
        if personal is None:
            continue
        pool = unused(caller)
        if [a.agent_id for a in pool] == [personal]:  # free, and nobody ahead has them
            chosen[caller.call_sid] = (pool[0],)
            used.add(personal)

    available = {a.agent_id for a in agents if a.state is AgentState.AVAILABLE}
    for caller in callers:
        if not available - used:
            break
        if caller.call_sid in chosen:
            continue
        pool = unused(caller)
        if not pool:
            continue
        if queue.strategy is Strategy.RING_ALL:
            ring = tuple(_ranked(queue, caller, pool, now)[:RING_ALL_AT_MOST])
            chosen[caller.call_sid] = ring
            used.update(a.agent_id for a in ring)
            break
        if queue.strategy is Strategy.ROUND_ROBIN:
            agent = _next_in_rotation(queue, pool, last_agent_id)
            last_agent_id = agent.agent_id
        else:
            agent = _ranked(queue, caller, pool, now)[0]
        chosen[caller.call_sid] = (agent,)
        used.add(agent.agent_id)

    return [Offer(c, chosen[c.call_sid]) for c in callers if c.call_sid in chosen]


def overflow_action(
    queue: QueueConfig,
    waiting_count: int,
    logged_in: int,
    oldest_wait_seconds: float | None,
) -> str | None:
    """Why the queue should overflow now, if it should; what the overflow does is not decided here.

    ``logged_in``: the queue's agents in any state but offline (``QueuePresence.logged_in``).
    "join-empty": none is logged in and the queue says to overflow rather than wait; "full":
    ``max_size`` callers wait; "max-wait": the oldest caller has waited ``max_wait_seconds``.
    """
    if queue.join_empty == "overflow" and logged_in <= 0:
        return "join-empty"
    if waiting_count >= queue.max_size:
        return "full"
    if oldest_wait_seconds is not None and oldest_wait_seconds >= queue.max_wait_seconds:
        return "max-wait"
    return None


def agent_tier(queue: QueueConfig, agent: Agent) -> int | None:
    """The agent's tier in this queue (tiers below 1 count as 1), or None if not a member."""
    tier = agent.queues.get(queue.queue_id)
    return None if tier is None else max(tier, 1)


def required_skills(queue: QueueConfig, caller: WaitingCaller) -> dict[str, int]:
    """The queue's minimum levels, raised by any needs of this caller."""
    needs = dict(queue.required_skills)
    for skill, level in caller.skills.items():
        needs[skill] = max(level, needs.get(skill, 0))
    return needs


def has_skills(agent: Agent, needs: dict[str, int]) -> bool:
    return all(agent.skills.get(skill, 0) >= level for skill, level in needs.items())


def speaks(agent: Agent, language: str) -> bool:
    """Case-insensitive; an agent listing a bare language ("es") serves its variants ("es-MX")."""
    wanted = language.casefold()
    base = wanted.split("-")[0]
    return any(spoken.casefold() in (wanted, base) for spoken in agent.languages)


def serves_region(agent: Agent, caller: WaitingCaller) -> bool:
    """A region entry is an ISO country ("US") or a number prefix ("+1415")."""
    country = (caller.country or "").upper()
    for region in agent.regions:
        if region.startswith("+"):
            if caller.caller.startswith(region):
                return True
        elif country and region.upper() == country:
            return True
    return False


def _prefer(pool: list[Agent], wanted: Callable[[Agent], bool]) -> list[Agent]:
    preferred = [agent for agent in pool if wanted(agent)]
    return preferred or pool


def _personal_agent_waited_for(
    queue: QueueConfig, caller: WaitingCaller, now: datetime
) -> str | None:
    """Within the sticky window: the account manager, else the sticky agent (if the queue has
    sticky routing on). None once the caller has waited ``queue.sticky_wait_seconds``."""
    if waited_seconds(caller, now) >= queue.sticky_wait_seconds:
        return None
    if caller.dedicated_agent:
        return caller.dedicated_agent
    if caller.sticky_agent and queue.sticky_days > 0:
        return caller.sticky_agent
    return None


def _hold_for(
    queue: QueueConfig, caller: WaitingCaller, agent_id: str, agents: Sequence[Agent]
) -> list[Agent] | None:
    """Within the window: [the agent] if free, [] to wait for them, None to route normally.

    Language, region and overflow tier are waived for the caller's own agent; queue membership
    and skills are not. An agent missing from ``agents`` is taken to be busy elsewhere.
    """
    agent = next((a for a in agents if a.agent_id == agent_id), None)
    if agent is None:
        return []
    if (
        agent.state not in _WORKING
        or agent_tier(queue, agent) is None
        or not has_skills(agent, required_skills(queue, caller))
    ):
        return None
    return [agent] if agent.state is AgentState.AVAILABLE else []


def _idle_key(agent: Agent) -> tuple:
    """Longest idle first; never idle on record (None) counts as idle forever."""
    return (agent.idle_since is not None, agent.idle_since or 0)


def _ranked(
    queue: QueueConfig, caller: WaitingCaller, pool: list[Agent], now: datetime
) -> list[Agent]:
    """The pool best first: lower tiers before overflow tiers, then by the strategy."""
    if queue.strategy is Strategy.FEWEST_CALLS:

        def key(agent: Agent) -> tuple:
            return (calls_handled_today(agent, now), *_idle_key(agent))
    elif queue.strategy is Strategy.SKILLS:
        needs = required_skills(queue, caller)

        def key(agent: Agent) -> tuple:
            return (-sum(agent.skills.get(s, 0) for s in needs), *_idle_key(agent))
    else:
        key = _idle_key
    return sorted(pool, key=lambda a: (agent_tier(queue, a), *key(a), a.agent_id))


def _next_in_rotation(queue: QueueConfig, pool: list[Agent], last_agent_id: str | None) -> Agent:
    """Round-robin: the first agent after ``last_agent_id`` in agent-id order, wrapping round.

    The rotation runs within the lowest open tier, so overflow agents stay a fallback.
    """
    tier = min(t for a in pool if (t := agent_tier(queue, a)) is not None)  # pool: members
    rotation = sorted((a for a in pool if agent_tier(queue, a) == tier), key=lambda a: a.agent_id)
    if last_agent_id is not None:
        for agent in rotation:
            if agent.agent_id > last_agent_id:
                return agent
    return rotation[0]
