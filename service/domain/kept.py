"""One bounded store for what the service builds once and then reuses (texts, listed facts, summary parts).

A :class:`Kept` maps a key to what was built for it. It holds at most ``size`` entries: putting one more drops
the oldest (the entry put first; being read does not make an entry younger), so a store's memory is bounded
whatever the requests, and a working set smaller than the bound is never dropped. Every store has a name, and
:func:`holdings` says how many entries the live stores hold, by name.

Threads: answers are built on the event loop's thread and on worker threads at once. Reading (:attr:`Kept.get`)
takes no lock: it is one dict lookup, atomic in the interpreter. Putting, dropping and emptying take the store's
lock, so a store never holds more than ``size`` entries, and a key keeps the value first put for it until that
entry is dropped: two threads that both miss a key may both build a value, and both get the one kept (the
first put). A value must never be None (:attr:`Kept.get` says "not kept" with None).

A store keyed by an object's ``id()`` must hold that object in its value: then no other object can take that
``id()`` while the entry is kept, so a key found is the object's own.
"""

from __future__ import annotations

import threading
import weakref
from collections import deque
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

__all__ = ["Kept", "holdings"]

_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")

#: Every store made, while it lives (an engine's stores go with the engine).
_STORES: weakref.WeakSet[Kept[Any, Any]] = weakref.WeakSet()
_STORES_LOCK = threading.Lock()


class Kept(Generic[_K, _V]):
    """A named store of at most ``size`` entries; the oldest put goes first (see the module docstring)."""

    __slots__ = ("__weakref__", "_items", "_lock", "_order", "get", "name", "size")

    def __init__(self, name: str, size: int) -> None:
        if size < 1:
            raise ValueError(f"a store keeps at least one entry, not {size}")
        self.name = name
        self.size = size
        self._items: dict[_K, _V] = {}
        #: The keys in the order first put (a dict's own order costs a scan past dropped entries to find the first).
        self._order: deque[_K] = deque()
        self._lock = threading.Lock()
        #: The value kept for a key, or None: the dict's own lookup, without a lock or a call in between.
        self.get: Callable[[_K], _V | None] = self._items.get
        with _STORES_LOCK:
            _STORES.add(self)

    def put(self, key: _K, value: _V) -> _V:
        """Keep ``value`` for ``key`` (dropping the oldest entries beyond the bound) and return the value kept for
        ``key``: ``value``, or the one another thread put first."""
        with self._lock:
            items = self._items
            found = items.get(key)
            if found is not None:
                return found
            order = self._order
            while len(order) >= self.size:
                del items[order.popleft()]
            items[key] = value
            order.append(key)
            return value

    def get_or_build(self, key: _K, build: Callable[[], _V]) -> _V:
        """The value kept for ``key``, else ``build()`` kept (built outside the lock: ``build`` may use stores,
        this one too)."""
        found = self._items.get(key)
        return found if found is not None else self.put(key, build())

    def clear(self) -> None:
        """Drop every entry."""
        with self._lock:
            self._items.clear()
            self._order.clear()

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __repr__(self) -> str:
        return f"Kept({self.name!r}, {len(self._items)} of {self.size})"


def holdings() -> dict[str, int]:
    """How many entries the live stores hold, by store name (stores of one name, e.g. one per engine, summed)."""
    with _STORES_LOCK:
        stores = list(_STORES)
    result: dict[str, int] = {}
    for store in stores:
        result[store.name] = result.get(store.name, 0) + len(store)
    return dict(sorted(result.items()))
