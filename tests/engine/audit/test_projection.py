"""Cases filed before the start event recorded the report: a note, never a failure."""

from __future__ import annotations

from sqlalchemy import select

from engine.audit import NoteKind, verify_session
from engine.audit.chain import row_hash
from engine.models import Case
from tests.engine.audit.tamper import tamper


def test_a_legacy_start_event_without_report_is_a_note(city, three):
    """Rewrite the first case's start event as the engine wrote it before reports were recorded
    (chain recomputed, as a migration of old data would look) and blank its salt."""
    import orjson

    from engine.db import make_engine

    number = three[0]
    engine = make_engine(city.url)
    with engine.connect() as conn:
        rows = [list(r) for r in conn.exec_driver_sql(
            "SELECT e.id, e.seq, e.at, e.actor, e.kind, e.task_id, e.task_spec, e.data, e.spec_hash, e.prev_hash, "
            f"e.hash FROM event e JOIN case_record c ON c.id = e.case_id WHERE c.number = '{number}' "
            "ORDER BY e.seq")]
    engine.dispose()
    data = orjson.loads(rows[0][7])
    legacy = {k: v for k, v in data.items() if k not in ("report", "reporter_commitment")}
    rows[0][7] = orjson.dumps(legacy, option=orjson.OPT_SORT_KEYS).decode()
    statements, params, prev = [], {}, "0" * 64
    for row in rows:
        row[9], row[10] = prev, row_hash(number, row[1:], prev)
        statements.append(f"UPDATE event SET data = :data{row[0]}, prev_hash = '{prev}', hash = '{row[10]}' "
                          f"WHERE id = {row[0]}")
        params[f"data{row[0]}"] = row[7]
        prev = row[10]
    statements.append(f"UPDATE case_record SET last_hash = '{prev}', reporter_salt = NULL WHERE number = '{number}'")
    tamper(city, *statements, **params)
    with city.session() as s:
        report = verify_session(s)
        assert s.scalar(select(Case.reporter).where(Case.number == number))
    assert report.ok, [str(p) for p in report.problems]
    legacy = [n for n in report.notes if n.kind == NoteKind.LEGACY_REPORT]
    assert [n.number for n in legacy] == [number] and "legacy case: report not in history" in legacy[0].detail
