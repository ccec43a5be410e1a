"""The page handlers. Each is a few lines: read the request, call the same functions as the API, render."""

from __future__ import annotations

from typing import Annotated, Any

import pydantic
from anyio import to_thread
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import PathParameter
from litestar.response import Redirect, Template

from service.domain.engine import Engine
from service.domain.errors import RequirementError
from service.domain.requirements import Requirements
from service.http.metrics import Metrics
from service.http.records import CompareRequest, decide
from service.storage import DecisionArchive, DecisionStore, RebuildError
from service.web.auth import safe_next
from service.web.forms import (
    LABELS,
    SLIDER_MAX,
    FormState,
    add_requirement_error,
    form_values,
    plain_message,
    requirements_from_form,
)
from service.web.layout import READ, WRITE, Clock, Web
from service.web.options import form_options
from service.web.reference import ReferencePages
from service.web.results import decision_view
from service.web.session import SESSION_COOKIE

__all__ = ["PAGE_CONTROLLERS", "Web"]


class HomePage(Controller):
    """The requirements form: GET shows it (``?from=<record id>`` fills it from a stored decision), POST decides."""

    path = "/"

    @get("/", name="home", opt=READ, sync_to_thread=True)
    def form(
        self,
        request: Request[Any, Any, Any],
        web: NamedDependency[Web],
        engine: NamedDependency[Engine],
        records: NamedDependency[DecisionStore],
    ) -> Template:
        default = engine.rules.policy.default_profile
        requirements = Requirements()
        source = request.query_params.get("from")
        if source:
            record = records.get(source[:100])
            if record is None:
                raise NotFoundException(detail=f"no decision record with id {source[:100]!r}")
            requirements = Requirements.model_validate_json(record.requirements)
        return self._render(request, web, engine, form_values(requirements, default))

    @post("/", name="decide", opt=WRITE, status_code=303)
    async def decide(
        self,
        request: Request[Any, Any, Any],
        web: NamedDependency[Web],
        engine: NamedDependency[Engine],
        clock: NamedDependency[Clock],
        records: NamedDependency[DecisionStore],
        archive: NamedDependency[DecisionArchive],
        metrics: NamedDependency[Metrics],
    ) -> Response[Any]:
        form = FormState.from_pairs((await request.form()).multi_items())
        requirements = requirements_from_form(form, engine.rules.criteria)
        if requirements is None:
            return self._render(request, web, engine, form, status=400)
        try:
            _, (record, _, _) = await to_thread.run_sync(
                decide, engine, requirements, clock(), records, archive, metrics, request.state.get("api_key_name")
            )
        except RequirementError as exc:
            add_requirement_error(form, exc)
            return self._render(request, web, engine, form, status=400)
        return Redirect(path=f"/decisions/{record.id}", status_code=303)

    @staticmethod
    def _render(
        request: Request[Any, Any, Any], web: Web, engine: Engine, form: FormState, status: int = 200
    ) -> Template:
        return web.page(
            request,
            "home.html",
            nav="home",
            status=status,
            form=form,
            labels=LABELS,
            options=form_options(engine),
            slider_max=SLIDER_MAX,
        )


class DecisionPage(Controller):
    """A stored decision, linkable: the shortlist, reasons, evidence, exclusions, trade-offs and links."""

    path = "/decisions"

    @get("/{record_id:str}", name="decision", opt=READ, sync_to_thread=True)
    def decision(
        self,
        request: Request[Any, Any, Any],
        web: NamedDependency[Web],
        engine: NamedDependency[Engine],
        records: NamedDependency[DecisionStore],
        archive: NamedDependency[DecisionArchive],
        record_id: Annotated[str, PathParameter(max_length=100)],
    ) -> Template:
        record = records.get(record_id[:100])
        if record is None:
            raise NotFoundException(detail=f"no decision record with id {record_id[:100]!r}")
        try:
            # Rebuilt from the record's stored catalogue and rules versions, checked against its answer digest.
            answer = archive.answer(record)
        except RebuildError as exc:
            raise ClientException(status_code=409, detail=f"{exc}; open it at /v1/recommendations/{record.id}") from exc
        view = decision_view(answer, record, engine)
        return web.page(request, "decision.html", view=view, answer=answer)


class ComparePage(Controller):
    """Two to six models side by side, under a stored decision's requirements (or none)."""

    path = "/compare"

    @get("/", name="compare", opt=READ, sync_to_thread=True)
    def compare(
        self,
        request: Request[Any, Any, Any],
        web: NamedDependency[Web],
        engine: NamedDependency[Engine],
        clock: NamedDependency[Clock],
        records: NamedDependency[DecisionStore],
    ) -> Template:
        query = request.query_params
        decision_id = (query.get("decision") or "")[:100] or None
        requirements = Requirements()
        if decision_id is not None:
            record = records.get(decision_id)
            if record is None:
                raise NotFoundException(detail=f"no decision record with id {decision_id!r}")
            requirements = Requirements.model_validate_json(record.requirements)
        models = [m for value in query.getall("models", []) for m in value.split()]
        form = FormState({"models": ["\n".join(models)]} if models else {})
        comparison = None
        if models:
            try:
                chosen = CompareRequest.model_validate({"models": models}).models
                comparison = engine.compare(list(chosen), requirements, clock())
            except pydantic.ValidationError as exc:
                item = exc.errors(include_url=False)[0]
                form.errors["models"] = plain_message("models", item["type"], str(item["msg"]), item.get("ctx") or {})
                if item["type"] == "too_short":
                    form.errors["models"] = "give at least two model ids"
                elif item["type"] == "too_long":
                    form.errors["models"] = "give at most six model ids"
            except RequirementError as exc:
                form.errors["models"] = exc.problem
        return web.page(
            request,
            "compare.html",
            status=400 if form.errors else 200,
            form=form,
            labels={"models": "Models to compare"},
            decision_id=decision_id,
            comparison=comparison,
        )


class SignInPage(Controller):
    """Sign in with an API key (when keys are configured), and sign out."""

    path = "/"

    @get("/sign-in", name="sign_in")
    async def sign_in_form(self, request: Request[Any, Any, Any], web: NamedDependency[Web]) -> Template:
        return self._form(request, web, safe_next(request.query_params.get("next")), {})

    @post("/sign-in", name="sign_in_post", status_code=303)
    async def sign_in(self, request: Request[Any, Any, Any], web: NamedDependency[Web]) -> Response[Any]:
        form = await request.form()
        next_path = safe_next(str(form.get("next") or "/"))
        if not web.access.enabled:
            return Redirect(path=next_path, status_code=303)
        secret = str(form.get("api_key") or "").strip()
        if not secret:
            return self._form(request, web, next_path, {"api_key": "Enter your API key"}, 400)
        ring = web.access.ring
        key = ring.identify(secret) if ring is not None else None
        if key is None:
            return self._form(
                request, web, next_path, {"api_key": "This key is not recognised; check it and try again"}, 400
            )
        cookie = Cookie(
            key=SESSION_COOKIE,
            value=web.access.signer.issue(key.name),
            max_age=web.max_age_s,
            path="/",
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
        return Redirect(path=next_path, status_code=303, cookies=[cookie])

    @post("/sign-out", name="sign_out", status_code=303)
    async def sign_out(self) -> Response[Any]:
        gone = Cookie(key=SESSION_COOKIE, value="", max_age=0, path="/", httponly=True, samesite="lax")
        return Redirect(path="/sign-in", status_code=303, cookies=[gone])

    @staticmethod
    def _form(
        request: Request[Any, Any, Any], web: Web, next_path: str, errors: dict[str, str], status: int = 200
    ) -> Template:
        return web.page(
            request,
            "sign_in.html",
            status=status,
            next=next_path,
            errors=errors,
            labels={"api_key": "API key"},
            keys_configured=web.access.enabled,
            hours=round(web.max_age_s / 3600, 1),
        )


PAGE_CONTROLLERS = [HomePage, DecisionPage, ComparePage, ReferencePages, SignInPage]
