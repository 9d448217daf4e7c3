# The Vigie services' image (docker-compose.yml): every package the `vigie` command imports.
# tests/unit/test_image.py installs this file set without Docker and runs its entry point.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY vigie vigie
COPY shell shell
COPY reports reports
COPY notify notify
COPY edge edge
COPY ingest ingest
COPY streams streams
COPY dashboards dashboards
COPY simulators simulators
RUN pip install --no-cache-dir '.[platform]'
USER nobody
ENV NUMBA_CACHE_DIR=/tmp/numba-cache VIGIE_HOME=/data
ENTRYPOINT []
