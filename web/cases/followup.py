"""Merging a duplicate and reopening a closed case from the case page (acceptors, shift leaders);
the similar open cases an acceptor sees next to a new case."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine.commands import merge_case, reopen_case
from engine.commands.followup import MERGERS, Refusal, reopen_until
from engine.errors import Conflict, ValidationError
from engine.model import CaseStatus, Role
from engine.queries.records import CaseRecord
from engine.queries.similar import similar_open_cases
from web.cases import bp
from web.extensions import get_session, rollback
from web.messages import error_message
from web.security import current_actor, engine_context, now, role_required

REFUSALS = {
    Refusal.SAME_CASE: _l("A case cannot be merged into itself."),
    Refusal.DUPLICATE_NOT_OPEN: _l("Only an open case can be merged as a duplicate."),
    Refusal.ORIGINAL_NOT_OPEN: _l("The original case is no longer open (closed, voided or merged itself): "
                                  "merge into an open case."),
    Refusal.OTHER_KIND: _l("The two cases are different kinds of problem. If the class is wrong, correct it "
                           "first."),
    Refusal.NO_ORIGINAL: _l("There is no case with that number."),
    Refusal.NOT_CLOSED: _l("Only a closed case can be reopened."),
    Refusal.WINDOW_PASSED: _l("The case was closed too long ago to be reopened. Please report the problem "
                              "again."),
    Refusal.NO_REOPEN_STEP: _l("This case cannot be reopened (it was handled on an older process)."),
    Refusal.REASON: _l("Please say why (at most 500 characters)."),
}
CENTER = (Role.ACCEPTOR, Role.SHIFT_LEADER)


def refusal_message(exc: ValidationError | Conflict) -> str:
    """The user's words for a refused merge or reopen."""
    codes = list(getattr(exc, "fields", {}).values()) + [c for c in Refusal if f"[{c.value}]" in str(exc)]
    for code in codes:
        if code in REFUSALS:
            return str(REFUSALS[Refusal(code)])
    return error_message(exc)


def duplicate_candidates(case: CaseRecord) -> list[Any]:
    """Open cases near this open one that may report the same problem (for the Merge buttons)."""
    actor = current_actor()
    if actor.role not in MERGERS or case.status not in (CaseStatus.OPEN, CaseStatus.SUSPENDED):
        return []
    found = similar_open_cases(get_session(), actor, class_code=case.class_code, lon=case.lon, lat=case.lat,
                               component_id=case.component_id, at=now())
    return [c for c in found if c.number != case.number]


def may_reopen(case: CaseRecord) -> bool:
    until = reopen_until(case.closed_at)
    return (current_actor().role in CENTER and case.status == CaseStatus.CLOSED and until is not None
            and now() <= until)


@bp.route("/cases/<number>/merge", methods=["POST"])
@role_required(*MERGERS)
def merge(number: str):
    """Merge this case (the duplicate) into the case named in the form (the original)."""
    from web.cases.views import visible_case

    case = visible_case(number).case
    original = request.form.get("original", "").strip()
    if original:
        visible_case(original)  # the original must be one this user may see
    try:
        merge_case(get_session(), engine_context(), case.id, original, current_actor(),
                   request.form.get("reason", ""))
    except (ValidationError, Conflict) as exc:
        rollback()
        flash(_("The case was not merged: %(msg)s", msg=refusal_message(exc)), "error")
        return redirect(url_for("cases.case_page", number=number) + "#duplicates")
    flash(_("Case %(number)s was merged into %(original)s; its reporter now follows %(original)s.",
            number=number, original=original), "success")
    return redirect(url_for("cases.case_page", number=original))


@bp.route("/cases/<number>/reopen", methods=["POST"])
@role_required(*CENTER)
def reopen(number: str):
    """The center records that the problem is not solved: a new handling round."""
    from web.cases.views import visible_case

    case = visible_case(number).case
    try:
        reopen_case(get_session(), engine_context(), case.id, current_actor(), request.form.get("reason", ""),
                    channel="phone")
    except (ValidationError, Conflict) as exc:
        rollback()
        flash(_("The case was not reopened: %(msg)s", msg=refusal_message(exc)), "error")
        return redirect(url_for("cases.case_page", number=number) + "#reopen")
    flash(_("Case %(number)s was reopened and goes to dispatch again.", number=number), "success")
    return redirect(url_for("cases.case_page", number=number))
