"""Who may read the evaluation, and what: leaders, shift leaders, auditors and admins see every
kind; a leader tied to a department sees only that department's row and its cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from flask import request
from flask_babel import gettext as _

from engine.errors import ValidationError
from engine.evaluation import Kind, Period
from engine.evaluation.metrics import REGION_KINDS
from engine.evaluation.periods import days_period, month_of, parse_day, parse_period
from engine.model import Actor, Role
from web.messages import PageForbidden
from web.security import config, now

STATS_ROLES = (Role.LEADER, Role.SHIFT_LEADER, Role.AUDITOR, Role.ADMIN)


@dataclass(frozen=True)
class StatsScope:
    department: str | None  # None: every unit of every kind
    district: str | None = None  # a sub-center: its district's regions only (issue 15)

    def kinds(self) -> list[Kind]:
        if self.district:
            return list(REGION_KINDS)
        return [Kind.DEPARTMENT] if self.department else list(Kind)

    def has(self, key: str) -> bool:
        """A sub-center's units: its district and the streets, communities and cells inside it
        (their codes begin with the district's)."""
        return self.district is None or key.startswith(self.district)

    def check_city_wide(self) -> None:
        """City-wide views (hotspots): neither a department's leader nor a sub-center."""
        if self.district:
            raise PageForbidden(_("You may only see your sub-center's evaluation."))
        self.check(Kind.DISTRICT)

    def check(self, kind: Kind, key: str | None = None) -> None:
        if self.district:
            if kind not in REGION_KINDS or (key is not None and not self.has(key)):
                raise PageForbidden(_("You may only see your sub-center's evaluation."))
            return
        if self.department is None:
            return
        if kind != Kind.DEPARTMENT or (key is not None and key != self.department):
            raise PageForbidden("你只能查看本部门的评价。 / You may only see your department's evaluation.")


def stats_scope(actor: Actor) -> StatsScope:
    if actor.role == Role.LEADER and actor.department_code:
        return StatsScope(actor.department_code)
    if actor.role in (Role.LEADER, Role.SHIFT_LEADER) and actor.district_code:
        return StatsScope(None, actor.district_code)  # a district sub-center's leader or shift leader
    return StatsScope(None)


def requested_kind(scope: StatsScope) -> Kind:
    raw = request.args.get("kind") or Kind.DEPARTMENT.value
    try:
        kind = Kind(raw)
    except ValueError:
        raise ValidationError(f"unknown kind {raw!r}", {"kind": "unknown"}) from None
    scope.check(kind)
    return kind


def requested_period() -> Period:
    """?from=&to= (days), ?quarter=YYYYQn, ?month=YYYY-MM; default: last month."""
    tz = config()["TIMEZONE"]
    first, last = request.args.get("from"), request.args.get("to")
    if first and last:
        return days_period(parse_day(first, "from"), parse_day(last, "to"), tz)
    for name in ("quarter", "month"):
        if value := request.args.get(name):
            return parse_period(value, tz)
    this_month = month_of(now(), tz)
    return month_of(this_month.start - timedelta(seconds=1), tz)


def period_args(period: Period) -> dict[str, str]:
    """The query arguments that name ``period`` again (for links)."""
    label = period.label
    if "~" in label:
        first, last = label.split("~")
        return {"from": first, "to": last}
    return {"quarter": label} if "Q" in label else {"month": label}


def local_days(period: Period) -> tuple[date, date]:
    zone = ZoneInfo(config()["TIMEZONE"])
    return period.start.astimezone(zone).date(), (period.end.astimezone(zone) - timedelta(days=1)).date()
