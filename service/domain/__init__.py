"""The domain core: catalogue and rules as data, requirements, and the engine that turns one into a decision.

Nothing here imports a web framework, a database driver or an HTTP client; the layer contract in
``pyproject.toml`` keeps it so. Import from the submodules: ``service.domain.engine``,
``service.domain.catalogue``, ``service.domain.rules``, ``service.domain.requirements``.
"""
