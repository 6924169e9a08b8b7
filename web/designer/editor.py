"""The bpmn.io editors: BPMN in bpmn-js, DMN in dmn-js, forms in form-js; saving makes a proposal.

The page only loads our own script (web/static/designer/editor.js) and the vendored editors;
the file is fetched from the download route and saved back as JSON with the CSRF header.
Validation problems come back with file and element id so the script can select the element.
"""

from __future__ import annotations

from flask import abort, jsonify, render_template, request, url_for
from flask_babel import gettext as _

from engine.designer import lifecycle
from engine.errors import CityCaseError, Conflict
from web.designer import bp
from web.designer.assets import installed
from web.designer.problems import problem_dict
from web.designer.views import PROBLEM_KINDS
from web.extensions import get_session, rollback
from web.messages import error_message
from web.security import current_actor, now, role_required

KINDS = {"bpmn": "bpmn", "dmn": "dmn", "form": "form"}
# The editors set inline styles on the elements they draw; scripts stay 'self' only.
EDITOR_CSP = ("default-src 'self'; img-src 'self' data: blob:; script-src 'self'; "
              "style-src 'self' 'unsafe-inline'; connect-src 'self'; font-src 'self' data:; object-src 'none'; "
              "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


@bp.route("/versions/<int:version_id>/edit/<path:name>")
@role_required("designer", "leader", "auditor")
def edit(version_id: int, name: str):
    files = lifecycle.version_files(get_session(), version_id)
    kind = KINDS.get(name.rsplit(".", 1)[-1])
    if name not in files or kind is None:
        abort(404)
    response = render_template(
        "designer/editor.html", version_id=version_id, name=name, kind=kind, files=sorted(files),
        forms=sorted(f for f in files if f.endswith(".form")),
        kinds={kind: str(label) for kind, label in PROBLEM_KINDS.items()},
        installed=installed(), can_edit=current_actor().role == "designer",
        file_url=url_for("designer.download", version_id=version_id, name=name, inline=1),
        save_url=url_for("designer.save"), element=request.args.get("element", ""))
    return response, 200, {"Content-Security-Policy": EDITOR_CSP}


@bp.route("/proposals", methods=["POST"])
@role_required("designer")
def save():
    """JSON {base, name, text}: the base version's files with one file replaced, as a proposal."""
    body = request.get_json(silent=True) or {}
    base, name, text = body.get("base"), body.get("name"), body.get("text")
    if not isinstance(base, int) or not isinstance(name, str) or not isinstance(text, str):
        return jsonify({"error": "bad_request", "message": _("base, name and text are required")}), 400
    s = get_session()
    files = lifecycle.version_files(s, base)
    if name not in files:
        return jsonify({"error": "bad_request", "message": _("No such file in the version.")}), 400
    try:
        row = lifecycle.propose(s, {**files, name: text}, current_actor(), now())
    except lifecycle.ProposalRefused as exc:
        rollback()
        return jsonify({"error": "invalid", "message": _("Not saved: the files have problems"),
                        "problems": [problem_dict(p) for p in exc.problems]}), 422
    except Conflict:
        rollback()
        return jsonify({"error": "Conflict", "message": _("These files are already a version; nothing was saved.")}), 409
    except CityCaseError as exc:
        rollback()
        return jsonify({"error": type(exc).__name__, "message": error_message(exc)}), getattr(exc, "http_status", 400)
    return jsonify({"id": row.id, "url": url_for("designer.version", version_id=row.id)}), 201
