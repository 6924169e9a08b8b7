"""The second step of signing in for the roles that need it (engine.second_factor, ``TOTP_ROLES``).

After the password the browser holds only a pending sign-in (user id, time, where to go next) —
no session is opened until the code is right. A pending sign-in lasts ``PENDING_MINUTES``. While a
user enrols, the secret shown as a QR code is derived from the app's secret key and a random nonce
kept in the cookie, so the cookie itself never carries the secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

import segno
from flask import current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from engine import second_factor
from engine.errors import ValidationError
from engine.models import User
from web.auth import bp
from web.auth.throttle import check_account, record_failure
from web.extensions import get_session, limiter
from web.security import SignedInUser, now, sign_in

PENDING_MINUTES = 5
_PENDING = "pending_sign_in"


def needs_second_factor(user: SignedInUser) -> bool:
    return user.role in second_factor.required_roles(current_app.config.get("TOTP_ROLES", ""))


def begin(user: SignedInUser, next_url: str):
    """Password accepted: remember a pending sign-in and ask for the code (or for enrolment)."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    session[_PENDING] = {"user": int(user.id), "at": now().isoformat(), "next": next_url,
                         "nonce": secrets.token_urlsafe(16)}
    row = get_session().get(User, int(user.id))
    enrolled = row is not None and row.totp_secret is not None
    return redirect(url_for("auth.second_factor_code" if enrolled else "auth.second_factor_enrol"))


def _pending() -> tuple[User, dict] | None:
    pending = session.get(_PENDING)
    if not isinstance(pending, dict):
        return None
    try:
        started = datetime.fromisoformat(pending["at"])
    except (KeyError, TypeError, ValueError):
        return None
    user = get_session().get(User, pending.get("user"))
    if now() - started > timedelta(minutes=PENDING_MINUTES) or user is None or not user.active:
        return None
    return user, pending


def _expired():
    session.pop(_PENDING, None)
    return render_template("auth/second_factor.html", expired=True, mode="code", error=None), 400


def _finish(user: User, pending: dict):
    # Enrolling changes the secret, which moves the session version (engine.sessions): sign in with
    # the version as it stands after this write, not before it.
    db = get_session()
    db.flush()
    db.refresh(user)
    signed = SignedInUser(user)
    sign_in(signed)  # clears the pending sign-in with the rest of the session
    return redirect(pending.get("next") or url_for("auth.index"))


def _enrol_secret(user: User, nonce: str) -> str:
    key = current_app.config["SECRET_KEY"]
    key = key.encode() if isinstance(key, str) else key
    digest = hmac.new(key, f"totp-enrol:{user.id}:{nonce}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:20]).decode()


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit("30/minute", methods=["POST"])
def second_factor_code():
    found = _pending()
    if found is None:
        return _expired()
    user, pending = found
    if user.totp_secret is None:
        return redirect(url_for("auth.second_factor_enrol"))
    error = None
    if request.method == "POST":
        check_account(user.username)
        if second_factor.check_code(get_session(), user.id, request.form.get("code", ""), now()):
            return _finish(user, pending)
        record_failure(user.username)
        error = _("The code is wrong or was already used. Type the newest code your authenticator app shows.")
    return render_template("auth/second_factor.html", mode="code", error=error, expired=False)


@bp.route("/login/enrol", methods=["GET", "POST"])
@limiter.limit("30/minute", methods=["POST"])
def second_factor_enrol():
    found = _pending()
    if found is None:
        return _expired()
    user, pending = found
    if user.totp_secret is not None:
        return redirect(url_for("auth.second_factor_code"))
    secret = _enrol_secret(user, pending["nonce"])
    error = None
    if request.method == "POST":
        check_account(user.username)
        try:
            second_factor.enrol(get_session(), user.id, secret, request.form.get("code", ""), now())
        except ValidationError:
            record_failure(user.username)
            error = _("The code does not match. Check that the phone's time is set automatically and type "
                      "the newest code.")
        else:
            return _finish(user, pending)
    uri = second_factor.provisioning_uri(secret, user.username, current_app.config.get("TOTP_ISSUER", "citycase"))
    qr = segno.make(uri, error="m").svg_inline(scale=5, dark="#1f2933", light="#ffffff")
    spaced = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    return render_template("auth/second_factor.html", mode="enrol", error=error, expired=False, qr=qr,
                           secret=spaced)
