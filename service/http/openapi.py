"""The OpenAPI document states what validation enforces, no more and no less.

Litestar derives request schemas from type annotations and drops part of what pydantic checks (list item
patterns, ``minProperties``, bounds on mapping values, uniqueness, cross-field rules). The request bodies'
components are therefore replaced by pydantic's own JSON Schema of the same models (validation mode), and the
ids a request may name are listed as enums of what the loaded catalogue and rules hold, so that a request
conforming to the document is never refused as unknown.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from litestar import Litestar
from litestar.openapi.spec import Components, Schema
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from service.domain.engine import Engine

__all__ = ["JsonSchema", "document_request_bodies"]

_REF_TEMPLATE = "#/components/schemas/{model}"


class JsonSchema(Schema):
    """A component given as plain JSON Schema (from pydantic), served as is."""

    def __init__(self, raw: dict[str, Any]) -> None:
        super().__init__()
        self.raw = raw

    def to_schema(self) -> dict[str, Any]:
        """The JSON Schema itself."""
        return self.raw


def _branch(prop: dict[str, Any]) -> dict[str, Any]:
    """The non-null branch of an ``anyOf: [X, null]`` property, else the property itself."""
    for option in prop.get("anyOf", []):
        if option.get("type") != "null":
            return option  # type: ignore[no-any-return]
    return prop


def _set(component: dict[str, Any], name: str, *, items: bool = False, **constraints: Any) -> None:
    """Add ``constraints`` to property ``name`` of ``component`` (or to its items), through an optional null."""
    prop = component["properties"].get(name)
    if prop is None:
        return
    target = _branch(prop)
    if items:
        target = target["items"]
    target.update(constraints)


def document_request_bodies(app: Litestar, engine: Engine, models: Iterable[type[BaseModel]]) -> None:
    """Replace the components of ``models`` (and the sections they contain) with pydantic's JSON Schema,
    with the loaded licence, profile, GPU and model ids as enums and the policy's result limit as maximum."""
    _, top = models_json_schema([(model, "validation") for model in models], ref_template=_REF_TEMPLATE)
    definitions: dict[str, dict[str, Any]] = top.get("$defs", {})
    model_ids = sorted(engine.catalogue.models)
    if "IP" in definitions:
        _set(definitions["IP"], "allowed_licences", items=True, enum=sorted(engine.rules.licences))
    if "Hardware" in definitions:
        _set(definitions["Hardware"], "gpu", enum=sorted(engine.rules.gpus))
    if "Requirements" in definitions:
        requirements = definitions["Requirements"]
        _set(requirements, "profile", enum=sorted(engine.rules.profiles))
        _set(requirements, "explain", items=True, enum=model_ids)
        limit = requirements["properties"].get("limit", {})
        limit["maximum"] = min(limit.get("maximum", engine.rules.policy.max_limit), engine.rules.policy.max_limit)
    if "CompareRequest" in definitions:
        _set(definitions["CompareRequest"], "models", items=True, enum=model_ids)
        _set(definitions["CompareRequest"], "models", uniqueItems=True)
    document = app.openapi_schema
    if document.components is None:
        document.components = Components()
    if document.components.schemas is None:
        document.components.schemas = {}
    for name, raw in definitions.items():
        document.components.schemas[name] = JsonSchema(raw)
