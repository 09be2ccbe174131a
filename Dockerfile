# The hub worker image for production (docker-compose.yml). No Docker engine runs in development:
# tests/unit/test_compose.py checks the compose file against the settings model instead.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY hub ./hub
COPY schemas ./schemas
COPY connectors ./connectors
# /var/lib/hub/shared exists in the image, owned by hub, so the named volume mounted there is too.
RUN pip install --no-cache-dir . && useradd --system --home /var/lib/hub hub \
    && mkdir -p /var/lib/hub/shared/keys && chown -R hub /var/lib/hub
USER hub
ENV HUB_DATA_DIR=/var/lib/hub
EXPOSE 8075
ENTRYPOINT ["hub"]
CMD ["up"]
