FROM python:3.11-slim
# The image installs exactly the versions in uv.lock (runtime dependencies only, no dev extra).
ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir "uv==${UV_VERSION}" && useradd --create-home advisor
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
COPY service ./service
COPY catalogue ./catalogue
COPY rules ./rules
ENV UV_PROJECT_ENVIRONMENT=/app/.venv UV_PYTHON_DOWNLOADS=never UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy
RUN uv sync --frozen --no-editable --no-cache --python python3.11
ENV PATH=/app/.venv/bin:$PATH
USER advisor
WORKDIR /home/advisor
ENV ADVISOR_HOST=0.0.0.0 ADVISOR_PORT=8000
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health')"
CMD ["advisor", "serve"]
