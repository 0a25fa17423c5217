FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install . \
 && useradd --create-home --uid 10001 monitor \
 && mkdir -p /app/storage /app/config \
 && chown -R monitor:monitor /app/storage /app/config

COPY --chown=monitor:monitor feeds.yaml ./config/feeds.yaml
USER monitor

# History, subscriptions and the model cache live here; keep it on a volume.
VOLUME ["/app/storage"]
# feeds.yaml is saved atomically (write beside it, then rename), so mount its *directory*
# (writable by uid 10001) to keep `/tiktok feeds add|remove` edits: -v ./config:/app/config
ENV TIKTOK_MONITOR_CONFIG=/app/config/feeds.yaml TIKTOK_MONITOR_DB=/app/storage/monitor.db \
    TIKTOK_MONITOR_MODELS=/app/storage PORT=3000
EXPOSE 3000
CMD ["tiktok-monitor", "run"]
