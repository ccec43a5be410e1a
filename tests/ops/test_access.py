"""Access control, allowed hosts, rate limits, security headers, request ids, metrics and admin routes."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from service.cli import bind_refusal
from service.domain.engine import Engine
from service.http.app import create_app
from service.settings import Settings, hash_key

ROOT = Path(__file__).resolve().parents[2]
TODAY = dt.date(2026, 11, 25)
SECRETS = {"read": "r-secret-0123456789", "write": "w-secret-0123456789", "admin": "a-secret-0123456789"}
KEYS = ",".join(f"{scope}er:{scope}:{hash_key(secret)}" for scope, secret in SECRETS.items())
A_MODEL = "Qwen/Qwen3-8B"


def settings(**overrides: Any) -> Settings:
    fields: dict[str, Any] = {
        "catalogue_dir": ROOT / "catalogue",
        "rules_dir": ROOT / "rules",
        "database_url": "sqlite://",
        "api_keys": KEYS,
        "rate_limit_per_minute": 0,
    }
    return Settings(**(fields | overrides))


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient[Litestar]]:
    with TestClient(create_app(settings(), engine=engine, clock=lambda: TODAY)) as test_client:
        yield test_client


def bearer(scope: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {SECRETS[scope]}"}


def _a_record(client: TestClient[Litestar]) -> str:
    answer = client.post("/v1/recommendations", json={"limit": 1}, headers=bearer("write"))
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id"])


def _calls(record_id: str) -> list[tuple[str, str, dict[str, Any] | None, str]]:
    """(method, path, JSON body, scope needed) for every /v1 route."""
    return [
        ("GET", "/v1/models", None, "read"),
        ("GET", f"/v1/models/{A_MODEL}", None, "read"),
        ("GET", "/v1/licences", None, "read"),
        ("GET", "/v1/licences/apache-2.0", None, "read"),
        ("GET", "/v1/profiles", None, "read"),
        ("GET", "/v1/profiles/balanced", None, "read"),
        ("GET", "/v1/rules", None, "read"),
        ("GET", "/v1/recommendations", None, "read"),
        ("GET", f"/v1/recommendations/{record_id}", None, "read"),
        ("GET", f"/v1/recommendations/{record_id}/report", None, "read"),
        ("POST", "/v1/compare", {"models": [A_MODEL, "openai/gpt-oss-20b"]}, "read"),
        ("POST", "/v1/recommendations", {"limit": 1}, "write"),
        ("POST", f"/v1/recommendations/{record_id}/rerun", None, "write"),
        ("POST", "/v1/admin/reload", None, "admin"),
    ]


def test_every_v1_route_is_listed_here_so_none_escapes_the_access_checks(client: TestClient[Litestar]) -> None:
    document = client.get("/schema/openapi.json").json()
    documented = {
        (method.upper(), path) for path, item in document["paths"].items() if path.startswith("/v1") for method in item
    }
    covered = {(m, p.replace(A_MODEL, "{owner}/{name}")) for m, p, _, _ in _calls("{record_id}")}
    covered = {(m, p.replace("apache-2.0", "{licence_id}").replace("balanced", "{profile_id}")) for m, p in covered}
    covered.add(("DELETE", "/v1/recommendations/{record_id}"))
    assert documented == covered


def test_with_keys_configured_no_key_is_401_a_smaller_scope_403_and_the_right_scope_succeeds(
    client: TestClient[Litestar],
) -> None:
    record_id = _a_record(client)
    ranks = ["read", "write", "admin"]
    for method, path, body, needed in _calls(record_id):
        anonymous = client.request(method, path, json=body)
        assert anonymous.status_code == 401, (method, path)
        assert anonymous.headers["www-authenticate"].startswith("Bearer")
        assert anonymous.json()["errors"][0]["field"] == "Authorization"
        wrong = client.request(method, path, json=body, headers={"X-API-Key": "not-a-key"})
        assert wrong.status_code == 401, (method, path)
        for scope in ranks:
            answer = client.request(method, path, json=body, headers=bearer(scope))
            if ranks.index(scope) < ranks.index(needed):
                assert answer.status_code == 403, (method, path, scope)
                assert answer.json()["errors"][0]["problem"]
            else:
                assert answer.status_code in {200, 201}, (method, path, scope, answer.text)


def test_deleting_a_record_needs_the_admin_scope_and_then_it_is_gone(client: TestClient[Litestar]) -> None:
    record_id = _a_record(client)
    assert client.delete(f"/v1/recommendations/{record_id}", headers=bearer("write")).status_code == 403
    assert client.delete(f"/v1/recommendations/{record_id}", headers=bearer("admin")).status_code == 204
    assert client.get(f"/v1/recommendations/{record_id}", headers=bearer("read")).status_code == 404
    assert client.delete(f"/v1/recommendations/{record_id}", headers=bearer("admin")).status_code == 404


def test_health_readiness_metrics_and_the_openapi_document_stay_open(client: TestClient[Litestar]) -> None:
    for path in ("/health", "/ready", "/metrics", "/schema/openapi.json"):
        assert client.get(path).status_code == 200, path


def test_a_key_is_accepted_as_x_api_key_too_and_a_record_names_the_key_that_made_it(
    client: TestClient[Litestar],
) -> None:
    made = client.post("/v1/recommendations", json={"limit": 2}, headers={"X-API-Key": SECRETS["write"]})
    assert made.status_code == 200
    store = client.app.state["records"]
    assert store.get(made.json()["id"]).created_by == "writeer"


def test_a_key_never_appears_in_a_log_line_an_error_body_or_a_metric(
    client: TestClient[Litestar], capsys: pytest.CaptureFixture[str]
) -> None:
    _a_record(client)
    bodies = [
        client.get("/v1/models", headers=bearer("read")).text,
        client.post("/v1/admin/reload", headers=bearer("read")).text,
        client.get("/v1/models", headers={"X-API-Key": "wrong-" + SECRETS["admin"]}).text,
        client.get("/v1/models", headers={"Authorization": "Bearer " + SECRETS["admin"] + "x"}).text,
        client.get("/metrics").text,
    ]
    logged = capsys.readouterr()
    for secret in SECRETS.values():
        for text in [*bodies, logged.out, logged.err]:
            assert secret not in text


def test_a_host_that_is_not_allowed_gets_400_naming_the_host_header(engine: Engine) -> None:
    app = create_app(settings(allowed_hosts=["advisor.internal"]), engine=engine)
    with TestClient(app, base_url="http://advisor.internal") as client:
        assert client.get("/health").status_code == 200
        refused = client.get("/health", headers={"Host": "evil.example"})
        assert refused.status_code == 400
        assert refused.json()["errors"] == [
            {"field": "Host", "problem": "the Host header names a host this service does not serve"}
        ]


def test_a_burst_past_the_rate_limit_gets_429_with_retry_after(engine: Engine) -> None:
    app = create_app(settings(rate_limit_per_minute=5), engine=engine)
    with TestClient(app) as client:
        statuses = [client.get("/v1/licences", headers=bearer("read")).status_code for _ in range(7)]
        assert statuses[:5] == [200] * 5
        limited = client.get("/v1/licences", headers=bearer("read"))
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.json()["errors"][0]["field"] == "(rate)"
        # Another key has its own budget; health is never limited.
        assert client.get("/v1/licences", headers=bearer("admin")).status_code == 200
        assert client.get("/health").status_code == 200


def test_every_response_carries_security_headers_and_a_request_id(client: TestClient[Litestar]) -> None:
    record_id = _a_record(client)
    report = client.get(f"/v1/recommendations/{record_id}/report?format=html", headers=bearer("read"))
    assert report.status_code == 200
    csp = report.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src" not in csp  # no script may run in a report
    assert report.headers["x-content-type-options"] == "nosniff"
    assert report.headers["referrer-policy"] == "no-referrer"
    for response in (client.get("/health"), client.get("/no/such/route"), report):
        assert len(response.headers["x-request-id"]) >= 16
    echoed = client.get("/health", headers={"X-Request-ID": "trace-42"})
    assert echoed.headers["x-request-id"] == "trace-42"
    forged = client.get("/health", headers={"X-Request-ID": "bad id\twith spaces"})
    assert forged.headers["x-request-id"] != "bad id\twith spaces"


def test_the_openapi_viewer_is_pinned_never_latest(client: TestClient[Litestar]) -> None:
    page = client.get("/schema")
    assert page.status_code == 200
    assert "latest" not in page.text
    assert "redoc@2.1.5" in page.text


def test_metrics_show_a_latency_histogram_by_route_template_and_the_data_versions(
    client: TestClient[Litestar],
) -> None:
    record_id = _a_record(client)
    client.get(f"/v1/recommendations/{record_id}", headers=bearer("read"))
    text = client.get("/metrics").text
    histogram = (
        'advisor_http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/v1/recommendations/{record_id}"}'
    )
    assert histogram + " 1.0" in text
    assert record_id not in text
    assert "advisor_decisions_total 1.0" in text
    assert 'advisor_data_info{catalogue_version="sha256:' in text


def test_reload_swaps_valid_data_and_refuses_invalid_data_keeping_the_old(tmp_path: Path) -> None:
    catalogue = tmp_path / "catalogue"
    shutil.copytree(ROOT / "catalogue", catalogue)
    app = create_app(settings(catalogue_dir=catalogue))
    with TestClient(app) as client:
        before = client.get("/ready").json()["catalogue_version"]
        model_file = catalogue / "models" / "Qwen" / "Qwen3-8B.toml"
        text = model_file.read_text()
        model_file.write_text(text.replace('family = "Qwen"', "family = 42"))
        refused = client.post("/v1/admin/reload", headers=bearer("admin"))
        assert refused.status_code == 422
        assert any("Qwen3-8B.toml" in e["field"] and "family" in e["field"] for e in refused.json()["errors"])
        assert client.get("/ready").json()["catalogue_version"] == before
        assert client.get(f"/v1/models/{A_MODEL}", headers=bearer("read")).status_code == 200
        model_file.write_text(re.sub(r"(?m)^review_by = .*$", "review_by = 2027-12-31", text, count=1))
        swapped = client.post("/v1/admin/reload", headers=bearer("admin"))
        assert swapped.status_code == 200, swapped.text
        assert swapped.json()["changed"] == {"catalogue": True, "rules": False}
        assert client.get("/ready").json()["catalogue_version"] != before
        reloaded = client.get(f"/v1/models/{A_MODEL}", headers=bearer("read")).json()
        assert reloaded["review_by"] == "2027-12-31"


def test_without_keys_the_service_refuses_a_non_loopback_address_unless_behind_a_proxy() -> None:
    open_settings = Settings(api_keys=[], database_url="sqlite://")
    assert bind_refusal("127.0.0.1", open_settings) is None
    assert bind_refusal("::1", open_settings) is None
    assert bind_refusal("localhost", open_settings) is None
    refusal = bind_refusal("0.0.0.0", open_settings)
    assert refusal is not None and "ADVISOR_API_KEYS" in refusal
    assert bind_refusal("0.0.0.0", Settings(api_keys=[], behind_proxy=True, database_url="sqlite://")) is None
    assert bind_refusal("0.0.0.0", settings()) is None


def test_keys_are_configured_as_hashes_and_a_malformed_entry_is_refused_without_echoing_it() -> None:
    with pytest.raises(ValueError, match="name:scope:sha256hex") as refused:
        Settings(api_keys="s3cr3t-pasted-by-mistake")
    assert "s3cr3t-pasted-by-mistake" not in json.dumps([e["msg"] for e in refused.value.errors()])  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="scope must be read, write or admin"):
        Settings(api_keys=f"ci:owner:{hash_key('x')}")
    with pytest.raises(ValueError, match="names must be unique"):
        Settings(api_keys=f"ci:read:{hash_key('x')},ci:admin:{hash_key('y')}")


def test_keys_can_come_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "keys"
    path.write_text(f"# operators\nops:admin:{hash_key('k1')}\n\nci:read:{hash_key('k2')}  # the CI job\n")
    loaded = Settings(api_keys=[], api_keys_file=path)
    assert [(k.name, k.scope) for k in loaded.api_keys] == [("ops", "admin"), ("ci", "read")]
    path.write_text("ops:admin:nothex\n")
    with pytest.raises(ValueError, match="line 1"):
        Settings(api_keys=[], api_keys_file=path)
