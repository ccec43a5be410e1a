# syntax=docker/dockerfile:1
# Two stages: the build stage resolves nothing (it installs exactly the versions in uv.lock, runtime
# dependencies only) and the final stage holds the virtual environment and the data, no build tools.

FROM python:3.11-slim AS build
ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir "uv==${UV_VERSION}"
WORKDIR /app
ENV UV_PROJECT_ENVIRONMENT=/app/.venv UV_PYTHON_DOWNLOADS=never UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy
COPY pyproject.toml uv.lock README.md ./
# The workspace's client package is not installed here, but uv reads its project file to check the lock.
COPY client/pyproject.toml client/README.md ./client/
# Dependencies first (cached while only the code changes), then the project itself.
RUN uv sync --frozen --no-install-project --no-editable --no-cache --python python3.11
COPY service ./service
COPY catalogue ./catalogue
COPY rules ./rules
RUN uv sync --frozen --no-editable --no-cache --python python3.11

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 advisor && mkdir -p /data && chown advisor /data
COPY --from=build /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH \
    ADVISOR_HOST=0.0.0.0 \
    ADVISOR_PORT=8000 \
    ADVISOR_DATABASE_URL=sqlite:////data/advisor.db \
    PYTHONDONTWRITEBYTECODE=1
# Decision records live on a volume, not in the container. Without ADVISOR_API_KEYS (or
# ADVISOR_BEHIND_PROXY=true) the service refuses to listen on 0.0.0.0.
VOLUME ["/data"]
USER 10001
WORKDIR /home/advisor
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]
# exec form: the server runs as PID 1 and gets SIGTERM itself, finishing in-flight requests before it exits.
CMD ["advisor", "serve"]
