"""Procurement reports: a stored answer rendered as Markdown or as self-contained, printable HTML.

Renders from domain objects only (the :class:`~service.domain.answer.Answer` and a small record envelope);
the HTTP layer and the CLI fetch the record and call :func:`render`.
"""

from service.reporting.render import (
    FORMATS,
    MEDIA_TYPES,
    CitedSource,
    RecordInfo,
    cited_sources,
    describe_requirements,
    render,
)

__all__ = ["FORMATS", "MEDIA_TYPES", "CitedSource", "RecordInfo", "cited_sources", "describe_requirements", "render"]
