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

Sizes: the stores of what answers say (a fact as listed, a group of facts as cited, an explanation, a caveat) take
their bound from :data:`SIZES`, by name, one table for the memory they may hold in all. A store's entries are
0.2-1.5 KB each; at the bounds they had before this table (up to 20,000 entries), varied requests filled them to
about 110 MB, and a server's peak grew past 210 MB where 150 MB is the target. Each bound is set from a measured
working set: every key the bench's corpus (60 varied requests, ``summary`` then ``full``, each decision distinct)
asks of the store, on the shipped catalogue and, for the summary's stores, on 10,000 models, with room above it,
so that the corpus repeated is answered from the stores (a bound below the working set of a repeated cycle keeps
almost nothing: an entry is dropped before it is asked for again). For 1,000 other varied requests asked twice
each, the stores together answer 96 % of the lookups the old bounds answered (most stores 85-100 %;
``engine.criteria_caveats`` 27 %, its misses built from other stores), and hold about 60 MB rather than 110. Small
stores of a few keys (a date's scores, a request's price lists) set their own bound where they are made.
"""

from __future__ import annotations

import threading
import weakref
from collections import deque
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

__all__ = ["SIZES", "Kept", "holdings"]

_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")

#: Bounds of the stores of what answers say, by store name (see the module): each above the store's working set for
#: the bench's corpus (in the comment: that many keys, and the hit rate kept for varied requests, see the module).
SIZES: dict[str, int] = {
    # Facts as cited and listed (service.domain.citing).
    "citing.groups": 8_192,  # 6,696 keys; was 20,000 (25.9 MB at the bound)
    "citing.seen": 8_192,  # 5,288; was 10,000
    "citing.item_json": 8_192,  # 3,547; was 10,000
    "citing.listed": 4_096,  # 3,547; was 20,000
    "citing.written": 4_096,  # 2,891; was 5,000
    "citing.licence_texts": 1_024,  # 24 (one per licence, source and date); was 20,000
    # A summary's parts (service.domain.summary, service.domain.writing).
    "summary.evidence": 4_096,  # one per fact listed (as citing.listed); was 8,192 (5,647 keys: by fact and source id)
    "summary.criteria_json": 2_048,  # 1,358 (1,504 at 10,000 models); was 8,192
    "summary.criteria": 2_048,  # built only for summaries built as objects (the bytes path keeps JSON only); was 8,192
    "summary.exclusions": 1_024,  # 373; was 8,192
    # The full detail's parts (service.domain.writing).
    "full.criterion_tails": 4_096,  # 1,764
    "full.outcomes": 4_096,  # 1,538
    "full.caveats": 2_048,  # 1,203
    "full.caveat_texts": 2_048,  # 885; was 8,192
    "full.eu_ai_act": 1_024,  # 124 (one per model); was 2,048
    # What an engine says of its models (service.domain.engine's _ModelTexts, service.domain.compliance).
    "engine.dated": 8_192,  # 3,103 (5,038 at 10,000 models); was 16,384 (18.8 MB at the bound)
    "engine.explanations": 4_096,  # 1,764 (3,195 at 10,000 models); was 8,192
    "engine.outcomes": 4_096,  # 1,538; was 8,192
    "engine.fit_evidence": 2_048,  # 1,370; was 8,192
    "engine.leading_refs": 4_096,  # 1,368 (1,951 at 10,000 models); was 16,384
    "engine.criteria_caveats": 2_048,  # 995 (1,026 at 10,000 models); was 16,384
    "engine.staleness": 2_048,  # 995; was 16,384
    "engine.stale_caveats": 1_024,  # 227 (316 at 10,000 models; 417 for 1,000 other varied requests)
    "engine.duties": 1_024,  # 47; was 4,096
    "engine.tokens": 1_024,  # 40; was 4,096
    "compliance.caveat_kinds": 2_048,  # 495; was 16,384
    "compliance.tokens": 1_024,  # 8; was 4,096
}

#: Every store made, while it lives (an engine's stores go with the engine).
_STORES: weakref.WeakSet[Kept[Any, Any]] = weakref.WeakSet()
_STORES_LOCK = threading.Lock()


class Kept(Generic[_K, _V]):
    """A named store of at most ``size`` entries (by default its bound in :data:`SIZES`); the oldest put goes first
    (see the module docstring)."""

    __slots__ = ("__weakref__", "_items", "_lock", "_order", "get", "name", "size")

    def __init__(self, name: str, size: int | None = None) -> None:
        if size is None:
            size = SIZES[name]
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
