"""Numbers standing for keys, for stores found by a key read once per request: a number hashes at once, a tuple
is hashed again at every lookup."""

from __future__ import annotations

import itertools
from collections.abc import Hashable

from service.domain.kept import Kept

__all__ = ["Tokens"]


class Tokens:
    """A number per key: the same for an equal key while it is kept (a bounded :class:`Kept` named ``name``),
    never one of another key (a key dropped from the store gets a new number when next asked for). Safe across
    threads: two threads asking for one new key at once get the same number."""

    def __init__(self, name: str, size: int | None = None) -> None:
        self._numbers: Kept[Hashable, int] = Kept(name, size)
        self._next = itertools.count(1)

    def __call__(self, key: Hashable) -> int:
        found = self._numbers.get(key)
        return found if found is not None else self._numbers.put(key, next(self._next))
