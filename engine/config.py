"""Every configuration key, declared once with its environment variable, default and type.

The web app, the CLI and the scheduler all read settings through ``load_config``;
a key that is not declared here does not exist.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _bool(value: str) -> bool:
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {value!r} (use true or false)")


def _one_of(*choices: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value.lower() not in choices:
            raise ValueError(f"not one of {', '.join(choices)}: {value!r}")
        return value.lower()

    return parse


@dataclass(frozen=True)
class Setting:
    key: str
    env: str
    default: Any
    parse: Callable[[str], Any]
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("DATABASE_URL", "CITYCASE_DATABASE_URL",
            f"sqlite:///{PROJECT_ROOT / 'instance' / 'citycase.db'}", str,
            "SQLAlchemy URL; SQLite file by default, postgresql+psycopg://… in production"),
    Setting("TIMEZONE", "CITYCASE_TIMEZONE", "Asia/Shanghai", str,
            "local time zone of the working-time calendar"),
    Setting("WORK_WINDOWS", "CITYCASE_WORK_WINDOWS", "08:30-12:00,13:30-17:30", str,
            "default work windows of a working day"),
    Setting("SECRET_KEY", "CITYCASE_SECRET_KEY", "", str,
            "Flask session/CSRF secret; generated into instance/ when empty"),
    Setting("SCHEDULER_ENABLED", "CITYCASE_SCHEDULER", False, _bool,
            "run the timer/outbox scheduler inside the web process"),
    Setting("SCHEDULER_TICK_SECONDS", "CITYCASE_SCHEDULER_TICK", 5.0, float,
            "seconds between scheduler ticks"),
    Setting("OUTBOX_SENDER", "CITYCASE_OUTBOX_SENDER", "log", str,
            "outbox sender by name (engine.outbox.SENDERS); log = write each message to the log"),
    Setting("NOTIFY_CHANNELS", "CITYCASE_NOTIFY_CHANNELS", "", str,
            "channels that send notices to people: comma-separated email, webhook; empty = in-page notices only"),
    Setting("SMTP_HOST", "CITYCASE_SMTP_HOST", "localhost", str, "SMTP server for e-mail notices"),
    Setting("SMTP_PORT", "CITYCASE_SMTP_PORT", 25, int, "SMTP port (587 with STARTTLS, 465 with SSL)"),
    Setting("SMTP_SECURITY", "CITYCASE_SMTP_SECURITY", "none", _one_of("none", "starttls", "ssl"),
            "SMTP transport security: none, starttls or ssl"),
    Setting("SMTP_USER", "CITYCASE_SMTP_USER", "", str, "SMTP user name; empty = no login"),
    Setting("SMTP_PASSWORD", "CITYCASE_SMTP_PASSWORD", "", str, "SMTP password"),
    Setting("SMTP_FROM", "CITYCASE_SMTP_FROM", "citycase@localhost", str, "sender address of e-mail notices"),
    Setting("WEBHOOK_URL", "CITYCASE_WEBHOOK_URL", "", str,
            "URL the webhook channel POSTs each notice to (SMS gateway, WeChat Work / DingTalk bridge, message bus)"),
    Setting("WEBHOOK_SECRET", "CITYCASE_WEBHOOK_SECRET", "", str,
            "key of the webhook's HMAC-SHA256 signature header (X-Citycase-Signature); required with the webhook"),
    Setting("NOTIFY_TIMEOUT_SECONDS", "CITYCASE_NOTIFY_TIMEOUT", 10.0, float,
            "seconds an SMTP server or webhook may take before the attempt counts as failed (retried later)"),
    Setting("UPLOAD_MAX_BYTES", "CITYCASE_UPLOAD_MAX_BYTES", 8 * 1024 * 1024, int,
            "largest accepted photo upload"),
    Setting("TILE_URL", "CITYCASE_TILE_URL", "", str,
            "map tile URL template; empty = no tiles (grid outline only)"),
    Setting("TILE_CRS", "CITYCASE_TILE_CRS", "WGS84", str,
            "coordinate system of the tiles: WGS84 or GCJ02"),
    Setting("SESSION_MINUTES", "CITYCASE_SESSION_MINUTES", 60, int,
            "idle minutes before a signed-in session expires"),
    Setting("SESSION_ABSOLUTE_HOURS", "CITYCASE_SESSION_ABSOLUTE_HOURS", 12.0, float,
            "hours after sign-in when a session ends however active it is"),
    Setting("SECURE_COOKIES", "CITYCASE_SECURE_COOKIES", "auto", str,
            "session cookie Secure flag: auto (when the request came over HTTPS), true or false"),
    Setting("LOGIN_ACCOUNT_LIMIT", "CITYCASE_LOGIN_ACCOUNT_LIMIT", "5/minute;20/hour", str,
            "failed sign-ins per account before it is throttled (besides the per-address limit)"),
    Setting("TOTP_ROLES", "CITYCASE_TOTP_ROLES", "admin,designer", str,
            "roles that sign in with a second factor (TOTP authenticator app); empty = nobody"),
    Setting("TOTP_ISSUER", "CITYCASE_TOTP_ISSUER", "citycase", str,
            "the name the authenticator app shows next to the codes (e.g. the city's platform name)"),
    Setting("OIDC_ISSUER", "CITYCASE_OIDC_ISSUER", "", str,
            "the city's OpenID Connect provider (issuer URL) for single sign-on; empty = local accounts only"),
    Setting("OIDC_CLIENT_ID", "CITYCASE_OIDC_CLIENT_ID", "", str, "citycase's client id at the provider"),
    Setting("OIDC_CLIENT_SECRET", "CITYCASE_OIDC_CLIENT_SECRET", "", str, "citycase's client secret at the provider"),
    Setting("OIDC_SCOPES", "CITYCASE_OIDC_SCOPES", "openid profile", str, "scopes asked of the provider"),
    Setting("OIDC_USERNAME_CLAIM", "CITYCASE_OIDC_USERNAME_CLAIM", "preferred_username", str,
            "ID-token claim that equals the local user name (an admin creates the account first)"),
    Setting("OIDC_LABEL", "CITYCASE_OIDC_LABEL", "", str,
            "text of the single sign-on button (e.g. 政务统一身份认证); empty = a generic label"),
    Setting("EXCHANGE_PLATFORM_ID", "CITYCASE_EXCHANGE_PLATFORM_ID", "citycase", str,
            "who this platform is in exchange messages (e.g. the city's administrative code)"),
    Setting("EXCHANGE_UPWARD_URL", "CITYCASE_EXCHANGE_UPWARD_URL", "", str,
            "provincial/national platform receiving filed and closed cases (docs/exchange.md); empty = off"),
    Setting("EXCHANGE_UPWARD_SECRET", "CITYCASE_EXCHANGE_UPWARD_SECRET", "", str,
            "shared secret signing messages to the upward platform (HMAC-SHA256)"),
    Setting("EXCHANGE_HOTLINE_URL", "CITYCASE_EXCHANGE_HOTLINE_URL", "", str,
            "the 12345 hotline platform's URL receiving progress of its work orders; empty = off"),
    Setting("EXCHANGE_HOTLINE_SECRET", "CITYCASE_EXCHANGE_HOTLINE_SECRET", "", str,
            "shared secret with the 12345 platform: signs our messages and checks its work orders"),
    Setting("OPEN311_PUBLIC_CLASSES", "CITYCASE_OPEN311_PUBLIC_CLASSES", "*", str,
            "problem classes whose cases Open311 publishes: * or comma-separated class codes"),
    Setting("OPEN311_ROUND_METRES", "CITYCASE_OPEN311_ROUND_METRES", 100.0, float,
            "Open311 coordinates snapped to a grid of this many metres (0 = exact)"),
    Setting("OPEN311_DESCRIPTIONS", "CITYCASE_OPEN311_DESCRIPTIONS", "redact", str,
            "Open311 descriptions: full, redact (phone and ID-card numbers hidden) or omit"),
    Setting("OPEN311_MEDIA", "CITYCASE_OPEN311_MEDIA", "report", _one_of("report", "none"),
            "Open311 media_url: report = the reporter's first photo (re-encoded, no EXIF), none = never"),
    Setting("OPEN311_CONTACT", "CITYCASE_OPEN311_CONTACT", "", str,
            "Open311 discovery: whom client developers contact (e-mail, phone)"),
    Setting("OPEN311_KEY_SERVICE", "CITYCASE_OPEN311_KEY_SERVICE", "", str,
            "Open311 discovery: how client developers obtain an api_key (URL or text)"),
    Setting("STAFF_PHONE_ROLES", "CITYCASE_STAFF_PHONE_ROLES", "acceptor,shift_leader,dispatcher", str,
            "roles that see citizens' phone numbers in full on case pages (others see them masked)"),
    Setting("DEFAULT_LOCALE", "CITYCASE_LOCALE", "zh_Hans_CN", str,
            "default UI language"),
    Setting("RATELIMIT_STORAGE_URI", "CITYCASE_RATELIMIT_STORAGE", "memory://", str,
            "Flask-Limiter storage (memory:// per process; redis://… to share between processes)"),
    Setting("PUBLIC_RATE_LIMIT", "CITYCASE_PUBLIC_RATE_LIMIT", "10/hour", str,
            "rate limit per IP for anonymous reports and uploads"),
    Setting("INSTANCE_DIR", "CITYCASE_INSTANCE_DIR", str(PROJECT_ROOT / "instance"), str,
            "folder for files the app creates itself (the audit signing key, the secret key)"),
    Setting("AUDIT_HASH", "CITYCASE_AUDIT_HASH", "sha256", _one_of("sha256", "sm3"),
            "hash of new history events' chains, the global log's Merkle tree and checkpoints: sha256, "
            "or sm3 (国密); older events keep the hash they were written with"),
    Setting("AUDIT_SIGNATURE", "CITYCASE_AUDIT_SIGNATURE", "ed25519", _one_of("ed25519", "sm2"),
            "checkpoint signatures: ed25519, or sm2 (国密)"),
    Setting("AUDIT_SIGNING_KEY", "CITYCASE_AUDIT_SIGNING_KEY", "", str,
            "private key file signing checkpoints; empty = INSTANCE_DIR/audit_<algorithm>.key, made on first use"),
    Setting("CHECKPOINT_EVERY_EVENTS", "CITYCASE_CHECKPOINT_EVERY_EVENTS", 1000, int,
            "the scheduler signs a checkpoint once this many events are not yet covered by one"),
    Setting("CHECKPOINT_EVERY_MINUTES", "CITYCASE_CHECKPOINT_EVERY_MINUTES", 60.0, float,
            "… or once the newest checkpoint is this old and new events exist"),
    Setting("METRICS_TOKEN", "CITYCASE_METRICS_TOKEN", "", str,
            "bearer token Prometheus sends to /metrics; empty = /metrics answers loopback clients only"),
    Setting("LOG_FORMAT", "CITYCASE_LOG_FORMAT", "text", _one_of("text", "json"),
            "log lines as text, or as JSON with request id, user and case number (for a log collector)"),
    Setting("PATROL_INTERVAL_SECONDS", "CITYCASE_PATROL_INTERVAL", 15, int,
            "seconds between the positions a supervisor's phone records while on duty"),
)


def load_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Defaults, then environment variables, then explicit overrides."""
    config: dict[str, Any] = {}
    for s in SETTINGS:
        raw = os.environ.get(s.env)
        config[s.key] = s.parse(raw) if raw is not None else s.default
    for key, value in (overrides or {}).items():
        config[key] = value
    return config
