from web.inbox import bp
from web.security import INBOX_ROLES, role_required


@bp.route("/inbox")
@role_required(*INBOX_ROLES)
def inbox():
    return "inbox"
