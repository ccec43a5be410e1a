"""Numbers standing for keys, for stores found by a key read once per request: a number hashes at once, a tuple
is hashed again at every lookup."""

from __future__ import annotations

import itertools
from collections.abc import Hashable

__all__ = ["Tokens"]


class Tokens:
    """A number per key: the same for an equal key while it is known, never one of another key (a key forgotten
    when the store is full gets a new number). Safe across threads: two may number one key twice, never two keys
    alike."""

    def __init__(self, size: int = 4_096) -> None:
        self._size = size
        self._numbers: dict[Hashable, int] = {}
        self._next = itertools.count(1)

    def __call__(self, key: Hashable) -> int:
        found = self._numbers.get(key)
        if found is None:
            if len(self._numbers) >= self._size:
                self._numbers.clear()
            found = self._numbers[key] = next(self._next)
        return found
