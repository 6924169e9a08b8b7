"""The pages for duplicates, reopening and the callback: an acceptor sees similar open cases next
to a new case and merges one (refusals in the user's language, nothing changed); the duplicate's
follow-up link shows the original's progress; a citizen reopens a closed case from the follow-up
page; the center reopens from the case page; verify passes after each."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from engine.audit import verify_all
from engine.commands.followup import REOPEN_DAYS
from engine.model import EngineContext
from engine.models import Case
from tests.factories import CaseDriver
from tests.web.webkit import login, make_app

DEPT = "sanitation@330191"


def _row(db, case_id: int) -> Case:
    with db.session() as s:
        return s.get(Case, case_id)


def _verified(db) -> None:
    with db.session() as s:
        assert verify_all(s)[1] == []


def _close(d: CaseDriver) -> None:
    for spec, data in (("verify", {"verdict": "confirmed"}), ("accept", {"decision": "file"}),
                       ("file", {"decision": "file"}), ("dispatch", {"department": DEPT}),
                       ("handle", {"outcome": "done", "result": "已清理"}), ("check", {"verdict": "passed"}),
                       ("close", {"note": "结案"})):
        d.do(spec, data)


def test_acceptor_merges_a_duplicate_and_its_reporter_follows_the_original(city, clock):
    app = make_app(city, clock)
    ctx = EngineContext(clock)
    original, duplicate, elsewhere = CaseDriver(city, ctx), CaseDriver(city, ctx), CaseDriver(city, ctx)
    original.start()
    duplicate.start(description="又看到这堆垃圾")
    elsewhere.start(class_code="C0101")
    o, d = _row(city, original.case_id), _row(city, duplicate.case_id)
    acceptor = app.test_client()
    login(acceptor, "acceptor1")
    page = acceptor.get(f"/cases/{d.number}").get_data(as_text=True)
    assert "可能重复的附近案卷" in page and o.number in page and _row(city, elsewhere.case_id).number not in page
    duplicate.do("verify", {"verdict": "confirmed"})
    with city.session() as s:
        from engine.models import TaskRow

        accept = s.scalar(select(TaskRow.id).where(TaskRow.case_id == duplicate.case_id))
    task_page = acceptor.get(f"/tasks/{accept}").get_data(as_text=True)  # the acceptor's step of the new case
    assert "可能重复的附近案卷" in task_page and f"将本案卷合并到 {o.number}" in task_page

    # Refused: into itself, into another kind of problem, without a reason — each said in Chinese.
    for form, words in (({"original": d.number, "reason": "x"}, "不能合并到自身"),
                        ({"original": _row(city, elsewhere.case_id).number, "reason": "x"}, "不是同一类问题"),
                        ({"original": o.number, "reason": ""}, "请说明原因")):
        response = acceptor.post(f"/cases/{d.number}/merge", data=form, follow_redirects=True)
        assert response.status_code == 200 and words in response.get_data(as_text=True), words
        assert _row(city, duplicate.case_id).status == "open"
    dispatcher = app.test_client()
    login(dispatcher, "dispatcher1")
    assert dispatcher.post(f"/cases/{d.number}/merge", data={"original": o.number, "reason": "同一处"}).status_code == 403

    response = acceptor.post(f"/cases/{d.number}/merge", data={"original": o.number, "reason": "同一处垃圾"},
                             follow_redirects=True)
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "已合并" in text and d.number in text  # the original's page
    assert _row(city, duplicate.case_id).status == "merged" and duplicate.tasks() == []
    from tests.web.test_api import conforms, sign_in

    api = conforms(sign_in(app, "acceptor1").get(f"/api/v1/cases/{d.number}"), "/cases/{number}", "get")
    assert api["case"]["status"] == "merged" and api["tasks"] == []  # the JSON API's schema knows merged
    dup_page = acceptor.get(f"/cases/{d.number}").get_data(as_text=True)
    assert "已合并" in dup_page and o.number in dup_page and "merge-form" not in dup_page

    citizen = app.test_client()
    text = citizen.get(f"/follow/{_row(city, duplicate.case_id).public_token}").get_data(as_text=True)
    assert o.number in text and "合并" in text
    original.do("verify", {"verdict": "confirmed"})
    text = citizen.get(f"/follow/{_row(city, duplicate.case_id).public_token}").get_data(as_text=True)
    assert "已现场核实" in text  # the original's progress
    _verified(city)


def test_citizen_reopens_from_the_follow_up_page_within_the_window(city, clock):
    app = make_app(city, clock)
    d = CaseDriver(city, EngineContext(clock))
    d.start()
    path = f"/follow/{_row(city, d.case_id).public_token}"
    citizen = app.test_client()
    assert "reopen-form" not in citizen.get(path).get_data(as_text=True)  # not closed yet
    _close(d)
    text = citizen.get(path).get_data(as_text=True)
    assert "reopen-form" in text and "没有解决" in text
    response = citizen.post(path + "/reopen", data={"reason": ""}, follow_redirects=True)
    assert "请说明原因" in response.get_data(as_text=True) and _row(city, d.case_id).status == "closed"
    response = citizen.post(path + "/reopen", data={"reason": "垃圾还在"}, follow_redirects=True)
    assert "已重新开启" in response.get_data(as_text=True) and "已重开，将重新处理" in response.get_data(as_text=True)
    assert _row(city, d.case_id).status == "open" and d.tasks() == ["dispatch"]
    _verified(city)
    # A second round, then past the window: no form, and a late post is refused in Chinese.
    d.do("dispatch", {"department": DEPT})
    d.do("handle", {"outcome": "done", "result": "再次清理"})
    d.do("check", {"verdict": "passed"})
    d.do("close", {})
    d.do("Followup_callback", {"satisfaction": "satisfied", "channel": "phone"})
    clock.advance(timedelta(days=REOPEN_DAYS + 1))
    assert "reopen-form" not in citizen.get(path).get_data(as_text=True)
    response = citizen.post(path + "/reopen", data={"reason": "又坏了"}, follow_redirects=True)
    assert "重新上报" in response.get_data(as_text=True) and _row(city, d.case_id).status == "closed"
    _verified(city)


def test_callback_task_and_center_reopen_on_the_case_page(city, clock):
    app = make_app(city, clock)
    d = CaseDriver(city, EngineContext(clock))
    d.start()
    _close(d)
    acceptor = app.test_client()
    login(acceptor, "acceptor1")
    with city.session() as s:
        from engine.models import TaskRow

        task_id = s.scalar(select(TaskRow.id).where(TaskRow.case_id == d.case_id,
                                                     TaskRow.spec_id == "Followup_callback"))
    page = acceptor.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "回访" in page and "基本满意" in page
    version = re.search(r'name="expected_version" value="(\d+)"', page).group(1)
    response = acceptor.post(f"/tasks/{task_id}", data={"satisfaction": "basically", "channel": "phone",
                                                      "note": "电话回访", "expected_version": version},
                             follow_redirects=True)
    assert response.status_code == 200 and d.tasks() == []
    number = _row(city, d.case_id).number
    page = acceptor.get(f"/cases/{number}").get_data(as_text=True)
    assert "reopen-form" in page and "回访" in page
    response = acceptor.post(f"/cases/{number}/reopen", data={"reason": "市民来电称仍未解决"}, follow_redirects=True)
    assert response.status_code == 200 and d.tasks() == ["dispatch"]
    assert "重开" in acceptor.get(f"/cases/{number}").get_data(as_text=True)
    _verified(city)


def test_the_follow_up_rating_answers_the_callback(city, clock):
    app = make_app(city, clock)
    d = CaseDriver(city, EngineContext(clock))
    d.start()
    _close(d)
    assert d.tasks() == ["Followup_callback"]
    path = f"/follow/{_row(city, d.case_id).public_token}"
    citizen = app.test_client()
    assert citizen.post(path + "/rate", data={"rating": "3", "note": "还行"}).status_code == 302
    case = _row(city, d.case_id)
    assert case.rating == 3 and case.status == "closed" and d.tasks() == []  # no call needed
    with city.session() as s:
        from engine.models import Event

        answer = s.scalars(select(Event).where(Event.case_id == d.case_id, Event.task_spec == "Followup_callback")).one()
    assert '"basically"' in answer.data and '"web"' in answer.data
    _verified(city)
