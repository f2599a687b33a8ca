# One image for the central services (detector, dashboard, store consumer).
# The gateway runs on the Raspberry Pi with the light install (see deploy/gateway/).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY dagritme ./dagritme
COPY gateway ./gateway
COPY detector ./detector
COPY dashboard ./dashboard
COPY store ./store
COPY firmware_sim ./firmware_sim
RUN pip install --no-cache-dir '.[detector,dashboard]' \
    && useradd --system --home /var/lib/dagritme dagritme \
    && mkdir -p /var/lib/dagritme && chown dagritme /var/lib/dagritme
USER dagritme
ENTRYPOINT ["dagritme"]
