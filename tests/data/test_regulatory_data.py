"""The regulatory and provenance facts: every one sourced, dated and marked primary or secondary."""

from __future__ import annotations

import re
from typing import Any

from service.loading.files import load_catalogue, load_rules, read_toml
from tests.conftest import CATALOGUE, RULES

#: Record kinds that are facts about the world and must say how direct their source is.
SOURCED = {
    "training_compute_flop",
    "code_of_practice",
    "export_controls",
    "listings",
    "provenance_allegations",
    "denial",
    "restrictions",
    "threshold",
    "open_source_exemption",
    "data_access_laws",
}


def _records(node: Any, key: str = "") -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        if key in SOURCED:
            found.append((key, node))
        for child_key, child in node.items():
            found.extend(_records(child, child_key))
    elif isinstance(node, list):
        for child in node:
            found.extend(_records(child, key))
    return found


def test_every_regulatory_fact_has_a_source_a_date_and_a_source_kind() -> None:
    paths = [
        *sorted((CATALOGUE / "organisations").glob("*.toml")),
        *sorted((CATALOGUE / "models").glob("*/*.toml")),
        *sorted((RULES / "jurisdictions").glob("*.toml")),
        RULES / "regulatory.toml",
    ]
    seen = set()
    for path in paths:
        for kind, record in _records(read_toml(path)):
            seen.add(kind)
            assert record.get("source"), (path, kind)
            assert record.get("as_of"), (path, kind)
            assert record.get("source_kind") in ("primary", "secondary"), (path, kind)
    assert seen == SOURCED


def test_every_organisation_records_its_code_of_practice_status_and_an_export_control_check() -> None:
    for organisation in load_catalogue(CATALOGUE).organisations.values():
        assert organisation.code_of_practice is not None, organisation.id
        assert organisation.export_controls is not None, organisation.id


def test_jurisdiction_files_are_named_by_iso_code_and_name_known_organisations() -> None:
    catalogue = load_catalogue(CATALOGUE)
    rules = load_rules(RULES, {m.licence.value for m in catalogue.models.values()})
    assert rules.jurisdictions
    for code, jurisdiction in rules.jurisdictions.items():
        assert re.fullmatch(r"[A-Z]{2}", code)
        for restriction in jurisdiction.restrictions:
            assert set(restriction.organisations) <= set(catalogue.organisations), (code, restriction.id)
            assert restriction.started <= jurisdiction.reviewed_on, (code, restriction.id)


def test_an_allegation_is_dated_and_names_its_author() -> None:
    for organisation in load_catalogue(CATALOGUE).organisations.values():
        for allegation in organisation.provenance_allegations:
            assert allegation.author, organisation.id
            assert allegation.claim, organisation.id
            assert allegation.date <= allegation.as_of, (organisation.id, allegation.author)
