"""Password hashes: made and checked in the engine, readable by (and from) Werkzeug's format."""

from __future__ import annotations

from werkzeug.security import check_password_hash, generate_password_hash

from engine.passwords import check_password, hash_password


def test_a_hash_checks_its_own_password_only_and_is_salted():
    first, second = hash_password("路灯-Lamp-2026"), hash_password("路灯-Lamp-2026")
    assert first != second  # salted
    assert check_password(first, "路灯-Lamp-2026") and check_password(second, "路灯-Lamp-2026")
    assert not check_password(first, "路灯-lamp-2026")


def test_hashes_stored_before_are_still_accepted_and_ours_read_the_same_way():
    for method in ("scrypt", "pbkdf2:sha256:1000"):
        old = generate_password_hash("demo1234", method=method)
        assert check_password(old, "demo1234") and not check_password(old, "demo12345")
    assert check_password_hash(hash_password("demo1234"), "demo1234")


def test_a_damaged_hash_is_a_refusal_not_an_error():
    for stored in ("", "garbage", "scrypt:x:8:1$salt$00", "md5$salt$00", "scrypt$$"):
        assert not check_password(stored, "demo1234")
