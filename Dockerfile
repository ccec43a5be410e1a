FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY service ./service
COPY catalogue ./catalogue
COPY rules ./rules
RUN pip install --no-cache-dir . && useradd --create-home advisor
USER advisor
WORKDIR /home/advisor
ENV ADVISOR_HOST=0.0.0.0 ADVISOR_PORT=8000
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health')"
CMD ["advisor", "serve"]
