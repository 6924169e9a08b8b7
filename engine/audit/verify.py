"""``verify``: every case (chain, row, replay) and the whole history (checkpoints, case numbers).

Cases are split into id ranges of ``CHUNK`` ids; with ``workers`` > 1 the ranges run in worker
processes (each with its own engine and session — connections are never shared across a fork),
and the history-wide checks run as one more job beside them. ``progress`` is called with the
number of cases done after each range, so the CLI can draw a bar.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from engine.audit import checkpoints, log
from engine.audit.cases import case_ids, verify_one, verify_range
from engine.audit.problems import NoteKind, Problem, ProblemKind, VerifyReport
from engine.audit.signing import PublicKey

CHUNK = 2000
SMALL = 3000  # fewer cases than this: verify in this process (starting workers costs more)


@dataclass(frozen=True)
class Options:
    full: bool = True  # replay every case and compare its state, not only chains and rows
    workers: int = 0  # 0 = one per core; 1 = in this process
    public_key: PublicKey | None = None  # checks stored checkpoints' signatures when given
    against: tuple[checkpoints.SignedCheckpoint, ...] | None = None  # an export to prove against


def history_checks(session: Session, options: Options) -> VerifyReport:
    """Checks over the whole history: stored checkpoints, an export, the case-number sequence."""
    report = VerifyReport()
    report.extend(log.check_case_numbers(session))
    saved = checkpoints.stored(session)
    if options.against is not None:
        if options.public_key is None:
            raise ValueError("an export is verified with a public key given separately, never its own")
        against = list(options.against)
        report.extend(log.check_signatures(against, options.public_key))
        report.extend(log.check_roots(session, against))
        report.extend(log.check_access(session, against))
        have = {c.hash for c in saved}
        for i, cp in enumerate(against, start=1):
            if cp.hash not in have:
                report.add(Problem(ProblemKind.CHECKPOINT_MISSING,
                                   f"checkpoint {i} of the export (size {cp.body.tree_size}, {cp.body.created_at}) "
                                   f"is no longer in the database"))
        return report
    if not saved:
        report.add(Problem(NoteKind.NO_CHECKPOINT, "no signed checkpoint yet: deleted history is found only "
                                                   "through case heads and case numbers"))
        report.extend(log.check_access(session, []))
        return report
    if options.public_key is not None:
        report.extend(log.check_signatures(saved, options.public_key))
    report.extend(log.check_roots(session, saved))
    report.extend(log.check_access(session, saved))
    return report


def id_chunks(session: Session, workers: int = 1) -> tuple[int, list[tuple[int, int]]]:
    """(number of cases, id ranges covering every case row and every event's case id): at most
    CHUNK ids each, and at least four per worker so that the workers finish together."""
    lo, hi, n = session.execute(text("SELECT min(id), max(id), count(*) FROM case_record")).one()
    elo, ehi = session.execute(text("SELECT min(case_id), max(case_id) FROM event")).one()
    los = [v for v in (lo, elo) if v is not None]
    his = [v for v in (hi, ehi) if v is not None]
    if not los:
        return 0, []
    start, end = min(los), max(his)
    chunk = max(1, min(CHUNK, (end - start + 1) // (4 * workers)))
    return n or 0, [(a, min(a + chunk - 1, end)) for a in range(start, end + 1, chunk)]


def run(factory, options: Options, progress: Callable[[int, int], None] | None = None) -> VerifyReport:
    """Verify every case and the whole history (``factory``: a sessionmaker bound to an engine)."""
    with factory() as session:
        total = session.execute(text("SELECT count(*) FROM case_record")).scalar() or 0
        # Auto (0): workers only when there is enough to split; an explicit count is obeyed.
        workers = options.workers or (os.cpu_count() or 1 if total >= SMALL else 1)
        total, chunks = id_chunks(session, workers)
    if workers <= 1:
        return _in_process(factory, options, chunks, total, progress)
    engine = factory.kw["bind"]
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()  # no pooled connection may be inherited by the forked workers
    return _in_workers(url, options, chunks, total, workers, progress)


def verify_session(session: Session, options: Options = Options(workers=1)) -> VerifyReport:
    """Everything, in this process, on an open session (tests, the web's small databases)."""
    report = VerifyReport()
    _, chunks = id_chunks(session)
    for lo, hi in chunks:
        report.merge(verify_range(session, lo, hi, full=options.full))
    history = history_checks(session, options)
    history.checked = 0
    report.merge(history)
    return report


def _in_process(factory, options: Options, chunks: list[tuple[int, int]], total: int,
                progress: Callable[[int, int], None] | None) -> VerifyReport:
    report = VerifyReport()
    with factory() as session:
        for lo, hi in chunks:
            report.merge(verify_range(session, lo, hi, full=options.full))
            if progress:
                progress(report.checked, total)
        history = history_checks(session, options)
    history.checked = 0
    report.merge(history)
    return report


def _in_workers(url: str, options: Options, chunks: list[tuple[int, int]], total: int, workers: int,
                progress: Callable[[int, int], None] | None) -> VerifyReport:
    report = VerifyReport()
    # fork: workers start at once with the definitions already imported; each opens its own engine.
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures: set[Future[VerifyReport]] = {pool.submit(_history_job, url, options)}
        futures |= {pool.submit(_range_job, url, lo, hi, options.full) for lo, hi in chunks}
        while futures:
            done, futures = wait(futures, return_when=FIRST_COMPLETED)
            for f in done:
                report.merge(f.result())
            if progress:
                progress(report.checked, total)
    return report


_worker_factory = None


def _factory(url: str):
    global _worker_factory
    if _worker_factory is None:
        from engine.db import make_engine, session_factory

        _worker_factory = session_factory(make_engine(url))
    return _worker_factory


def _range_job(url: str, lo: int, hi: int, full: bool) -> VerifyReport:
    with _factory(url)() as session:
        return verify_range(session, lo, hi, full=full)


def _history_job(url: str, options: Options) -> VerifyReport:
    with _factory(url)() as session:
        report = history_checks(session, options)
    report.checked = 0
    return report


def verify_cases(session: Session, numbers: Sequence[str], *, full: bool = True) -> VerifyReport:
    """Only the named cases (chain, row, replay); LookupError names the numbers that do not exist."""
    ids = case_ids(session, numbers)
    unknown = [n for n in numbers if n not in ids]
    if unknown:
        raise LookupError(f"no case {', '.join(unknown)}")
    report = VerifyReport()
    for number in numbers:
        report.merge(verify_range(session, ids[number], ids[number], full=full))
    return report


__all__ = ["Options", "run", "verify_session", "verify_cases", "history_checks", "verify_one"]
