"""Logs and metrics, the AWS way: structured JSON logs with a correlation id, CloudWatch metrics
in embedded metric format (EMF). Powertools is imported here and nowhere else.

**Logs.** Code keeps logging with ``logging.getLogger(__name__)``. ``setup_logging`` puts one
handler on the root logger (and sends Chalice's ``app.log`` there too); every record passes one
filter on its way out, which

1. masks phone numbers and turns callback ids into ``logs.ref`` in the message, its arguments,
   every extra field and any traceback (``logs.scrub``): a number passed as a plain argument
   never shows in full;
2. adds ``correlation_id``: the CallSid (or MessageSid) of a Twilio webhook, else API Gateway's
   request id; the job's name in a scheduled job.

``LOG_FORMAT`` (``settings.log_format``) picks the shape: ``json``, one object a line through
Powertools' ``LambdaPowertoolsFormatter`` (the default in Lambda), or ``text``, readable lines
(the default elsewhere: ``make run``, tests).

**Metrics.** Domain code calls ``metric("CallsOffered")`` and nothing else. Values gather during
one invocation and are flushed once at its end, by ``observe_request`` (the HTTP middleware,
which also times every Twilio webhook) or ``job`` (the scheduled jobs' decorator, which also
times the job): in json mode as one EMF object on stdout (namespace ``Switchboard``, dimension
``stage``; a job's duration also by ``job``), in text mode as one DEBUG line. A metric never
breaks the call that counts it. Counts gather per process, which in Lambda is per invocation;
under ``chalice local``'s threads a flush may carry a neighbour's counts (totals stay right).
"""

from __future__ import annotations

import contextvars
import functools
import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from chalicelib.logs import scrub, scrub_value
from chalicelib.settings import get_settings

log = logging.getLogger(__name__)

SERVICE = "switchboard"
NAMESPACE = "Switchboard"
TWILIO_PREFIX = "/twilio/"
TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(correlation_id)s] %(message)s"
_JSON_ORDER = ["timestamp", "level", "correlation_id", "message", "logger", "location"]
_SID_KEYS = ("CallSid", "MessageSid")
_SID_LENGTH = 34  # two letters and 32 hex digits: anything else is not Twilio's and not trusted
_HEX = frozenset("0123456789abcdefABCDEF")
_RECORD_FIELDS = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message", "asctime", "correlation_id"}

_correlation: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "correlation_id", default=None)


@dataclass
class _State:
    log_format: str = "text"
    stage: str = "local"


_state = _State()
_emf = None  # Powertools Metrics, built at the first metric


# ---- correlation ----------------------------------------------------------------------------
def correlation_id() -> str | None:
    return _correlation.get()


def _twilio_sid(params: dict) -> str | None:
    """The CallSid, else the MessageSid, of a Twilio webhook's form, if it has Twilio's shape."""
    for key in _SID_KEYS:
        sid = params.get(key) or ""
        if len(sid) == _SID_LENGTH and sid[:2].isalpha() and sid[:2].isupper() \
                and set(sid[2:]) <= _HEX:
            return sid
    return None


def _request_correlation_id(event) -> str:
    if event.path.startswith(TWILIO_PREFIX):
        try:
            sid = _twilio_sid(dict(parse_qsl((event.raw_body or b"").decode(),
                                            keep_blank_values=True)))
        except (UnicodeDecodeError, ValueError):
            sid = None
        if sid:
            return sid
    request_id = (event.context or {}).get("requestId")
    return request_id or f"local-{os.urandom(6).hex()}"  # chalice local has none


# ---- logs -----------------------------------------------------------------------------------
class _RecordFilter(logging.Filter):
    """Masks numbers and bearer ids everywhere in a record, then adds the correlation id."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, dict):
            record.msg = scrub_value(record.msg)
        else:
            try:
                text = record.getMessage()
            except Exception:  # noqa: BLE001 - a bad format string must not lose the record
                text = f"{record.msg} {record.args!r}"
            record.msg, record.args = scrub(text), ()
        if record.exc_text:  # formatted by another handler first
            record.exc_text = scrub(record.exc_text)
        for key in record.__dict__.keys() - _RECORD_FIELDS:
            record.__dict__[key] = scrub_value(record.__dict__[key])
        cid = _correlation.get()
        if cid:
            record.correlation_id = cid
        return True


class _TextFormatter(logging.Formatter):
    def formatException(self, ei) -> str:
        return scrub(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return scrub(super().formatStack(stack_info))


def _json_formatter() -> logging.Formatter:
    # Powertools costs ~13 ms to import: only the JSON format (Lambda's) pays for it
    from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

    class JsonFormatter(LambdaPowertoolsFormatter):
        def formatException(self, ei) -> str:
            return scrub(super().formatException(ei))

        def formatStack(self, stack_info: str) -> str:
            return scrub(super().formatStack(stack_info))

        def format(self, record: logging.LogRecord) -> str:
            extra = vars(record)  # an attribute of our own, the way ``extra=`` adds one
            extra["logger"] = record.name
            try:
                return super().format(record)
            finally:
                del extra["logger"]

    # serialize_stacktrace off: "exception" already holds the (masked) traceback
    return JsonFormatter(service=SERVICE, log_record_order=_JSON_ORDER, utc=True,
                         use_rfc3339=True, serialize_stacktrace=False)


class _Stdout(logging.StreamHandler):
    """A handler on whatever ``sys.stdout`` is now (Lambda's, or a test's capture)."""

    def __init__(self):
        super().__init__(sys.stdout)

    @property
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, value) -> None:
        pass


def setup_logging(app_log: logging.Logger | None = None, *, log_format: str | None = None,
                  stage: str | None = None) -> None:
    """One handler on the root logger, in the format of ``LOG_FORMAT`` (or ``log_format``).

    Replaces a plain ``StreamHandler`` someone put there (``chalice local``'s ``basicConfig``)
    and, in Lambda, the runtime's own handler, so each record is written once; handlers such as
    pytest's stay. ``app_log`` (Chalice's ``app.log``, which has a handler of its own) is sent
    to the root too. Calling it again replaces the handler it installed before.
    """
    if log_format is None or stage is None:
        settings = get_settings()
        log_format = log_format or settings.log_format
        stage = stage or settings.stage
    _state.log_format, _state.stage = log_format, stage
    in_lambda = bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))
    root = logging.getLogger()
    for handler in list(root.handlers):
        if in_lambda or isinstance(handler, _Stdout) or type(handler) is logging.StreamHandler:
            root.removeHandler(handler)
    handler = _Stdout()
    handler.setFormatter(_json_formatter() if log_format == "json" else
                         _TextFormatter(TEXT_FORMAT, defaults={"correlation_id": "-"}))
    handler.addFilter(_RecordFilter())
    root.addHandler(handler)
    if app_log is not None:
        for own in list(app_log.handlers):
            app_log.removeHandler(own)
        app_log.propagate = True


# ---- metrics --------------------------------------------------------------------------------
def _metrics():
    global _emf
    if _emf is None:
        # ~13 ms of imports, paid by the first metric rather than by a local, text-log start
        from aws_lambda_powertools.metrics import Metrics

        _emf = Metrics(namespace=NAMESPACE)
    return _emf


def metric(name: str, value: float = 1, unit: str = "Count") -> None:
    """Count (or measure) ``name`` in this invocation; sent when the invocation ends."""
    try:
        _metrics().add_metric(name=name, unit=unit, value=value)
    except Exception:  # noqa: BLE001 - a metric never breaks a call
        log.warning("metric %s not recorded", name, exc_info=True)


def flush_metrics(dimensions: dict[str, str] | None = None,
                  metadata: dict[str, str] | None = None) -> None:
    """Send what this invocation counted (json: one EMF object on stdout; text: a DEBUG line)
    and start afresh. ``stage`` is always a dimension; ``dimensions`` adds more, ``metadata``
    fields that Logs Insights can search but that are no dimension (the correlation id)."""
    emf = _emf
    if emf is None or not emf.metric_set:
        return
    try:
        if _state.log_format != "json":
            log.debug("metrics %s", {name: sum(m["Value"]) for name, m in emf.metric_set.items()})
            return
        emf.add_dimension("stage", _state.stage)
        for name, value in (dimensions or {}).items():
            emf.add_dimension(name, value)
        cid = _correlation.get()
        for key, value in (({"correlation_id": cid} if cid else {}) | (metadata or {})).items():
            emf.add_metadata(key, value)
        emf.flush_metrics()
    except Exception:  # noqa: BLE001 - lose the metrics, never the response
        log.warning("metrics not sent", exc_info=True)
    finally:
        emf.clear_metrics()


def discard_metrics() -> None:
    """Forget what was counted and not sent (tests start clean)."""
    if _emf is not None:
        _emf.clear_metrics()


# ---- where invocations begin and end ----------------------------------------------------------
def observe_request(event, get_response):
    """Chalice HTTP middleware (registered first, so it wraps the signature check too): the
    correlation id for the request, one log line, the webhook's latency, the metrics flushed."""
    started = time.perf_counter()
    token = _correlation.set(_request_correlation_id(event))
    status: Any = "error"
    try:
        response = get_response(event)
        status = response.status_code
        return response
    finally:
        elapsed = (time.perf_counter() - started) * 1000
        if event.path.startswith(TWILIO_PREFIX):
            metric("WebhookLatency", elapsed, "Milliseconds")
        log.info("%s %s %s in %.0f ms", event.method, event.path, status, elapsed)
        flush_metrics(metadata={"route": event.path})
        if status != "error":  # else Chalice's error handler logs the traceback next: keep the id
            _correlation.reset(token)


def job(func: Callable) -> Callable:
    """Decorate a scheduled job: its name as correlation id, its metrics flushed, and when it
    completes, ``JobDuration`` (ms) with dimensions ``stage`` and ``job``. A failed run sends no
    duration, so a sweeper that fails looks like one that does not run (see the alarms)."""
    name = func.__name__

    @functools.wraps(func)
    def run(event):
        token = _correlation.set(name)
        started = time.perf_counter()
        try:
            result = func(event)
        except Exception:
            log.exception("job %s failed after %.0f ms", name,
                          (time.perf_counter() - started) * 1000)
            flush_metrics()
            _correlation.reset(token)
            raise
        elapsed = (time.perf_counter() - started) * 1000
        log.info("job %s done in %.0f ms: %s", name, elapsed, result)
        flush_metrics()
        metric("JobDuration", elapsed, "Milliseconds")
        flush_metrics({"job": name})
        _correlation.reset(token)
        return result

    return run
