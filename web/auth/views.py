from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from engine.model import INBOX_ROLES
from web.auth import bp
from web.auth.second_factor import begin as begin_second_factor
from web.auth.second_factor import needs_second_factor
from web.auth.sso import enabled as sso_enabled
from web.extensions import limiter
from web.security import authenticate, role_required, sign_in, sign_out


def safe_next(target: str | None, default: str) -> str:
    """Only same-site relative paths are followed after sign-in or a language switch."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


# Each role's own start page after sign-in (and from the brand link), when that page is installed.
# Supervisors start at their inbox: the verify and check tasks are there, and it links the phone report.
HOME_BY_ROLE = {"admin": "admin.index", "designer": "designer.index", "auditor": "audit.index",
                "leader": "stats.index"}
# Pages other blueprints may provide, listed on the start page for the roles that may open them.
OTHER_PAGES = (("designer.index", _l("Process designer"), ("designer", "leader", "auditor")),
               ("audit.index", _l("Audit"), ("auditor",)),
               ("stats.index", _l("Statistics"), ("leader", "shift_leader", "auditor", "admin")),
               ("admin.index", _l("Administration"), ("admin",)))


def home_for(user) -> str:
    endpoint = HOME_BY_ROLE.get(user.role)
    if endpoint and endpoint in current_app.view_functions:
        return url_for(endpoint)
    if user.role in INBOX_ROLES:
        return url_for("inbox.inbox")
    if user.role in ("auditor", "admin"):
        return url_for("cases.search")
    return url_for("auth.home")


@bp.route("/home")
@role_required()
def home():
    links = [(url_for(endpoint), str(label)) for endpoint, label, roles in OTHER_PAGES
             if current_user.role in roles and endpoint in current_app.view_functions]
    return render_template("auth/home.html", links=links)


@bp.route("/")
def index():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("30/minute;300/hour", methods=["POST"])  # slows password guessing per address
def login():
    error = None
    username = ""
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        user = authenticate(username, request.form.get("password", ""))
        if user is None:
            error = _("Wrong user name or password, or the account is disabled.")
        elif needs_second_factor(user):
            return begin_second_factor(user, safe_next(request.args.get("next"), home_for(user)))
        else:
            sign_in(user)
            return redirect(safe_next(request.args.get("next"), home_for(user)))
    return render_template("auth/login.html", error=error, username=username, sso=sso_enabled())


@bp.route("/logout", methods=["POST"])
def logout():
    sign_out()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/language", methods=["POST"])
def language():
    lang = request.form.get("lang")
    if lang not in ("zh_Hans_CN", "en"):
        abort(400)
    session["lang"] = lang
    return redirect(safe_next(request.form.get("next"), url_for("auth.index")))
