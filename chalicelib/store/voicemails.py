"""Voicemails. The recording and its transcription arrive in separate webhooks, in either order,
so both writes are upserts on the recording's sid and neither overwrites the other's fields."""

from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.expressions.update import Action

from chalicelib.calls.model import Voicemail
from chalicelib.store.models import Voicemail as VoicemailItem


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
        VoicemailItem.call_sid.set(call_sid),
        VoicemailItem.hotline.set(hotline),
        VoicemailItem.recording_url.set(recording_url),
        VoicemailItem.duration.set(duration),
        VoicemailItem.created_at.set(VoicemailItem.created_at | now),
        VoicemailItem.expires.set(now + timedelta(days=retention_days)),
    ]
    if caller:
        actions.append(VoicemailItem.caller.set(caller))
    if language:
        actions.append(VoicemailItem.language.set(language))
    if node:
        actions.append(VoicemailItem.flow_node.set(node))
    VoicemailItem(recording_sid).update(actions=actions)


def save_transcription(recording_sid: str, text: str, status: str, now: datetime) -> None:
    VoicemailItem(recording_sid).update(
        actions=[
            VoicemailItem.transcription.set(text),
            VoicemailItem.transcription_status.set(status),
            VoicemailItem.created_at.set(VoicemailItem.created_at | now),
        ]
    )


def voicemails_for_hotline(hotline: str, limit: int = 50) -> list[Voicemail]:
    """The hotline's newest voicemails first, at most ``limit``."""
    return [
        Voicemail(recording_sid=item.recording_sid, call_sid=item.call_sid, hotline=item.hotline,
                created_at=item.created_at, caller=item.caller, recording_url=item.recording_url,
                duration=int(item.duration) if item.duration is not None else None,
                language=item.language, flow_node=item.flow_node,
                transcription=item.transcription,
                transcription_status=item.transcription_status)
        for item in VoicemailItem.by_hotline.query(hotline, scan_index_forward=False, limit=limit)
    ]
