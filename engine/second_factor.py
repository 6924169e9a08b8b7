"""The second sign-in factor: time-based one-time codes (TOTP, RFC 6238) from an authenticator app.

Which roles need it is configuration (``TOTP_ROLES``: admins and designers by default — they change
users, the manuals and keys). A user of such a role enrols once: the page shows a fresh secret as a
QR code, the user types the app's first code, and only then is the secret stored. Codes are accepted
one step early or late (clock drift of phones), and each time step only once: a code seen on a
shoulder or in a proxy log cannot be replayed. Functions take a session and never commit.
"""

from __future__ import annotations

from datetime import datetime

import pyotp
from sqlalchemy.orm import Session

from engine.errors import NotFound, ValidationError
from engine.models import User

STEP_SECONDS = 30
DRIFT_STEPS = 1  # one step either side


def required_roles(config_value: str) -> frozenset[str]:
    return frozenset(r.strip() for r in (config_value or "").split(",") if r.strip())


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str, issuer: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    code = "".join(ch for ch in (code or "") if not ch.isspace())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // STEP_SECONDS
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if pyotp.utils.strings_equal(totp.generate_otp(step), code):
            return step
    return None


def enrol(session: Session, user_id: int, secret: str, code: str, now: datetime) -> None:
    """Store ``secret`` for the user once ``code`` proves their app has it."""
    user = _user(session, user_id)
    step = _matching_step(secret, code, now)
    if step is None:
        raise ValidationError("the code does not match; check the phone's time and type the newest code",
                              {"code": "mismatch"})
    user.totp_secret = secret
    user.totp_last_step = step


def check_code(session: Session, user_id: int, code: str, now: datetime) -> bool:
    """True for a fresh valid code of the user's stored secret (and remember its step); else False."""
    user = _user(session, user_id)
    if not user.totp_secret:
        return False
    step = _matching_step(user.totp_secret, code, now)
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False
    user.totp_last_step = step
    return True


def reset(session: Session, user_id: int) -> None:
    """Forget the user's secret (lost phone): they enrol again at the next sign-in; sessions end."""
    user = _user(session, user_id)
    user.totp_secret = None
    user.totp_last_step = None


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user
