"""The catalogue, model, licence and rule pages: every id renders, unknown ids get a plain 404, facts stay honest."""

from __future__ import annotations

import html
import re

from litestar import Litestar
from litestar.testing import TestClient

from service.domain.engine import Engine
from service.web.reference import CatalogueQuery, catalogue_view, model_view, parse_catalogue_query


def test_every_model_licence_and_rule_has_a_page(client: TestClient[Litestar], engine: Engine) -> None:
    paths = [f"/models/{model_id}" for model_id in sorted(engine.catalogue.models)]
    paths += [f"/licences/{licence_id}" for licence_id in sorted(engine.rules.licences)]
    paths += [f"/rules/{rule_id}" for rule_id in sorted(engine.rules.eligibility)]
    paths += [f"/rules/{criterion_id}" for criterion_id in sorted(engine.rules.criteria)]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, (path, response.text[:300])
        assert response.headers["content-type"].startswith("text/html")


def test_an_unknown_id_gets_a_plain_404_page_that_never_echoes_markup(client: TestClient[Litestar]) -> None:
    for path in ("/models/nobody/<script>alert(1)", "/licences/<b>x", "/rules/no.such-rule"):
        response = client.get(path)
        assert response.status_code == 404
        assert "text/html" in response.headers["content-type"]
        assert "<script>" not in response.text and "<b>x" not in response.text
        assert re.search(r"There is no (model|licence|rule) with the id", response.text)


def test_an_id_longer_than_100_characters_is_refused_as_bad_input_not_a_server_error(
    client: TestClient[Litestar],
) -> None:
    assert client.get(f"/licences/{'x' * 101}").status_code == 400


def test_the_model_page_states_every_source_of_the_model_file(client: TestClient[Litestar], engine: Engine) -> None:
    model = engine.catalogue.models["deepseek-ai/DeepSeek-V3.2"]
    page = html.unescape(client.get(f"/models/{model.id}").text)
    for name in ("released", "licence", "parameters_total_b", "context_tokens"):
        fact = getattr(model, name)
        assert fact.source in page and fact.as_of.isoformat() in page
    for measurement in engine.catalogue.measurements()[model.id]:
        assert measurement.source in page
    for hosted in engine.catalogue.offers_for(model.id):
        assert hosted.offer.source in page


def test_facts_the_catalogue_lacks_are_unknown_on_the_page_never_filled_in(engine: Engine) -> None:
    for model_id, model in engine.catalogue.models.items():
        view = model_view(engine, model_id)
        assert view is not None
        rows = {row.label: row for row in view.facts}
        if model.context_tokens is None:
            row = rows["Native context window (tokens)"]
            assert row.value == "unknown" and row.source is None and row.as_of is None
        if model.transformer is None:
            assert all(row.value == "unknown" for row in view.hardware[1:])


def test_the_catalogue_filter_keeps_only_what_it_names_and_sorts_as_asked(engine: Engine) -> None:
    query = CatalogueQuery(licence_kind="permissive", origin="CN", sort="price")
    view = catalogue_view(engine, query)
    assert view.rows
    assert all(r.licence.kind == "permissive" and r.organisation.country.value == "CN" for r in view.rows)
    prices = [r.offer.offer.input_usd_per_m + r.offer.offer.output_usd_per_m for r in view.rows if r.offer]
    assert prices == sorted(prices)
    assert all(r.offer is None for r in view.rows[len(prices) :])
    coding = catalogue_view(engine, CatalogueQuery(use_case="coding", sort="capability"))
    assert coding.rows and all(r.estimate.status == "measured" for r in coding.rows)
    estimates = [r.estimate.estimate for r in coding.rows]
    assert estimates == sorted(estimates, key=lambda e: -(e or 0.0))


def test_a_filter_value_that_is_not_offered_is_named_and_ignored(engine: Engine) -> None:
    query = parse_catalogue_query({"licence_kind": "gpl", "sort": "price", "text": " qwen ", "bogus": "1"}, engine)
    assert set(query.errors) == {"licence_kind"}
    assert query.licence_kind == "" and query.sort == "price" and query.text == "qwen"
    view = catalogue_view(engine, query)
    assert view.rows and all("qwen" in (r.model.id + r.model.name + r.organisation.name).casefold() for r in view.rows)


def test_the_catalogue_page_answers_400_with_the_message_next_to_the_field(client: TestClient[Litestar]) -> None:
    response = client.get("/catalogue", params={"origin": "<i>ZZ</i>"})
    assert response.status_code == 400
    assert 'id="f-origin-error"' in response.text
    assert "<i>ZZ</i>" not in response.text
