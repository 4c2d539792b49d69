"""Disposition codes at wrap-up: which call, which codes, once per agent and call, and the
counts the agents and queues reports show. DynamoDB Local; Twilio's edge faked."""

from __future__ import annotations

import csv
import io
import json
import threading
from datetime import timedelta

from chalicelib.api_errors import Conflict
from chalicelib.routing import wrap_up
from chalicelib.store import facts, routing
from chalicelib.store.models import CallRecord
from chalicelib.wiring import root
from tests.integration.conftest import OPEN_HOURS
from tests.integration.test_reports import get, stream_everything
from tests.integration.test_transfers import post, setup  # noqa: F401 - the fixture


def in_queue(sid: str, queue_id: str) -> None:
    CallRecord(sid).update(actions=[CallRecord.queue_id.set(queue_id)])


def test_the_agent_codes_their_call_once_and_the_reports_count_it(setup):  # noqa: F811
    client, _, agents, sid, tag = setup
    first, queue_id = agents["first"].agent_id, f"care{tag}"
    in_queue(sid, queue_id)
    status, body = post(client, f"/agents/{first}/disposition",
                        {"code": "resolved", "note": " refund issued "})
    assert status == 200, body
    assert body == {"call_sid": sid, "agent_id": first, "code": "resolved",
                    "at": OPEN_HOURS.isoformat(), "note": "refund issued"}
    # a double click answers the same; another code for the same call is refused
    assert post(client, f"/agents/{first}/disposition", {"code": "resolved"}) == (200, body)
    status, refused = post(client, f"/agents/{first}/disposition", {"code": "escalated"})
    assert status == 409 and "resolved" in refused["error"]
    assert CallRecord.get(sid, consistent_read=True).dispositions == [
        {k: v for k, v in body.items() if k != "call_sid"}]
    # one fact in the agent's scope, one in the queue's
    agent_fact = facts.get(f"disposition:{sid}:{first}:agent")
    queue_fact = facts.get(f"disposition:{sid}:{first}:queue")
    assert agent_fact.scopes == {"agent": first} and queue_fact.scopes == {"queue": queue_id}
    assert agent_fact.values == {"dispositions": 1, "disposition_resolved": 1}

    day = OPEN_HOURS.date()
    stream_everything(day, day)
    status, _, text = get(client, f"/reports/agents?from={day}&to={day}&agent={first}")
    [total] = json.loads(text)["totals"]
    assert (total["dispositions"], total["disposition_resolved"]) == (1, 1)
    status, _, text = get(client, f"/reports/queues?from={day}&to={day}&queue={queue_id}"
                                  "&format=csv")
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert (row["dispositions"], row["disposition_resolved"]) == ("1", "1")
    status, _, text = get(client, f"/reports/queues?from={day}&to={day}&queue={queue_id}"
                                  "&format=text")
    assert "disposition_resolved" in text.split("totals")[1]


def test_codes_come_from_the_calls_queue(setup):  # noqa: F811
    client, _, agents, sid, tag = setup
    first, queue_id = agents["first"].agent_id, f"care{tag}"
    in_queue(sid, queue_id)
    queue = routing.get_queue(queue_id)
    queue.dispositions = ["paid", "promise_to_pay"]
    routing.save_queue(queue, OPEN_HOURS)
    status, refused = post(client, f"/agents/{first}/disposition", {"code": "resolved"})
    assert status == 400 and refused["field"] == "code" and "promise_to_pay" in \
        refused["error"]
    assert post(client, f"/agents/{first}/disposition", {"code": "paid"})[0] == 200


def test_bad_disposition_requests_get_a_clear_4xx_and_change_nothing(setup):  # noqa: F811
    client, _, agents, sid, _ = setup
    first, second = agents["first"].agent_id, agents["second"].agent_id
    assert post(client, f"/agents/{first}/disposition", {})[0] == 400
    assert post(client, f"/agents/{first}/disposition", {"code": "resolved", "x": 1})[0] == 400
    assert post(client, "/agents/nobody/disposition", {"code": "resolved"})[0] == 404
    # the second agent never handled this call, nor any
    assert post(client, f"/agents/{second}/disposition", {"code": "resolved",
                                                          "call_sid": sid})[0] == 409
    assert post(client, f"/agents/{second}/disposition", {"code": "resolved"})[0] == 409
    assert not CallRecord.get(sid, consistent_read=True).dispositions
    assert facts.get(f"disposition:{sid}:{first}:agent") is None


def test_after_the_call_the_code_goes_to_the_call_being_wrapped_up(setup):  # noqa: F811
    client, _, agents, sid, _ = setup
    first = agents["first"].agent_id
    root().routing.agents.finish_call(first, sid, OPEN_HOURS)
    assert routing.get_agent(first).state.value == "wrap-up"
    status, body = post(client, f"/agents/{first}/disposition", {"code": "follow_up"})
    assert (status, body["call_sid"]) == (200, sid)
    # no queue on this call: the default codes, and only the agent's count
    assert facts.get(f"disposition:{sid}:{first}:queue") is None



def test_a_call_only_offered_to_the_agent_is_not_theirs_to_code(setup):  # noqa: F811
    client, _, agents, sid, _ = setup
    first = agents["first"].agent_id
    book = root().routing.agents
    book.finish_call(first, sid, OPEN_HOURS)
    later = OPEN_HOURS + timedelta(minutes=5)
    assert book.end_wrap_up(routing.get_agent(first), later)
    offered = "CA" + "5" * 32
    assert book.hold_for(routing.get_agent(first), offered, later, "offer")
    # the default is still the call they handled, and the offered one is refused
    status, body = post(client, f"/agents/{first}/disposition", {"code": "resolved"})
    assert (status, body["call_sid"]) == (200, sid)
    assert post(client, f"/agents/{first}/disposition", {"code": "resolved",
                                                         "call_sid": offered})[0] == 409


def test_two_codes_racing_for_one_call_leave_exactly_one(setup):  # noqa: F811
    _, _, agents, sid, _ = setup
    first = agents["first"].agent_id
    gate = threading.Barrier(2)
    results: list[str] = []

    def attempt(code):
        gate.wait()
        try:
            results.append(wrap_up.set_disposition(first, code, None, None, OPEN_HOURS)["code"])
        except Conflict:
            results.append("refused")

    threads = [threading.Thread(target=attempt, args=(code,))
               for code in ("resolved", "escalated")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) in (["refused", "resolved"], ["escalated", "refused"])
    [kept] = CallRecord.get(sid, consistent_read=True).dispositions
    assert kept["code"] in results
    assert facts.get(f"disposition:{sid}:{first}:agent").values[
        f"disposition_{kept['code']}"] == 1


def test_a_queue_names_its_own_codes(client):
    def put(body):
        response = client.http.post("/queues", body=json.dumps(body),
                                    headers={"Content-Type": "application/json"})
        return response.status_code, json.loads(response.body)

    assert put({"queue_id": "codes1", "name": "Codes", "dispositions": []})[0] == 400
    assert put({"queue_id": "codes1", "name": "Codes", "dispositions": ["Paid"]})[1][
        "field"] == "dispositions[0]"
    assert put({"queue_id": "codes1", "name": "Codes",
                "dispositions": ["paid", "paid"]})[0] == 400
    status, body = put({"queue_id": "codes1", "name": "Codes",
                        "dispositions": ["paid", "promise_to_pay"]})
    assert status == 201 and body["dispositions"] == ["paid", "promise_to_pay"]
    status, body = put({"queue_id": "codes2", "name": "Defaults"})
    assert body["dispositions"] == list(wrap_up.DEFAULT_DISPOSITIONS)
