"""The channels that carry notices to people: e-mail (SMTP, stdlib) and a signed webhook.

Both are outbox senders: ``engine.outbox.deliver`` calls them after commit, outside any
transaction, retries failures with back-off and keeps what never went out as a dead letter.

The webhook POSTs one JSON object per notice (see ``webhook_body``), signed with
CITYCASE_WEBHOOK_SECRET as every request to an outside system is (engine.signed_post); a receiver
(an SMS gateway, a WeChat Work / DingTalk robot bridge, a city's message bus) recomputes it and
refuses a request older than a few minutes. Any answer but 2xx is a failed attempt.
"""

from __future__ import annotations

import smtplib
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import orjson

from engine import signed_post
from engine.clock import Clock
from engine.notify.models import Channel
from engine.outbox import Sender


@dataclass(frozen=True)
class ChannelSettings:
    """The deployment's channels (engine.config keys NOTIFY_CHANNELS, SMTP_*, WEBHOOK_*)."""

    enabled: frozenset[Channel]
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_security: str = "none"
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = "citycase@localhost"
    webhook_url: str = ""
    webhook_secret: str = ""
    timeout: float = 10.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ChannelSettings:
        names = [n.strip().lower() for n in str(config.get("NOTIFY_CHANNELS") or "").split(",") if n.strip()]
        unknown = [n for n in names if n not in tuple(Channel)]
        if unknown:
            raise ValueError(f"unknown notification channel(s) {', '.join(unknown)} in CITYCASE_NOTIFY_CHANNELS; "
                             f"use {', '.join(Channel)}")
        enabled = frozenset(Channel(n) for n in names)
        if Channel.WEBHOOK in enabled and not (config.get("WEBHOOK_URL") and config.get("WEBHOOK_SECRET")):
            raise ValueError("the webhook channel needs CITYCASE_WEBHOOK_URL and CITYCASE_WEBHOOK_SECRET")
        return cls(enabled, config.get("SMTP_HOST", "localhost"), int(config.get("SMTP_PORT", 25)),
                   config.get("SMTP_SECURITY", "none"), config.get("SMTP_USER", ""),
                   config.get("SMTP_PASSWORD", ""), config.get("SMTP_FROM", "citycase@localhost"),
                   config.get("WEBHOOK_URL", ""), config.get("WEBHOOK_SECRET", ""),
                   float(config.get("NOTIFY_TIMEOUT_SECONDS", 10.0)))


def subject(payload: Mapping[str, Any]) -> str:
    prefix = "【紧急】" if payload.get("emergency") else ""
    case = f" {payload['case']}" if payload.get("case") else ""
    return f"{prefix}citycase{case}: {payload.get('text') or payload.get('kind')}"


def send_email(settings: ChannelSettings, payload: Mapping[str, Any]) -> None:
    msg = EmailMessage()
    msg["From"] = settings.smtp_from
    msg["To"] = payload["address"]
    msg["Subject"] = subject(payload)
    msg.set_content(f"{payload.get('text') or ''}\n\n{payload.get('case') or ''} ({payload.get('kind')})\n")
    smtp_class = smtplib.SMTP_SSL if settings.smtp_security == "ssl" else smtplib.SMTP
    with smtp_class(settings.smtp_host, settings.smtp_port, timeout=settings.timeout) as smtp:
        if settings.smtp_security == "starttls":
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(msg)


def webhook_body(payload: Mapping[str, Any]) -> bytes:
    """The JSON a webhook receiver gets: who, which case, what, and whether it is an emergency."""
    keys = ("notice", "user", "phone", "case", "kind", "text", "emergency")
    return orjson.dumps({k: payload.get(k) for k in keys}, option=orjson.OPT_SORT_KEYS)


def send_webhook(settings: ChannelSettings, clock: Clock, payload: Mapping[str, Any]) -> None:
    status = signed_post.post(settings.webhook_url, webhook_body(payload), settings.webhook_secret, clock.now(),
                              settings.timeout)
    if not 200 <= status < 300:
        raise RuntimeError(f"webhook answered HTTP {status}")


def routing_sender(settings: ChannelSettings, clock: Clock, fallback: Sender) -> Sender:
    """A sender for the whole outbox: notices by their channel, every other kind by ``fallback``."""

    def send(kind: str, payload: dict[str, Any]) -> None:
        if kind == Channel.EMAIL.outbox_kind:
            send_email(settings, payload)
        elif kind == Channel.WEBHOOK.outbox_kind:
            send_webhook(settings, clock, payload)
        else:
            fallback(kind, payload)

    return send
