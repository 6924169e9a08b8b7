from web.report import bp
from web.security import role_required


@bp.route("/report/mobile")
@role_required("supervisor")
def mobile():
    return "mobile"


@bp.route("/report/public")
def public():
    return "public"
