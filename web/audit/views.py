"""Audit pages. Every view here is written to the access log (engine.audit.access_log) in the request's
transaction, so a view is logged exactly when its request commits.

Who may use them: auditors everything; leaders the replay of the cases they may see (a department
leader only the department's: another department's case answers 404 like a missing one, so case
numbers cannot be probed); admins the whole access log, auditors their own entries of it.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from engine import definitions
from engine.audit import access_log, checkpoints, log, verify_cases
from engine.audit.access_log import AccessAction, Accessor
from engine.audit.steps import definition_xml, replay_steps
from engine.models import Case, DefinitionVersion, User
from engine.queries import case_history
from engine.queries.visibility import may_see_case
from web.assets import bpmn_js_installed
from web.audit import bp
from web.audit.display import action_label, markers, role_label, step_views
from web.cases.display import KIND_NAMES, named
from web.cases.views import history_items
from web.extensions import get_session
from web.security import current_actor, now, role_required

REPLAY_ROLES = ("auditor", "leader")
LOG_ROLES = ("auditor", "admin")
RECENT = 20


def _log(action: AccessAction, target: str = "", details: dict[str, Any] | None = None) -> None:
    actor = current_actor()
    access_log.record(get_session(), Accessor(actor.username, actor.role), action, now(), target, details)


def _case_for_replay(number: str) -> Case:
    case = get_session().scalar(select(Case).where(Case.number == number))
    if case is None or not may_see_case(current_actor(), case):
        abort(404)
    return case


@bp.route("")
@role_required("auditor")
def index():
    s = get_session()
    number = request.args.get("number", "").strip()
    found: list[Any] | None = None
    if number:
        if not number.isdigit() or len(number) > 20:
            flash(_("A case number has digits only."), "error")
            found = []
        else:
            found = list(s.execute(select(Case.number, Case.status, Case.created_at, Case.closed_at)
                                   .where(Case.number.startswith(number))
                                   .order_by(Case.number.desc()).limit(50)).all())
        _log(AccessAction.SEARCH, number, {"number": number, "found": len(found)})
    else:
        _log(AccessAction.INDEX)
    recent = s.execute(select(Case.number, Case.status, Case.created_at, Case.closed_at)
                       .where(Case.status == "closed").order_by(Case.closed_at.desc(), Case.id.desc())
                       .limit(RECENT)).all()
    from web.audit.export import default_period

    return render_template("audit/index.html", number=number, found=found, recent=recent,
                           export_period=default_period())


def _step_param(count: int) -> int:
    """The step to open (1-based seq in the URL; the last one when absent or out of range)."""
    raw = request.args.get("step", "")
    if raw.isdigit() and 1 <= int(raw) <= count:
        return int(raw) - 1
    return max(count - 1, 0)


@bp.route("/cases/<number>")
@role_required(*REPLAY_ROLES)
def case_replay(number: str):
    s = get_session()
    case = _case_for_replay(number)
    definition = definitions.load(s, case.definition_id)
    replay = replay_steps(s, case)
    users = {u.username: u for u in s.execute(select(User.username, User.display_name, User.role)
                                              .where(User.username.in_({st.actor for st in replay.steps})))}
    views = step_views(replay, history_items(case_history(s, current_actor(), case), definition), {k: u.display_name for k, u in users.items()},
                       {k: u.role for k, u in users.items()}, lambda kind: named(KIND_NAMES, kind))
    current = _step_param(len(views))
    version = s.get(DefinitionVersion, case.definition_id)
    _log(AccessAction.VIEW_CASE, case.number, {"step": current + 1})
    payload = {"xml": definition_xml(definition), "steps": markers(replay), "current": current}
    return render_template("audit/case.html", case=case, replay=replay, steps=views, current=current,
                           payload=payload, version=version, diagram=bpmn_js_installed())


@bp.route("/cases/<number>/verify", methods=["POST"])
@role_required(*REPLAY_ROLES)
def verify(number: str):
    case = _case_for_replay(number)
    report = verify_cases(get_session(), [case.number])  # what `citycase verify --case` runs
    problems = report.problems
    _log(AccessAction.VERIFY, case.number, {"ok": report.ok, "problems": [str(p) for p in problems]})
    for note in report.notes:
        flash(_("Note on case %(number)s: %(note)s", number=case.number, note=note.reason), "info")
    if problems:
        for problem in problems:
            flash(_("Verification failed for case %(number)s: %(reason)s", number=case.number,
                    reason=problem.reason), "error")
    else:
        flash(_("Case %(number)s verified: its hash chain is intact and replaying its history reproduces "
                "the stored state.", number=case.number), "success")
    step = request.form.get("step", "")
    return redirect(url_for("audit.case_replay", number=case.number, step=step if step.isdigit() else None))


@bp.route("/access")
@role_required(*LOG_ROLES)
def access():
    s = get_session()
    actor = current_actor()
    before = request.args.get("before", "")
    # Admins read everyone's entries (or one user's); an auditor only their own.
    user = (request.args.get("user", "").strip() or None) if actor.role == "admin" else actor.username
    rows = access_log.entries(s, username=user, before_seq=int(before) if before.isdigit() else None)
    broken = access_log.check_chain(s)
    # The chain cannot show a cut tail: the signed checkpoints' heads of the log can.
    cut = log.check_access_anchors(s, checkpoints.stored(s))
    filters = {k: v for k, v in (("before", before), ("user", request.args.get("user", "").strip())) if v}
    _log(AccessAction.VIEW_LOG, "", filters)
    return render_template("audit/access.html", rows=rows, broken=broken, cut=cut, all_users=actor.role == "admin",
                           user=user or "", action_label=action_label, role_label=role_label,
                           older=rows[-1].seq if len(rows) == 100 else None)
