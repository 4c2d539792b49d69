"""Runtime settings, read once from the environment into a typed object.

Where each value comes from, in order of precedence:

1. the process environment (``chalice local``, tests, or `environment_variables` of a stage);
2. for the Twilio secrets and the public URL in AWS: SSM Parameter Store under ``SSM_PREFIX``
   (e.g. ``/switchboard/prod``), fetched lazily on first use so cold starts stay cheap and the
   secrets never appear in ``.chalice/config.json``.

Nothing here logs a secret; ``describe()`` masks them for diagnostics.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}

# Names of the SSM parameters, relative to SSM_PREFIX.
SSM_NAMES = {
    "TWILIO_ACCOUNT_SID": "twilio/account-sid",
    "TWILIO_AUTH_TOKEN": "twilio/auth-token",
    "PUBLIC_BASE_URL": "public-base-url",
    # the API key that signs the browser softphone's access tokens (``telephony.access_tokens``)
    "TWILIO_API_KEY_SID": "twilio/api-key-sid",
    "TWILIO_API_KEY_SECRET": "twilio/api-key-secret",
    # console sign-in (``chalicelib.console``): the Cognito user pool and app client the data
    # stack creates (it writes these two itself), and the machine clients' API keys, each
    # ``name:sha256hex`` of its key, comma separated (``manage.py api-keys new``)
    "COGNITO_USER_POOL_ID": "console/user-pool-id",
    "COGNITO_CLIENT_ID": "console/client-id",
    "API_KEY_HASHES": "console/api-key-hashes",
}


# ``chalice local`` under ``make run`` and the test suite: the stages that never run in AWS.
LAPTOP_STAGES = ("local", "test")


class ConfigError(RuntimeError):
    """A setting is missing or contradicts another one."""


def _flag(raw: str | None, default: bool, name: str) -> bool:
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


@dataclass
class Settings:
    stage: str = "local"
    table_prefix: str = "switchboard-local-"
    aws_region: str = "us-east-1"
    dynamodb_endpoint: str | None = None
    twilio_api_base: str | None = None
    ssm_prefix: str | None = None
    validate_signatures: bool = True
    hold_music_url: str = "http://com.twilio.music.classical.s3.amazonaws.com/BusyStrings.mp3"
    fallback_number: str | None = None
    call_retention_days: int = 90
    log_format: str = "text"  # json (one object a line, and metrics as EMF) or text: observability
    flow_cache_seconds: float = 15.0
    # Web callbacks (chalicelib.callbacks): abuse controls and defaults of POST /callbacks.
    callback_default_hotline: str | None = None  # the hotline a request names none of
    callback_allowed_origins: tuple[str, ...] = ()  # pages that may embed the widget
    callback_rate_per_ip: int = 20  # requests per client IP per window
    callback_rate_per_number: int = 5  # requests per phone number per window
    callback_rate_window_seconds: int = 3600
    callback_max_days_ahead: int = 14  # how far ahead a preferred time may be
    # Twilio's default for an account: 1 call per second (more are queued, not refused) and
    # about 1 text per second from one long code; campaigns share these by weight.
    outbound_cps: float = 1.0
    outbound_texts_per_second: float = 1.0
    campaign_tick_seconds: float = 50.0  # how long one run_campaigns run paces (every minute)
    reminder_caller_id: str | None = None  # the number payment reminders come from (E.164)
    # ``PAY_CONNECTOR``: the Twilio Pay Connector a flow's pay node uses when it names none
    # (Twilio's own default name is "Default")
    pay_connector: str = "Default"
    # ``TWILIO_TWIML_APP_SID``: the TwiML app a browser softphone places calls through (AP...);
    # unset, its tokens only receive calls
    twiml_app_sid: str | None = None
    # ``ADMIN_API_OPEN``: the admin API answers requests with no session and no API key as an
    # admin's. The laptop's default (``LAPTOP_STAGES``: ``chalice local`` and the tests, as
    # before sign-in existed); any other stage refuses it.
    admin_api_open: bool = True
    # ``CONSOLE_SIGNING_KEY`` and ``CONSOLE_USERS`` (JSON: username -> {password (a
    # ``console.sign_in.hash_password`` hash), role, name, agent_id, queues}): the laptop's own
    # sign-in, with no Cognito. Only the ``LAPTOP_STAGES`` read them.
    console_signing_key: str | None = None
    console_users: dict = field(default_factory=dict, repr=False)
    console_token_ttl_seconds: int = 3600  # a laptop session (Cognito's ID tokens: an hour)
    _secrets: dict = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # --- secrets and the public URL: env first, SSM second, fetched once -------------------
    def _secret(self, name: str) -> str:
        if name in self._secrets:
            return self._secrets[name]
        with self._lock:
            if name not in self._secrets:
                value = os.environ.get(name) or self._from_ssm(name)
                if not value:
                    raise ConfigError(f"{name} is not set (environment or SSM {self.ssm_prefix})")
                self._secrets[name] = value
        return self._secrets[name]

    def _from_ssm(self, name: str) -> str | None:
        if not self.ssm_prefix:
            return None
        import boto3  # only in AWS, and only once per container

        client = boto3.client("ssm", region_name=self.aws_region)
        path = f"{self.ssm_prefix.rstrip('/')}/{SSM_NAMES[name]}"
        try:
            return client.get_parameter(Name=path, WithDecryption=True)["Parameter"]["Value"]
        except client.exceptions.ParameterNotFound:
            return None  # not set up on this stage: the caller's ConfigError names it

    @property
    def twilio_account_sid(self) -> str:
        return self._secret("TWILIO_ACCOUNT_SID")

    @property
    def twilio_auth_token(self) -> str:
        return self._secret("TWILIO_AUTH_TOKEN")

    @property
    def twilio_api_key_sid(self) -> str:
        return self._secret("TWILIO_API_KEY_SID")

    @property
    def twilio_api_key_secret(self) -> str:
        return self._secret("TWILIO_API_KEY_SECRET")

    def optional(self, name: str) -> str | None:
        """A secret or setting of :data:`SSM_NAMES` that a stage may lack: None when unset."""
        try:
            return self._secret(name)
        except ConfigError:
            return None

    @property
    def public_base_url(self) -> str:
        return self._secret("PUBLIC_BASE_URL").rstrip("/")

    def describe(self) -> dict:
        """Settings safe to print: no secret values."""
        return {
            "stage": self.stage,
            "table_prefix": self.table_prefix,
            "aws_region": self.aws_region,
            "dynamodb_endpoint": self.dynamodb_endpoint,
            "twilio_api_base": self.twilio_api_base,
            "validate_signatures": self.validate_signatures,
            "ssm_prefix": self.ssm_prefix,
            "log_format": self.log_format,
        }


def _log_format(env) -> str:
    """``LOG_FORMAT``: json or text; unset, json in Lambda and text elsewhere."""
    raw = (env.get("LOG_FORMAT") or "").strip().lower()
    if not raw:
        return "json" if env.get("AWS_LAMBDA_FUNCTION_NAME") else "text"
    if raw not in ("json", "text"):
        raise ConfigError(f"LOG_FORMAT must be json or text, not {raw!r}")
    return raw


def load_settings(environ: dict | None = None) -> Settings:
    env = os.environ if environ is None else environ
    stage = env.get("SWITCHBOARD_STAGE", "local")
    validate = _flag(env.get("TWILIO_VALIDATE_SIGNATURES"), True, "TWILIO_VALIDATE_SIGNATURES")
    if stage == "prod" and not validate:
        # The prod stage refuses to run unsigned: the switch is ignored, loudly.
        log.error("TWILIO_VALIDATE_SIGNATURES=false is refused in prod; validation stays on")
        validate = True
    return Settings(
        stage=stage,
        table_prefix=env.get("TABLE_PREFIX", f"switchboard-{stage}-"),
        aws_region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
        dynamodb_endpoint=env.get("DYNAMODB_ENDPOINT") or None,
        twilio_api_base=env.get("TWILIO_API_BASE") or None,
        ssm_prefix=env.get("SSM_PREFIX") or None,
        validate_signatures=validate,
        hold_music_url=env.get("HOLD_MUSIC_URL") or Settings.hold_music_url,
        fallback_number=env.get("FALLBACK_NUMBER") or None,
        call_retention_days=int(env.get("CALL_RETENTION_DAYS", "90")),
        log_format=_log_format(env),
        flow_cache_seconds=float(env.get("FLOW_CACHE_SECONDS", "15")),
        callback_default_hotline=env.get("CALLBACK_DEFAULT_HOTLINE") or None,
        callback_allowed_origins=tuple(
            origin.strip().rstrip("/")
            for origin in env.get("CALLBACK_ALLOWED_ORIGINS", "").split(",") if origin.strip()
        ),
        callback_rate_per_ip=int(env.get("CALLBACK_RATE_PER_IP", "20")),
        callback_rate_per_number=int(env.get("CALLBACK_RATE_PER_NUMBER", "5")),
        callback_rate_window_seconds=int(env.get("CALLBACK_RATE_WINDOW_SECONDS", "3600")),
        callback_max_days_ahead=int(env.get("CALLBACK_MAX_DAYS_AHEAD", "14")),
        outbound_cps=_positive(env, "OUTBOUND_CPS", 1.0),
        outbound_texts_per_second=_positive(env, "OUTBOUND_TEXTS_PER_SECOND", 1.0),
        campaign_tick_seconds=_positive(env, "CAMPAIGN_TICK_SECONDS", 50.0),
        reminder_caller_id=(env.get("REMINDER_CALLER_ID")
                            or env.get("CALLBACK_DEFAULT_HOTLINE") or None),
        pay_connector=(env.get("PAY_CONNECTOR") or "").strip() or Settings.pay_connector,
        twiml_app_sid=(env.get("TWILIO_TWIML_APP_SID") or "").strip() or None,
        **_console(env, stage),
    )


def _console(env, stage: str) -> dict:
    """The console's sign-in settings: an open API and laptop users only on a stage that never
    runs in AWS (``LAPTOP_STAGES``)."""
    local = stage in LAPTOP_STAGES
    open_api = _flag(env.get("ADMIN_API_OPEN"), local, "ADMIN_API_OPEN")
    if open_api and not local:
        log.error("ADMIN_API_OPEN=true is refused on stage %s; the admin API needs sign-in", stage)
        open_api = False
    users = {}
    if local and env.get("CONSOLE_USERS"):
        try:
            users = json.loads(env["CONSOLE_USERS"])
        except ValueError as exc:
            raise ConfigError(f"CONSOLE_USERS is not JSON: {exc}") from None
    return {"admin_api_open": open_api,
            "console_signing_key": (env.get("CONSOLE_SIGNING_KEY") or None) if local else None,
            "console_users": users,
            "console_token_ttl_seconds": int(env.get("CONSOLE_TOKEN_TTL_SECONDS", "3600"))}


def _positive(env, name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from None
    if not 0 < value <= 1000:
        raise ConfigError(f"{name} must be above 0 and at most 1000")
    return value


_settings: Settings | None = None


def get_settings() -> Settings:
    global _settings
    if _settings is None:
        _settings = load_settings()
    return _settings


def reset_settings() -> None:
    """Forget the cached settings (tests change the environment between cases)."""
    global _settings
    _settings = None
