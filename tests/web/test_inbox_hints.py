"""What a new user of the inbox would otherwise stumble on: an empty "My tasks" says that tasks
wait in the group and links there; on a phone the filters start folded unless some are set."""

from __future__ import annotations

from tests.web.webkit import login, make_app, supervisor_case


def test_empty_mine_points_to_the_waiting_group_tasks(sqlite_city, clock):
    supervisor_case(sqlite_city, clock)
    client = make_app(sqlite_city, clock).test_client()
    login(client, "acceptor1")
    page = client.get("/inbox").get_data(as_text=True)
    assert "组内有 1 个任务等待签收" in page and 'class="to-group"' in page and "tab=group" in page
    assert 'data-narrow-closed="yes"' in page  # folded on a phone: nothing filtered
    filtered = client.get("/inbox?tab=group&district=330191").get_data(as_text=True)
    assert "等待签收" not in filtered and 'data-narrow-closed="no"' in filtered
    cases = client.get("/cases?district=330191").get_data(as_text=True)
    assert 'data-narrow-closed="no"' in cases and "上周超期" in cases
