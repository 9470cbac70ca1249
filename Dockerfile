# Newswire: `newswire run` (bot and worker in one process) by default; compose.yaml runs one
# `--role bot` and two `--role worker` containers over PostgreSQL. See the README, "Deploying".
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The package is installed, then its sources removed: the code runs from site-packages only.
COPY pyproject.toml README.md /src/
COPY bot /src/bot
COPY content /src/content
RUN pip install /src && rm -rf /src

# A user of its own, writing only to /app (./data/ holds the SQLite file when no DATABASE_URL).
RUN useradd --create-home --uid 10001 --user-group newswire \
    && mkdir -p /app/data && chown -R newswire:newswire /app
WORKDIR /app
USER newswire

# The web server (pushes, webhooks, /healthz, /metrics) must be reachable from outside the
# container; publish the port only where it should be (compose.yaml, or a reverse proxy).
ENV HTTP_HOST=0.0.0.0 \
    HTTP_PORT=8080
EXPOSE 8080

# 200 from /healthz: the database answers and the worker loop ticks; 503 or no answer: unhealthy.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:${HTTP_PORT}/healthz', timeout=4)" || exit 1

CMD ["newswire", "run"]
