"""A simulated city: reports arrive, simulated caseworkers act, timers fire — on a simulated clock.

One event loop serves both modes: ``--cases N`` (N reports, each driven to its end along a
randomly chosen but valid path; the first cases follow scripted plans so that every branch of
the manual is taken) and ``--days D --cases-per-day N`` (reports arrive by time of day and day
of week for D days; open cases stay open at the end). Timers fire through the scheduler's own
code. Everything random comes from one seeded generator: same seed, same result.

Extension points (engine/designer/whatif.py builds on them; keep them public and small):
``report_random()`` and ``case_random(case_id)`` pick the generators that reports and each case's
actors draw from, ``act_at(sim, row, rng)`` decides when an actor acts, and ``run(arrivals=…)``
replays given reports at their own instants instead of random ones.
"""

from __future__ import annotations

import heapq
import random
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from engine.calendar import get_calendar
from engine.clock import ManualClock
from engine.commands import complete_task, merge_case, start_case, supervise
from engine.commands.device_normal import device_back_to_normal
from engine.db import transaction
from engine.errors import CityCaseError, Conflict, ValidationError
from engine.model import Actor, EngineContext
from engine.models import Case, Deadline, GridCell, Outbox, ProblemClass, TaskRow
from engine.scheduler import tick

BRANCHES = (
    "verify_confirmed", "verify_not_found", "self_handled_closed", "self_handled_to_normal", "accept_void",
    "file_void", "return_approved", "return_rejected", "extension_approved", "extension_rejected",
    "suspension_approved", "suspension_rejected", "resumed", "rework", "closed", "deadline_warning",
    "overdue_escalation", "supervision_order", "device_check", "callback_satisfied", "callback_reopened",
    "merged_duplicate",
)
SOURCES = ("supervisor", "supervisor", "citizen", "hotline", "camera", "sensor")
# The demo's staged lights (Simulator._stage): planned this long before the end, with classes whose
# handling limit is at least this many working minutes.
STAGE_AHEAD = timedelta(days=30)
MIN_STAGED_LIMIT = 240.0


@dataclass(frozen=True)
class Plan:
    """The decisions a case's actors will take, in order.

    Frozen, with tuples: the scripted plans are module-level and shared by every simulation in
    the process, so a case's progress through its plan lives in its ``CaseSim``, never in the plan
    (popping the plan's own lists once made a second simulation skip the scripted branches).
    """

    source: str = "citizen"
    self_handled: bool = False
    self_confirm: str = "close"
    verify: str = "confirmed"
    accept: str = "file"
    file: str = "file"
    wrong_first_dispatch: bool = False
    handle: tuple[str, ...] = ()  # outcomes before the final "done"
    approvals: tuple[str, ...] = ()  # approve / reject, in order
    checks: tuple[str, ...] = ()  # "failed" before the final "passed"
    late: bool = False
    supervise: bool = False
    device_normal: bool = False  # a sensor case whose device reports normal again while it is handled
    callback: str = "satisfied"  # the reporter's answer at the 回访 (unsatisfied: reopened once)
    duplicate: bool = False  # reported again at the previous case's place: merged at accept


SCRIPTED: tuple[Plan, ...] = (
    Plan(),
    Plan(source="supervisor", self_handled=True, self_confirm="close"),
    Plan(source="supervisor", self_handled=True, self_confirm="normal"),
    Plan(verify="not_found"),
    Plan(source="supervisor", accept="void", file="void"),
    Plan(source="hotline", file="void"),
    Plan(wrong_first_dispatch=True, handle=("return",), approvals=("approve",)),
    Plan(handle=("return",), approvals=("reject",)),
    Plan(handle=("extend",), approvals=("approve",)),
    Plan(handle=("extend",), approvals=("reject",)),
    Plan(handle=("suspend",), approvals=("approve",)),
    Plan(handle=("suspend",), approvals=("reject",)),
    Plan(checks=("failed",)),
    Plan(late=True),
    Plan(supervise=True),
    Plan(source="sensor", device_normal=True),
    Plan(source="hotline", callback="unsatisfied"),
    Plan(duplicate=True),
)


def random_plan(rng: random.Random) -> Plan:
    source = rng.choice(SOURCES)
    choices: dict[str, Any] = {"source": source}
    if source == "supervisor" and rng.random() < 0.1:
        choices["self_handled"] = True
        choices["self_confirm"] = "close" if rng.random() < 0.8 else "normal"
    if source != "supervisor" and rng.random() < 0.08:
        choices["verify"] = "not_found"
    if rng.random() < 0.04:
        choices["file"] = "void"
        choices["accept"] = rng.choice(["void", "file"])
    roll = rng.random()
    if roll < 0.06:
        choices["handle"], choices["approvals"] = ("return",), (rng.choice(["approve", "approve", "reject"]),)
        choices["wrong_first_dispatch"] = choices["approvals"][0] == "approve"
    elif roll < 0.11:
        choices["handle"], choices["approvals"] = ("extend",), (rng.choice(["approve", "approve", "reject"]),)
    elif roll < 0.14:
        choices["handle"], choices["approvals"] = ("suspend",), (rng.choice(["approve", "reject"]),)
    if rng.random() < 0.08:
        choices["checks"] = ("failed",)
    choices["late"] = rng.random() < 0.12
    choices["supervise"] = rng.random() < 0.03
    if source in ("citizen", "hotline"):
        choices["callback"] = rng.choices(["satisfied", "basically", "unsatisfied"], [70, 20, 10])[0]
        choices["duplicate"] = rng.random() < 0.05
    return Plan(**choices)


@dataclass(frozen=True)
class Arrival:
    """A report to replay at its own instant (``run(arrivals=…)``); ``key`` names the original
    report, so a subclass can give each replayed case draws of its own."""

    at: datetime
    source: str
    class_code: str
    lon: float
    lat: float
    self_handled: bool = False
    key: str = ""


@dataclass
class CaseSim:
    """One simulated case: its (shared, immutable) plan and how far its actors have got through it."""

    plan: Plan
    dispatches: int = 0
    supervised: bool = False
    key: str = ""  # the replayed report's key (Arrival.key), empty for a random report
    device_told: bool = False
    reopened: bool = False
    original: int | None = None  # the case a duplicate repeats
    handle: list[str] = field(init=False)
    approvals: list[str] = field(init=False)
    checks: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.handle, self.approvals, self.checks = list(self.plan.handle), list(self.plan.approvals), \
            list(self.plan.checks)


class Simulator:
    def __init__(self, factory: sessionmaker[Session], ctx: EngineContext, seed: int,
                 progress: Callable[[str], None] | None = None) -> None:
        if not isinstance(ctx.clock, ManualClock):
            raise ValueError("the simulator needs a ManualClock")
        self.factory = factory
        self.ctx = ctx
        self.clock: ManualClock = ctx.clock
        self.rng = random.Random(seed)
        self.progress = progress or (lambda _msg: None)
        self.queue: list[tuple[datetime, int, str, Any]] = []
        self.seq = 0
        self.cases: dict[int, CaseSim] = {}
        self.branches: Counter[str] = Counter()
        self.step_hours: dict[str, list[float]] = defaultdict(list)
        self.errors: Counter[str] = Counter()
        self.tz = ZoneInfo(ctx.timezone)
        self.limits: dict[str, float] = {}  # class → its handling limit in working minutes, as seen so far
        self.staged: set[int] = set()  # cases left open at ``until`` in a chosen light (see _stage)
        self.until: datetime | None = None
        self._handled: set[int] = set()
        with factory() as s:
            self.cells = [r for r in s.execute(select(GridCell.code, GridCell.district_code, GridCell.min_lon,
                                                      GridCell.min_lat, GridCell.max_lon, GridCell.max_lat)
                                               .order_by(GridCell.code))]
            self.classes = list(s.scalars(select(ProblemClass.code).where(ProblemClass.active)
                                          .order_by(ProblemClass.code)))
            self.calendar = get_calendar(s, ctx.timezone, ctx.work_windows)
        if not self.cells or not self.classes:
            raise CityCaseError("the database has no city; run: citycase seed demo")

    # --- scheduling ---------------------------------------------------------------------------
    def _push(self, at: datetime, kind: str, payload: Any) -> None:
        self.seq += 1
        heapq.heappush(self.queue, (at, self.seq, kind, payload))

    def _arrivals_for_day(self, day_start_local: datetime, count: int) -> None:
        weekend = day_start_local.weekday() >= 5
        n = count // 2 if weekend else count
        for _ in range(n):
            # Reports follow the patrols: most between 08:00 and 18:00, peaking in the morning.
            hour = min(23.5, max(6.0, self.rng.gauss(11.0, 3.0)))
            at = day_start_local + timedelta(hours=hour)
            self._push(at.astimezone(self.clock.now().tzinfo), "report", None)

    # --- actors -----------------------------------------------------------------------------------
    @staticmethod
    def actor_for(row: TaskRow) -> Actor:
        if row.role == "supervisor":
            n = {"330191": 1, "330192": 3, "330193": 5}.get(row.district_code, 1)
            return Actor(f"supervisor{n}", "supervisor", None, row.district_code)
        if row.role in ("handler", "leader"):
            dept = row.department_code or ""
            return Actor(f"{row.role}_{dept.replace('@', '_')}", row.role, dept)
        return {"acceptor": Actor("acceptor1", "acceptor", "supervision_center"),
                "shift_leader": Actor("shiftleader1", "shift_leader", "supervision_center"),
                "dispatcher": Actor("dispatcher1", "dispatcher", "command_center")}[row.role]

    def _decide(self, sim: CaseSim, row: TaskRow, session: Session) -> dict[str, Any]:
        plan = sim.plan
        spec = row.spec_id
        if spec == "verify":
            self.branches["verify_" + plan.verify] += 1
            return {"verdict": plan.verify, "note": "现场核实"}
        if spec == "confirm_self_handled":
            self.branches["self_handled_closed" if plan.self_confirm == "close" else "self_handled_to_normal"] += 1
            return {"decision": plan.self_confirm}
        if spec == "accept":
            return {"decision": plan.accept}
        if spec == "file":
            if plan.file == "void":
                self.branches["accept_void" if plan.accept == "void" else "file_void"] += 1
                return {"decision": "void", "void_reason": "不属于城管范围"}
            return {"decision": "file"}
        if spec == "dispatch":
            sim.dispatches += 1
            suggested = _suggested_department(session, row) or "sanitation"
            if plan.wrong_first_dispatch and sim.dispatches == 1:
                others = ["municipal", "greening", "drainage", "construction"]
                suggested = self.case_random(row.case_id).choice([d for d in others if d != suggested])
            return {"department": suggested}
        if spec == "handle":
            outcome = sim.handle.pop(0) if sim.handle else "done"
            data: dict[str, Any] = {"outcome": outcome, "result": "已处置" if outcome == "done" else "申请"}
            if outcome == "extend":
                data.update(extension_amount=self.case_random(row.case_id).randint(1, 3), extension_unit="workday")
            return data
        if spec in ("approve_return", "approve_extension", "approve_suspension"):
            decision = sim.approvals.pop(0) if sim.approvals else "approve"
            name = spec.split("_", 1)[1]
            self.branches[f"{name}_{'approved' if decision == 'approve' else 'rejected'}"] += 1
            return {"decision": decision}
        if spec == "resume":
            self.branches["resumed"] += 1
            return {"note": "条件具备，恢复处置"}
        if spec == "check":
            verdict = sim.checks.pop(0) if sim.checks else "passed"
            if verdict == "failed":
                self.branches["rework"] += 1
            return {"verdict": verdict}
        if spec == "close":
            return {"note": "结案"}
        if spec == "Device_check":  # a device back to normal: the supervisor checks on site
            self.branches["device_check"] += 1
            return {"device_verdict": "restored", "device_note": "现场核查, 已恢复正常"}
        if spec == "Followup_callback":
            answer = "satisfied" if sim.reopened else plan.callback
            reopen = answer == "unsatisfied"
            sim.reopened = sim.reopened or reopen
            self.branches["callback_reopened" if reopen else "callback_satisfied"] += 1
            return {"satisfaction": answer, "channel": "phone", "reopen": reopen, "note": "电话回访"}
        if spec == "escalate":
            self.branches["overdue_escalation"] += 1
            return {"level": "order", "order": "请立即处置并反馈"}
        raise CityCaseError(f"the simulator does not know task {spec}")

    # --- extension points -----------------------------------------------------------------------
    def report_random(self) -> random.Random:
        """The generator a new report (place, class, plan) draws from; by default the one of the run."""
        return self.rng

    def case_random(self, case_id: int) -> random.Random:
        """The generator case ``case_id``'s actors draw from; by default the one of the run."""
        return self.rng

    def act_at(self, sim: CaseSim, row: TaskRow, rng: random.Random) -> datetime:
        """When the actor acts: a fraction of the step's working-time limit (late cases go past it)."""
        now = self.clock.now()
        if row.case_id in self.staged and self.until is not None:
            # Staged: straight to the department, whose handler then waits past the end of the demo.
            return self.until + timedelta(days=1) if row.spec_id == "handle" else now + timedelta(minutes=1)
        if row.spec_id == "resume":
            return self.calendar.add_working_time(now, rng.uniform(1, 3), "workday")
        if row.due_at is not None and row.due_at > row.created_at:
            limit = self.calendar.working_time_between(row.created_at, row.due_at)
            late = sim.plan.late and row.spec_id == "handle"
            frac = rng.uniform(1.05, 1.5) if late else rng.uniform(0.1, 0.75)
            at = self.calendar.add_working_time(row.created_at, max(1.0, frac * limit), "minute")
            if late != (at > row.due_at):  # a step counted around the clock (emergencies): clock time
                at = row.created_at + (row.due_at - row.created_at) * frac
            return max(at, now + timedelta(minutes=1))
        return self.calendar.add_working_time(now, rng.uniform(5, 60), "minute")

    # --- the demo's lights --------------------------------------------------------------------------
    def _stage(self, per_light: int) -> None:
        """Report cases whose handling task will stand in a chosen light at ``until``.

        A task is green before 80 % of its working-time limit has elapsed, yellow until 100 %,
        red after. For a class whose handling limit L the simulation has already seen, a report
        made when ``f`` × L of working time remains before ``until`` reaches the department at
        once (staged cases move in minutes) and is left there: f = 0.3–0.6 green, 0.86–0.94
        yellow, 1.2–1.8 red — and a few 10–16 × L: cases a department let slide, still open a week or
        two after their deadline, which a weekly overdue review (上周超期) finds. Working time, not
        clock time, so a demo started at night or on a weekend shows the same mix (the lights stand
        still outside working hours)."""
        assert self.until is not None
        now = self.clock.now()
        room = self.calendar.working_time_between(now, self.until)
        bands = ((0.3, 0.6, per_light), (0.86, 0.94, per_light), (1.2, 1.8, per_light),
                 (10.0, 16.0, max(1, per_light // 2)))
        for lo, hi, count in bands:
            # Classes whose limit fits the time left (and is long enough for minutes not to matter).
            fits = sorted(c for c, limit in self.limits.items() if MIN_STAGED_LIMIT <= limit and hi * limit < room)
            for i in range(count if fits else 0):
                code = fits[i % len(fits)]
                remaining = self.limits[code] * (lo + (hi - lo) * (i + 0.5) / count)
                self._push(self._before_until(remaining), "staged", code)

    def _before_until(self, minutes: float) -> datetime:
        """The latest instant with ``minutes`` of working time left before ``until`` (bisection:
        the calendar walks forward only)."""
        assert self.until is not None
        lo, hi = self.clock.now(), self.until
        while hi - lo > timedelta(seconds=30):
            mid = lo + (hi - lo) / 2
            if self.calendar.working_time_between(mid, self.until) >= minutes:
                lo = mid
            else:
                hi = mid
        return lo

    # --- the loop ---------------------------------------------------------------------------------
    def _report(self, arrival: Arrival | None = None, class_code: str | None = None) -> None:
        """A report: random, a real one replayed (``arrival``), or a staged one (``class_code``, see ``_stage``)."""
        rng = self.report_random()
        cell = rng.choice(self.cells)
        if class_code is not None:
            # staged cases go to each district in turn, so every sub-center's lists show every light
            districts = sorted({c.district_code for c in self.cells})
            home = districts[len(self.staged) % len(districts)]
            cell = rng.choice([c for c in self.cells if c.district_code == home])
            sim = CaseSim(Plan(source="supervisor"))
        else:
            scripted = arrival is None and len(self.cases) < len(SCRIPTED)
            sim = CaseSim(SCRIPTED[len(self.cases)] if scripted else random_plan(rng))
        lon = rng.uniform(cell.min_lon, cell.max_lon)
        lat = rng.uniform(cell.min_lat, cell.max_lat)
        report = {"source": sim.plan.source, "class_code": class_code or rng.choice(self.classes), "lon": lon,
                  "lat": lat, "description": "模拟上报", "self_handled": sim.plan.self_handled}
        if arrival is not None:  # the real report; the actors' plan stays drawn, matched to its source
            self_handled = arrival.self_handled and arrival.source == "supervisor"
            sim = CaseSim(replace(sim.plan, source=arrival.source, self_handled=self_handled), key=arrival.key)
            report.update(source=arrival.source, class_code=arrival.class_code, lon=arrival.lon, lat=arrival.lat,
                          self_handled=self_handled)
        if sim.plan.duplicate and self.cases and arrival is None and class_code is None:
            # The same problem reported again, where the previous report was.
            sim.original = max(self.cases)
            with self.factory() as s:
                before = s.execute(select(Case.class_code, Case.lon, Case.lat).where(Case.id == sim.original)).one()
            report.update(class_code=before.class_code, lon=before.lon, lat=before.lat, description="重复上报")
        reporter = Actor("supervisor1", "supervisor") if sim.plan.source == "supervisor" else Actor("citizen", "citizen")
        with transaction(self.factory) as s:
            result = start_case(s, self.ctx, report, reporter)
        self.cases[result.case_id] = sim
        if class_code is not None:
            self.staged.add(result.case_id)
        self._schedule_case(result.case_id)

    def _schedule_case(self, case_id: int) -> None:
        with self.factory() as s:
            rows = list(s.scalars(select(TaskRow).where(TaskRow.case_id == case_id).order_by(TaskRow.created_at,
                                                                                            TaskRow.id)))
        if not rows:
            return
        sim = self.cases[case_id]
        rng = self.case_random(case_id)
        for r in rows:  # a case's first handling task has the class's full limit (later ones may not)
            if r.spec_id == "handle" and r.due_at is not None and case_id not in self._handled:
                self._handled.add(case_id)
                self.limits.setdefault(r.class_code, self.calendar.working_time_between(r.created_at, r.due_at))
        at = min(self.act_at(sim, r, rng) for r in rows)
        self._push(at, "act", case_id)

    def _act(self, case_id: int) -> None:
        sim = self.cases[case_id]
        with self.factory() as s:
            rows = list(s.scalars(select(TaskRow).where(TaskRow.case_id == case_id).order_by(TaskRow.created_at,
                                                                                            TaskRow.id)))
        if not rows:
            return
        # Escalations first (a leader reacts), then the oldest task.
        row = sorted(rows, key=lambda r: (r.spec_id != "escalate", r.created_at))[0]
        if sim.plan.supervise and not sim.supervised and row.spec_id == "handle":
            sim.supervised = True
            with transaction(self.factory) as s:
                supervise(s, self.ctx, case_id, Actor(f"leader_{(row.department_code or '').replace('@', '_')}", "leader",
                                                      row.department_code), "order", "请加快处置")
            self.branches["supervision_order"] += 1
        if sim.plan.device_normal and not sim.device_told and row.spec_id == "handle":
            sim.device_told = True
            with transaction(self.factory) as s:
                device_back_to_normal(s, self.ctx, case_id, Actor("device:SIM", "system"),
                                      {"device": "SIM", "state": "normal", "was": "alarm"})
            self._schedule_case(case_id)
        if row.spec_id == "accept" and sim.original is not None and self._merged(case_id, sim):
            return
        now = self.clock.now()
        try:
            with transaction(self.factory) as s:
                data = self._decide(sim, row, s)
                complete_task(s, self.ctx, row.id, self.actor_for(row), data)
            self.step_hours[row.spec_id].append(self.calendar.working_time_between(row.created_at, now, "workhour"))
        except Conflict:
            self.errors["conflict"] += 1
        self._schedule_case(case_id)

    def _merged(self, case_id: int, sim: CaseSim) -> bool:
        """The acceptor merges a duplicate into its original when that is still open."""
        try:
            with transaction(self.factory) as s:
                original = s.scalar(select(Case.number).where(Case.id == sim.original))
                merge_case(s, self.ctx, case_id, original or "", Actor("acceptor1", "acceptor"), "重复上报，合并")
        except (ValidationError, Conflict):
            sim.original = None  # the original is finished: handle this report on its own
            self._schedule_case(case_id)
            return True
        self.branches["merged_duplicate"] += 1
        return True

    def _fire_due(self) -> int:
        now = self.clock.now()
        with self.factory() as s:
            due = list(s.scalars(select(Deadline.case_id).where(Deadline.due_at <= now).distinct()))
        if not due:
            return 0
        tick(self.factory, self.ctx, sender=lambda _kind, _payload: None)
        for case_id in due:
            if case_id in self.cases:
                self._schedule_case(case_id)
        return len(due)

    def _next_deadline(self) -> datetime | None:
        with self.factory() as s:
            return s.scalar(select(func.min(Deadline.due_at)))

    def run(self, *, cases: int | None = None, days: int | None = None, cases_per_day: int = 0,
            until: datetime | None = None, arrivals: Sequence[Arrival] | None = None,
            per_light: int = 0) -> dict[str, Any]:
        """Simulate ``cases`` reports, or ``days`` of ``cases_per_day``; with ``until`` the days stop at
        that instant instead of the last day's end, leaving tasks open at every stage as they stand
        then. ``per_light`` (with ``until``) adds that many handling tasks open at ``until`` in each
        light (green, yellow, red), whatever the hour or day ``until`` falls on (see ``_stage``).
        With ``arrivals``, exactly those reports come in, each at its instant, until ``until``."""
        start = self.clock.now()
        local_midnight = start.astimezone(self.tz).replace(hour=0, minute=0, second=0, microsecond=0)
        if arrivals is not None:
            for arrival in sorted(arrivals, key=lambda a: a.at):
                self._push(max(arrival.at, start), "report", arrival)
            horizon = until
        elif cases is not None:
            # Spread the reports over working days at roughly 200 a day.
            per_day = max(1, min(cases, 200))
            remaining, day = cases, 0
            while remaining > 0:
                d = local_midnight + timedelta(days=day)
                if self.calendar.is_working_day(d.date()):
                    n = min(per_day, remaining)
                    for _ in range(n):
                        self._push(d + timedelta(hours=self.rng.uniform(8.5, 17.5)), "report", None)
                    remaining -= n
                day += 1
            horizon = None
        else:
            for day in range(days or 0):
                self._arrivals_for_day(local_midnight + timedelta(days=day), cases_per_day)
            horizon = until or local_midnight + timedelta(days=days or 0)
            if until is not None and per_light > 0:
                self.until = until
                self._push(max(start, until - STAGE_AHEAD), "stage", per_light)
        done = 0
        stuck: datetime | None = None
        while self.queue:
            at, _, kind, payload = self.queue[0]
            next_deadline = self._next_deadline()
            if next_deadline is not None and next_deadline <= at and next_deadline != stuck:
                stuck = next_deadline  # a timer that does not fire is not retried in a loop
                # SpiffWorkflow fires a timer strictly after its instant; never past the horizon (the
                # demo ends at the present: its clock must not run ahead of it).
                fire_at = max(next_deadline + timedelta(seconds=1), self.clock.now())
                if horizon is not None and fire_at >= horizon:
                    break
                self.clock.set(fire_at)
                self._fire_due()
                continue
            heapq.heappop(self.queue)
            if horizon is not None and at >= horizon:
                break
            self.clock.set(max(at, self.clock.now()))
            if kind == "stage":
                self._stage(payload)
            elif kind in ("report", "staged"):
                if kind == "report":
                    self._report(payload)
                else:
                    self._report(None, payload)
                done += 1
                if done % 100 == 0:
                    self.progress(f"reports {done}, simulated time {self.clock.now().astimezone(self.tz):%Y-%m-%d %H:%M}")
            else:
                self._act(payload)
        return self.summary(start)

    def summary(self, start: datetime) -> dict[str, Any]:
        ids = list(self.cases)
        with self.factory() as s:
            outcomes = Counter(dict(s.execute(select(func.coalesce(Case.outcome, Case.status), func.count())
                                             .where(Case.id.in_(ids)).group_by(func.coalesce(Case.outcome,
                                                                                            Case.status))).all()))
            kinds = Counter(dict(s.execute(select(Outbox.kind, func.count()).where(Outbox.case_id.in_(ids))
                                           .group_by(Outbox.kind)).all()))
            overdue_cases = set(s.scalars(select(Outbox.case_id).where(Outbox.case_id.in_(ids),
                                                                      Outbox.kind == "overdue")))
            closed = list(s.scalars(select(Case.id).where(Case.id.in_(ids), Case.outcome == "closed")))
            open_tasks = s.scalar(select(func.count()).select_from(TaskRow).where(TaskRow.case_id.in_(ids))) or 0
            overdue_open = s.scalar(select(func.count()).select_from(TaskRow).where(
                TaskRow.case_id.in_(ids), TaskRow.due_at < self.clock.now())) or 0
        self.branches["closed"] = outcomes.get("closed", 0)
        self.branches["deadline_warning"] = kinds.get("deadline_warning", 0)
        on_time = [c for c in closed if c not in overdue_cases]

        def stats(values: list[float]) -> dict[str, float]:
            values = sorted(values)
            return {"n": len(values), "mean": round(statistics.fmean(values), 2),
                    "p50": round(values[len(values) // 2], 2), "p90": round(values[int(len(values) * 0.9)], 2),
                    "max": round(values[-1], 2)}

        return {
            "cases": len(ids),
            "outcomes": dict(sorted(outcomes.items())),
            "branches": {b: self.branches.get(b, 0) for b in BRANCHES},
            "all_branches_taken": all(self.branches.get(b, 0) > 0 for b in BRANCHES),
            "missing_branches": [b for b in BRANCHES if self.branches.get(b, 0) == 0],
            "warnings": kinds.get("deadline_warning", 0),
            "overdue": kinds.get("overdue", 0),
            "step_warnings": kinds.get("step_warning", 0),  # the other timed steps (verify … close)
            "step_overdue": kinds.get("step_overdue", 0),
            "escalations": self.branches.get("overdue_escalation", 0),
            "supervision_orders": self.branches.get("supervision_order", 0),
            "open_tasks_at_end": open_tasks,
            "overdue_open_tasks_at_end": overdue_open,
            "on_time_closing_rate": round(len(on_time) / len(closed), 4) if closed else None,
            "working_hours_per_step": {k: stats(v) for k, v in sorted(self.step_hours.items()) if v},
            "conflicts": self.errors.get("conflict", 0),
            "simulated_from": start.isoformat(),
            "simulated_until": self.clock.now().isoformat(),
        }


def _suggested_department(session: Session, row: TaskRow) -> str | None:
    from engine.queries.process_data import task_data

    return task_data(session, row.id).get("suggested_department") or None
