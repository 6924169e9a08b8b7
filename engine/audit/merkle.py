"""A Merkle tree over the event log in the style of RFC 6962/9162 (certificate transparency).

leaf = H(0x00 ‖ data), node = H(0x01 ‖ left ‖ right), the empty tree's root = H(""), and a
tree of n leaves splits at the largest power of two below n. ``TreeBuilder`` takes leaves one
at a time and keeps only the roots of its perfect subtrees (log n hashes), so a checkpoint's
root over millions of events is computed in one streaming pass, and the roots at several
sizes (every stored checkpoint) come out of the same pass.
"""

from __future__ import annotations

from collections.abc import Callable

Digest = Callable[[bytes], bytes]


class TreeBuilder:
    def __init__(self, digest: Digest) -> None:
        self.digest = digest
        self.size = 0
        self._stack: list[tuple[int, bytes]] = []  # (leaf count, root) of perfect subtrees, left to right

    def add(self, data: bytes) -> None:
        self.add_hash(self.digest(b"\x00" + data))

    def add_hash(self, leaf_hash: bytes) -> None:
        stack, digest = self._stack, self.digest
        count, node = 1, leaf_hash
        while stack and stack[-1][0] == count:
            left = stack.pop()[1]
            node = digest(b"\x01" + left + node)
            count *= 2
        stack.append((count, node))
        self.size += 1

    def frontier(self) -> list[tuple[int, str]]:
        """The right edge of the tree: enough to keep adding leaves later (``resume``)."""
        return [(count, node.hex()) for count, node in self._stack]

    @classmethod
    def resume(cls, digest: Digest, frontier: list[tuple[int, str]]) -> TreeBuilder:
        builder = cls(digest)
        builder._stack = [(int(count), bytes.fromhex(node)) for count, node in frontier]
        builder.size = sum(count for count, _ in builder._stack)
        return builder

    def root(self) -> bytes:
        """MTH of the leaves added so far: fold the perfect subtrees from the right."""
        if not self._stack:
            return self.digest(b"")
        node = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            node = self.digest(b"\x01" + left + node)
        return node


def root_of(leaves: list[bytes], digest: Digest) -> bytes:
    builder = TreeBuilder(digest)
    for leaf in leaves:
        builder.add(leaf)
    return builder.root()


__all__ = ["TreeBuilder", "root_of", "Digest"]
