"""SQLite with several writers: a request that loses the write lock gets a clear 409, nothing saved."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError

from web import create_app


def test_a_locked_sqlite_database_is_a_409_with_advice(sqlite_city, clock, monkeypatch):
    app = create_app({"DATABASE_URL": sqlite_city.url, "TESTING": True, "CLOCK": clock, "WTF_CSRF_ENABLED": False})
    import web.report.views as views

    def locked(*_args, **_kwargs):
        raise OperationalError("INSERT …", {}, Exception("database is locked"))

    monkeypatch.setattr(views, "start_case", locked)
    client = app.test_client()
    lon, lat = sqlite_city.city["center"]
    response = client.post("/report/public", data={"class_code": "E0102", "lon": lon, "lat": lat,
                                                   "description": "垃圾"})
    assert response.status_code == 409
    assert "请重试" in response.get_data(as_text=True)  # nothing saved: the user may simply try again
