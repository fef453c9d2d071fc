FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY anbu anbu
COPY ingest ingest
COPY detectors detectors
COPY alerts alerts
COPY dashboard dashboard
COPY simulators simulators
RUN pip install --no-cache-dir .
USER nobody
CMD ["anbu", "--help"]
