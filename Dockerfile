# snapfit: the Telegram bot (`snapfit run`, the default) or the indexer (`snapfit schedule`).
#
#   docker build -t snapfit .                                   # CPU torch (default)
#   docker build -t snapfit:cuda \
#       --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cu126 .   # CUDA torch
#   docker build -t snapfit --build-arg SNAPFIT_EXTRAS=onnx .   # + ONNX Runtime ([model] engine = "onnx")
#
# Volumes: /data (snapshots, sync state, user settings, the embedded index when [store] url is
# empty) and /models (the Hugging Face cache for hf-hub: models, and local-dir: model folders).
# The working directory is /, so the relative defaults `data/` and `models/` land in them.

# Pinned to a full version tag, so that a rebuild gets the same Python; bump it deliberately (for a
# byte-for-byte base, append the image's digest as `@sha256:...` after checking it with `docker pull`).
ARG PYTHON_VERSION=3.11.14
FROM python:${PYTHON_VERSION}-slim-bookworm

# torch's wheel index: .../whl/cpu (no CUDA libraries, ~5x smaller) or .../whl/cu126 etc. for a GPU.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
# torch and the torchvision built for it, pinned for reproducible builds (bump them together).
ARG TORCH_VERSION=2.14.1
ARG TORCHVISION_VERSION=0.29.1
# Optional extras of the snapfit package, comma-separated (e.g. "onnx").
ARG SNAPFIT_EXTRAS=""

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 --user-group --shell /usr/sbin/nologin snapfit

WORKDIR /src
# torch first, from the chosen index: `pip install .` then finds it installed and keeps it.
RUN pip install --index-url "${TORCH_INDEX_URL}" "torch==${TORCH_VERSION}" "torchvision==${TORCHVISION_VERSION}"
# The dependencies in a layer of their own (rebuilt only when pyproject.toml changes), installed
# with empty stand-in packages and an empty README.md (pyproject's `readme`; the real one comes with
# the sources, so a docs edit does not rebuild this layer). The stand-ins' build output goes too:
# setuptools would otherwise keep the newer stand-ins over the real (older, COPY keeps mtimes)
# sources below.
COPY pyproject.toml ./
RUN mkdir bot indexer && touch bot/__init__.py indexer/__init__.py README.md \
    && pip install ".${SNAPFIT_EXTRAS:+[$SNAPFIT_EXTRAS]}" \
    && pip uninstall --yes snapfit \
    && rm -rf bot indexer build snapfit.egg-info README.md
COPY README.md ./
COPY bot ./bot
COPY indexer ./indexer
RUN pip install --no-deps . && rm -rf /src

RUN mkdir -p /data /models/huggingface && chown -R snapfit:snapfit /data /models
WORKDIR /
# Hugging Face downloads go to the model volume; /metrics and /healthz listen on every interface
# of the container (for Prometheus and published ports; the config file's [metrics] host is
# overridden by this variable, as by any SNAPFIT_* variable).
ENV HF_HOME=/models/huggingface \
    SNAPFIT_METRICS__HOST=0.0.0.0
VOLUME ["/data", "/models"]
# [metrics] port: /metrics and /healthz.
EXPOSE 9108

# Numeric, so that a runtime can verify it is not root (Kubernetes runAsNonRoot).
USER 10001:10001

# /healthz through `snapfit health` (no curl in the image). The first start may download the
# model (about 800 MB for the default) before the index opens: hence the long start period.
HEALTHCHECK --interval=30s --timeout=15s --start-period=10m --retries=3 \
    CMD ["snapfit", "health", "--timeout", "10"]

CMD ["snapfit", "run"]
