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
    Setting("OPEN311_PUBLIC_CLASSES", "CITYCASE_OPEN311_PUBLIC_CLASSES", "*", str,
            "problem classes whose cases Open311 publishes: * or comma-separated class codes"),
    Setting("OPEN311_ROUND_METRES", "CITYCASE_OPEN311_ROUND_METRES", 100.0, float,
            "Open311 coordinates snapped to a grid of this many metres (0 = exact)"),
    Setting("OPEN311_DESCRIPTIONS", "CITYCASE_OPEN311_DESCRIPTIONS", "redact", str,
            "Open311 descriptions: full, redact (phone and ID-card numbers hidden) or omit"),
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
            "hash of the global event log's Merkle tree and checkpoints: sha256, or sm3 (国密)"),
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
