"""Single sign-on through the city's identity provider (OpenID Connect), besides local accounts.

Government single sign-on (政务统一身份认证) hands us a signed ID token; Authlib runs the
authorization-code flow (state, nonce, PKCE-less confidential client) and checks the token's signature
against the provider's published keys, its issuer, audience, expiry and nonce. The claim named by
``OIDC_USERNAME_CLAIM`` must equal the user name of an active local account: the identity provider
says who someone is, citycase's own account says what they may do (role, department, district). No
account is created on the fly — an admin creates it first. Roles with a second factor still give
the authenticator code after the provider (``TOTP_ROLES``).
"""

from __future__ import annotations

import logging

from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from flask import Flask, abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from joserfc.errors import JoseError
from sqlalchemy import select

from engine.models import User
from web.auth import bp
from web.auth.second_factor import begin as begin_second_factor
from web.auth.second_factor import needs_second_factor
from web.extensions import get_session, limiter
from web.security import SignedInUser, sign_in

log = logging.getLogger(__name__)
_NEXT = "sso_next"
PROVIDER = "city"


def init_app(app: Flask) -> None:
    """Register the provider when ``OIDC_ISSUER`` is set (its discovery document is read on first use)."""
    issuer = (app.config.get("OIDC_ISSUER") or "").rstrip("/")
    if not issuer:
        return
    oauth = OAuth(app)
    oauth.register(PROVIDER, client_id=app.config["OIDC_CLIENT_ID"], client_secret=app.config["OIDC_CLIENT_SECRET"],
                   server_metadata_url=f"{issuer}/.well-known/openid-configuration",
                   client_kwargs={"scope": app.config.get("OIDC_SCOPES") or "openid profile", "timeout": 10})
    app.extensions["citycase_sso"] = oauth


def enabled() -> bool:
    return "citycase_sso" in current_app.extensions


def _client():
    if not enabled():
        abort(404)
    return current_app.extensions["citycase_sso"].create_client(PROVIDER)


def _refuse(message: str, status: int = 403):
    return render_template("auth/login.html", error=message, username="", sso=enabled()), status


@bp.route("/login/sso")
@limiter.limit("30/minute")
def sso_start():
    from web.auth.views import safe_next

    client = _client()
    session[_NEXT] = safe_next(request.args.get("next"), "")
    return client.authorize_redirect(url_for("auth.sso_callback", _external=True))


@bp.route("/login/sso/callback")
@limiter.limit("30/minute")
def sso_callback():
    from web.auth.views import home_for

    client = _client()
    if request.args.get("error"):
        return _refuse(_("The identity provider did not sign you in (%(reason)s). Try again or use your "
                         "citycase password.", reason=request.args.get("error_description") or request.args["error"]))
    try:
        token = client.authorize_access_token()
    except (AuthlibBaseError, JoseError, ValueError, OSError) as exc:  # bad state/nonce/signature, provider unreachable
        log.warning("OIDC sign-in refused: %s", exc)
        return _refuse(_("The sign-in through the identity provider could not be checked. Start again; if it "
                         "keeps failing, tell the administrator."), 400)
    claims = token.get("userinfo") or {}
    name = str(claims.get(current_app.config.get("OIDC_USERNAME_CLAIM") or "preferred_username") or "").strip()
    row = get_session().scalar(select(User).where(User.username == name)) if name else None
    if row is None or not row.active:
        return _refuse(_("The identity provider knows you as “%(name)s”, but citycase has no active account of "
                         "that name. Ask an administrator to create or enable it.", name=name or "?"))
    user = SignedInUser(row)
    target = session.pop(_NEXT, "") or home_for(user)
    if needs_second_factor(user):
        return begin_second_factor(user, target)
    sign_in(user)
    return redirect(target)
