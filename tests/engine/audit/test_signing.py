"""Checkpoint signatures: Ed25519 (default) and SM2 with SM3 (国密); keys made once, exported, reloaded."""

from __future__ import annotations

import hashlib

import pytest

from engine.audit.signing import KeyFileError, digest_function, generate, load_public, signing_key
from engine.config import load_config


def test_sm3_digest_is_the_standard_one():
    # GB/T 32905-2016, example 1: SM3("abc")
    assert digest_function("sm3")(b"abc").hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert digest_function("sha256")(b"abc") == hashlib.sha256(b"abc").digest()


@pytest.mark.parametrize("algorithm", ["ed25519", "sm2"])
def test_sign_verify_and_reject(algorithm):
    key = generate(algorithm)
    signature = key.sign(b"checkpoint")
    assert key.public.verify(b"checkpoint", signature)
    assert not key.public.verify(b"checkpoint!", signature)
    assert not generate(algorithm).public.verify(b"checkpoint", signature)  # another key
    exported = load_public(key.public.export().encode())
    assert exported == key.public and exported.verify(b"checkpoint", signature)


@pytest.mark.parametrize("algorithm", ["ed25519", "sm2"])
def test_the_instance_key_is_created_once_and_kept(tmp_path, algorithm):
    config = load_config({"INSTANCE_DIR": str(tmp_path), "AUDIT_SIGNATURE": algorithm})
    first = signing_key(config)
    assert (tmp_path / f"audit_{algorithm}.key").stat().st_mode & 0o777 == 0o600
    assert signing_key(config).public == first.public


def test_a_configured_key_that_is_missing_or_of_another_kind_is_an_error(tmp_path):
    with pytest.raises(KeyFileError, match="does not exist"):
        signing_key(load_config({"AUDIT_SIGNING_KEY": str(tmp_path / "nope.pem")}))
    config = load_config({"INSTANCE_DIR": str(tmp_path), "AUDIT_SIGNATURE": "sm2"})
    sm2_file = tmp_path / "audit_sm2.key"
    signing_key(config)
    with pytest.raises(KeyFileError):
        signing_key(load_config({"AUDIT_SIGNING_KEY": str(sm2_file), "AUDIT_SIGNATURE": "ed25519"}))


def test_bad_algorithm_settings_are_refused(monkeypatch):
    monkeypatch.setenv("CITYCASE_AUDIT_HASH", "md5")
    with pytest.raises(ValueError, match="sha256, sm3"):
        load_config()
