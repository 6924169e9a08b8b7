"""Workflows kept in memory after a command, reused while the stored case still matches.

Keyed by (database, case id); an entry is valid only for the case version and chain head it
was saved with, so any write elsewhere (another process, a rolled-back command) makes it
stale and the next command loads the stored state instead. ``take`` removes the entry: one
command at a time owns a live workflow, and a command that fails simply never puts it back.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from cachetools import LRUCache
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

CacheKey = tuple[str, int]


@dataclass(frozen=True)
class LiveWorkflow:
    version: int
    last_hash: str
    workflow: BpmnWorkflow
    id_counter: int


class LiveCache:
    def __init__(self, size: int = 2048) -> None:
        self._items: LRUCache[CacheKey, LiveWorkflow] = LRUCache(maxsize=size)
        self._lock = threading.Lock()  # cachetools caches are not thread-safe

    def take(self, key: CacheKey, version: int, last_hash: str) -> LiveWorkflow | None:
        with self._lock:
            item = self._items.pop(key, None)
        if item is None or item.version != version or item.last_hash != last_hash:
            return None
        return item

    def put(self, key: CacheKey, item: LiveWorkflow) -> None:
        with self._lock:
            self._items[key] = item

    def evict(self, key: CacheKey) -> None:
        with self._lock:
            self._items.pop(key, None)

    def move_head(self, key: CacheKey, version: int, old_hash: str, new_hash: str) -> None:
        """An event that left the workflow alone moved the chain head: keep the entry valid."""
        with self._lock:
            item = self._items.get(key)
            if item is not None and item.version == version and item.last_hash == old_hash:
                self._items[key] = LiveWorkflow(version, new_hash, item.workflow, item.id_counter)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


LIVE = LiveCache()
