"""/stats: ranking tables per kind with 环比/同比, drill-down to the cases behind each number, Excel."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import Response, render_template, request
from sqlalchemy import select

from engine.errors import ValidationError
from engine.evaluation import (
    COLUMNS,
    TOTAL,
    Kind,
    KindResult,
    Metric,
    Period,
    Rate,
    cached_evaluate,
    cases_behind,
)
from engine.evaluation.excel import workbook
from engine.evaluation.labels import KIND_LABELS, METRIC_LABELS, RATE_LABELS
from engine.evaluation.periods import previous_period, year_before
from engine.models import Case, ProblemClass
from engine.queries.records import CASE_COLUMNS, CaseRecord, case_record
from engine.queries.visibility import case_visibility_filter
from web.assets import echarts_installed
from web.cases.display import is_english
from web.extensions import get_session
from web.security import config, current_actor, now, role_required
from web.stats import bp
from web.stats.scope import (
    STATS_ROLES,
    StatsScope,
    local_days,
    period_args,
    requested_kind,
    requested_period,
    stats_scope,
)

DRILL_LIMIT = 500


def _lang() -> str:
    return "en" if is_english() else "zh"


def _scoped(result: KindResult, scope: StatsScope, district: KindResult) -> KindResult:
    if scope.district:  # a sub-center: its own units, and its district's figures as the total
        units = [u for u in result.units if scope.has(u.key)]
        own = next((u for u in district.units if u.key == scope.district), None)
        return KindResult(result.kind, result.period, units, own or replace(result.total, counts={}, rates={}))
    if scope.department is None:
        return result
    units = [u for u in result.units if u.key == scope.department]
    return KindResult(result.kind, result.period, units, units[0] if units else result.total)


def _result(period: Period, kind: Kind, scope: StatsScope) -> KindResult:
    evaluation = cached_evaluate(get_session(), period, now())
    return _scoped(evaluation.kinds[kind], scope, evaluation.kinds[Kind.DISTRICT])


def _deltas(current: KindResult, other: KindResult) -> dict[str, float | None]:
    before = {u.key: u.score for u in other.units}
    out: dict[str, float | None] = {}
    for u in current.units:
        old = before.get(u.key)
        out[u.key] = round(u.score - old, 2) if u.score is not None and old is not None else None
    return out


def _chart(result: KindResult) -> dict[str, Any]:
    lang = _lang()
    units = [u for u in result.units if u.score is not None][:30]
    grades: dict[str, int] = {}
    for u in result.units:
        if u.grade:
            grades[u.grade] = grades.get(u.grade, 0) + 1
    return {"names": [u.name for u in units], "scores": [u.score for u in units],
            "grades": sorted(grades.items()), "title": KIND_LABELS[result.kind][1 if lang == "en" else 0]}


@bp.route("/stats")
@role_required(*STATS_ROLES)
def index() -> Any:
    scope = stats_scope(current_actor())
    kind = requested_kind(scope)
    period = requested_period()
    tz = config()["TIMEZONE"]
    result = _result(period, kind, scope)
    prev = _result(previous_period(period, tz), kind, scope)
    last_year = _result(year_before(period, tz), kind, scope)
    metrics, rates = COLUMNS[kind]
    first, last = local_days(period)
    return render_template(
        "stats/index.html", result=result, kind=kind, kinds=scope.kinds(), metrics=metrics, rates=rates,
        period=period, args=period_args(period), first=first, last=last, scope=scope,
        mom=_deltas(result, prev), yoy=_deltas(result, last_year), prev=prev.period, last_year=last_year.period,
        kind_labels=KIND_LABELS, metric_labels=METRIC_LABELS, rate_labels=RATE_LABELS, total_key=TOTAL,
        chart=_chart(result), echarts=echarts_installed(), mode=_mode())


def _mode() -> str:
    if request.args.get("from") and request.args.get("to"):
        return "custom"
    return "quarter" if request.args.get("quarter") else "month"


@bp.route("/stats/export.xlsx")
@role_required(*STATS_ROLES)
def export() -> Any:
    scope = stats_scope(current_actor())
    kind = requested_kind(scope)
    period = requested_period()
    data = workbook([_result(period, kind, scope)], config()["TIMEZONE"], now(), _lang())
    name = f"evaluation-{kind.value}-{period.label.replace('~', '_')}.xlsx"
    return Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _what(raw: str | None) -> Metric | Rate:
    for enum in (Metric, Rate):
        try:
            return enum(raw or "")
        except ValueError:
            continue
    raise ValidationError(f"unknown number {raw!r}", {"metric": "unknown"})


@bp.route("/stats/cases")
@role_required(*STATS_ROLES)
def cases() -> Any:
    actor = current_actor()
    scope = stats_scope(actor)
    kind = requested_kind(scope)
    key = request.args.get("key") or TOTAL
    scope.check(kind, None if key == TOTAL and scope.department is None else key)
    what = _what(request.args.get("metric"))
    period = requested_period()
    s = get_session()
    ids = cases_behind(s, period, kind, key, what)
    rows: list[CaseRecord] = []
    for start in range(0, min(len(ids), DRILL_LIMIT), 500):
        chunk = ids[start:start + 500]
        stmt = (select(*CASE_COLUMNS).outerjoin(ProblemClass, ProblemClass.code == Case.class_code)
                .where(Case.id.in_(chunk), case_visibility_filter(actor)).order_by(Case.id))
        rows.extend(case_record(r) for r in s.execute(stmt))
    label = METRIC_LABELS[what] if isinstance(what, Metric) else RATE_LABELS[what]
    name = cached_evaluate(s, period, now()).kinds[kind]
    unit_name = next((u.name for u in name.units if u.key == key), key)
    return render_template("stats/cases.html", rows=rows, total=len(ids), limit=DRILL_LIMIT, kind=kind, key=key,
                           unit_name=unit_name, what=what, label=label, is_rate=isinstance(what, Rate),
                           period=period, args=period_args(period), kind_labels=KIND_LABELS, total_key=TOTAL)
