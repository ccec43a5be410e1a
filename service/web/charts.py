"""Charts as inline SVG, drawn on the server: no script, no external resource, readable without colour.

Each chart has a ``<title>`` and ``<desc>`` (named by ``aria-labelledby``), and every bar carries its number as
text next to it, so a screen reader, a greyscale print and a colour-blind reader get the same figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

__all__ = ["Bar", "contribution_chart"]

#: Bar fill: one colour (the text carries the meaning); dark enough for 3:1 contrast against white.
BAR = "#0b4f8a"
MISSING = "#8a6d00"
AXIS = "#4a4a4a"


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its length (0-1 of the axis) and the text written after it."""

    label: str
    length: float
    text: str
    missing: bool = False


def contribution_chart(
    chart_id: str, title: str, description: str, bars: Sequence[Bar], axis_end: str, *, width: int = 720
) -> Markup:
    """A horizontal bar chart; ``chart_id`` must be unique on the page (it names the title and description).

    A bar of length 1 reaches the end of the axis, which is labelled ``axis_end``.
    """
    label_w, text_w, row, top = 150, 290, 26, 8
    plot_w = max(width - label_w - text_w, 80)
    height = top + row * len(bars) + 24
    e = escape
    parts = [
        f'<svg class="chart" role="img" aria-labelledby="{e(chart_id)}-t {e(chart_id)}-d" '
        f'xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f'<title id="{e(chart_id)}-t">{e(title)}</title>',
        f'<desc id="{e(chart_id)}-d">{e(description)}</desc>',
    ]
    for i, bar in enumerate(bars):
        y = top + i * row
        length = min(max(bar.length, 0.0), 1.0) * plot_w
        fill = MISSING if bar.missing else BAR
        parts.append(f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end">{e(bar.label)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 5}" width="{length:.1f}" height="16" fill="{fill}"/>')
        if bar.missing:  # a hatch-free marker that survives greyscale: a dashed outline around the bar's slot
            parts.append(
                f'<rect x="{label_w}" y="{y + 5}" width="{plot_w}" height="16" fill="none" stroke="{MISSING}" '
                f'stroke-dasharray="4 3"/>'
            )
        parts.append(f'<text x="{label_w + length + 6:.1f}" y="{y + 17}">{e(bar.text)}</text>')
    axis_y = top + row * len(bars) + 4
    parts.append(f'<line x1="{label_w}" y1="{top}" x2="{label_w}" y2="{axis_y}" stroke="{AXIS}"/>')
    parts.append(
        f'<line x1="{label_w}" y1="{axis_y}" x2="{label_w + plot_w}" y2="{axis_y}" stroke="{AXIS}"/>'
        f'<text x="{label_w}" y="{axis_y + 16}">0</text>'
        f'<text x="{label_w + plot_w}" y="{axis_y + 16}" text-anchor="end">{e(axis_end)}</text>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))
