"""Sign-in throttled per account (the per-address limit is on the login views).

Only failed attempts count, so an attacker guessing one account's password from many addresses
is slowed down, while the owner who knows the password is only locked out while the guessing
goes on. The counters live in the rate limiter's storage (``RATELIMIT_STORAGE_URI``: shared
between processes when it is redis://…).
"""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from limits import parse_many
from werkzeug.exceptions import TooManyRequests

from web.extensions import limiter

_NAMESPACE = "citycase-login-account"


def _limits():
    return parse_many(current_app.config["LOGIN_ACCOUNT_LIMIT"])


def _key(username: str) -> str:
    return username.strip().lower()[:64]


def check_account(username: str) -> None:
    """Refuse (429) before the password is checked while the account is throttled."""
    strategy = limiter.limiter
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    if any(not strategy.test(item, _NAMESPACE, _key(username)) for item in _limits()):
        raise TooManyRequests(_("Too many failed sign-ins for this account. Wait a few minutes and try again."))


def record_failure(username: str) -> None:
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    for item in _limits():
        limiter.limiter.hit(item, _NAMESPACE, _key(username))
