"""Regulatory and provenance rules on the shipped catalogue: EU AI Act status, public-sector restrictions,
export controls, provenance allegations, data-access laws and review dates."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest

from service.domain.answer import DISCLAIMER, Answer, Assessment, Caveat
from service.domain.engine import Engine
from service.domain.errors import DataError
from service.domain.requirements import Requirements
from service.loading.engine import build_engine
from tests.conftest import CATALOGUE, RULES, TODAY

DEEPSEEK_WITH_OWN_API = "deepseek-ai/DeepSeek-V4-Pro"
DEEPSEEK_WITHOUT_OFFER = "deepseek-ai/DeepSeek-V3.1"
ZHIPU = "zai-org/GLM-4.5"
KIMI = "moonshotai/Kimi-K2.5"
OPENAI = "openai/gpt-oss-20b"
MISTRAL_WITH_OFFER = "mistralai/Mistral-Large-3-675B-Instruct-2512"

# Which API a request would use turns on who hosts each offer, and curated offers grow; these tests fix the
# providers: DeepSeek-V4-Pro is served only by DeepSeek's own API, Mistral Large 3 only by Mistral's.
_PROVIDERS = {
    "deepseek": ("DeepSeek API", "deepseek-ai", "CN", DEEPSEEK_WITH_OWN_API, "peak"),
    "mistral": ("Mistral AI", "mistralai", "FR", MISTRAL_WITH_OFFER, "flat"),
}


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """The shipped catalogue and rules with the fixed providers above."""
    catalogue = tmp_path_factory.mktemp("compliance") / "catalogue"
    shutil.copytree(CATALOGUE, catalogue)
    for path in (catalogue / "providers").glob("*.toml"):
        path.unlink()
    for provider_id, (name, organisation, country, model, basis) in _PROVIDERS.items():
        (catalogue / "providers" / f"{provider_id}.toml").write_text(
            f'name = "{name}"\nreview_by = 2027-03-01\norganisation = "{organisation}"\n\n'
            f'[country]\nvalue = "{country}"\nsource = "https://example.org/{provider_id}"\nas_of = 2026-11-20\n\n'
            f'[[offers]]\nmodel = "{model}"\ninput_usd_per_m = 1.0\noutput_usd_per_m = 2.0\n'
            f'price_basis = "{basis}"\nsource = "https://example.org/{provider_id}/pricing"\nas_of = 2026-11-20\n',
            encoding="utf-8",
        )
    return build_engine(catalogue, RULES)


def ask(engine: Engine, request: dict[str, Any], on: dt.date = TODAY) -> Answer:
    return engine.recommend(Requirements.model_validate(request), on)


def explained(engine: Engine, request: dict[str, Any], model_id: str, on: dt.date = TODAY) -> Assessment:
    answer = ask(engine, {**request, "explain": [model_id]}, on)
    return answer.explained[0]


def outcome(assessment: Assessment, rule_id: str) -> str | None:
    found = [o.outcome for o in assessment.rules if o.rule_id == rule_id]
    return found[0] if found else None


def caveats(assessment: Assessment, kind: str) -> list[Caveat]:
    return [c for c in assessment.caveats if c.kind == kind]


# ------------------------------------------------------------------------------------------ public sector
def test_a_hosted_service_restriction_is_a_caveat_when_self_hosted_and_an_exclusion_through_its_api(
    engine: Engine,
) -> None:
    taiwan = {"compliance": {"public_sector_jurisdictions": ["TW"]}}
    self_hosted = explained(engine, {**taiwan, "privacy": {"deployment": "self_hosted"}}, DEEPSEEK_WITH_OWN_API)
    api = explained(engine, {**taiwan, "privacy": {"deployment": "api"}}, DEEPSEEK_WITH_OWN_API)

    assert self_hosted.status != "excluded"
    assert outcome(self_hosted, "compliance.public-sector") == "passed"
    [note] = caveats(self_hosted, "public_sector")
    assert note.rule_id == "compliance.public-sector"
    assert "Taiwan (TW)" in note.message
    assert "hosted service" in note.message
    assert "not self-hosted weights" in note.message

    assert api.status == "excluded"
    assert outcome(api, "compliance.public-sector") == "failed"
    assert not caveats(api, "public_sector"), "an excluding restriction is a reason, not a caveat"
    reason = next(o for o in api.rules if o.rule_id == "compliance.public-sector")
    assert "hosted service" in reason.message
    assert "Executive Yuan" in reason.message
    assert any(e.fact.startswith("TW public-sector restriction") for e in reason.evidence)
    assert any(e.fact.startswith("offer: DeepSeek API") for e in reason.evidence), "the API that would be used"


def test_weights_on_rented_hardware_are_not_the_developers_hosted_service(engine: Engine) -> None:
    request = {"compliance": {"public_sector_jurisdictions": ["TW"]}, "privacy": {"deployment": "private_cloud"}}
    assessment = explained(engine, request, DEEPSEEK_WITH_OWN_API)
    assert assessment.status != "excluded"
    assert caveats(assessment, "public_sector")


def test_a_restriction_whose_wording_may_reach_the_weights_excludes_self_hosting_as_unknown(engine: Engine) -> None:
    request = {"compliance": {"public_sector_jurisdictions": ["AU"]}, "privacy": {"deployment": "self_hosted"}}
    answer = ask(engine, request)
    exclusion = next(e for e in answer.excluded if e.model_id == DEEPSEEK_WITHOUT_OFFER)
    [reason] = [r for r in exclusion.reasons if r.rule_id == "compliance.public-sector"]
    assert reason.outcome == "unknown"
    assert reason.missing_facts == ["AU pspf-direction-001-2025: whether it covers self-hosted weights"]
    assert "PSPF Direction 001-2025" in reason.message


def test_a_restriction_binding_only_some_bodies_never_excludes_but_names_who_is_bound(engine: Engine) -> None:
    request = {"compliance": {"public_sector_jurisdictions": ["US"]}, "privacy": {"deployment": "api"}}
    assessment = explained(engine, request, DEEPSEEK_WITH_OWN_API)
    assert outcome(assessment, "compliance.public-sector") == "passed"
    notes = caveats(assessment, "public_sector")
    assert len(notes) == len(engine.rules.jurisdictions["US"].restrictions)
    navy = next(c for c in notes if c.fact == "US public-sector restriction navy-guidance")
    assert "binds only US Navy personnel" in navy.message
    assert "whatever the deployment" in navy.message


def test_other_developers_are_untouched_by_a_restriction_naming_one(engine: Engine) -> None:
    request = {"compliance": {"public_sector_jurisdictions": ["TW", "CZ", "IT"]}, "privacy": {"deployment": "api"}}
    assessment = explained(engine, request, MISTRAL_WITH_OFFER)
    assert outcome(assessment, "compliance.public-sector") == "passed"
    assert not caveats(assessment, "public_sector")


def test_a_jurisdiction_without_a_file_passes_with_its_absence_stated(engine: Engine) -> None:
    request = {"compliance": {"public_sector_jurisdictions": ["FR"]}}
    assessment = explained(engine, request, DEEPSEEK_WITHOUT_OFFER)
    passed = next(o for o in assessment.rules if o.rule_id == "compliance.public-sector")
    assert passed.outcome == "passed"
    assert [e.value for e in passed.evidence] == ["none: no jurisdiction file"]
    [note] = caveats(assessment, "public_sector")
    assert "No public-sector restriction is recorded for FR" in note.message
    assert "not evidence that none exists" in note.message


def test_every_model_a_requested_restriction_names_is_either_excluded_or_told_about_it(engine: Engine) -> None:
    for deployment in ("self_hosted", "api", None):
        for code in sorted(engine.rules.jurisdictions):
            request: dict[str, Any] = {"compliance": {"public_sector_jurisdictions": [code]}}
            if deployment:
                request["privacy"] = {"deployment": deployment}
            answer = ask(engine, {**request, "explain": sorted(engine.catalogue.models)[:50]})
            for assessment in answer.explained:
                named = [
                    r
                    for r in engine.rules.jurisdictions[code].restrictions
                    if engine.catalogue.models[assessment.model_id].organisation in r.organisations
                ]
                decided = outcome(assessment, "compliance.public-sector") in ("failed", "unknown")
                told = {c.fact for c in caveats(assessment, "public_sector")}
                for restriction in named:
                    mentioned = f"{code} public-sector restriction {restriction.id}" in told
                    assert decided or mentioned, (code, deployment, assessment.model_id, restriction.id)
                if not named:
                    assert not decided, (code, deployment, assessment.model_id)
                    assert not told, (code, deployment, assessment.model_id)


# ---------------------------------------------------------------------------------------- export controls
def test_a_listed_developer_is_always_flagged_and_excluded_only_on_request(engine: Engine) -> None:
    flagged = explained(engine, {}, ZHIPU)
    [listing] = caveats(flagged, "export_control")
    assert listing.rule_id == "compliance.export-control"
    assert "is on the US Entity List (BIS)" in listing.message
    assert "2025-01-16" in listing.message
    assert flagged.status != "excluded"

    excluded = explained(engine, {"compliance": {"exclude_export_restricted": True}}, ZHIPU)
    assert excluded.status == "excluded"
    assert outcome(excluded, "compliance.export-control") == "failed"


def test_a_pending_or_defence_listing_is_shown_but_is_not_an_export_restriction(engine: Engine) -> None:
    request = {"compliance": {"exclude_export_restricted": True}}
    for model_id, words in (
        (DEEPSEEK_WITHOUT_OFFER, "is not on the US Entity List (BIS)"),
        ("Qwen/Qwen3-8B", "a defence-procurement list"),
    ):
        assessment = explained(engine, request, model_id)
        assert outcome(assessment, "compliance.export-control") == "passed", model_id
        assert any(words in c.message for c in caveats(assessment, "export_control")), model_id


def test_a_developer_never_checked_is_excluded_as_unknown_with_the_missing_fact_named(
    tmp_path: Path,
) -> None:
    catalogue = tmp_path / "catalogue"
    shutil.copytree(CATALOGUE, catalogue)
    path = catalogue / "organisations" / "openai.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("[export_controls]")], encoding="utf-8")
    engine = build_engine(catalogue, RULES)
    assessment = explained(engine, {"compliance": {"exclude_export_restricted": True}}, OPENAI)
    assert assessment.status == "excluded"
    reason = next(o for o in assessment.rules if o.rule_id == "compliance.export-control")
    assert reason.outcome == "unknown"
    assert reason.missing_facts == ["organisation.export_restricted"]


# -------------------------------------------------------------------------------------------- provenance
def test_allegations_are_reported_as_allegations_with_author_and_date(engine: Engine) -> None:
    assessment = explained(engine, {}, KIMI)
    [allegation] = caveats(assessment, "provenance")
    assert allegation.message.startswith("Allegation, not a finding: on 2026-02-23 Anthropic")
    assert "No response from the developer is recorded." in allegation.message
    assert allegation.source_kind == "primary"

    deepseek = caveats(explained(engine, {}, DEEPSEEK_WITHOUT_OFFER), "provenance")
    assert len(deepseek) == 5
    assert all(c.message.startswith("Allegation, not a finding") for c in deepseek)
    assert any("DeepSeek (Nature paper" in c.message and "responded on 2025-09-17" in c.message for c in deepseek)


def test_excluding_provenance_disputes_excludes_exactly_the_developers_facing_an_allegation(engine: Engine) -> None:
    answer = ask(engine, {"compliance": {"exclude_provenance_disputes": True}})
    excluded = {e.model_id for e in answer.excluded}
    disputed = {
        model.id
        for model in engine.catalogue.models.values()
        if engine.catalogue.organisations[model.organisation].provenance_allegations
    }
    assert excluded == disputed
    assert {m.split("/")[0] for m in disputed} == {"deepseek-ai", "moonshotai", "MiniMaxAI"}
    reason = next(r for e in answer.excluded for r in e.reasons if e.model_id == KIMI)
    assert "allegations, not findings" in reason.message
    assert "Anthropic (post 'Detecting and preventing distillation attacks') on 2026-02-23" in reason.message


# ------------------------------------------------------------------------------------------- data access
def test_an_api_request_names_the_law_regulators_cited_and_self_hosting_does_not(engine: Engine) -> None:
    api = explained(engine, {"privacy": {"deployment": "api"}}, DEEPSEEK_WITH_OWN_API)
    [law] = caveats(api, "data_access")
    assert law.rule_id == "compliance.data-access"
    assert "National Intelligence Law" in law.message
    assert "Czech government" in law.message
    assert law.source
    assert law.as_of

    self_hosted = explained(engine, {"privacy": {"deployment": "self_hosted"}}, DEEPSEEK_WITH_OWN_API)
    assert not caveats(self_hosted, "data_access")
    us_api = explained(engine, {"privacy": {"deployment": "api"}}, MISTRAL_WITH_OFFER)
    assert not caveats(us_api, "data_access"), "no regulator-cited law is recorded for FR"


# -------------------------------------------------------------------------------------------- EU AI Act
def test_an_unknown_compute_estimate_never_yields_not_presumed(engine: Engine) -> None:
    for i, model in enumerate(engine.features.models):
        status = engine.compliance.eu_ai_act[i]
        if model.training_compute_flop is None:
            assert status.systemic_risk == "unknown", model.id
            assert status.compute_flop is None
            assert status.open_source_exemption != "may_apply", model.id
            assert any("training compute" in question for question in status.ask_provider), model.id
        if status.systemic_risk == "not_presumed":
            assert model.training_compute_flop is not None, model.id


def test_a_pre_training_only_estimate_near_the_threshold_is_unknown_not_presumed_absent(engine: Engine) -> None:
    status = engine.compliance.eu_ai_act[engine.features.index[DEEPSEEK_WITH_OWN_API]]
    assert status.compute_flop == pytest.approx(9.702e24)
    assert status.systemic_risk == "unknown"
    assert "pre-training only" in status.systemic_risk_reason
    lower_bound = engine.compliance.eu_ai_act[engine.features.index["zai-org/GLM-4.7"]]
    assert lower_bound.systemic_risk == "unknown"


def test_every_recommendation_shows_its_eu_ai_act_status(engine: Engine) -> None:
    answer = ask(engine, {"limit": 10})
    for rec in answer.recommendations:
        assert rec.eu_ai_act is not None
        assert rec.eu_ai_act.threshold_flop == 1e25
        assert rec.eu_ai_act.evidence[0].source_kind == "primary"
        assert all(e.source and e.as_of for e in rec.eu_ai_act.evidence)
        assert not caveats(rec, "eu_ai_act"), "a caveat only when the deployer is subject to the Act"
        assert all(c.criterion != "eu_ai_act" for c in rec.criteria)


def test_a_deployer_subject_to_the_act_gets_the_status_as_a_criterion_and_a_caveat(engine: Engine) -> None:
    answer = ask(engine, {"compliance": {"eu_ai_act": True}, "limit": 10})
    assert answer.weights["eu_ai_act"] > 0
    for rec in answer.recommendations:
        [criterion] = [c for c in rec.criteria if c.criterion == "eu_ai_act"]
        [note] = caveats(rec, "eu_ai_act")
        assert note.rule_id == "compliance.eu-ai-act"
        assert note.source
        assert note.as_of
        assert "Ask the provider for:" in note.message
        signed = rec.eu_ai_act is not None and rec.eu_ai_act.code_of_practice == "signed"
        assert criterion.value == (1.0 if signed else 0.0)


def test_an_explicit_zero_weight_for_the_act_criterion_is_respected(engine: Engine) -> None:
    answer = ask(engine, {"compliance": {"eu_ai_act": True}, "weights": {"capability": 1, "eu_ai_act": 0}})
    assert answer.weights["eu_ai_act"] == 0


@pytest.mark.parametrize(
    ("value", "covers", "confidence", "expected", "exemption"),
    [
        (2.0e25, "training", "likely", "presumed", "does_not_apply"),
        (1.0e25, "training", "likely", "not_presumed", "may_apply"),
        (2.0e25, "training", "speculative", "unknown", "unknown"),
        (6.0e24, "pre_training_only", "likely", "unknown", "unknown"),
        (4.0e24, "pre_training_only", "likely", "not_presumed", "may_apply"),
        (4.0e24, "lower_bound", "confident", "unknown", "unknown"),
    ],
)
def test_the_presumption_follows_the_estimate_its_coverage_and_its_confidence(
    tmp_path: Path, value: float, covers: str, confidence: str, expected: str, exemption: str
) -> None:
    catalogue = tmp_path / "catalogue"
    shutil.copytree(CATALOGUE, catalogue)
    path = catalogue / "models" / "openai" / "gpt-oss-120b.toml"
    text = path.read_text(encoding="utf-8")
    start = text.index("[training_compute_flop]")
    block = text[start:]
    block = block.replace("value = 4.94e+24", f"value = {value!r}")
    block = block.replace('confidence = "confident"', f'confidence = "{confidence}"')
    block = block.replace('covers = "training"', f'covers = "{covers}"')
    path.write_text(text[:start] + block, encoding="utf-8")
    engine = build_engine(catalogue, RULES)
    status = engine.compliance.eu_ai_act[engine.features.index["openai/gpt-oss-120b"]]
    assert status.compute_flop == value
    assert status.systemic_risk == expected
    assert status.open_source_exemption == exemption
    if expected != "not_presumed":
        assert any("Arts. 52 and 55" in question for question in status.ask_provider)


# -------------------------------------------------------------------------------------- evidence, review
REQUESTS: list[dict[str, Any]] = [
    {"compliance": {"public_sector_jurisdictions": ["TW", "AU", "US", "FR"]}, "privacy": {"deployment": "api"}},
    {"compliance": {"public_sector_jurisdictions": ["CZ", "IT", "KR", "NL", "BE"]}},
    {"compliance": {"exclude_export_restricted": True, "exclude_provenance_disputes": True, "eu_ai_act": True}},
    {
        "compliance": {"eu_ai_act": True, "public_sector_jurisdictions": ["AU"]},
        "privacy": {"deployment": "self_hosted"},
    },
]


@pytest.mark.parametrize("request_body", REQUESTS)
def test_every_compliance_reason_and_caveat_carries_a_source_and_a_date(
    engine: Engine, request_body: dict[str, Any]
) -> None:
    answer = ask(engine, {**request_body, "explain": sorted(engine.catalogue.models)[:50]})
    outcomes = [o for a in answer.explained for o in a.rules] + [r for e in answer.excluded for r in e.reasons]
    compliance = [o for o in outcomes if o.rule_id.startswith("compliance.")]
    assert compliance
    for reason in compliance:
        assert reason.evidence, reason.rule_id
        for item in reason.evidence:
            assert item.source, (reason.rule_id, item.fact)
            assert isinstance(item.as_of, dt.date), (reason.rule_id, item.fact)
    notes = [c for a in [*answer.explained, *answer.recommendations] for c in a.caveats if c.rule_id]
    assert notes
    for note in notes:
        assert note.rule_id.startswith("compliance."), note.rule_id
        assert note.source, (note.kind, note.fact)
        assert isinstance(note.as_of, dt.date), (note.kind, note.fact)
        assert note.fact


def test_each_reason_sentence_names_the_rule_and_its_evidence(engine: Engine) -> None:
    request = {"compliance": {"public_sector_jurisdictions": ["TW"]}, "privacy": {"deployment": "api"}}
    assessment = explained(engine, request, DEEPSEEK_WITH_OWN_API)
    sentence = next(r for r in assessment.reasons if r.startswith("[compliance.public-sector v1, failed]"))
    assert "Evidence: TW public-sector restriction deepseek-ai-service" in sentence
    assert "as of 2025-02-03" in sentence


def test_past_its_review_date_a_regulatory_fact_is_said_to_be_possibly_out_of_date(engine: Engine) -> None:
    request = {"compliance": {"public_sector_jurisdictions": ["TW"]}}
    fresh = explained(engine, request, DEEPSEEK_WITH_OWN_API, TODAY)
    assert not caveats(fresh, "stale_regulatory")
    later = explained(engine, request, DEEPSEEK_WITH_OWN_API, dt.date(2027, 6, 1))
    stale = {c.fact: c for c in caveats(later, "stale_regulatory")}
    assert "training_compute_flop" in stale
    assert "organisation deepseek-ai: export controls" in stale
    assert "TW public-sector restriction deepseek-ai-service" in stale
    assert all("may be out of date" in c.message and c.rule_id == "compliance.review-by" for c in stale.values())
    assert all(note.source and note.as_of for note in stale.values())


def test_answers_say_they_are_decision_support_not_legal_advice(engine: Engine) -> None:
    answer = ask(engine, {"compliance": {"eu_ai_act": True}})
    assert answer.disclaimer == DISCLAIMER
    assert "not legal advice" in DISCLAIMER
    assert "EU AI Act" in DISCLAIMER
    assert "allegations, not findings" in DISCLAIMER


def test_the_request_section_refuses_bad_jurisdiction_codes_and_unknown_fields() -> None:
    with pytest.raises(ValueError, match="public_sector_jurisdictions"):
        Requirements.model_validate({"compliance": {"public_sector_jurisdictions": ["tw"]}})
    with pytest.raises(ValueError, match="exclude_export"):
        Requirements.model_validate({"compliance": {"exclude_export": True}})
    same = Requirements.model_validate({"compliance": {"public_sector_jurisdictions": ["TW", "AU", "TW"]}})
    assert same.normalised().compliance.public_sector_jurisdictions == ["AU", "TW"]


def test_a_restriction_naming_an_unknown_organisation_is_refused_at_load(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    path = rules / "jurisdictions" / "TW.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('["deepseek-ai"]', '["deepseek"]'), encoding="utf-8")
    with pytest.raises(DataError) as caught:
        build_engine(CATALOGUE, rules)
    assert ("jurisdictions/TW.toml", "restrictions.0.organisations", "unknown organisation 'deepseek'") in (
        caught.value.problems
    )


# ------------------------------------------------------------------------------------- rules on catalogue
ON_THE_CATALOGUE: dict[str, tuple[dict[str, Any], str, str, str]] = {
    "compliance.export-control": ({"compliance": {"exclude_export_restricted": True}}, OPENAI, ZHIPU, "failed"),
    "compliance.provenance-dispute": ({"compliance": {"exclude_provenance_disputes": True}}, ZHIPU, KIMI, "failed"),
    "compliance.public-sector": (
        {"compliance": {"public_sector_jurisdictions": ["TW"]}, "privacy": {"deployment": "api"}},
        MISTRAL_WITH_OFFER,
        DEEPSEEK_WITH_OWN_API,
        "failed",
    ),
}


@pytest.mark.parametrize("rule_id", sorted(ON_THE_CATALOGUE))
def test_each_compliance_rule_passes_one_shipped_model_and_excludes_another(engine: Engine, rule_id: str) -> None:
    request, passing, failing, how = ON_THE_CATALOGUE[rule_id]
    answer = ask(engine, {**request, "explain": [passing, failing]})
    by_id = {a.model_id: a for a in answer.explained}
    assert outcome(by_id[passing], rule_id) == "passed"
    assert outcome(by_id[failing], rule_id) == how
    assert by_id[failing].status == "excluded"
    exclusion = next(e for e in answer.excluded if e.model_id == failing)
    reason = next(r for r in exclusion.reasons if r.rule_id == rule_id)
    assert reason.message
    assert reason.evidence


def test_every_compliance_rule_has_a_catalogue_test(engine: Engine) -> None:
    assert {r for r in engine.rules.eligibility if r.startswith("compliance.")} == set(ON_THE_CATALOGUE)
