"""API keys: shown once, stored as sha256 only, verified by hash, revocable."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from engine.apikeys import create_key, hash_key, list_keys, revoke, verify_key
from engine.errors import NotFound, ValidationError
from engine.models import ApiKey


def test_create_stores_only_the_hash(db, clock):
    with db.session() as s:
        row, plaintext = create_key(s, "fixmystreet", clock.now())
        key_id = row.id
    assert len(plaintext) >= 40
    with db.session() as s:
        stored = s.get(ApiKey, key_id)
        assert stored.key_hash == hashlib.sha256(plaintext.encode()).hexdigest()
        assert stored.name == "fixmystreet" and stored.active
        assert stored.created_at == clock.now()
        assert plaintext not in {stored.name, stored.key_hash}


def test_verify_and_revoke(db, clock):
    with db.session() as s:
        row, plaintext = create_key(s, "app", clock.now())
        other, _ = create_key(s, "other", clock.now())
        key_id = row.id
    with db.session() as s:
        assert verify_key(s, plaintext).id == key_id
        assert verify_key(s, plaintext + "x") is None
        assert verify_key(s, "") is None
        assert verify_key(s, None) is None
        assert verify_key(s, "a" * 10_000) is None
        assert verify_key(s, hash_key(plaintext)) is None  # the stored hash is not a key
    with db.session() as s:
        revoke(s, key_id)
    with db.session() as s:
        assert verify_key(s, plaintext) is None
        assert [(k.name, k.active) for k in list_keys(s)] == [("app", False), ("other", True)]


def test_keys_are_unique_and_names_checked(db, clock):
    with db.session() as s:
        keys = {create_key(s, f"k{i}", clock.now())[1] for i in range(5)}
        assert len(keys) == 5
        assert len(set(s.scalars(select(ApiKey.key_hash)))) == 5
        with pytest.raises(ValidationError):
            create_key(s, "  ", clock.now())
        with pytest.raises(ValidationError):
            create_key(s, "x" * 101, clock.now())


def test_revoke_unknown(db):
    with db.session() as s, pytest.raises(NotFound):
        revoke(s, 999)
