"""The shipped data: every file validates, every reference resolves, schemas match the models."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from service.domain.errors import DataError
from service.loading.files import load_catalogue, load_rules, read_toml
from service.loading.schema import render_schemas
from tests.conftest import CATALOGUE, RULES

FAMILIES = {
    "DeepSeek",
    "Qwen",
    "Kimi",
    "GLM",
    "MiMo",
    "MiniMax",
    "Llama",
    "Mistral",
    "Gemma",
    "gpt-oss",
    "Phi",
    "Granite",
    "OLMo",
}


def test_the_catalogue_holds_at_least_45_models_from_every_family() -> None:
    catalogue = load_catalogue(CATALOGUE)
    assert len(catalogue.models) >= 45
    assert {m.family for m in catalogue.models.values()} >= FAMILIES


def test_every_model_names_an_existing_licence_and_organisation() -> None:
    catalogue = load_catalogue(CATALOGUE)
    rules = load_rules(RULES, {m.licence.value for m in catalogue.models.values()})
    for model in catalogue.models.values():
        assert model.licence.value in rules.licences, model.id
        assert model.organisation in catalogue.organisations, model.id


def test_every_licence_file_is_used_by_the_catalogue() -> None:
    catalogue = load_catalogue(CATALOGUE)
    used = {m.licence.value for m in catalogue.models.values()}
    assert {p.stem for p in (RULES / "licences").glob("*.toml")} == used


def test_a_model_id_is_its_hugging_face_repo_id_from_the_path() -> None:
    catalogue = load_catalogue(CATALOGUE)
    for path in (CATALOGUE / "models").glob("*/*.toml"):
        assert f"{path.parent.name}/{path.stem}" in catalogue.models


def test_every_ranking_fact_carries_a_source_and_a_date() -> None:
    def walk(node: object, where: str) -> None:
        if isinstance(node, dict):
            if "value" in node:
                assert node.get("source"), where
                assert node.get("as_of"), where
            for key, child in node.items():
                walk(child, f"{where}.{key}")
        elif isinstance(node, list):
            for i, child in enumerate(node):
                walk(child, f"{where}[{i}]")

    for path in sorted(CATALOGUE.rglob("*.toml")):
        data = read_toml(path)
        if path.parent.name == "leaderboards":
            # A snapshot states its source and date once, for every entry in it.
            assert data["source"] and data["as_of"] and data["entries"], path
            assert all("source" not in entry and "as_of" not in entry for entry in data["entries"]), path
            continue
        walk(data, str(path))
        for offer in data.get("offers", []):
            assert offer["source"] and offer["as_of"], path


@pytest.mark.parametrize(("name", "text"), sorted(render_schemas().items()))
def test_the_committed_json_schemas_match_the_models(name: str, text: str) -> None:
    committed = RULES / "schema" / name
    assert committed.is_file(), f"{name} is missing: run `advisor schema`"
    assert committed.read_text(encoding="utf-8") == text, f"{name} drifted: run `advisor schema`"


def test_every_schema_is_valid_json_with_a_dialect() -> None:
    for path in (RULES / "schema").glob("*.json"):
        assert json.loads(path.read_text())["$schema"].startswith("https://json-schema.org/")


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "catalogue"
    shutil.copytree(CATALOGUE, target)
    return target


def test_a_bad_model_file_is_refused_with_its_path_field_and_problem(tmp_path: Path) -> None:
    catalogue = _copy(tmp_path)
    path = catalogue / "models" / "Qwen" / "Qwen3-8B.toml"
    path.write_text(path.read_text().replace('value = "hybrid"', 'value = "sometimes"'))
    with pytest.raises(DataError) as caught:
        load_catalogue(catalogue)
    [(where, field, problem)] = caught.value.problems
    assert where == str(path)
    assert field == "reasoning.value"
    assert "'none', 'hybrid' or 'always'" in problem


def test_an_unknown_key_in_a_data_file_is_refused(tmp_path: Path) -> None:
    catalogue = _copy(tmp_path)
    path = catalogue / "models" / "Qwen" / "Qwen3-8B.toml"
    path.write_text('familly = "Qwen"\n' + path.read_text())
    with pytest.raises(DataError) as caught:
        load_catalogue(catalogue)
    assert (str(path), "familly", "Extra inputs are not permitted") in caught.value.problems


def test_a_fact_without_a_source_is_refused(tmp_path: Path) -> None:
    catalogue = _copy(tmp_path)
    path = catalogue / "models" / "openai" / "gpt-oss-20b.toml"
    text = path.read_text()
    start = text.index("[context_tokens]")
    source_line = text.index("source =", start)
    end = text.index("\n", source_line)
    path.write_text(text[:source_line] + text[end + 1 :])
    with pytest.raises(DataError) as caught:
        load_catalogue(catalogue)
    assert (str(path), "context_tokens.source", "Field required") in caught.value.problems


def test_broken_toml_is_refused_with_its_path(tmp_path: Path) -> None:
    catalogue = _copy(tmp_path)
    path = catalogue / "organisations" / "google.toml"
    path.write_text("name = \n")
    with pytest.raises(DataError) as caught:
        load_catalogue(catalogue)
    assert caught.value.problems[0][0] == str(path)
    assert "not valid TOML" in caught.value.problems[0][2]


def test_a_model_of_an_unknown_organisation_is_refused(tmp_path: Path) -> None:
    catalogue = _copy(tmp_path)
    (catalogue / "organisations" / "allenai.toml").unlink()
    with pytest.raises(DataError) as caught:
        load_catalogue(catalogue)
    assert any(field == "organisation" and "allenai" in problem for _, field, problem in caught.value.problems)


def test_active_parameters_above_total_are_refused(tmp_path: Path) -> None:
    catalogue = _copy(tmp_path)
    path = catalogue / "models" / "openai" / "gpt-oss-20b.toml"
    text = path.read_text()
    start = text.index("[parameters_active_b]")
    path.write_text(text[:start] + text[start:].replace("value = 3.6", "value = 99.0", 1))
    with pytest.raises(DataError) as caught:
        load_catalogue(catalogue)
    assert any("exceeds parameters_total_b" in problem for _, _, problem in caught.value.problems)


def test_a_licence_used_by_the_catalogue_must_have_a_file(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    (rules / "licences" / "gemma-terms.toml").unlink()
    with pytest.raises(DataError) as caught:
        load_rules(rules, {"gemma-terms", "mit"})
    assert any("gemma-terms" in where for where, _, _ in caught.value.problems)


def test_a_permissive_licence_must_be_osi_approved(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    path = rules / "licences" / "modified-mit-moonshot.toml"
    path.write_text(path.read_text().replace('kind = "custom"', 'kind = "permissive"'))
    with pytest.raises(DataError) as caught:
        load_rules(rules)
    assert any(where == str(path) and "OSI-approved" in problem for where, _, problem in caught.value.problems)


def test_every_model_file_is_in_canonical_form_so_sync_diffs_show_only_real_changes() -> None:
    from service.loading.files import dump_model_file, model_path

    catalogue = load_catalogue(CATALOGUE)
    for model_id, model in catalogue.models.items():
        assert model_path(CATALOGUE, model_id).read_text(encoding="utf-8") == dump_model_file(model), model_id


def test_every_provider_file_is_in_canonical_form() -> None:
    from service.loading.files import dump_provider_file, provider_path

    catalogue = load_catalogue(CATALOGUE)
    assert catalogue.providers, "no provider files"
    for provider_id, provider in catalogue.providers.items():
        text = provider_path(CATALOGUE, provider_id).read_text(encoding="utf-8")
        assert text == dump_provider_file(provider), provider_id


def test_offers_live_in_provider_files_not_in_model_files() -> None:
    for path in (CATALOGUE / "models").glob("*/*.toml"):
        assert "offers" not in read_toml(path), path


EXAMPLE_PROVIDER = """name = "Example Host"
review_by = 2027-03-01

[country]
value = "FR"
source = "https://example.org/about"
as_of = 2026-11-20

[[offers]]
model = "mistralai/Mistral-Large-3-675B-Instruct-2512"
input_usd_per_m = 0.5
output_usd_per_m = 1.5
price_basis = "flat"
status = "active"
source = "https://example.org/pricing"
as_of = 2026-11-20
"""


def _with_example_provider(tmp_path: Path, text: str = EXAMPLE_PROVIDER) -> tuple[Path, Path]:
    catalogue = _copy(tmp_path)
    path = catalogue / "providers" / "example-host.toml"
    path.write_text(text, encoding="utf-8")
    return catalogue, path


def test_the_example_provider_file_is_valid(tmp_path: Path) -> None:
    catalogue, _ = _with_example_provider(tmp_path)
    assert len(load_catalogue(catalogue).providers["example-host"].offers) == 1


def test_an_offer_for_a_model_the_catalogue_lacks_is_refused_with_the_provider_file_and_offer_index(
    tmp_path: Path,
) -> None:
    catalogue, path = _with_example_provider(
        tmp_path, EXAMPLE_PROVIDER.replace('model = "mistralai/', 'model = "mistralai/No-Such-')
    )
    with pytest.raises(DataError) as caught:
        load_catalogue(catalogue)
    [(where, field, problem)] = caught.value.problems
    assert (where, field) == (str(path), "offers.0.model")
    assert "unknown model 'mistralai/No-Such-Mistral-Large-3-675B-Instruct-2512'" in problem


@pytest.mark.parametrize(
    ("old", "new", "field", "problem"),
    [
        ('price_basis = "flat"', 'price_basis = "nightly"', "offers.0.price_basis", "'flat', 'peak' or 'off_peak'"),
        ('status = "active"', 'status = "paused"', "offers.0.status", "'active', 'retired' or 'superseded'"),
        ('value = "FR"', 'value = "France"', "country", "ISO 3166-1 alpha-2"),
        ("input_usd_per_m = 0.5", "input_usd_per_m = -0.5", "offers.0.input_usd_per_m", "greater than or equal"),
        ('price_basis = "flat"\n', "", "offers.0.price_basis", "Field required"),
    ],
)
def test_a_bad_provider_file_is_refused_with_its_path_field_and_problem(
    tmp_path: Path, old: str, new: str, field: str, problem: str
) -> None:
    assert old in EXAMPLE_PROVIDER
    catalogue, path = _with_example_provider(tmp_path, EXAMPLE_PROVIDER.replace(old, new))
    with pytest.raises(DataError) as caught:
        load_catalogue(catalogue)
    [(where, got_field, got_problem)] = caught.value.problems
    assert (where, got_field) == (str(path), field)
    assert problem in got_problem


def test_two_active_offers_for_one_model_on_one_basis_are_refused(tmp_path: Path) -> None:
    offer = EXAMPLE_PROVIDER[EXAMPLE_PROVIDER.index("[[offers]]") :]
    second = "\n" + offer.replace("input_usd_per_m = 0.5", "input_usd_per_m = 0.4")
    catalogue, path = _with_example_provider(tmp_path, EXAMPLE_PROVIDER + second)
    with pytest.raises(DataError) as caught:
        load_catalogue(catalogue)
    [(where, _, problem)] = caught.value.problems
    assert where == str(path)
    assert "a second active flat offer" in problem
    # Marking the older one retired keeps both: the history stays, only one ranks.
    path.write_text(EXAMPLE_PROVIDER.replace('status = "active"', 'status = "retired"') + second, encoding="utf-8")
    assert len(load_catalogue(catalogue).providers["example-host"].offers) == 2


def test_a_context_extension_must_exceed_the_native_window(tmp_path: Path) -> None:
    catalogue = _copy(tmp_path)
    path = catalogue / "models" / "microsoft" / "phi-4.toml"  # native 16,384
    extension = (
        '\n[context_extension]\ntokens = 16384\nmethod = "YaRN"\nsource = "https://example.org/card"\n'
        "as_of = 2026-11-25\n"
    )
    path.write_text(path.read_text() + extension)
    with pytest.raises(DataError) as caught:
        load_catalogue(catalogue)
    [(where, _, problem)] = caught.value.problems
    assert where == str(path)
    assert "must exceed the native context_tokens" in problem


def test_every_provider_states_its_country_or_says_why_it_is_unknown() -> None:
    for provider in load_catalogue(CATALOGUE).providers.values():
        if provider.country is None and provider.organisation is None:
            assert provider.notes, f"{provider.id}: no country and no note saying why"


def test_within_a_provider_only_the_newest_prices_of_a_model_are_active() -> None:
    for provider in load_catalogue(CATALOGUE).providers.values():
        newest: dict[str, dt.date] = {}
        for offer in provider.offers:
            if offer.status == "active":
                newest[offer.model] = max(newest.get(offer.model, offer.as_of), offer.as_of)
        for k, offer in enumerate(provider.offers):
            if offer.status == "active":
                assert offer.as_of == newest[offer.model], (
                    f"{provider.id} offers[{k}] ({offer.model}, {offer.as_of}) is older than an active offer "
                    f"of the same model dated {newest[offer.model]}: mark it superseded"
                )


def test_an_offer_copied_from_a_community_database_says_it_is_secondary() -> None:
    for provider in load_catalogue(CATALOGUE).providers.values():
        for k, offer in enumerate(provider.offers):
            if "github.com/anomalyco/models.dev" in offer.source:
                assert offer.source_kind == "secondary", f"{provider.id} offers[{k}]"
