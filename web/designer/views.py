"""Versions list, one version, approve / rollback, diff, downloads, uploads and migration.

Designers act; leaders and auditors read. Every change goes through engine.designer (which
enforces four eyes); the request boundary commits, except migration, where each case is
committed on its own like the CLI does.
"""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.utils import secure_filename

from engine.designer import lifecycle, migration
from engine.designer.diff import diff_files
from engine.errors import Conflict, Forbidden, ValidationError
from web.designer import bp
from web.designer.problems import move_text, problem_text
from web.extensions import get_session, rollback, state
from web.messages import PageConflict, PageForbidden, Shown
from web.security import config, current_actor, now, role_required

_STATES = {"proposed": _l("proposed"), "active": _l("active"), "retired": _l("retired")}
# engine.designer.validation.ProblemKind values, as a designer reads them.
PROBLEM_KINDS = {
    "file": _l("File"), "malicious": _l("Refused as unsafe"), "xml": _l("Not well-formed XML"),
    "schema": _l("Not valid BPMN"), "expression": _l("Expression"), "lane": _l("Lane"), "form": _l("Form"),
    "service": _l("Service task"), "dmn": _l("Decision table"), "department": _l("Department"),
    "time_limit": _l("Time limit"), "unreachable": _l("Unreachable"), "parse": _l("Process"),
}


class UploadRefused(Shown, ValidationError):
    pass
DESIGNER = ("designer",)
READERS = ("designer", "leader", "auditor")
_MIME = {"bpmn": "application/xml", "dmn": "application/xml", "form": "application/json"}


@bp.app_template_filter("version_state")
def version_state(value: str) -> str:
    return str(_STATES.get(value, value))


@bp.app_template_filter("problem_kind")
def problem_kind(value: str) -> str:
    return str(PROBLEM_KINDS.get(value, value))


bp.add_app_template_filter(problem_text, "problem_text")
bp.add_app_template_filter(move_text, "move_text")


def _reasons(check: migration.CaseCheck) -> str:
    return "; ".join(move_text(r) for r in check.reasons)


@bp.route("/")
@role_required(*READERS)
def index():
    s = get_session()
    versions = lifecycle.list_versions(s)
    return render_template("designer/index.html", versions=versions, history=lifecycle.history(s)[-30:][::-1],
                           can_edit=current_actor().role in DESIGNER, problems=None,
                           active=lifecycle.active_id(s))


@bp.route("/versions/<int:version_id>")
@role_required(*READERS)
def version(version_id: int):
    s = get_session()
    info = lifecycle.version_info(s, version_id)
    files = sorted(lifecycle.version_files(s, version_id))
    return render_template("designer/version.html", info=info, files=files, history=lifecycle.history(s, version_id),
                           can_edit=current_actor().role in DESIGNER, others=lifecycle.list_versions(s))


@bp.route("/versions/<int:version_id>/files/<path:name>")
@role_required(*READERS)
def download(version_id: int, name: str):
    files = lifecycle.version_files(get_session(), version_id)
    if name not in files:
        abort(404)
    disposition = "inline" if request.args.get("inline") else "attachment"
    return Response(files[name], mimetype=_MIME.get(name.rsplit(".", 1)[-1], "text/plain"),
                    headers={"Content-Disposition": f'{disposition}; filename="{name.rsplit("/", 1)[-1]}"'})


@bp.route("/versions/<int:version_id>/approve", methods=["POST"])
@role_required(*DESIGNER)
def approve(version_id: int):
    try:
        row = lifecycle.approve(get_session(), version_id, current_actor(), now())
    except Forbidden:
        raise PageForbidden(_("Another designer must approve this version: you proposed it.")) from None
    except Conflict:
        raise PageConflict(_("Only a proposed version can be approved.")) from None
    flash(_("Version %(id)s is now active for new cases.", id=row.id), "ok")
    return redirect(url_for("designer.index"))


@bp.route("/versions/<int:version_id>/rollback", methods=["POST"])
@role_required(*DESIGNER)
def rollback_version(version_id: int):
    try:
        row = lifecycle.rollback(get_session(), version_id, current_actor(), now())
    except Conflict:
        raise PageConflict(_("Only a retired version that was once active can be made active again.")) from None
    flash(_("Version %(id)s is active again.", id=row.id), "ok")
    return redirect(url_for("designer.index"))


@bp.route("/diff")
@role_required(*READERS)
def diff():
    s = get_session()
    a, b = request.args.get("a", type=int), request.args.get("b", type=int)
    if not a or not b:
        abort(400)
    result = diff_files(lifecycle.version_files(s, a), lifecycle.version_files(s, b))
    return render_template("designer/diff.html", a=lifecycle.version_info(s, a), b=lifecycle.version_info(s, b),
                           diff=result)


def _uploaded_files(base: dict[str, str]) -> dict[str, str]:
    files = dict(base)
    for upload in request.files.getlist("files"):
        name = secure_filename(upload.filename or "")
        if not name.endswith((".bpmn", ".dmn", ".form")):
            raise UploadRefused(_("Only .bpmn, .dmn and .form files can be uploaded (got %(name)s).", name=name))
        try:
            text = upload.read(4 * 1024 * 1024 + 1).decode("utf-8")
        except UnicodeDecodeError:
            raise UploadRefused(_("%(name)s is not UTF-8 text.", name=name)) from None
        files[f"forms/{name}" if name.endswith(".form") else name] = text
    return files


@bp.route("/upload", methods=["POST"])
@role_required(*DESIGNER)
def upload():
    """Files from a desktop modeler replace (or join) those of the base version; saved as a proposal."""
    s = get_session()
    base_id = request.form.get("base", type=int) or lifecycle.active_id(s)
    files = _uploaded_files(lifecycle.version_files(s, base_id) if base_id else {})
    try:
        row = lifecycle.propose(s, files, current_actor(), now())
    except lifecycle.ProposalRefused as exc:
        rollback()
        return render_template("designer/index.html", versions=lifecycle.list_versions(s), history=[],
                               can_edit=True, problems=exc.problems, active=lifecycle.active_id(s)), 422
    flash(_("Saved as proposal %(id)s; another designer must approve it.", id=row.id), "ok")
    return redirect(url_for("designer.version", version_id=row.id))


@bp.route("/versions/<int:version_id>/migrate", methods=["GET", "POST"])
@role_required(*READERS)
def migrate(version_id: int):
    """GET: the dry run. POST: one batch of the migration (each case in its own transaction; the
    page's script posts batch after batch and shows the progress; without script, the page comes
    back after each batch with a button for the next)."""
    if request.method == "POST" and current_actor().role not in DESIGNER:
        abort(403)  # before anything is looked up: readers may not move cases, whatever the version
    s = get_session()
    info = lifecycle.version_info(s, version_id)
    if request.method == "GET":
        return render_template("designer/migrate.html", info=info, checks=migration.plan(s, version_id), batch=None,
                               can_edit=current_actor().role in DESIGNER, total=migration.pending_count(s, version_id))
    after = request.form.get("after", 0, type=int)
    total = request.form.get("total", type=int) or migration.pending_count(s, version_id)
    batch = migration.migrate_batch(state().factory, version_id, current_actor().username, now(), after_id=after,
                                    size=config().get("MIGRATION_BATCH", migration.BATCH_SIZE),
                                    algorithm=config()["AUDIT_HASH"])
    if request.accept_mimetypes.best == "application/json":
        return {**batch.as_dict(), "total": total,
                "failed_text": [_("%(number)s could not move: %(reason)s", number=n, reason=r) for n, r in batch.failed],
                "not_movable_text": [_("%(number)s cannot move: %(reasons)s", number=c.number, reasons=_reasons(c))
                                     for c in batch.not_movable]}
    return render_template("designer/migrate.html", info=info, checks=None, batch=batch, total=total,
                           can_edit=True)
