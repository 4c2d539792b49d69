"""Bundled third-party browser files of the consoles (``static/``, copied by ``make bundle`` from
the packages pinned in ``infra/local/package.json``; gitignored, never fetched from a CDN)."""

from __future__ import annotations

from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
VOICE_SDK = STATIC_DIR / "voice-sdk.min.js"  # Twilio Voice JavaScript SDK, Apache-2.0


def voice_sdk() -> str | None:
    """The Twilio Voice JavaScript SDK's browser build (defines ``window.Twilio.Device``) as
    JavaScript text, about 300 kB; ``None`` when ``make bundle`` has not copied it here."""
    try:
        return VOICE_SDK.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
