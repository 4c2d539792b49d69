"""May we contact this number? The one check every outbound path makes before a text or a call.

``send_sms`` checks it for every text. Paths that place calls (the callback dispatcher, missed-call
follow-ups) call ``may_contact`` right before dialling. A number that texted STOP (or 退订, ...)
gets nothing from us, text or call, until it texts START.
"""

from __future__ import annotations

from chalicelib.store import optouts


def may_contact(number: str) -> bool:
    """False if ``number`` opted out. Storage errors propagate: a caller should try again later
    rather than assume consent (or, worse, record a refusal that was never given)."""
    return not optouts.is_opted_out(number)
