"""The one bounded store (:class:`service.domain.kept.Kept`): its bound, which entry goes first, that a key keeps
the value first put for it (so get-or-build builds once, also across threads), and how much each store holds."""

from __future__ import annotations

import datetime as dt
import gc
import threading

import pytest

from service.domain import kept
from service.domain.engine import Engine
from service.domain.kept import SIZES, Kept, holdings
from service.domain.requirements import Requirements
from service.domain.tokens import Tokens


def test_a_store_never_holds_more_than_its_bound_and_drops_the_oldest_put_first() -> None:
    store: Kept[int, str] = Kept("test.bound", 4)
    for n in range(10):
        store.put(n, str(n))
        assert len(store) == min(n + 1, 4)
    assert [n for n in range(10) if n in store] == [6, 7, 8, 9]
    assert store.get(5) is None
    assert store.get(9) == "9"


def test_reading_an_entry_does_not_make_it_younger() -> None:
    store: Kept[str, int] = Kept("test.order", 3)
    for n, key in enumerate("abc"):
        store.put(key, n)
    for _ in range(5):
        assert store.get("a") == 0
        assert store.get_or_build("a", lambda: 99) == 0
    store.put("d", 3)
    assert "a" not in store  # first put, first dropped, however often it was read
    assert [key for key in "abcd" if key in store] == ["b", "c", "d"]


def test_a_key_keeps_the_value_first_put_until_it_is_dropped() -> None:
    store: Kept[str, list[int]] = Kept("test.first", 2)
    first = [1]
    assert store.put("k", first) is first
    assert store.put("k", [2]) is first
    assert len(store) == 1
    store.put("x", [3])
    store.put("y", [4])  # drops "k"
    later = [5]
    assert store.put("k", later) is later


def test_get_or_build_builds_once_per_kept_key_and_again_once_dropped() -> None:
    store: Kept[int, str] = Kept("test.build", 2)
    built: list[int] = []

    def build(n: int) -> str:
        built.append(n)
        return f"v{n}"

    for _ in range(3):
        assert store.get_or_build(1, lambda: build(1)) == "v1"
    assert built == [1]
    store.get_or_build(2, lambda: build(2))
    store.get_or_build(3, lambda: build(3))  # drops 1
    assert store.get_or_build(1, lambda: build(1)) == "v1"
    assert built == [1, 2, 3, 1]


def test_clear_empties_a_store_and_it_fills_again() -> None:
    store: Kept[int, int] = Kept("test.clear", 3)
    for n in range(3):
        store.put(n, n)
    store.clear()
    assert len(store) == 0 and store.get(0) is None
    for n in range(5):
        store.put(n, n)
    assert [n for n in range(5) if n in store] == [2, 3, 4]


def test_a_store_keeps_at_least_one_entry() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Kept("test.empty", 0)


def test_threads_building_one_key_at_once_all_get_the_one_value_kept() -> None:
    store: Kept[str, object] = Kept("test.threads", 8)
    threads = 8
    barrier = threading.Barrier(threads)
    got: list[object] = []

    def build() -> object:
        barrier.wait()  # every thread has missed the key before any puts it
        return object()

    def run() -> None:
        got.append(store.get_or_build("k", build))

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert len(got) == threads
    assert all(value is got[0] for value in got)
    assert store.get("k") is got[0]


def test_threads_putting_many_keys_never_take_a_store_past_its_bound() -> None:
    store: Kept[tuple[int, int], int] = Kept("test.many", 50)
    seen: list[int] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            seen.append(len(store))

    def put(t: int) -> None:
        for n in range(5_000):
            assert store.put((t, n % 300), n % 300) == n % 300

    watcher = threading.Thread(target=watch)
    watcher.start()
    workers = [threading.Thread(target=put, args=(t,)) for t in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    stop.set()
    watcher.join()
    assert len(store) == 50
    assert seen and max(seen) <= 50
    assert len(store._order) == len(store._items) == 50
    assert set(store._order) == set(store._items)


def test_holdings_count_the_entries_of_the_live_stores_by_name() -> None:
    one: Kept[int, int] = Kept("test.holdings", 10)
    two: Kept[int, int] = Kept("test.holdings", 10)
    other: Kept[int, int] = Kept("test.holdings.other", 10)
    for n in range(3):
        one.put(n, n)
    two.put(0, 0)
    assert holdings()["test.holdings"] == 4
    assert holdings()["test.holdings.other"] == 0
    del two
    gc.collect()
    assert holdings()["test.holdings"] == 3
    assert other.name == "test.holdings.other"
    assert list(holdings()) == sorted(holdings())


def test_tokens_number_equal_keys_alike_and_never_two_kept_keys_alike() -> None:
    tokens = Tokens("test.tokens", size=3)
    a, b = tokens(("a",)), tokens(("b",))
    assert a != b
    assert tokens(("a",)) == a
    tokens("c")
    tokens("d")  # drops ("a",)
    again = tokens(("a",))
    assert again not in {b, tokens("c"), tokens("d")}
    assert holdings()["test.tokens"] == 3


def test_the_decision_cores_stores_are_bounded_stores_too(engine: Engine) -> None:
    # Requests that differ in what the cost criterion, the rule conditions and the evidence pass keep per request.
    for n, use_cases in enumerate((["chat"], ["coding"], ["long_context", "chat"])):
        privacy = {"deployment": "api", "excluded_origin_countries": ["CN", "US"][: n + 1]}
        requirements = Requirements.model_validate({"use_cases": use_cases, "limit": 3 + n, "privacy": privacy})
        engine.decide(requirements, dt.date(2026, 12, 1)).full("by_rule")
    held = holdings()
    for name, bound in (("cost.api", 64), ("conditions.codes", 32), ("tradeoffs.noises", 4)):
        assert 0 < held[name] <= bound, (name, held.get(name))


def test_every_store_of_what_answers_say_takes_its_bound_from_the_one_table(engine: Engine) -> None:
    # The module's stores and an engine's: each named in the table is bounded as it says, and the table names
    # no store the service does not make (a stale entry would bound nothing).
    live = [store for store in list(kept._STORES) if not store.name.startswith("test.")]
    assert {store.name for store in live} >= set(SIZES)
    assert all(store.size == SIZES[store.name] for store in live if store.name in SIZES)


def test_a_store_without_a_bound_in_the_table_must_be_given_one() -> None:
    with pytest.raises(KeyError):
        Kept("test.unsized")
    assert Kept("test.sized", 2).size == 2
    assert Kept("citing.groups").size == SIZES["citing.groups"]
