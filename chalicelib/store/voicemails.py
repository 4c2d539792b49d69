"""Voicemails. The recording and its transcription arrive in separate webhooks, in either order,
so both writes are upserts on the recording's sid and neither overwrites the other's fields."""

from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.expressions.update import Action

from chalicelib.store.models import Voicemail


def save_recording(
    *,
    recording_sid: str,
    call_sid: str,
    hotline: str,
    caller: str | None,
    recording_url: str,
    duration: int,
    language: str | None,
    node: str | None,
    now: datetime,
    retention_days: int,
) -> None:
    actions: list[Action] = [
        Voicemail.call_sid.set(call_sid),
        Voicemail.hotline.set(hotline),
        Voicemail.recording_url.set(recording_url),
        Voicemail.duration.set(duration),
        Voicemail.created_at.set(Voicemail.created_at | now),
        Voicemail.expires.set(now + timedelta(days=retention_days)),
    ]
    if caller:
        actions.append(Voicemail.caller.set(caller))
    if language:
        actions.append(Voicemail.language.set(language))
    if node:
        actions.append(Voicemail.flow_node.set(node))
    Voicemail(recording_sid).update(actions=actions)


def save_transcription(recording_sid: str, text: str, status: str, now: datetime) -> None:
    Voicemail(recording_sid).update(
        actions=[
            Voicemail.transcription.set(text),
            Voicemail.transcription_status.set(status),
            Voicemail.created_at.set(Voicemail.created_at | now),
        ]
    )


def voicemails_for_hotline(hotline: str, limit: int = 50) -> list[Voicemail]:
    return list(Voicemail.by_hotline.query(hotline, scan_index_forward=False, limit=limit))
