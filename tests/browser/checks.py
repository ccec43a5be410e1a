"""Checks the browser tests run in a page: axe-core's accessibility rules and how keyboard focus is shown."""

from __future__ import annotations

from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

BLOCKING_IMPACTS = frozenset({"serious", "critical"})

_AXE = Axe()


def blocking_violations(page: Page) -> list[dict[str, Any]]:
    """Run axe-core in the page; the violations whose impact is serious or critical."""
    results = _AXE.run(page)
    violations: list[dict[str, Any]] = results.response["violations"]
    return [violation for violation in violations if violation.get("impact") in BLOCKING_IMPACTS]


def describe_violations(violations: list[dict[str, Any]]) -> str:
    """One line per violation and the elements it names, for a failure message."""
    lines = []
    for violation in violations:
        targets = "; ".join(", ".join(node["target"]) for node in violation["nodes"][:5])
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} [{targets}]")
    return "\n".join(lines)


def assert_accessible(page: Page) -> None:
    """Fail when axe-core finds any serious or critical accessibility violation in the page, listing them."""
    violations = blocking_violations(page)
    assert not violations, f"axe-core found {len(violations)} serious or critical violation(s) in {page.url}:\n" + (
        describe_violations(violations)
    )


def focus_outline(page: Page) -> dict[str, str]:
    """The computed outline (and box shadow) of the focused element: how focus is shown."""
    style: dict[str, str] = page.evaluate(
        """() => {
            const element = document.activeElement;
            const style = getComputedStyle(element);
            return {tag: element.tagName, text: (element.textContent || '').trim().slice(0, 60),
                    outlineStyle: style.outlineStyle, outlineWidth: style.outlineWidth,
                    outlineColor: style.outlineColor, boxShadow: style.boxShadow};
        }"""
    )
    return style


def focus_is_visible(style: dict[str, str]) -> bool:
    """An outline of some width that is not `none`, or a box shadow, marks the focused element."""
    outlined = style["outlineStyle"] != "none" and style["outlineWidth"] not in {"0px", ""}
    return outlined or style["boxShadow"] not in {"none", ""}
