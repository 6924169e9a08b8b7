"""The Merkle tree is RFC 6962's: the certificate-transparency reference roots, and any size."""

from __future__ import annotations

import hashlib

import pytest

from engine.audit.merkle import TreeBuilder, root_of

# The reference leaves and tree heads used by certificate-transparency implementations.
LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                     "606162636465666768696a6b6c6d6e6f")]
ROOTS = ["e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
         "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
         "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
         "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
         "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
         "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
         "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
         "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
         "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"]


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def recursive_mth(leaves: list[bytes]) -> bytes:
    """RFC 6962 section 2.1, literally."""
    if not leaves:
        return sha256(b"")
    if len(leaves) == 1:
        return sha256(b"\x00" + leaves[0])
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return sha256(b"\x01" + recursive_mth(leaves[:k]) + recursive_mth(leaves[k:]))


@pytest.mark.parametrize("size", range(len(ROOTS)))
def test_reference_roots(size):
    assert root_of(LEAVES[:size], sha256).hex() == ROOTS[size]


def test_every_size_up_to_70_matches_the_recursive_definition():
    leaves = [bytes([i, i * 7 % 256]) for i in range(70)]
    builder = TreeBuilder(sha256)
    for n, leaf in enumerate(leaves, start=1):
        builder.add(leaf)
        assert builder.root() == recursive_mth(leaves[:n]), n


def test_a_resumed_tree_continues_where_it_stopped():
    leaves = [bytes([i]) for i in range(23)]
    first = TreeBuilder(sha256)
    for leaf in leaves[:13]:
        first.add(leaf)
    resumed = TreeBuilder.resume(sha256, first.frontier())
    for leaf in leaves[13:]:
        resumed.add(leaf)
    assert resumed.size == 23 and resumed.root() == recursive_mth(leaves)
