"""The evaluation of a period: every kind's units with their counts, rates, scores and grades.

The history events before the period's end are streamed in (case, seq) order, a bounded number
of rows at a time, and each case is walked (walk.py) and counted as soon as its last event is
read, so memory holds one case's events and the counters, whatever the size of the history.
The drill-down (``cases_behind``) runs the same walk and keeps the ids of the cases behind one
number, so a list always has as many rows as the number it explains.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from cachetools import LRUCache
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from engine.config import load_config
from engine.evaluation.metrics import COLUMNS, RATE_FORMULAS, VOLUME_METRIC, Kind, Metric, Rate
from engine.evaluation.scoring import ScoreSettings, load_settings
from engine.evaluation.walk import Contribution, EventRow, walk_case
from engine.model import EventKind
from engine.models import Department, Event, Region, User
from engine.patrol.coverage import patrol_counts
from engine.patrol.models import Position, RosterEntry

TOTAL = "*"  # the unit key of a kind's total (distinct cases over all its units)
STREAM_ROWS = 5000
_READ_KINDS = frozenset({EventKind.START, EventKind.COMPLETE, EventKind.RATING, EventKind.CORRECTION,
                         EventKind.MERGE, EventKind.REOPEN})


@dataclass(frozen=True)
class Period:
    """[start, end) in UTC; ``label`` is how people name it (2026-10, 2026Q3, a date range)."""

    start: datetime
    end: datetime
    label: str


@dataclass
class UnitResult:
    kind: Kind
    key: str
    name: str
    counts: dict[Metric, int]
    rates: dict[Rate, float | None]
    volume: float | None = None
    score: float | None = None
    grade: str | None = None
    rank: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "name": self.name, "rank": self.rank, "score": self.score, "grade": self.grade,
                "volume": self.volume, "counts": {m.value: n for m, n in self.counts.items()},
                "rates": {r.value: v for r, v in self.rates.items()}}


@dataclass
class KindResult:
    kind: Kind
    period: Period
    units: list[UnitResult]
    total: UnitResult

    def as_dict(self) -> dict[str, Any]:
        metrics, rates = COLUMNS[self.kind]
        return {"kind": self.kind.value, "from": self.period.start.isoformat(), "to": self.period.end.isoformat(),
                "label": self.period.label, "metrics": [m.value for m in metrics], "rates": [r.value for r in rates],
                "units": [u.as_dict() for u in self.units], "total": self.total.as_dict()}


@dataclass
class Evaluation:
    period: Period
    kinds: dict[Kind, KindResult]
    settings: ScoreSettings
    cases: int = 0
    events: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"from": self.period.start.isoformat(), "to": self.period.end.isoformat(),
                "label": self.period.label, "settings": self.settings.as_dict(),
                "kinds": {k.value: r.as_dict() for k, r in self.kinds.items()}}


@dataclass
class _Tally:
    counts: Counter[Contribution] = field(default_factory=Counter)
    cases: int = 0
    events: int = 0


def candidates(start: datetime, end: datetime) -> Any:
    """Ids of the cases that can count in [start, end): those with an event in it, and those
    dispatched before its start and not closed since their last dispatch (they may be overdue at
    its end; a reopened case is dispatched again after its first closing).
    Everything else (cases finished earlier, or not yet reported) counts for nothing."""
    active = select(Event.case_id).where(Event.at >= start, Event.at < end)
    last_dispatch = func.max(case((Event.task_spec == "dispatch", Event.seq)))  # seq: the case's own order
    last_close = func.max(case((Event.task_spec == "close", Event.seq)))
    waiting = (select(Event.case_id)
               .where(Event.kind == EventKind.COMPLETE, Event.task_spec.in_(("dispatch", "close")), Event.at < start)
               .group_by(Event.case_id)
               .having(last_dispatch.is_not(None), or_(last_close.is_(None), last_dispatch > last_close)))
    return active.union(waiting)


def stream_cases(session: Session, end: datetime, start: datetime | None = None) -> Iterator[list[EventRow]]:
    """Each case's events before ``end`` in seq order, one case at a time (with ``start``: only
    the cases that can count in [start, end), see ``candidates``)."""
    stmt = (select(Event.case_id, Event.at, Event.actor, Event.kind, Event.task_spec, Event.data)
            .where(Event.at < end).order_by(Event.case_id, Event.seq)
            .execution_options(yield_per=STREAM_ROWS))
    if start is not None:
        stmt = stmt.where(Event.case_id.in_(candidates(start, end)))
    current: list[EventRow] = []
    for row in session.execute(stmt):
        if current and row.case_id != current[0].case_id:
            yield current
            current = []
        data = orjson.loads(row.data) if row.kind in _READ_KINDS else {}
        current.append(EventRow(row.case_id, row.at, row.actor, row.kind, row.task_spec, data))
    if current:
        yield current


def _walk_all(session: Session, period: Period, keep: Callable[[int, set[Contribution]], None],
              narrow: bool = True) -> _Tally:
    tally = _Tally()
    for events in stream_cases(session, period.end, period.start if narrow else None):
        tally.events += len(events)
        out = walk_case(events, period.start, period.end)
        if out:
            tally.cases += 1
            keep(events[0].case_id, out)
    return tally


def _with_totals(out: set[Contribution]) -> set[Contribution]:
    return out | {(kind, TOTAL, metric) for kind, _key, metric in out}


def _names(session: Session) -> dict[Kind, dict[str, str]]:
    regions = {r.code: (r.level, r.name) for r in session.execute(select(Region.code, Region.level, Region.name))}
    names: dict[Kind, dict[str, str]] = {k: {} for k in Kind}
    for code, (level, name) in regions.items():
        if level in {k.value for k in Kind}:
            names[Kind(level)][code] = name
    names[Kind.DEPARTMENT] = {r.code: r.name for r in session.execute(select(Department.code, Department.name))}
    users = {r.username: r.display_name for r in session.execute(select(User.username, User.display_name))}
    for kind in (Kind.SUPERVISOR, Kind.ACCEPTOR, Kind.DISPATCHER, Kind.SHIFT_LEADER):
        names[kind] = users
    return names


def _unit(kind: Kind, key: str, name: str, counts: dict[Metric, int]) -> UnitResult:
    metrics, rates = COLUMNS[kind]
    return UnitResult(kind, key, name, {m: counts.get(m, 0) for m in metrics},
                      {r: RATE_FORMULAS[r].value(counts) for r in rates})


def _rank(kind: Kind, units: list[UnitResult], settings: ScoreSettings) -> None:
    volume_metric = VOLUME_METRIC[kind]
    busiest = max((u.counts.get(volume_metric, 0) for u in units), default=0)
    for u in units:
        u.volume = round(100.0 * u.counts.get(volume_metric, 0) / busiest, 2) if busiest else None
        u.score = settings.score(kind, u.rates, u.volume)
        u.grade = settings.grade(u.score)
    units.sort(key=lambda u: (u.score is None, -(u.score or 0.0), u.key))
    for i, u in enumerate(units, 1):
        u.rank = i if u.score is not None else None


def evaluate(session: Session, period: Period, settings: ScoreSettings | None = None, *,
             narrow: bool = True, timezone: str | None = None) -> Evaluation:
    """Every kind's results for ``period``, from the history events (``narrow=False`` walks every
    case instead of the candidates: the same numbers, slower; for tests and audits) and, for the
    supervisors' patrol counts, the patrol positions and roster (days in ``timezone``, default the
    configured city time zone)."""
    settings = settings or load_settings(session)
    names = _names(session)
    tally = _Tally()

    def keep(_case_id: int, out: set[Contribution]) -> None:
        tally.counts.update(_with_totals(out))

    walked = _walk_all(session, period, keep, narrow)
    grouped: dict[tuple[Kind, str], dict[Metric, int]] = {}
    for (kind, key, metric), n in tally.counts.items():
        grouped.setdefault((kind, key), {})[metric] = n
    _add_patrol(session, period, timezone, grouped)
    kinds: dict[Kind, KindResult] = {}
    for kind in Kind:
        units = [_unit(kind, key, names[kind].get(key, key), counts)
                 for (k, key), counts in grouped.items() if k == kind and key != TOTAL]
        _rank(kind, units, settings)
        total = _unit(kind, TOTAL, "", grouped.get((kind, TOTAL), {}))
        kinds[kind] = KindResult(kind, period, units, total)
    return Evaluation(period, kinds, settings, walked.cases, walked.events)


def _add_patrol(session: Session, period: Period, timezone: str | None,
                grouped: dict[tuple[Kind, str], dict[Metric, int]]) -> None:
    """The supervisors' cell-days (engine.patrol.coverage) beside their case counts."""
    counts = patrol_counts(session, period.start, period.end, timezone or load_config()["TIMEZONE"])
    total = grouped.setdefault((Kind.SUPERVISOR, TOTAL), {})
    for user, c in counts.items():
        mine = grouped.setdefault((Kind.SUPERVISOR, user), {})
        for metric, n in ((Metric.PATROL_CELLS, c.visited), (Metric.PATROL_CELLS_ASSIGNED, c.assigned),
                          (Metric.PATROL_CELLS_COVERED, c.covered)):
            mine[metric] = n
            total[metric] = total.get(metric, 0) + n


def counts_against(rate: Rate, metrics: set[Metric]) -> bool:
    """Does a case with these metrics count against ``rate`` (in its denominator, not its numerator,
    or in what it subtracts)? E.g. 按期结案率: due to close but not closed on time."""
    f = RATE_FORMULAS[rate]
    return bool((metrics & set(f.over) and not metrics & set(f.plus)) or metrics & set(f.minus))


def cases_behind(session: Session, period: Period, kind: Kind, key: str, what: Metric | Rate) -> list[int]:
    """Ids of the cases behind one number (``key`` = TOTAL for the kind's total), ascending: the
    cases a count counts, or for a rate the cases that count against it."""
    ids: list[int] = []

    def keep(case_id: int, out: set[Contribution]) -> None:
        mine = {m for k, u, m in (_with_totals(out) if key == TOTAL else out) if k == kind and u == key}
        if what in mine if isinstance(what, Metric) else counts_against(what, mine):
            ids.append(case_id)

    _walk_all(session, period, keep)
    return ids


_cache: LRUCache[tuple[Any, ...], Evaluation] = LRUCache(maxsize=32)
_cache_lock = threading.Lock()  # cachetools caches are not thread-safe; the web server is threaded


def cached_evaluate(session: Session, period: Period, now: datetime | None = None) -> Evaluation:
    """``evaluate`` reused until the settings change or, for a period not yet over at ``now``,
    until an event is appended. Events are recorded at the instant they happen, so nothing is
    added to a period that is over and its numbers can be kept."""
    over = now is not None and period.end <= now
    last_event = -1 if over else (session.scalar(select(func.max(Event.id))) or 0)
    # Patrol counts move with positions and the roster (a late batch lands in an earlier day).
    patrol = (session.scalar(select(func.max(Position.id))) or 0,
              session.scalar(select(func.max(RosterEntry.id))) or 0)
    settings = load_settings(session)
    key = (str(session.get_bind().engine.url), period, last_event, patrol, orjson.dumps(settings.as_dict()))
    with _cache_lock:
        found = _cache.get(key)
    if found is None:
        found = evaluate(session, period, settings)
        with _cache_lock:
            _cache[key] = found
    return found


__all__ = ["TOTAL", "Evaluation", "KindResult", "Period", "UnitResult", "cached_evaluate", "cases_behind",
           "counts_against", "evaluate", "stream_cases"]
