"""Checks over the whole history rather than one case: checkpoints against the events, and the
case-number sequence against the cases.

``check_checkpoints`` proves the current event log still holds everything a list of signed
checkpoints covered: each signature verifies with a public key the caller trusts, each
checkpoint names the previous one, and the Merkle root recomputed over the first ``tree_size``
events (id order, id <= last_event_id) equals the signed root — for all checkpoints in one
streaming pass. Equal roots at every size also prove each later checkpoint consistent with the
earlier ones (both are computed from the same leaves). When they differ, the first failing
checkpoint bounds the damage to the events between it and the one before.

``check_access`` does for the auditor access log what the roots do for the events: its own
hash chain shows an edited or removed entry, and each checkpoint's signed head (entries, last
hash) shows a cut tail — the entries the checkpoint saw must all still be there, ending in the
signed hash.

``check_case_numbers`` catches a deleted case (row, tasks and events): case numbers come from a
per-day counter in the same transaction as the case, so numbers 1..counter must all exist.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.audit import access_log
from engine.audit.checkpoints import SignedCheckpoint, leaf_data
from engine.audit.merkle import TreeBuilder
from engine.audit.problems import Problem, ProblemKind
from engine.audit.rows import raw_rows
from engine.audit.signing import HashAlgorithm, PublicKey, digest_function
from engine.history import GENESIS
from engine.models import Case, Counter

_MAX_NAMED = 50  # missing case numbers named one by one; beyond that, counted


def check_signatures(checkpoints: list[SignedCheckpoint], key: PublicKey) -> list[Problem]:
    """Each checkpoint's hash, signature and link to the previous one."""
    problems: list[Problem] = []
    prev = GENESIS
    for i, cp in enumerate(checkpoints, start=1):
        label = f"checkpoint {i} (size {cp.body.tree_size})"
        try:
            HashAlgorithm(cp.body.hash_alg)
            ok_hash = cp.body.digest() == cp.hash
        except (ValueError, TypeError):
            ok_hash = False
        if not ok_hash:
            problems.append(Problem(ProblemKind.CHECKPOINT_INVALID, f"{label}: its content does not match its hash"))
        elif not cp.signature_ok(key):
            problems.append(Problem(ProblemKind.CHECKPOINT_INVALID,
                                    f"{label}: the signature does not verify with the given public key "
                                    f"(key {key.fingerprint[:16]}…, checkpoint names {str(cp.body.key_id)[:16]}…)"))
        if cp.body.prev_hash != prev:
            problems.append(Problem(ProblemKind.CHECKPOINT_INVALID,
                                    f"{label}: does not follow the checkpoint before it (one was removed or "
                                    f"replaced)"))
        prev = cp.hash
    return problems


def check_roots(session: Session, checkpoints: list[SignedCheckpoint]) -> list[Problem]:
    """Recompute every checkpoint's root from the events in one pass; the first mismatch is reported."""
    by_alg: dict[str, list[SignedCheckpoint]] = defaultdict(list)
    for cp in checkpoints:
        if not (isinstance(cp.body.tree_size, int) and isinstance(cp.body.last_event_id, int)):
            continue  # damaged: its hash no longer matches (check_signatures)
        try:
            by_alg[HashAlgorithm(cp.body.hash_alg)].append(cp)
        except ValueError:
            continue  # reported by check_signatures
    problems: list[Problem] = []
    for alg, group in by_alg.items():
        problems += _check_group(session, alg, sorted(group, key=lambda c: (c.body.last_event_id, c.body.tree_size)))
    return problems


def _check_group(session: Session, alg: str, group: list[SignedCheckpoint]) -> list[Problem]:
    builder = TreeBuilder(digest_function(alg))
    pending = list(group)
    previous_id = 0
    last = max(cp.body.last_event_id for cp in group)

    def settle(upto_id: int | None) -> Problem | None:
        """Compare every checkpoint whose range ends before ``upto_id`` (None: all that are left)."""
        nonlocal previous_id
        while pending and (upto_id is None or pending[0].body.last_event_id < upto_id):
            cp = pending.pop(0)
            found = _compare(cp, builder, previous_id)
            if found is not None:
                return found
            previous_id = cp.body.last_event_id
        return None

    rows = raw_rows(session, f"SELECT id, hash FROM event WHERE id <= {int(last)} ORDER BY id", 10_000)
    for event_id, event_hash in rows:
        found = settle(event_id)
        if found is not None:
            rows.close()  # type: ignore[attr-defined]
            return [found]
        builder.add(leaf_data(event_hash))
    found = settle(None)
    return [found] if found is not None else []


def _compare(cp: SignedCheckpoint, builder: TreeBuilder, previous_id: int) -> Problem | None:
    b = cp.body
    span = f"events with id {previous_id + 1}–{b.last_event_id}"
    if builder.size < b.tree_size:
        return Problem(ProblemKind.LOG_MISSING,
                       f"{b.tree_size - builder.size} of the {b.tree_size} events covered by the checkpoint of "
                       f"{b.created_at} are missing (among {span}): history was deleted or truncated")
    if builder.size > b.tree_size:
        return Problem(ProblemKind.LOG_CHANGED,
                       f"{builder.size - b.tree_size} events were added among {span}, which the checkpoint of "
                       f"{b.created_at} had already covered")
    if builder.root().hex() != b.root:
        return Problem(ProblemKind.LOG_CHANGED,
                       f"the events covered by the checkpoint of {b.created_at} no longer hash to its signed root: "
                       f"one of the {span} was changed or replaced")
    return None


def check_access(session: Session, checkpoints: list[SignedCheckpoint]) -> list[Problem]:
    """The access log's chain, and its end against every checkpoint's signed head."""
    problems: list[Problem] = []
    broken = access_log.check_chain(session)
    if broken is not None:
        where = f"entry {broken.seq}: " if broken.seq else ""
        kind = ProblemKind.ACCESS_LOG_MISSING if "missing" in broken.reason else ProblemKind.ACCESS_LOG_CHANGED
        problems.append(Problem(kind, f"the auditor access log is broken at {where}{broken.reason}"))
    return problems + check_access_anchors(session, checkpoints)


def check_access_anchors(session: Session, checkpoints: list[SignedCheckpoint]) -> list[Problem]:
    """The access log's end against every checkpoint's signed head (entries, last hash)."""
    problems: list[Problem] = []
    anchored = [cp for cp in checkpoints if isinstance(cp.body.access_size, int) and cp.body.access_size > 0]
    if not anchored:
        return problems
    size, _ = access_log.head(session)
    stored = access_log.hashes_at(session, [cp.body.access_size for cp in anchored])  # type: ignore[misc]
    widest = max(anchored, key=lambda cp: cp.body.access_size or 0)
    signed = widest.body.access_size or 0
    if size < signed:
        problems.append(Problem(ProblemKind.ACCESS_LOG_MISSING,
                                f"the auditor access log ends at entry {size}, but the checkpoint of "
                                f"{widest.body.created_at} signed {signed} entries: entries {size + 1}–{signed} "
                                f"were removed (its tail was truncated)"))
    for cp in anchored:
        n = cp.body.access_size or 0
        if n in stored and stored[n] != cp.body.access_hash:
            problems.append(Problem(ProblemKind.ACCESS_LOG_CHANGED,
                                    f"auditor access log entry {n} is not the one the checkpoint of "
                                    f"{cp.body.created_at} signed: entries up to {n} were edited or replaced"))
            break  # the first mismatch bounds the damage; later ones follow from it
    return problems


def check_case_numbers(session: Session) -> list[Problem]:
    """Case numbers issued by the per-day counters whose cases are gone."""
    issued = {name.removeprefix("case:"): value for name, value in
              session.execute(select(Counter.name, Counter.value).where(Counter.name.like("case:%")))}
    day = func.substr(Case.number, 1, 8)
    present: dict[str, int] = {d: n for d, n in session.execute(select(day, func.count(Case.id)).group_by(day))}
    problems: list[Problem] = []
    for d, value in sorted(issued.items()):
        if not isinstance(value, int):
            problems.append(Problem(ProblemKind.UNREADABLE, f"the case-number counter of {d} is not a number: "
                                                            f"{value!r}"))
            continue
        if present.get(d, 0) >= value:
            continue
        numbers = set(session.scalars(select(Case.number).where(Case.number.like(f"{d}%"))))
        missing = [f"{d}{n:05d}" for n in range(1, value + 1) if f"{d}{n:05d}" not in numbers]
        for number in missing[:_MAX_NAMED]:
            problems.append(Problem(ProblemKind.CASE_MISSING, "the case was issued this number but is gone "
                                                              "(its row, tasks and history were deleted)", number))
        if len(missing) > _MAX_NAMED:
            problems.append(Problem(ProblemKind.CASE_MISSING, f"{len(missing) - _MAX_NAMED} more case numbers of "
                                                              f"{d} are missing"))
    return problems


__all__ = ["check_signatures", "check_roots", "check_access", "check_access_anchors", "check_case_numbers"]
