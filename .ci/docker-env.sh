#!/usr/bin/env bash
# The Docker image's environment without a Docker engine: docker/install.sh (the Dockerfile's own install step)
# into a fresh venv, then, from outside the source tree so only the installed package counts, import the API and
# the Celery worker and run the image's build-time weights step (which also proves the catalogue ships as data).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "DOCKER ENVIRONMENT FAILED: $*" >&2; exit 1; }

docker/install.sh "$work/venv" "$PWD" || fail "docker/install.sh could not install the image's packages"
cd "$work"
"$work/venv/bin/python" -c "
import app.main, app.jobs.celery_app
app.main.create_app
print('imports: app.main and app.jobs.celery_app from', app.main.__file__)" || fail "the app or the Celery worker does not import"
export ENHANCE_DATA_DIR="$work/data" ENHANCE_WEIGHTS_DIR="$work/weights"
"$work/venv/bin/pip" check || fail "pip check: the image's venv has broken requirements"
"$work/venv/bin/enhance" weights import-ncnn >/dev/null || fail "enhance weights import-ncnn failed"
"$work/venv/bin/enhance" weights verify >/dev/null || fail "enhance weights verify failed"
echo "docker environment: installed, imported, weights converted and verified"
