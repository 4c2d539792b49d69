"""Who serves whom: strategies, the modifiers on top of them, and overflow triggers."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.routing.model import (
    Agent,
    AgentState,
    Endpoint,
    OverflowTier,
    QueueConfig,
    QueuePresence,
    Strategy,
    WaitingCaller,
)
from chalicelib.routing.selection import (
    choose_offers,
    eligible_agents,
    order_waiting,
    overflow_action,
)

NOW = datetime(2026, 3, 6, 10, 0, tzinfo=UTC)
S = AgentState


def ago(seconds: float | None) -> datetime | None:
    return None if seconds is None else NOW - timedelta(seconds=seconds)


def agent(agent_id: str, idle: float | None = 60, state=S.AVAILABLE, tier=1, **fields) -> Agent:
    """An agent of queue "q" at ``tier``, idle for ``idle`` seconds (None: never worked)."""
    fields.setdefault("queues", {"q": tier})
    return Agent(
        agent_id,
        agent_id.upper(),
        Endpoint("client", agent_id),
        state=state,
        idle_since=ago(idle),
        **fields,
    )


def caller(sid: str, waited: float = 5, **fields) -> WaitingCaller:
    return WaitingCaller(sid, "q", "+14155550123", joined_at=ago(waited), **fields)


def queue(**fields) -> QueueConfig:
    return QueueConfig("q", "Support", **fields)


def pairs(offers) -> list[tuple[str, tuple[str, ...]]]:
    return [(o.caller.call_sid, tuple(a.agent_id for a in o.agents)) for o in offers]


def ids(agents) -> list[str]:
    return [a.agent_id for a in agents]


# ---- serve order ---------------------------------------------------------------------------


def test_serve_order_is_priority_then_first_come_then_call_sid():
    callers = [
        caller("CA3", waited=100),
        caller("CA2", waited=10, priority=10),
        caller("CA1", waited=100),
        caller("CA4", waited=300),
    ]
    assert [c.call_sid for c in order_waiting(callers)] == ["CA2", "CA4", "CA1", "CA3"]


def test_the_head_of_the_line_gets_the_only_free_agent():
    offers = choose_offers(
        queue(), [caller("CB", waited=10), caller("CA", waited=20)], [agent("a")], NOW
    )
    assert pairs(offers) == [("CA", ("a",))]


def test_a_vip_jumps_the_line():
    line = [caller("CA", waited=300), caller("CVIP", waited=1, vip=True, priority=10)]
    assert pairs(choose_offers(queue(), line, [agent("a")], NOW)) == [("CVIP", ("a",))]


def test_several_free_agents_serve_several_callers_in_order():
    line = [caller("C1", waited=30), caller("C2", waited=20), caller("C3", waited=10)]
    agents = [agent("a", idle=10), agent("b", idle=50)]
    assert pairs(choose_offers(queue(), line, agents, NOW)) == [("C1", ("b",)), ("C2", ("a",))]


# ---- eligibility -----------------------------------------------------------------------------


def test_only_available_members_of_the_queue_are_eligible():
    agents = [
        agent("free"),
        agent("busy", state=S.ON_CALL),
        agent("away", state=S.AWAY),
        agent("ringing", state=S.RESERVED),
        agent("wrapping", state=S.WRAP_UP),
        agent("off", state=S.OFFLINE),
        agent("sales", queues={"sales": 1}),
    ]
    assert ids(eligible_agents(queue(), caller("C"), agents, NOW)) == ["free"]


def test_overflow_tiers_open_after_their_wait():
    q = queue(
        tiers=[OverflowTier(after_seconds=30, tier=2), OverflowTier(after_seconds=90, tier=3)]
    )
    agents = [agent("t2", tier=2), agent("t3", tier=3), agent("t4", tier=4)]
    assert ids(eligible_agents(q, caller("C", waited=29), agents, NOW)) == []
    assert ids(eligible_agents(q, caller("C", waited=30), agents, NOW)) == ["t2"]
    assert ids(eligible_agents(q, caller("C", waited=95), agents, NOW)) == ["t2", "t3"]


def test_after_overflow_opens_first_tier_agents_still_come_first():
    q = queue(tiers=[OverflowTier(after_seconds=30, tier=2)])
    agents = [agent("backup", idle=900, tier=2), agent("primary", idle=5)]
    assert pairs(choose_offers(q, [caller("C", waited=60)], agents, NOW)) == [("C", ("primary",))]
    assert pairs(choose_offers(q, [caller("C", waited=60)], agents[:1], NOW)) == [
        ("C", ("backup",))
    ]
    assert choose_offers(q, [caller("C", waited=10)], agents[:1], NOW) == []


def test_required_skills_of_queue_and_caller_are_minimum_levels():
    q = queue(required_skills={"billing": 5})
    agents = [
        agent("novice", skills={"billing": 4, "spanish": 9}),
        agent("expert", skills={"billing": 8}),
        agent("both", skills={"billing": 5, "spanish": 3}),
    ]
    assert ids(eligible_agents(q, caller("C"), agents, NOW)) == ["expert", "both"]
    assert ids(eligible_agents(q, caller("C", skills={"spanish": 2}), agents, NOW)) == ["both"]
    assert ids(eligible_agents(q, caller("C", skills={"billing": 7}), agents, NOW)) == ["expert"]


def test_callers_language_is_preferred_but_never_strands_them():
    agents = [agent("en", languages=["en"]), agent("zh", languages=["zh", "en"])]
    assert ids(eligible_agents(queue(), caller("C", language="zh"), agents, NOW)) == ["zh"]
    assert ids(eligible_agents(queue(), caller("C", language="ZH-cn"), agents, NOW)) == ["zh"]
    assert ids(eligible_agents(queue(), caller("C", language="fr"), agents, NOW)) == ["en", "zh"]
    assert ids(eligible_agents(queue(), caller("C"), agents, NOW)) == ["en", "zh"]


def test_the_speaker_of_the_callers_language_wins_even_if_less_idle():
    agents = [agent("en", idle=900, languages=["en"]), agent("es", idle=1, languages=["es"])]
    line = [caller("C", language="es")]
    assert pairs(choose_offers(queue(), line, agents, NOW)) == [("C", ("es",))]


def test_region_routing_prefers_country_or_number_prefix_then_falls_back():
    q = queue(region_routing=True)
    sf = agent("sf", regions=["+1415"])
    us = agent("us", regions=["us"])
    uk = agent("uk", regions=["GB", "+44"])
    london = WaitingCaller("CL", "q", "+442071234567", joined_at=ago(5), country="GB")
    oakland = WaitingCaller("CO", "q", "+15105550100", joined_at=ago(5), country="US")
    berlin = WaitingCaller("CB", "q", "+4930123456", joined_at=ago(5), country="DE")
    assert ids(eligible_agents(q, caller("CS", country=None), [sf, us, uk], NOW)) == ["sf"]
    assert ids(eligible_agents(q, london, [sf, us, uk], NOW)) == ["uk"]
    assert ids(eligible_agents(q, oakland, [sf, us, uk], NOW)) == ["us"]
    assert ids(eligible_agents(q, berlin, [sf, us, uk], NOW)) == ["sf", "us", "uk"]
    assert ids(eligible_agents(q, london, [sf, us], NOW)) == ["sf", "us"]
    assert ids(eligible_agents(queue(), london, [sf, us, uk], NOW)) == ["sf", "us", "uk"]


# ---- strategies ------------------------------------------------------------------------------


def test_longest_idle_takes_the_earliest_idle_since_and_never_worked_first():
    agents = [agent("b", idle=100), agent("a", idle=300), agent("c", idle=200)]
    assert pairs(choose_offers(queue(), [caller("C")], agents, NOW)) == [("C", ("a",))]
    agents.append(agent("new", idle=None))
    assert pairs(choose_offers(queue(), [caller("C")], agents, NOW)) == [("C", ("new",))]


@pytest.mark.parametrize(
    "last, expected",
    [
        (None, ["a", "b"]),
        ("a", ["b", "c"]),
        ("b", ["c", "a"]),
        ("c", ["a", "b"]),
        ("bb", ["c", "a"]),
    ],
)
def test_round_robin_resumes_after_the_last_agent_and_wraps(last, expected):
    q = queue(strategy=Strategy.ROUND_ROBIN)
    agents = [agent("c", idle=1), agent("a", idle=2), agent("b", idle=900)]
    line = [caller("C1", waited=20), caller("C2", waited=10)]
    offers = choose_offers(q, line, agents, NOW, last_agent_id=last)
    assert pairs(offers) == [("C1", (expected[0],)), ("C2", (expected[1],))]


def test_round_robin_skips_busy_agents():
    q = queue(strategy=Strategy.ROUND_ROBIN)
    agents = [agent("a"), agent("b", state=S.ON_CALL), agent("c")]
    assert pairs(choose_offers(q, [caller("C")], agents, NOW, last_agent_id="a")) == [("C", ("c",))]


def test_fewest_calls_today_then_longest_idle_and_yesterdays_count_is_zero():
    q = queue(strategy=Strategy.FEWEST_CALLS)
    today = NOW.date().isoformat()
    agents = [
        agent("busy", idle=900, calls_today=12, calls_today_date=today),
        agent("light", idle=10, calls_today=3, calls_today_date=today),
        agent("light2", idle=20, calls_today=3, calls_today_date=today),
    ]
    assert pairs(choose_offers(q, [caller("C")], agents, NOW)) == [("C", ("light2",))]
    agents.append(agent("fresh", idle=1, calls_today=40, calls_today_date="2026-03-05"))
    assert pairs(choose_offers(q, [caller("C")], agents, NOW)) == [("C", ("fresh",))]


def test_skills_based_takes_the_highest_level_sum_then_longest_idle():
    q = queue(strategy=Strategy.SKILLS, required_skills={"billing": 3, "refunds": 1})
    agents = [
        agent("ok", idle=900, skills={"billing": 3, "refunds": 1, "sales": 10}),
        agent("best", idle=5, skills={"billing": 9, "refunds": 4}),
        agent("best2", idle=50, skills={"billing": 8, "refunds": 5}),
        agent("unqualified", idle=999, skills={"billing": 10}),
    ]
    line = [caller("C1", waited=30), caller("C2", waited=20), caller("C3", waited=10)]
    assert pairs(choose_offers(q, line, agents, NOW)) == [
        ("C1", ("best2",)),
        ("C2", ("best",)),
        ("C3", ("ok",)),
    ]


def test_ring_all_rings_every_eligible_agent_for_the_head_caller_only():
    q = queue(strategy=Strategy.RING_ALL)
    agents = [agent("b", idle=10), agent("a", idle=20), agent("x", state=S.AWAY)]
    line = [caller("C2", waited=10), caller("C1", waited=20)]
    assert pairs(choose_offers(q, line, agents, NOW)) == [("C1", ("a", "b"))]


def test_ring_all_rings_at_most_ten_the_longest_idle_first():
    q = queue(strategy=Strategy.RING_ALL)
    agents = [agent(f"a{i:02d}", idle=i) for i in range(25)]
    ((_, ring),) = pairs(choose_offers(q, [caller("C1", waited=5)], agents, NOW))
    assert ring == tuple(f"a{i:02d}" for i in range(24, 14, -1))


def test_ring_all_skips_a_head_caller_nobody_can_serve():
    q = queue(strategy=Strategy.RING_ALL)
    agents = [agent("en", languages=["en"]), agent("es", languages=["es"], skills={"vip": 1})]
    line = [caller("C1", waited=20, skills={"legal": 1}), caller("C2", waited=10)]
    assert pairs(choose_offers(q, line, agents, NOW)) == [("C2", ("en", "es"))]


# ---- sticky and dedicated agents -----------------------------------------------------------


def sticky_queue(**fields) -> QueueConfig:
    return queue(sticky_days=30, sticky_wait_seconds=30, **fields)


def test_sticky_agent_gets_the_caller_at_once_even_ahead_of_longer_waiters():
    agents = [agent("other", idle=900), agent("last", idle=1)]
    line = [caller("C1", waited=25), caller("C2", waited=3, sticky_agent="last")]
    assert pairs(choose_offers(sticky_queue(), line, agents, NOW)) == [
        ("C1", ("other",)),
        ("C2", ("last",)),
    ]


def test_waiting_for_a_busy_sticky_agent_does_not_block_callers_behind():
    agents = [agent("last", state=S.ON_CALL), agent("other")]
    line = [caller("C1", waited=20, sticky_agent="last"), caller("C2", waited=10)]
    assert pairs(choose_offers(sticky_queue(), line, agents, NOW)) == [("C2", ("other",))]
    assert eligible_agents(sticky_queue(), line[0], agents, NOW) == []


def test_after_the_sticky_window_the_caller_is_routed_normally():
    agents = [agent("last", state=S.WRAP_UP), agent("other")]
    line = [caller("C1", waited=30, sticky_agent="last")]
    assert pairs(choose_offers(sticky_queue(), line, agents, NOW)) == [("C1", ("other",))]


def test_sticky_routing_is_off_when_the_queue_keeps_no_sticky_days():
    agents = [agent("last", state=S.ON_CALL), agent("other")]
    line = [caller("C1", waited=1, sticky_agent="last")]
    assert pairs(choose_offers(queue(), line, agents, NOW)) == [("C1", ("other",))]


@pytest.mark.parametrize("state", [S.AWAY, S.OFFLINE])
def test_a_personal_agent_who_is_not_working_does_not_hold_the_caller(state):
    agents = [agent("manager", state=state), agent("other")]
    line = [caller("C1", waited=1, dedicated_agent="manager")]
    assert pairs(choose_offers(sticky_queue(), line, agents, NOW)) == [("C1", ("other",))]


def test_a_personal_agent_not_in_the_list_is_taken_to_be_busy():
    line = [caller("C1", waited=1, dedicated_agent="manager")]
    assert choose_offers(sticky_queue(), line, [agent("other")], NOW) == []


def test_dedicated_account_manager_outranks_sticky_agent_and_waives_preferences():
    q = sticky_queue(region_routing=True, tiers=[OverflowTier(after_seconds=120, tier=2)])
    manager = agent("manager", tier=2, languages=["en"], regions=["FR"])
    agents = [manager, agent("last"), agent("fr", languages=["fr"], regions=["FR"])]
    vip = caller(
        "CV", waited=2, dedicated_agent="manager", sticky_agent="last", language="fr", country="FR"
    )
    assert pairs(choose_offers(q, [vip], agents, NOW)) == [("CV", ("manager",))]


def test_a_busy_dedicated_manager_holds_the_vip_for_the_window_only():
    q = sticky_queue()
    agents = [agent("manager", state=S.RESERVED), agent("other")]
    assert choose_offers(q, [caller("CV", waited=29, dedicated_agent="manager")], agents, NOW) == []
    assert pairs(
        choose_offers(q, [caller("CV", waited=31, dedicated_agent="manager")], agents, NOW)
    ) == [("CV", ("other",))]


def test_a_personal_agent_still_needs_queue_membership_and_skills():
    q = sticky_queue(required_skills={"billing": 5})
    outsider = agent("outsider", queues={"sales": 1}, skills={"billing": 9})
    unskilled = agent("unskilled", skills={"billing": 1})
    pro = agent("pro", skills={"billing": 5})
    for personal in ("outsider", "unskilled"):
        line = [caller("C", waited=1, dedicated_agent=personal)]
        assert pairs(choose_offers(q, line, [outsider, unskilled, pro], NOW)) == [("C", ("pro",))]


def test_two_callers_sticky_to_one_agent_the_first_in_line_gets_them():
    agents = [agent("last"), agent("other", idle=5)]
    line = [
        caller("C2", waited=5, sticky_agent="last"),
        caller("C1", waited=9, sticky_agent="last"),
    ]
    assert pairs(choose_offers(sticky_queue(), line, agents, NOW)) == [("C1", ("last",))]


def test_ring_all_still_gives_a_sticky_caller_their_own_agent():
    q = sticky_queue(strategy=Strategy.RING_ALL)
    agents = [agent("a", idle=30), agent("b", idle=20), agent("last", idle=10)]
    line = [caller("C1", waited=20), caller("C2", waited=5, sticky_agent="last")]
    assert pairs(choose_offers(q, line, agents, NOW)) == [("C1", ("a", "b")), ("C2", ("last",))]


# ---- round hygiene -------------------------------------------------------------------------


def test_duplicates_and_other_queues_callers_are_ignored():
    line = [caller("C1", waited=9), caller("C1", waited=9)]
    line.append(WaitingCaller("CX", "sales", "+1", joined_at=ago(999)))
    offers = choose_offers(queue(), line, [agent("a"), agent("b"), agent("a")], NOW)
    assert pairs(offers) == [("C1", ("a",))]


def test_no_callers_or_no_agents_means_no_offers():
    assert choose_offers(queue(), [], [agent("a")], NOW) == []
    assert choose_offers(queue(), [caller("C")], [agent("a", state=S.ON_CALL)], NOW) == []


def random_round(rng: random.Random, strategy: Strategy):
    skills = ["billing", "tech", "sales"]
    q = queue(
        strategy=strategy,
        sticky_days=rng.choice([0, 30]),
        region_routing=rng.random() < 0.5,
        required_skills={"tech": 2} if rng.random() < 0.3 else {},
        tiers=[OverflowTier(30, 2), OverflowTier(90, 3)] if rng.random() < 0.5 else [],
    )
    agents = [
        agent(
            f"a{i:02d}",
            idle=rng.choice([None, *range(0, 600, 7)]),
            state=rng.choice([S.AVAILABLE] * 4 + list(S)),
            tier=rng.randint(1, 3),
            skills={s: rng.randint(1, 5) for s in rng.sample(skills, rng.randint(0, 3))},
            languages=rng.sample(["en", "es", "zh"], rng.randint(1, 2)),
            regions=rng.sample(["US", "GB", "+1415"], rng.randint(0, 2)),
            calls_today=rng.randint(0, 20),
            calls_today_date=NOW.date().isoformat(),
        )
        for i in range(rng.randint(0, 12))
    ]
    names = [a.agent_id for a in agents] + ["ghost"]
    line = [
        caller(
            f"C{i:02d}",
            waited=rng.randint(0, 200),
            priority=rng.choice([0, 0, 0, 10]),
            language=rng.choice([None, "en", "es", "zh", "fr"]),
            country=rng.choice([None, "US", "GB"]),
            skills={"billing": rng.randint(1, 5)} if rng.random() < 0.2 else {},
            sticky_agent=rng.choice(names) if rng.random() < 0.3 else None,
            dedicated_agent=rng.choice(names) if rng.random() < 0.1 else None,
        )
        for i in range(rng.randint(0, 10))
    ]
    last = rng.choice([None, *names])
    return q, line, agents, last


@pytest.mark.parametrize("strategy", list(Strategy))
def test_never_twice_always_eligible_work_conserving_and_deterministic(strategy):
    rng = random.Random(f"routing-{strategy.value}")
    for _ in range(300):
        q, line, agents, last = random_round(rng, strategy)
        offers = choose_offers(q, line, agents, NOW, last_agent_id=last)

        offered_agents = [a.agent_id for o in offers for a in o.agents]
        offered_callers = [o.caller.call_sid for o in offers]
        assert len(offered_agents) == len(set(offered_agents))
        assert len(offered_callers) == len(set(offered_callers))
        for offer in offers:
            assert offer.agents
            eligible = ids(eligible_agents(q, offer.caller, agents, NOW))
            assert set(ids(offer.agents)) <= set(eligible)
        if strategy is not Strategy.RING_ALL or not offers:
            left = [c for c in line if c.call_sid not in offered_callers]
            for c in left:
                assert set(ids(eligible_agents(q, c, agents, NOW))) <= set(offered_agents)

        shuffled_line, shuffled_agents = line[:], agents[:]
        rng.shuffle(shuffled_line)
        rng.shuffle(shuffled_agents)
        again = choose_offers(q, shuffled_line, shuffled_agents, NOW, last_agent_id=last)
        assert pairs(again) == pairs(offers)


# ---- overflow --------------------------------------------------------------------------------


def test_overflow_when_nobody_of_the_queue_is_logged_in():
    q = queue(join_empty="overflow")
    nobody = QueuePresence("support", {S.OFFLINE: 3})
    assert overflow_action(q, 0, nobody.logged_in, None) == "join-empty"
    assert overflow_action(q, 0, 0, None) == "join-empty"
    assert overflow_action(queue(join_empty="wait"), 0, nobody.logged_in, None) is None


@pytest.mark.parametrize("state", [S.AWAY, S.ON_CALL, S.WRAP_UP, S.RESERVED, S.AVAILABLE])
def test_any_logged_in_state_keeps_the_queue_open(state):
    presence = QueuePresence("support", {state: 1, S.OFFLINE: 4})
    assert overflow_action(queue(), 3, presence.logged_in, 10) is None


def test_presence_counts_staffed_agents_and_never_below_zero():
    presence = QueuePresence("support", {S.AVAILABLE: 2, S.AWAY: 1, S.ON_CALL: 3,
                                         S.OFFLINE: 5, S.RESERVED: -1})
    assert (presence.logged_in, presence.staffed, presence[S.RESERVED]) == (6, 5, 0)


def test_overflow_when_the_queue_is_full_or_the_wait_too_long():
    q = queue(max_size=5, max_wait_seconds=300)
    staffed = 1
    assert overflow_action(q, 4, staffed, 299) is None
    assert overflow_action(q, 5, staffed, 10) == "full"
    assert overflow_action(q, 1, staffed, 300) == "max-wait"
    assert overflow_action(q, 9, staffed, 999) == "full"
    assert overflow_action(q, 9, 0, 999) == "join-empty"
