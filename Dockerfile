FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install . \
 && useradd --create-home --uid 10001 monitor \
 && mkdir -p /app/storage \
 && chown -R monitor:monitor /app/storage

COPY --chown=monitor:monitor feeds.yaml ./feeds.yaml
USER monitor

# History, settings and the model cache live here; mount a volume to keep them.
VOLUME ["/app/storage"]
# Mount your own feed list over /app/feeds.yaml (it must stay writable for /tiktok feeds add).
ENV TIKTOK_MONITOR_CONFIG=/app/feeds.yaml TIKTOK_MONITOR_DB=/app/storage/monitor.db PORT=3000
EXPOSE 3000
CMD ["tiktok-monitor", "run"]
