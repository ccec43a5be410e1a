"""``python -m bench.ceiling --port N``: the service's own app with one more route, ``POST /v1/bench/echo``, for
the framework's ceiling figure of ``./dev bench``.

The echo route takes the same body as ``POST /v1/recommendations`` through the same app (middleware, the
request-boundary checks, key guard, body parsing and pydantic validation into :class:`Requirements`) and
answers with the validated requirements as JSON: everything a recommendation costs the server except
deciding, explaining and recording it. A POST's share of ``/health`` throughput can be judged against the
echo's share measured the same way: no work on the request can make a POST cheaper than its echo. Served by
uvicorn with the options ``advisor serve`` uses; the bench only, never part of the service.
"""

from __future__ import annotations

import argparse

import uvicorn
from litestar import MediaType, Response, post
from litestar.params import JSONBody

from service.cli import create_app_from_environment
from service.domain.requirements import Requirements

#: The echo route's path: under ``/v1``, so that the app treats it as it treats the JSON API (no CSRF check).
ECHO = "/v1/bench/echo"


@post(ECHO, status_code=200, opt={"scope": "write"}, include_in_schema=False)
async def echo(data: JSONBody[Requirements | None] = None) -> Response[bytes]:
    """The validated requirements of the body, as JSON (an empty body: the defaults)."""
    requirements = data or Requirements()
    return Response(requirements.__pydantic_serializer__.to_json(requirements), media_type=MediaType.JSON)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ceiling", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = create_app_from_environment()  # the settings, logging and allocator of ``advisor serve``
    app.register(echo)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
