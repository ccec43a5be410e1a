"""The HTTP layer: a thin Litestar app over the domain core."""

from service.http.app import create_app

__all__ = ["create_app"]
