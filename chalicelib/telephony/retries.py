"""Status-type callbacks Twilio retries: what they carry must not be lost while we are down.

Twilio does not retry a status callback by default (one retry of a failed connection, never of
an answer). The connection overrides in a URL's fragment change that per URL (Twilio docs,
"Webhooks connection overrides": ``rc`` retries, 0-5; ``rp`` the failures that trigger one; all
attempts within ``tt``, at most 15 s). Our status routes answer 5xx when storage fails, so with
these overrides a short outage loses nothing; a longer one is mended by the reconciliation job
(``ivr.service.VoiceService.reconcile_calls``), which asks Twilio for the real status.

The fragment is neither sent nor signed, so signatures are checked as before.
"""

from __future__ import annotations

STATUS_RETRIES = "rc=5&rp=5xx,ct,rt"


def retried(url: str) -> str:
    """``url`` with the connection overrides that make Twilio retry it (kept if it has some)."""
    return url if "#" in url else f"{url}#{STATUS_RETRIES}"
