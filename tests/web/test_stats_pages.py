"""/stats and /command: who may open them, department scoping, drill-down, Excel, live counts."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from engine.commands import complete_task
from engine.evaluation import Kind
from engine.model import Actor, EngineContext
from tests.web.webkit import login, supervisor_case, task

PERIOD = "month=2026-11"


def test_roles_and_department_scope(app, city):
    client = app.test_client()
    login(client, "handler_sanitation_330191")
    assert client.get("/stats").status_code == 403
    assert client.get("/command/data.json").status_code == 403
    login(client, "leader_sanitation_330191")
    assert client.get(f"/stats?{PERIOD}").status_code == 200
    assert client.get(f"/stats?kind=district&{PERIOD}").status_code == 403
    assert client.get(f"/stats/cases?kind=department&key=greening&metric=dispatched&{PERIOD}").status_code == 403
    assert client.get(f"/stats/cases?kind=department&key=*&metric=dispatched&{PERIOD}").status_code == 403
    own = client.get(f"/stats/cases?kind=department&key=sanitation@330191&metric=dispatched&{PERIOD}")
    assert own.status_code == 200
    assert client.get(f"/stats/export.xlsx?kind=district&{PERIOD}").status_code == 403
    login(client, "leader1")
    page = client.get(f"/stats?{PERIOD}")
    assert page.status_code == 200 and "综合评价" in page.get_data(as_text=True)
    assert client.get("/stats?kind=nonsense").status_code == 400
    assert client.get("/stats?month=2026-13").status_code == 400


def _dispatch(city, clock, case_id):
    ctx = EngineContext(clock)
    for spec, actor, data in (("accept", Actor("acceptor1", "acceptor"), {"decision": "file"}),
                              ("file", Actor("shiftleader1", "shift_leader"), {"decision": "file"}),
                              ("dispatch", Actor("dispatcher1", "dispatcher"), {"department": "sanitation@330191"})):
        row = task(city, case_id, spec)
        with city.session() as s:
            complete_task(s, ctx, row.id, actor, data)


def test_command_screen_follows_cases_and_stats_drill_down(app, city, clock):
    client = app.test_client()
    login(client, "leader1")
    before = client.get("/command/data.json").get_json()
    case = supervisor_case(city, clock)
    after_report = client.get("/command/data.json").get_json()
    assert after_report["today"]["reported"] == before["today"]["reported"] + 1
    assert after_report["latest"][0]["number"] == case.number
    _dispatch(city, clock, case.case_id)
    after_dispatch = client.get("/command/data.json").get_json()
    assert after_dispatch["today"]["dispatched"] == before["today"]["dispatched"] + 1
    assert after_dispatch["today"]["filed"] == before["today"]["filed"] + 1
    assert sum(d["green"] + d["yellow"] + d["red"] for d in after_dispatch["departments"]) >= 1
    assert client.get("/command").status_code == 200
    # The dispatched case is in the department's row and behind its number.
    page = client.get(f"/stats?kind=department&{PERIOD}").get_data(as_text=True)
    assert 'data-key="sanitation@330191"' in page
    drill = client.get(f"/stats/cases?kind=department&key=sanitation@330191&metric=dispatched&{PERIOD}")
    assert drill.status_code == 200 and case.number in drill.get_data(as_text=True)
    xlsx = client.get(f"/stats/export.xlsx?kind=department&{PERIOD}")
    ws = load_workbook(io.BytesIO(xlsx.data)).worksheets[0]
    header = [c.value for c in ws[3]]
    total = next(r for r in ws.iter_rows(min_row=4, values_only=True) if r[0] == "合计")
    assert total[header.index("派遣数")] == 1


def test_hotspots_page(app, city, clock):
    supervisor_case(city, clock)
    client = app.test_client()
    login(client, "leader_sanitation_330191")
    assert client.get("/stats/hotspots").status_code == 403
    login(client, "leader1")
    page = client.get(f"/stats/hotspots?{PERIOD}&bucket=week&by=class")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "下周预测" in text and 'id="hotspot-data"' in text
    assert client.get("/stats/hotspots?within=0").status_code == 400
    assert client.get("/stats/hotspots?bucket=year").status_code == 400


def test_admin_edits_weights_and_grades(app, city):
    client = app.test_client()
    login(client, "leader1")
    assert client.get("/stats/settings").status_code == 403
    assert client.post("/stats/settings", data={"kind": "department", "term": "volume", "weight": "0.5"}
                       ).status_code == 403
    login(client, "admin1")
    assert client.get("/stats/settings").status_code == 200
    client.post("/stats/settings", data={"kind": "department", "term": "volume", "weight": "0.5"})
    client.post("/stats/settings", data={"what": "grade", "grade": "A", "min_score": "95"})
    bad = client.post("/stats/settings", data={"kind": "department", "term": "nonsense", "weight": "0.5"},
                      follow_redirects=True)
    assert "未保存" in bad.get_data(as_text=True)
    from engine.evaluation.scoring import load_settings

    with city.factory() as s:
        settings = load_settings(s)
    assert settings.weights[Kind.DEPARTMENT]["volume"] == 0.5
    assert ("A", 95.0) in settings.bands and "nonsense" not in settings.weights[Kind.DEPARTMENT]
