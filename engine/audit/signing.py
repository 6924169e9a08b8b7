"""Hash and signature algorithms of the global log: SHA-256 + Ed25519 by default, SM3 + SM2 (国密)
where a city's security assessment (等保/密评) requires them.

Ed25519 comes from ``cryptography`` (keys as PEM); SM2 signatures from ``gmssl`` (keys as hex in
a small JSON file, there is no PEM for SM2 in either library); SM3 digests from OpenSSL through
``cryptography``. The signing key lives in a file named by configuration (``AUDIT_SIGNING_KEY``)
or, when none is configured, in instance/ — created on first use. Its public half is exported
for the outside party that keeps the checkpoints: an export never carries its own trust anchor.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from engine.audit.merkle import Digest


class HashAlgorithm(StrEnum):
    SHA256 = "sha256"
    SM3 = "sm3"


class SignatureAlgorithm(StrEnum):
    ED25519 = "ed25519"
    SM2 = "sm2"


class KeyFileError(ValueError):
    """A key file that cannot be read or does not fit the configured algorithm."""


def digest_function(algorithm: str) -> Digest:
    alg = HashAlgorithm(algorithm)
    if alg is HashAlgorithm.SHA256:
        return lambda data: hashlib.sha256(data).digest()
    from cryptography.hazmat.primitives import hashes

    def sm3(data: bytes) -> bytes:
        h = hashes.Hash(hashes.SM3())
        h.update(data)
        return h.finalize()

    return sm3


@dataclass(frozen=True)
class PublicKey:
    algorithm: SignatureAlgorithm
    raw: bytes  # Ed25519: 32 bytes; SM2: the 64-byte point x ‖ y

    @property
    def fingerprint(self) -> str:
        """sha256 of the algorithm and raw key: what checkpoints name as their key_id."""
        return hashlib.sha256(self.algorithm.encode() + b":" + self.raw).hexdigest()

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            if self.algorithm is SignatureAlgorithm.ED25519:
                from cryptography.exceptions import InvalidSignature
                from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

                try:
                    Ed25519PublicKey.from_public_bytes(self.raw).verify(signature, message)
                    return True
                except InvalidSignature:
                    return False
            return bool(_sm2(None, self.raw).verify_with_sm3(signature.hex(), message))
        except (ValueError, TypeError):
            return False

    def export(self) -> str:
        """PEM for Ed25519 (readable by openssl); a JSON document for SM2."""
        if self.algorithm is SignatureAlgorithm.ED25519:
            from cryptography.hazmat.primitives import serialization
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

            return Ed25519PublicKey.from_public_bytes(self.raw).public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        return json.dumps({"algorithm": self.algorithm.value, "public_key": self.raw.hex()}) + "\n"


@dataclass(frozen=True)
class SigningKey:
    algorithm: SignatureAlgorithm
    private: bytes
    public: PublicKey

    def sign(self, message: bytes) -> bytes:
        if self.algorithm is SignatureAlgorithm.ED25519:
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

            return Ed25519PrivateKey.from_private_bytes(self.private).sign(message)
        crypt = _sm2(self.private, self.public.raw)
        while True:  # a fresh secret nonce below the curve order (gmssl's default uses `random`)
            signature = crypt.sign_with_sm3(message, secrets.token_hex(32))
            if signature:
                return bytes.fromhex(signature)


def _sm2(private: bytes | None, public: bytes):
    from gmssl.sm2 import CryptSM2

    crypt = CryptSM2(private.hex() if private else "", "")
    crypt.public_key = public.hex()  # set directly: the constructor's lstrip("04") can eat key digits
    return crypt


def generate(algorithm: str) -> SigningKey:
    alg = SignatureAlgorithm(algorithm)
    if alg is SignatureAlgorithm.ED25519:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        key = Ed25519PrivateKey.generate()
        raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())
        return _ed25519_from_raw(raw)
    from gmssl.sm2 import CryptSM2, default_ecc_table

    order = int(default_ecc_table["n"], 16)
    d = secrets.randbelow(order - 2) + 1
    point = CryptSM2("", "")._kg(d, default_ecc_table["g"])
    return SigningKey(alg, d.to_bytes(32, "big"), PublicKey(alg, bytes.fromhex(point)))


def _ed25519_from_raw(raw: bytes) -> SigningKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    public = Ed25519PrivateKey.from_private_bytes(raw).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return SigningKey(SignatureAlgorithm.ED25519, raw, PublicKey(SignatureAlgorithm.ED25519, public))


def dump_private(key: SigningKey) -> bytes:
    if key.algorithm is SignatureAlgorithm.ED25519:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        return Ed25519PrivateKey.from_private_bytes(key.private).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return (json.dumps({"algorithm": "sm2", "private_key": key.private.hex(),
                        "public_key": key.public.raw.hex()}) + "\n").encode()


def load_private(data: bytes, algorithm: str) -> SigningKey:
    alg = SignatureAlgorithm(algorithm)
    try:
        if alg is SignatureAlgorithm.ED25519:
            from cryptography.hazmat.primitives import serialization
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

            key = serialization.load_pem_private_key(data, password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise KeyFileError("the signing key file does not hold an Ed25519 key")
            return _ed25519_from_raw(key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                                       serialization.NoEncryption()))
        doc = json.loads(data)
        if doc.get("algorithm") != "sm2":
            raise KeyFileError("the signing key file does not hold an SM2 key")
        return SigningKey(alg, bytes.fromhex(doc["private_key"]), PublicKey(alg, bytes.fromhex(doc["public_key"])))
    except (ValueError, KeyError, TypeError) as exc:
        raise KeyFileError(f"the signing key file cannot be read as an {alg.value} key: {exc}") from exc


def load_public(data: bytes) -> PublicKey:
    """A public key as ``PublicKey.export`` writes it (PEM Ed25519, or the SM2 JSON document)."""
    text = data.strip()
    try:
        if text.startswith(b"-----BEGIN"):
            from cryptography.hazmat.primitives import serialization
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

            key = serialization.load_pem_public_key(text)
            if not isinstance(key, Ed25519PublicKey):
                raise KeyFileError("the public key is not an Ed25519 key")
            raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            return PublicKey(SignatureAlgorithm.ED25519, raw)
        doc: dict[str, Any] = json.loads(text)
        return PublicKey(SignatureAlgorithm(doc["algorithm"]), bytes.fromhex(doc["public_key"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise KeyFileError(f"not a public key file: {exc}") from exc


def key_path(config: dict[str, Any]) -> Path:
    configured = config.get("AUDIT_SIGNING_KEY") or ""
    return Path(configured) if configured else Path(config["INSTANCE_DIR"]) / f"audit_{config['AUDIT_SIGNATURE']}.key"


def local_public_key(config: dict[str, Any]) -> PublicKey | None:
    """The public half of this installation's signing key, if there is one (never creates it)."""
    path = key_path(config)
    return load_private(path.read_bytes(), config["AUDIT_SIGNATURE"]).public if path.exists() else None


def signing_key(config: dict[str, Any]) -> SigningKey:
    """The configured key, or instance/audit_<alg>.key, created (mode 0600) on first use."""
    algorithm = config["AUDIT_SIGNATURE"]
    configured = config.get("AUDIT_SIGNING_KEY") or ""
    path = key_path(config)
    if path.exists():
        return load_private(path.read_bytes(), algorithm)
    if configured:
        raise KeyFileError(f"the configured signing key {path} does not exist")
    key = generate(algorithm)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(dump_private(key))
    try:
        os.link(tmp, path)  # atomic, and never replaces a key another process created meanwhile
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return load_private(path.read_bytes(), algorithm)


__all__ = ["HashAlgorithm", "SignatureAlgorithm", "PublicKey", "SigningKey", "KeyFileError", "digest_function",
           "generate", "key_path", "load_private", "load_public", "local_public_key", "signing_key", "dump_private"]
