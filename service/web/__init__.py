"""Web pages for people: server-rendered HTML on the same app as the API, no script, one stylesheet.

``build_web(settings, ring)`` returns the parts :func:`service.http.app.create_app` registers: one Litestar
:class:`~litestar.Router` with every page and the stylesheet, the Jinja2 template configuration, the CSRF
configuration (the JSON API is excluded: tools send no cookies and post JSON only), the page guard and the
exception handlers that answer a page's error with an HTML page (the API keeps its JSON problems).

Pages: ``/`` (requirements form), ``/decisions/{id}`` (a stored decision), ``/catalogue``, ``/sign-in`` and
``/sign-out``; the stylesheet is ``/static/site.css``.
"""

from service.web.app import WebParts, build_web

__all__ = ["WebParts", "build_web"]
