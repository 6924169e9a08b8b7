"""Password hashes: the one place that makes and checks them (engine, CLI and sign-in alike).

Salted scrypt from the standard library, written in the ``scrypt:N:r:p$salt$hex`` form that
Werkzeug uses, so hashes stored before this module existed keep working and the engine needs no
web library. PBKDF2 hashes in Werkzeug's ``pbkdf2:sha256:iterations$salt$hex`` form are checked too.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string

_N, _R, _P = 2**15, 8, 1
_SALT_CHARS = string.ascii_letters + string.digits


def hash_password(password: str) -> str:
    salt = "".join(secrets.choice(_SALT_CHARS) for _ in range(16))
    return f"scrypt:{_N}:{_R}:{_P}${salt}${_scrypt(password, salt, _N, _R, _P)}"


def check_password(stored: str, password: str) -> bool:
    """Whether ``password`` matches ``stored``; False for an unknown or damaged hash, never an error."""
    try:
        method, salt, digest = stored.split("$", 2)
        name, *params = method.split(":")
        if name == "scrypt":
            n, r, p = (int(x) for x in params) if params else (_N, _R, _P)
            computed = _scrypt(password, salt, n, r, p)
        elif name == "pbkdf2":
            algorithm = params[0] if params else "sha256"
            iterations = int(params[1]) if len(params) > 1 else 600_000
            computed = hashlib.pbkdf2_hmac(algorithm, password.encode(), salt.encode(), iterations).hex()
        else:
            return False
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(computed, digest)


def _scrypt(password: str, salt: str, n: int, r: int, p: int) -> str:
    return hashlib.scrypt(password.encode(), salt=salt.encode(), n=n, r=r, p=p, maxmem=132 * n * r * p).hex()
