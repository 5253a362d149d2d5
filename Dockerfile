# Cadenza: one image for both roles. `cadenza bot` (Discord front, rendering pool) and
# `cadenza worker` (one per GPU, composing jobs from the Redis stream). See docs/deploy.md.
#
#   docker build -t cadenza .
#   docker compose up -d            # bot + worker + redis + postgres
#
# The CUDA runtime image gives the driver-facing libraries; torch's CUDA wheel brings its own
# cuBLAS/cuDNN, so the slim "runtime" flavour is enough (no compiler, no "devel" headers).
FROM nvidia/cuda:12.8.1-runtime-ubuntu24.04

ARG TORCH_VERSION=2.13.0
# torch's CUDA 12.8 wheels; `pip install .` then finds torch==2.13.0 satisfied by 2.13.0+cu128.
ARG TORCH_INDEX=https://download.pytorch.org/whl/cu128

ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    CADENZA_HEALTH_PORT=9100

# FluidSynth (synthesis), the FluidR3 General MIDI SoundFont (render.soundfont = "auto" finds it at
# /usr/share/sounds/sf2/FluidR3_GM.sf2), ffmpeg (decoding uploads), cairo and DejaVu (score.png), Python 3.12 with venv.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      python3 python3-venv ca-certificates libfluidsynth3 fluid-soundfont-gm ffmpeg libcairo2 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*

RUN python3 -m venv "$VIRTUAL_ENV" \
 && pip install "torch==${TORCH_VERSION}" --index-url "${TORCH_INDEX}"

WORKDIR /app
# The code, config.toml and the shipped checkpoint (model/checkpoints/); .dockerignore keeps out the rest.
COPY . .
RUN pip install . \
 && python -c "import torch, fluidsynth, launch.cli; print('torch', torch.__version__, 'cuda', torch.version.cuda)"

# In this image jobs go to the GPU workers through Redis. The grep stops the build if config.toml
# no longer has the line we switch (tests/scale/test_deploy_files.py checks it too).
RUN sed -i 's/^backend = "inprocess"/backend = "redis"/' config.toml \
 && grep -q '^backend = "redis"' config.toml

# Never run as root: a dedicated user owning only the data folder.
RUN useradd --create-home --uid 10001 cadenza \
 && mkdir -p /app/data \
 && chown -R cadenza:cadenza /app/data
USER cadenza

# 9100: the bot's /metrics, 9101: a worker's (set CADENZA_HEALTH_PORT to match the role).
EXPOSE 9100 9101
HEALTHCHECK --interval=30s --timeout=5s --start-period=180s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/metrics' % os.environ.get('CADENZA_HEALTH_PORT', '9100'), timeout=4)"]

ENTRYPOINT ["cadenza"]
CMD ["bot"]
