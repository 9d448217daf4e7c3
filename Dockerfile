FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY vigie vigie
COPY edge edge
COPY ingest ingest
COPY streams streams
COPY dashboards dashboards
COPY simulators simulators
RUN pip install --no-cache-dir '.[platform]'
USER nobody
ENV NUMBA_CACHE_DIR=/tmp/numba-cache
ENTRYPOINT []
