"""Who is calling and what they dialled: hotlines, customers and self-service look-ups.

Hotline settings change rarely and are read on every new call, so they are cached per Lambda for
a short while; the cache also keeps the last known settings to pick a fallback when DynamoDB is
unreachable.
"""

from __future__ import annotations

import threading
import time

from pynamodb.exceptions import DoesNotExist

from chalicelib.calls.model import Hotline
from chalicelib.store.models import LOOKUP_SOURCES, Customer
from chalicelib.store.models import Hotline as HotlineItem

HOTLINE_CACHE_SECONDS = 30.0

_hotlines: dict[str, tuple[float, Hotline | None]] = {}
_lock = threading.Lock()


def clear_cache() -> None:
    with _lock:
        _hotlines.clear()


def get_hotline(number: str) -> Hotline | None:
    cached = _hotlines.get(number)
    if cached and time.monotonic() - cached[0] < HOTLINE_CACHE_SECONDS:
        return cached[1]
    hotline: Hotline | None
    try:
        hotline = _to_hotline(HotlineItem.get(number))
    except DoesNotExist:
        hotline = None
    with _lock:
        _hotlines[number] = (time.monotonic(), hotline)
    return hotline


def list_hotlines() -> list[Hotline]:
    """Every hotline, by number: one (paged) Scan of the hotlines table, which holds a handful
    of items (one per number customers dial), so a Scan is the right read here."""
    return sorted((_to_hotline(item) for item in HotlineItem.scan()), key=lambda h: h.number)


def last_known_hotline(number: str) -> Hotline | None:
    """The cached hotline however old: only for choosing a fallback when storage is down."""
    cached = _hotlines.get(number)
    return cached[1] if cached else None


def _to_hotline(item: HotlineItem) -> Hotline:
    return Hotline(
        number=item.number, name=item.name, entry_flow=item.entry_flow,
        default_language=item.default_language, default_region=item.default_region,
        fallback_number=item.fallback_number, fallback_voicemail=bool(item.fallback_voicemail),
        allowed_regions=tuple(item.allowed_regions or ()),
        callback_topics=dict(item.callback_topics) if item.callback_topics else None,
        missed_call_sms=bool(item.missed_call_sms),
        missed_call_sms_window_hours=int(item.missed_call_sms_window_hours),
        missed_call_callback=bool(item.missed_call_callback),
        missed_call_queue=item.missed_call_queue,
    )


def get_customer(phone: str) -> dict | None:
    try:
        customer = Customer.get(phone)
    except DoesNotExist:
        return None
    return {
        "name": customer.name,
        "vip": bool(customer.vip),
        "language": customer.language,
        "account_id": customer.account_id,
        "account_manager": customer.account_manager,
        "flags": list(customer.flags or []),
    }


def lookup(source: str, key: str) -> dict | None:
    """One item of a self-service source as plain values, or None if there is no such key."""
    model = LOOKUP_SOURCES.get(source)
    if model is None:
        raise KeyError(f"unknown lookup source {source!r}")
    if not key:
        return None
    try:
        item = model.get(key)
    except DoesNotExist:
        return None
    return {name: getattr(item, name) for name in model.get_attributes()}
