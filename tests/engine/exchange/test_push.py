"""Upward reporting and the 12345 feedback: in order, signed, at least once, with back-off, one sender."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine import signed_post as signing
from engine.exchange.hotline import receive_order
from engine.exchange.messages import SETTLE
from engine.exchange.peers import Peer, PeerName, peers_from_config
from engine.exchange.push import push
from engine.model import EngineContext
from engine.models import Case, ExchangeCursor, ExchangeLink
from engine.outbox import backoff
from tests.engine.exchange.receiver import Receiver
from tests.factories import CaseDriver

TZ = "Asia/Shanghai"
DEPT = "sanitation@330191"


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


def upward(url: str) -> Peer:
    return Peer(PeerName.UPWARD, url, "up-secret", "330100")


def walk_to_closed(driver: CaseDriver) -> None:
    driver.start()
    driver.do("verify", {"verdict": "confirmed"})
    driver.do("accept", {"decision": "file"})
    driver.do("file", {"decision": "file"})
    driver.do("dispatch", {"department": DEPT})
    driver.do("handle", {"outcome": "done", "result": "已清理"})
    driver.do("check", {"verdict": "passed"})
    driver.do("close", {})


def test_filed_and_closed_cases_go_up_in_order_signed_and_once(city, clock, receiver):
    driver = CaseDriver(city, EngineContext(clock))
    walk_to_closed(driver)
    peer = upward(receiver.url)
    early = push(city.factory, peer, clock.now(), TZ)
    assert early.sent == 0 and receiver.requests == []  # younger than SETTLE: may still gain a neighbour

    clock.advance(SETTLE)
    result = push(city.factory, peer, clock.now(), TZ)
    assert result.sent == 2 and not result.failed
    (request,) = receiver.requests
    assert signing.check("up-secret", request.headers["X-Citycase-Timestamp"],
                         request.headers["X-Citycase-Signature"], request.body, clock.now()) is None
    body = request.json
    assert body["format"] == "citycase-exchange/1" and body["platform"] == "330100"
    number = driver.case().number
    assert [(m["type"], m["case"]) for m in body["messages"]] == [("case.filed", number), ("case.closed", number)]
    closed = body["messages"][1]
    assert closed["result"] == "" and closed["class_code"] == driver.case().class_code
    assert closed["at"].endswith("+08:00") and len(closed["id"]) == 64  # the event's hash

    clock.advance(timedelta(minutes=1))
    assert push(city.factory, peer, clock.now(), TZ).sent == 0 and len(receiver.requests) == 1  # nothing twice


def test_a_refusing_peer_is_retried_after_back_off_and_loses_nothing(city, clock, receiver):
    driver = CaseDriver(city, EngineContext(clock))
    walk_to_closed(driver)
    clock.advance(SETTLE)
    peer = upward(receiver.url)
    receiver.status = 503
    assert push(city.factory, peer, clock.now(), TZ).failed
    with city.session() as s:
        cursor = s.get(ExchangeCursor, "upward")
        assert cursor.attempts == 1 and cursor.last_event_id == 0 and "HTTP 503" in cursor.last_error
        assert cursor.next_attempt_at == clock.now() + backoff(1)
    receiver.status = 200
    assert push(city.factory, peer, clock.now(), TZ).sent == 0  # back-off: not yet
    assert len(receiver.requests) == 1
    clock.advance(backoff(1))
    assert push(city.factory, peer, clock.now(), TZ).sent == 2
    assert [m["type"] for m in receiver.requests[-1].json["messages"]] == ["case.filed", "case.closed"]
    with city.session() as s:
        assert s.get(ExchangeCursor, "upward").last_error is None


def test_an_unreachable_peer_is_an_error_kept_for_the_admins(city, clock):
    walk_to_closed(CaseDriver(city, EngineContext(clock)))
    clock.advance(SETTLE)
    result = push(city.factory, upward("http://127.0.0.1:9/inbox"), clock.now(), TZ)
    assert result.failed
    with city.session() as s:
        assert "could not be reached" in s.get(ExchangeCursor, "upward").last_error


def test_one_sender_at_a_time(city, clock, receiver):
    walk_to_closed(CaseDriver(city, EngineContext(clock)))
    clock.advance(SETTLE)
    peer = upward(receiver.url)
    push(city.factory, peer, clock.now(), TZ)  # creates the cursor
    walk_to_closed(CaseDriver(city, EngineContext(clock)))
    clock.advance(SETTLE)
    with city.session() as s:  # another scheduler holds the lease right now
        s.get(ExchangeCursor, "upward").lease_until = clock.now() + timedelta(minutes=1)
    before = len(receiver.requests)
    assert push(city.factory, peer, clock.now(), TZ).sent == 0 and len(receiver.requests) == before
    clock.advance(timedelta(minutes=2))  # its lease ran out (it died): the batch is sent by us
    assert push(city.factory, peer, clock.now(), TZ).sent == 2


def test_12345_orders_become_cases_once_and_hear_how_they_end(city, clock, receiver):
    ctx = EngineContext(clock)
    order = {"order_no": "GD20261125001", "class_code": "E0102", "lon": city.city["center"][0],
             "lat": city.city["center"][1], "description": "小区门口垃圾", "caller_name": "李女士",
             "caller_phone": "13900001111", "platform_field": "ignored"}
    with city.session() as s:
        first = receive_order(s, ctx, order)
    with city.session() as s:
        again = receive_order(s, ctx, order)
        assert s.scalar(select(func.count()).select_from(Case)) == 1
        case = s.scalar(select(Case).where(Case.number == first.case_number))
        assert case.source == "hotline" and "13900001111" in case.reporter
        assert s.get(ExchangeLink, ("12345", "GD20261125001")).case_id == case.id
    assert first.created and not again.created and again.case_number == first.case_number

    driver = CaseDriver(city, ctx)
    driver.case_id = case.id
    for spec, data in (("verify", {"verdict": "confirmed"}), ("accept", {"decision": "file"}),
                       ("file", {"decision": "file"}), ("dispatch", {"department": DEPT}),
                       ("handle", {"outcome": "done", "result": "已清运"}), ("check", {"verdict": "passed"}),
                       ("close", {})):
        driver.do(spec, data)
    walk_to_closed(CaseDriver(city, ctx))  # a case 12345 did not send: not its business
    clock.advance(SETTLE)
    hotline = Peer(PeerName.HOTLINE, receiver.url, "hl-secret", "330100")
    assert push(city.factory, hotline, clock.now(), TZ).sent == 4
    messages = receiver.messages()
    assert [m["type"] for m in messages] == ["case.filed", "case.dispatched", "case.handled", "case.closed"]
    assert {m["external_id"] for m in messages} == {"GD20261125001"}
    assert messages[1]["department"]["code"] == DEPT and messages[1]["department"]["name"] != DEPT
    assert messages[2]["result"] == "已清运"


def test_a_bad_order_files_nothing(city, clock):
    from engine.errors import ValidationError

    with city.session() as s:
        for bad in ({"order_no": "x"}, {"order_no": "no spaces!", "class_code": "E0102", "lon": 1, "lat": 1}, []):
            with pytest.raises(ValidationError):
                receive_order(s, EngineContext(clock), bad)
        assert s.scalar(select(func.count()).select_from(Case)) == 0


def test_a_peer_without_a_secret_is_a_configuration_error():
    assert peers_from_config({}) == []
    with pytest.raises(ValueError, match="CITYCASE_EXCHANGE_UPWARD_SECRET"):
        peers_from_config({"EXCHANGE_UPWARD_URL": "https://province.example/in"})
