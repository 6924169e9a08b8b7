"""Photo uploads: content checks, size cap, metadata stripping, who may see a photo, rate limits."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import select

from engine.models import Attachment
from tests.web.webkit import jpeg_bytes, login, make_app


def _upload(client, data: bytes, name: str = "p.jpg", stage: str = "report"):
    return client.post("/attachments", data={"stage": stage, "file": (io.BytesIO(data), name)})


def test_upload_ok_returns_a_token(sqlite_city, clock):
    client = make_app(sqlite_city, clock).test_client()
    login(client, "supervisor1")
    response = _upload(client, jpeg_bytes())
    assert response.status_code == 201
    body = response.get_json()
    assert len(body["token"]) >= 16 and body["content_type"] == "image/jpeg"
    with sqlite_city.session() as s:
        row = s.scalar(select(Attachment).where(Attachment.token == body["token"]))
        assert row.uploaded_by == "supervisor1" and row.case_id is None and row.stage == "report"
    # The uploader sees it (and its thumbnail); somebody else does not.
    assert client.get(body["url"]).status_code == 200
    thumb = client.get(body["thumb"])
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    other = make_app(sqlite_city, clock).test_client()
    login(other, "supervisor3")
    assert other.get(body["url"]).status_code == 404
    assert make_app(sqlite_city, clock).test_client().get(body["url"]).status_code == 404


def test_upload_rejects_what_is_not_an_image(sqlite_city, clock):
    client = make_app(sqlite_city, clock).test_client()
    login(client, "supervisor1")
    for data, name in ((b"%PDF-1.4 not a photo", "x.jpg"), (b"GIF89a" + b"\0" * 40, "x.gif"),
                       (jpeg_bytes()[:200], "cut.jpg"), (b"", "empty.jpg")):
        response = _upload(client, data, name)
        assert response.status_code == 400, name
        assert response.get_json()["error"] == "ValidationError"
    gif = io.BytesIO()
    Image.new("RGB", (8, 8)).save(gif, "GIF")
    assert _upload(client, gif.getvalue(), "real.gif").status_code == 400
    assert client.post("/attachments", data={"stage": "report"}).status_code == 400
    with sqlite_city.session() as s:
        assert s.scalar(select(Attachment.id)) is None


def test_upload_rejects_files_over_the_cap(sqlite_city, clock):
    client = make_app(sqlite_city, clock, UPLOAD_MAX_BYTES=2000).test_client()
    login(client, "supervisor1")
    big = jpeg_bytes(size=(600, 600))
    assert len(big) > 2000
    response = _upload(client, big)
    assert response.status_code == 400 and response.get_json()["fields"]["file"] == "too_large"
    assert _upload(client, jpeg_bytes(size=(8, 8))).status_code == 201


def test_exif_and_gps_are_stripped(sqlite_city, clock):
    original = jpeg_bytes(gps=True)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)
    client = make_app(sqlite_city, clock).test_client()
    login(client, "supervisor1")
    body = _upload(client, original).get_json()
    stored = client.get(body["url"]).data
    img = Image.open(io.BytesIO(stored))
    assert img.format == "JPEG" and img.size == (64, 48)
    assert not img.getexif() and "exif" not in img.info
    assert b"Exif" not in stored and b"TestCam" not in stored


def test_webp_and_png_are_reencoded_in_their_format(sqlite_city, clock):
    client = make_app(sqlite_city, clock).test_client()
    login(client, "supervisor1")
    for fmt, mime in (("PNG", "image/png"), ("WEBP", "image/webp")):
        body = _upload(client, jpeg_bytes(fmt=fmt), "x." + fmt.lower()).get_json()
        assert body["content_type"] == mime


def test_anonymous_upload_rate_limit(sqlite_city, clock):
    app = make_app(sqlite_city, clock, PUBLIC_RATE_LIMIT="3/hour")
    anonymous = app.test_client()
    for _ in range(3):
        assert _upload(anonymous, jpeg_bytes()).status_code == 201
    response = _upload(anonymous, jpeg_bytes())
    assert response.status_code == 429
    # Signed-in staff are not limited by the public limit.
    staff = app.test_client()
    login(staff, "supervisor1")
    for _ in range(4):
        assert _upload(staff, jpeg_bytes()).status_code == 201


def test_anonymous_may_only_upload_report_photos(sqlite_city, clock):
    client = make_app(sqlite_city, clock).test_client()
    assert _upload(client, jpeg_bytes(), stage="handle").status_code == 403
    body = _upload(client, jpeg_bytes()).get_json()
    assert client.get(body["thumb"]).status_code == 200  # its own preview
