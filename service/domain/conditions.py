"""The small condition language of eligibility rules, evaluated over whole columns at once.

Three-valued: each model passes, fails, or is unknown (a needed fact is missing). ``all`` fails if any
check fails, else is unknown if any is unknown; ``any`` passes if any passes, else is unknown if any is.
Operators come from a fixed allow-list; nothing is evaluated as code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from service.domain.kept import Kept
from service.domain.rules import Condition, EligibilityRule

__all__ = [
    "RuleSelector",
    "Verdict",
    "evaluate_checks",
    "format_message",
    "placeholders",
    "request_value",
    "rule_applies",
    "template_parts",
]

BoolArray = npt.NDArray[np.bool_]
Verdict = tuple[BoolArray, BoolArray]  # (failed, unknown); passed is neither
_PLACEHOLDER = re.compile(r"\{([a-z_]+(?:\.[a-z_]+)+)\}")


@lru_cache(maxsize=512)
def _parts_of(path: str) -> tuple[str, ...]:
    return tuple(path.split("."))


def request_value(request: Mapping[str, Any], path: str) -> Any:
    """Read a dotted path from the request's dict form (``ip.commercial_use``)."""
    node: Any = request
    for part in _parts_of(path):
        if not (type(node) is dict or isinstance(node, Mapping)) or part not in node:
            return None
        node = node[part]
    return node


#: What each request operator tests: (the request's value, the condition's value) -> whether it holds.
_HOLDS: dict[str, Callable[[Any, Any], bool]] = {
    "is_set": lambda value, _: value is not None and value != [] and value != "",
    "is_true": lambda value, _: value is True,
    "eq": lambda value, target: bool(value == target),
    "ne": lambda value, target: bool(value != target),
    "in": lambda value, target: value in target,
    "contains": lambda value, target: isinstance(value, list | tuple | set | frozenset) and target in value,
}


def _condition_holds(condition: Condition, request: Mapping[str, Any]) -> bool:
    return _HOLDS[condition.op](request_value(request, condition.field), condition.value)


def rule_applies(rule: EligibilityRule, request: Mapping[str, Any]) -> bool:
    """Whether every ``when`` condition of the rule holds for this request."""
    return all(_condition_holds(c, request) for c in rule.when)


class RuleSelector:
    """The rules of a list that apply to a request (each as :func:`rule_applies` says), in the list's order.

    Each request field a ``when`` condition reads is looked up once per request, however many conditions read it:
    indexed straight into the request's dict form, or by :func:`request_value` where that fails (a part missing or
    not a mapping), which reads the same value.
    """

    __slots__ = ("_fields", "_tests")

    def __init__(self, rules: Sequence[EligibilityRule]) -> None:
        fields = sorted({c.field for rule in rules for c in rule.when})
        position = {field: k for k, field in enumerate(fields)}
        #: Per field: its path and its parts.
        self._fields = tuple((field, _parts_of(field)) for field in fields)
        #: Per rule: each condition as (index of the field it reads, its test, its value).
        self._tests = tuple(
            (rule, tuple((position[c.field], _HOLDS[c.op], c.value) for c in rule.when)) for rule in rules
        )

    def __call__(self, request: Mapping[str, Any]) -> list[EligibilityRule]:
        values = []
        for field, parts in self._fields:
            try:
                node: Any = request
                for part in parts:
                    node = node[part]
            except (KeyError, TypeError, IndexError):
                node = request_value(request, field)
            values.append(node)
        applied = []
        for rule, tests in self._tests:
            for k, holds, target in tests:
                if not holds(values[k], target):
                    break
            else:
                applied.append(rule)
        return applied


_ORDER = {"gt": np.greater, "gte": np.greater_equal, "lt": np.less, "lte": np.less_equal}

#: Per object column (by identity, the array kept in the entry): its distinct values, each with its index, and
#: each element's index; None when a value cannot be hashed. A few catalogue columns; bounded.
_CODES: Kept[int, tuple[npt.NDArray[Any], tuple[dict[Any, int], npt.NDArray[np.intp]] | None]] = Kept(
    "conditions.codes", 32
)


def _coded(values: npt.NDArray[Any]) -> tuple[dict[Any, int], npt.NDArray[np.intp]] | None:
    """The distinct values of ``values`` (index by value) and each element's index, computed once per array."""
    entry = _CODES.get(id(values))
    if entry is not None and entry[0] is values:
        return entry[1]
    index: dict[Any, int] = {}
    coded: tuple[dict[Any, int], npt.NDArray[np.intp]] | None
    try:
        codes = np.fromiter((index.setdefault(v, len(index)) for v in values), dtype=np.intp, count=len(values))
        coded = index, codes
    except TypeError:  # an unhashable value: compared one by one instead
        coded = None
    return _CODES.put(id(values), (values, coded))[1]  # the entry holds ``values``: its id() is its own


def _compare(values: npt.NDArray[Any], known: BoolArray, numeric: bool, op: str, target: Any) -> BoolArray:
    """Whether each value holds against ``target``; where a value is not ``known`` the result says nothing (the
    callers mask it with ``known``)."""
    n = len(values)
    if op in ("gt", "gte", "lt", "lte"):
        if not numeric:
            raise TypeError(f"operator {op} needs a numeric field")
        # A float column is compared as it is (a NaN compares false, and is masked); others read 0.0 where unknown.
        safe = values if values.dtype == np.float64 else np.where(known, values, 0.0).astype(np.float64, copy=False)
        compare = _ORDER[op]
        result: BoolArray = compare(safe, float(target))
        return result
    if op in ("eq", "ne"):
        if isinstance(target, str | bool | int | float) or target is None:
            # One comparison over the whole column (for an object column, Python's == per element, in C).
            equal: BoolArray = np.asarray(values == target, dtype=bool)
        else:  # a list or mapping would be broadcast by NumPy: compare each value with it whole
            equal = np.fromiter((v == target for v in values), dtype=bool, count=n)
        return equal if op == "eq" else ~equal
    if op in ("in", "not_in"):
        members = set(target)
        coded = _coded(values)
        if coded is None:
            inside = np.fromiter((v in members for v in values), dtype=bool, count=n)
        else:
            # Which distinct values are members, then each element's: no Python step per model.
            index, codes = coded
            table = np.zeros(len(index), dtype=bool)
            for member in members:
                code = index.get(member)
                if code is not None:
                    table[code] = True
            inside = table[codes]
        return inside if op == "in" else ~inside
    if op == "contains":
        return np.fromiter((v is not None and target in v for v in values), dtype=bool, count=n)
    if op == "intersects":
        members = set(target)
        return np.fromiter((v is not None and bool(members & set(v)) for v in values), dtype=bool, count=n)
    raise AssertionError(f"unhandled operator {op}")  # pragma: no cover - Literal guards it


def evaluate_checks(
    rule: EligibilityRule,
    columns: Mapping[str, tuple[npt.NDArray[Any], BoolArray, bool]],
    request: Mapping[str, Any],
) -> Verdict:
    """Evaluate the rule's checks over every model. ``columns`` maps field -> (values, known, numeric)."""
    if len(rule.checks) == 1:
        # One check, matched with all or any: it fails where known and not holding, is unknown where not known.
        check = rule.checks[0]
        values, known, numeric = columns[check.field]
        target = request_value(request, check.ref) if check.ref is not None else check.value
        holds = _compare(values, known, numeric, check.op, target)
        return known & ~holds, ~known
    fails: list[BoolArray] = []
    unknowns: list[BoolArray] = []
    passes: list[BoolArray] = []
    for check in rule.checks:
        values, known, numeric = columns[check.field]
        target = request_value(request, check.ref) if check.ref is not None else check.value
        holds = _compare(values, known, numeric, check.op, target) & known
        passes.append(holds)
        unknowns.append(~known)
        fails.append(known & ~holds)
    if rule.match == "all":
        failed = np.logical_or.reduce(fails)
        unknown = ~failed & np.logical_or.reduce(unknowns)
    else:
        passed = np.logical_or.reduce(passes)
        unknown = ~passed & np.logical_or.reduce(unknowns)
        failed = ~passed & ~unknown
    return failed, unknown


class Placeholders(Protocol):
    """What a message is filled from: a mapping, or anything that looks its keys up lazily."""

    def get(self, key: str, default: str, /) -> str: ...


@lru_cache(maxsize=1024)
def template_parts(template: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A template split once into its literal texts (one more than its placeholders) and placeholder names."""
    pieces = _PLACEHOLDER.split(template)
    return tuple(pieces[0::2]), tuple(pieces[1::2])


def placeholders(template: str) -> tuple[str, ...]:
    """The placeholder names ``template`` is filled from, in order."""
    return template_parts(template)[1]


def format_message(template: str, values: Placeholders | Mapping[str, str]) -> str:
    """Fill ``{field.path}`` placeholders from ``values``; an unknown placeholder reads 'unknown'."""
    texts, names = template_parts(template)
    if not names:
        return template
    out = [texts[0]]
    for name, text in zip(names, texts[1:], strict=True):
        out.append(values.get(name, "unknown"))
        out.append(text)
    return "".join(out)
