from web.cases import bp
from web.security import role_required


@bp.route("/cases")
@role_required()
def search():
    return "cases"
