"""Shared by the JSON API and Open311 tests: an app with CSRF off (APIs are CSRF-exempt anyway)."""

from __future__ import annotations

from typing import Any


def make_app(db, clock, **extra: Any):
    from web import create_app

    # RATELIMIT_ENABLED stays at its default: Flask-Limiter keeps the last app's value as the default
    # of the next app in this process, so disabling it here would disable it for other tests too.
    config = {"DATABASE_URL": db.url, "TESTING": True, "CLOCK": clock, "WTF_CSRF_ENABLED": False,
              "TOTP_ROLES": ""}  # admins/designers sign in by password here; test_second_factor.py covers TOTP
    config.update(extra)
    return create_app(config)
