"""Jinja2 filters for the pages: numbers, shares, dates and source links in plain words."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from markupsafe import Markup, escape

__all__ = ["FILTERS", "is_url"]

_URL = re.compile(r"https?://[^\s<>\"']+")


def is_url(text: object) -> bool:
    """True for a plain http(s) URL that can be linked."""
    return isinstance(text, str) and bool(_URL.fullmatch(text))


def num(value: object, places: int = 3) -> str:
    """A number with ``places`` decimals (trailing zeros kept, so columns line up); ``unknown`` for None."""
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.{places}f}"
    return str(value)


def percent(value: object, places: int = 0) -> str:
    """A 0-1 share as a percentage; ``unknown`` for None."""
    if value is None or not isinstance(value, int | float):
        return "unknown"
    return f"{value * 100:.{places}f} %"


def date(value: object) -> str:
    """An ISO date (or the date of a datetime, in UTC)."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value) if value is not None else "unknown"


def source(text: object) -> Markup:
    """A source as a link when it is a URL, else as text (a citation)."""
    if is_url(text):
        return Markup('<a href="{0}">{0}</a>').format(text)
    return Markup(escape(str(text)))


def words(value: object) -> str:
    """An identifier in words: ``self_hosted`` -> ``self hosted``."""
    return str(value).replace("_", " ")


def value_text(value: object) -> str:
    """A fact's value as text: lists joined, None as unknown."""
    if value is None:
        return "unknown"
    if isinstance(value, list | tuple):
        return ", ".join(value_text(v) for v in value) or "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


FILTERS: dict[str, Any] = {
    "num": num,
    "percent": percent,
    "date": date,
    "source": source,
    "words": words,
    "value_text": value_text,
}
