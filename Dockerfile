# One image for all five services; docker-compose.yml and deploy/k8s pick the service with the
# command (nameko run --config <service config.yml> <service module>).
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    GUDANG_DATA_DIR=/app/var/data

WORKDIR /app

COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY lib/ lib/
COPY gateway/ gateway/
COPY services/ services/
# editable, as in development: the code (and the gateway's web assets) run from /app
RUN pip install -e lib -e gateway -e services/inventory -e services/packing \
        -e services/shipping -e services/billing

RUN useradd --system --uid 10001 --home-dir /app gudang \
    && mkdir -p /app/var/data \
    && chown -R gudang /app/var
USER gudang

EXPOSE 8000 8101 8102 8103 8104
CMD ["nameko", "run", "--config", "gateway/config.yml", "gateway.service"]
