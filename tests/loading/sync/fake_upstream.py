"""A real HTTP server on 127.0.0.1 that answers like the Hugging Face Hub and OpenRouter, with injectable faults.

By default it answers from state built from a catalogue: ``hub_models[repo_id]`` (a Hub model-info
document), ``derivatives[repo_id]`` (Hub search results, paged ``page_size`` at a time with a ``Link``
header), ``openrouter_models`` (the ``data`` list of the OpenRouter models API) and
``openrouter_endpoints[openrouter_id]`` (the providers serving one OpenRouter model). A test changes that
state, or scripts a sequence of :class:`Reply` objects for a route; the last scripted reply repeats.
Values in the documents are synthetic test data, shaped like the real APIs' answers.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, urlencode, urlsplit

from service.domain.catalogue import Catalogue, Model

Fault = Literal["reset", "truncate"]

# Reverse of the sync's unambiguous mapping, to build licence tags that agree with the catalogue.
HUB_TAG = {
    "apache-2.0": "apache-2.0",
    "mit": "mit",
    "llama-3.1-community": "llama3.1",
    "llama-3.3-community": "llama3.3",
    "llama-4-community": "llama4",
    "gemma-terms": "gemma",
}


@dataclass
class Reply:
    """One scripted answer. ``body``/``json_body`` None means: the route's default document."""

    status: int = 200
    json_body: Any = None
    body: bytes | None = None
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    fault: Fault | None = None


@dataclass(frozen=True)
class Seen:
    """A request the server received."""

    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


def hub_model_info(model: Model) -> dict[str, Any]:
    """A model-info document agreeing with the catalogue's identity facts."""
    owner = model.id.split("/", 1)[0]
    tag = HUB_TAG.get(model.licence.value, "other")
    card: dict[str, Any] = {"license": tag, "library_name": "transformers", "pipeline_tag": "text-generation"}
    if tag == "other":
        card["license_name"] = model.licence.value
    document: dict[str, Any] = {
        "_id": "0123456789abcdef01234567",
        "id": model.id,
        "modelId": model.id,
        "author": owner,
        "sha": "0" * 40,
        "lastModified": "2026-10-01T08:30:00.000Z",
        "private": False,
        "disabled": False,
        "gated": "manual" if model.gated is not None and model.gated.value else False,
        "library_name": "transformers",
        "tags": ["transformers", "safetensors", "text-generation", "conversational", f"license:{tag}", "region:us"],
        "pipeline_tag": "text-generation",
        "likes": 1000,
        "downloads": 50000,
        "cardData": card,
        "createdAt": "2025-01-01T00:00:00.000Z",
        "siblings": [{"rfilename": "config.json"}, {"rfilename": "model.safetensors"}],
        "spaces": [],
        "usedStorage": 1234567,
    }
    if model.parameters_total_b is not None:
        total = round(model.parameters_total_b.value * 1e9)
        document["safetensors"] = {"parameters": {"BF16": total}, "total": total}
    return document


def search_result(repo_id: str, base: str, kind: str) -> dict[str, Any]:
    """One Hub search result naming ``base`` as base model with relation ``kind``."""
    return {
        "_id": "fedcba9876543210fedcba98",
        "id": repo_id,
        "likes": 1,
        "trendingScore": 0,
        "private": False,
        "downloads": 10,
        "tags": ["transformers", "safetensors", f"base_model:{base}", f"base_model:{kind}:{base}", "region:us"],
        "pipeline_tag": "text-generation",
        "library_name": "transformers",
        "createdAt": "2025-06-01T00:00:00.000Z",
        "modelId": repo_id,
    }


def openrouter_entry(
    openrouter_id: str, hugging_face_id: str | None, prompt: str, completion: str, context_length: int | None
) -> dict[str, Any]:
    """One entry of the OpenRouter models list."""
    return {
        "id": openrouter_id,
        "canonical_slug": openrouter_id,
        "hugging_face_id": hugging_face_id,
        "name": openrouter_id,
        "created": 1750000000,
        "description": "synthetic test entry",
        "context_length": context_length,
        "architecture": {
            "modality": "text->text",
            "input_modalities": ["text"],
            "output_modalities": ["text"],
            "tokenizer": "Other",
            "instruct_type": None,
        },
        "pricing": {
            "prompt": prompt,
            "completion": completion,
            "request": "0",
            "image": "0",
            "web_search": "0",
            "internal_reasoning": "0",
        },
        "top_provider": {"context_length": context_length, "max_completion_tokens": 8192, "is_moderated": False},
        "per_request_limits": None,
        "supported_parameters": ["max_tokens", "temperature", "tools"],
    }


def openrouter_endpoint(
    provider_name: str,
    tag: str | None,
    prompt: str,
    completion: str,
    context_length: int | None,
    *,
    max_completion_tokens: int | None = None,
    quantization: str | None = None,
    input_cache_read: str | None = None,
) -> dict[str, Any]:
    """One provider of the OpenRouter endpoints answer."""
    pricing: dict[str, Any] = {"prompt": prompt, "completion": completion, "request": "0", "image": "0"}
    if input_cache_read is not None:
        pricing["input_cache_read"] = input_cache_read
    return {
        "name": f"{provider_name} | synthetic",
        "model_name": "synthetic test model",
        "context_length": context_length,
        "pricing": pricing,
        "provider_name": provider_name,
        "tag": tag,
        "quantization": quantization,
        "max_completion_tokens": max_completion_tokens,
        "max_prompt_tokens": None,
        "supported_parameters": ["max_tokens", "temperature"],
        "status": 0,
        "uptime_last_30m": 99.5,
        "supports_implicit_caching": input_cache_read is not None,
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    upstream: FakeUpstream

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout) leaves a broken pipe behind: expected, not worth a traceback.
        pass


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        upstream = self.server.upstream
        upstream.enter()
        self._in_flight = True
        try:
            self._answer(upstream)
        finally:
            self._leave(upstream)

    def _leave(self, upstream: FakeUpstream) -> None:
        if self._in_flight:
            self._in_flight = False
            upstream.leave()

    def send_response(self, code: int, message: str | None = None) -> None:
        # A request stops counting as in flight when its answer starts: once the client has the answer it may
        # send the next request, possibly before this thread would otherwise have counted this one out.
        self._leave(self.server.upstream)
        super().send_response(code, message)

    def _answer(self, upstream: FakeUpstream) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        upstream.record(Seen(parts.path, query, {k.lower(): v for k, v in self.headers.items()}))
        key = upstream.route_key(parts.path, query)
        reply = upstream.next_reply(key)
        if reply.delay:
            upstream.stopping.wait(reply.delay)
        if reply.fault == "reset":
            # SO_LINGER 0 turns close() into a TCP reset: the client sees the connection torn down.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        status, body, headers = upstream.render(reply, parts.path, query)
        self.send_response(status)
        self.send_header("Content-Type", reply.content_type)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if reply.fault == "truncate":
            # Half the promised bytes, then an orderly close: the body ends early.
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
            return
        self.wfile.write(body)


class FakeUpstream:
    """The fake Hub + OpenRouter; use as a context manager."""

    def __init__(self, catalogue: Catalogue, *, page_size: int = 2) -> None:
        self.hub_models: dict[str, dict[str, Any]] = {m.id: hub_model_info(m) for m in catalogue.models.values()}
        self.derivatives: dict[str, list[dict[str, Any]]] = defaultdict(list)
        # config.json documents by repo id, served at /{repo}/resolve/{sha}/config.json; absent: 404.
        self.hub_configs: dict[str, dict[str, Any]] = {}
        self.openrouter_models: list[dict[str, Any]] = [
            openrouter_entry("openrouter/auto", "", "-1", "-1", 2000000),
            openrouter_entry("example/closed-model", None, "0.000001", "0.000002", 128000),
        ]
        self.openrouter_endpoints: dict[str, list[dict[str, Any]]] = {}
        self.page_size = page_size
        self.stopping = threading.Event()
        self._scripts: dict[str, list[Reply]] = {}
        self._lock = threading.Lock()
        self.seen: list[Seen] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.upstream = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FakeUpstream:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # --- scripting -----------------------------------------------------------------------------------

    def script(self, key: str, *replies: Reply) -> None:
        """Answer ``key`` with ``replies`` in turn (the last repeats). Keys: see :meth:`route_key`."""
        with self._lock:
            self._scripts[key] = list(replies)

    @staticmethod
    def model_key(repo_id: str) -> str:
        return f"/api/models/{repo_id}"

    @staticmethod
    def derivatives_key(repo_id: str) -> str:
        return f"/api/models?filter=base_model:{repo_id}"

    OPENROUTER_KEY = "/api/v1/models"

    @staticmethod
    def endpoints_key(openrouter_id: str) -> str:
        return f"/api/v1/models/{openrouter_id}/endpoints"

    def serve_openrouter(self, openrouter_id: str, hugging_face_id: str | None, *endpoints: dict[str, Any]) -> None:
        """List a model (its own price is the routed one) and the providers serving it."""
        first = endpoints[0] if endpoints else None
        price = first["pricing"] if first else {"prompt": "0.000001", "completion": "0.000002"}
        context = first["context_length"] if first else None
        self.openrouter_models.append(
            openrouter_entry(openrouter_id, hugging_face_id, price["prompt"], price["completion"], context)
        )
        self.openrouter_endpoints[openrouter_id] = list(endpoints)

    def route_key(self, path: str, query: dict[str, list[str]]) -> str:
        if path == "/api/models" and "filter" in query:
            return f"/api/models?filter={query['filter'][0]}"
        return path

    def next_reply(self, key: str) -> Reply:
        with self._lock:
            queue = self._scripts.get(key)
            if not queue:
                return Reply()
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def record(self, seen: Seen) -> None:
        with self._lock:
            self.seen.append(seen)

    def requests_to(self, key: str) -> list[Seen]:
        """Requests whose route key is ``key``."""
        with self._lock:
            return [s for s in self.seen if self.route_key(s.path, s.query) == key]

    # --- default documents ---------------------------------------------------------------------------

    def render(self, reply: Reply, path: str, query: dict[str, list[str]]) -> tuple[int, bytes, dict[str, str]]:
        """Status, body and extra headers of a reply (the route's default document unless it has a body)."""
        headers = dict(reply.headers)
        if reply.body is not None:
            return reply.status, reply.body, headers
        if reply.json_body is not None:
            return reply.status, json.dumps(reply.json_body).encode(), headers
        if reply.status != 200:
            return reply.status, json.dumps({"error": f"status {reply.status}"}).encode(), headers
        document: Any
        if path == "/api/v1/models":
            document = {"data": self.openrouter_models}
        elif path.startswith("/api/v1/models/") and path.endswith("/endpoints"):
            openrouter_id = path.removeprefix("/api/v1/models/").removesuffix("/endpoints")
            if openrouter_id not in self.openrouter_endpoints:
                return 404, json.dumps({"error": {"code": 404, "message": "No endpoints found"}}).encode(), headers
            document = {
                "data": {
                    "id": openrouter_id,
                    "name": openrouter_id,
                    "created": 1750000000,
                    "description": "synthetic test entry",
                    "architecture": {"modality": "text->text", "tokenizer": "Other", "instruct_type": None},
                    "endpoints": self.openrouter_endpoints[openrouter_id],
                }
            }
        elif path == "/api/models" and "filter" in query:
            base = query["filter"][0].removeprefix("base_model:")
            results = self.derivatives.get(base, [])
            cursor = int(query.get("cursor", ["0"])[0])
            document = results[cursor : cursor + self.page_size]
            if cursor + self.page_size < len(results):
                following = urlencode({"filter": query["filter"][0], "cursor": cursor + self.page_size})
                headers["Link"] = f'<{self.url}/api/models?{following}>; rel="next"'
        elif path.startswith("/api/models/") and path.removeprefix("/api/models/") in self.hub_models:
            document = self.hub_models[path.removeprefix("/api/models/")]
        elif path.endswith("/config.json") and "/resolve/" in path:
            repo_id = path.lstrip("/").split("/resolve/", 1)[0]
            if repo_id not in self.hub_configs:
                return 404, json.dumps({"error": "Entry not found"}).encode(), headers
            document = self.hub_configs[repo_id]
        else:
            return (
                404,
                json.dumps({"error": "Repository not found"}).encode(),
                headers | {"X-Error-Code": "RepoNotFound"},
            )
        return 200, json.dumps(document).encode(), headers
