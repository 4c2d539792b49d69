"""The composition root: each part built once, shared, and swapped through one seam."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib import wiring
from chalicelib.callbacks.dispatcher import CallbackDispatcher
from chalicelib.routing.service import RoutingService
from chalicelib.telephony.rest import TwilioConnector
from chalicelib.wiring import Root, install, root

NOON = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)


def test_every_part_is_built_once_and_shared():
    parts = Root(clock=lambda: NOON)
    assert parts.routing is parts.routing
    assert parts.voice.routing is parts.routing
    assert parts.voice.callbacks is parts.callbacks
    assert isinstance(parts.callbacks, CallbackDispatcher)
    assert parts.callbacks.service is parts.routing  # the dispatcher fills routing's port
    assert parts.routing.callbacks is parts.callbacks
    assert parts.warm is parts.routing.warm
    assert isinstance(parts.connector, TwilioConnector)
    assert parts.routing.connector is parts.connector


def test_one_clock_for_every_part():
    parts = Root(clock=lambda: NOON)
    assert parts.now() == NOON
    assert parts.routing.clock() == parts.voice.clock() == NOON
    assert Root().now().tzinfo is not None  # the real clock is aware


def test_a_part_given_is_used_as_given():
    class Edge:
        pass

    edge = Edge()
    parts = Root(clock=lambda: NOON, connector=edge)
    assert parts.connector is edge and parts.routing.connector is edge


def test_a_routing_service_given_has_no_dispatcher_to_offer():
    parts = Root(routing=object())
    with pytest.raises(LookupError):
        _ = parts.callbacks


def test_install_swaps_the_root_and_gives_back_the_previous_one():
    mine = Root(clock=lambda: NOON)
    previous = install(mine)
    try:
        assert root() is mine
        assert root().now() == NOON
    finally:
        assert install(previous) is mine
    assert root() is not mine


def test_a_new_container_builds_its_root_on_first_use():
    previous = install(None)
    try:
        first = root()
        assert first is root()
        assert isinstance(first.routing, RoutingService)
    finally:
        install(previous)
    assert wiring.root() is not None
