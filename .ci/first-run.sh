#!/usr/bin/env bash
# The README's first command on a fresh machine: `make run`'s steps in a venv holding only the runtime
# dependencies, then /readyz, one image enhanced over HTTP as the README's first curl does, and a clean stop.
# `make test` installs the dev extra afterwards, which would hide a module that only an extra provides.
set -euo pipefail
cd "$(dirname "$0")/.."
port=${FIRST_RUN_PORT:-18000}
log=$(mktemp)
work=$(mktemp -d)
fail() { echo "FIRST RUN FAILED: $*" >&2; echo "--- make run log (tail) ---" >&2; tail -n 40 "$log" >&2; exit 1; }

[ ! -e .venv ] || fail ".venv already exists: this check needs a fresh environment"
make install >"$log" 2>&1 || fail "make install (runtime dependencies only) failed"
if .venv/bin/pip show pytest >/dev/null 2>&1; then fail "the runtime install pulled in a dev dependency (pytest)"; fi
.venv/bin/pip check >>"$log" 2>&1 || fail "pip check: the runtime venv has broken requirements"
locked=$(grep -E '^torch==' requirements.lock)
installed=torch==$(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("torch"))')
[ "$locked" = "$installed" ] || fail "make install put $installed in the venv; requirements.lock pins $locked"

ENHANCE_PORT=$port setsid make run >>"$log" 2>&1 &
server=$!
stop() { kill -TERM -- "-$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }
trap stop EXIT

for _ in $(seq 1 300); do
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || fail "make run exited before /readyz answered"
  sleep 2
done
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || fail "/readyz did not answer 200 within 600 s"

# A real photograph (the DeblurGAN fixture's input, 250x190), written as PNG with the runtime's own Pillow.
.venv/bin/python -c "
import numpy as np, PIL.Image, sys
PIL.Image.fromarray(np.load('../shared/fixtures/deblurgan/input_rgb_u8.npy')).save(sys.argv[1])" "$work/photo.png"
code=$(curl -sS -o "$work/out.png" -w '%{http_code}' -F "file=@$work/photo.png" \
  "http://127.0.0.1:$port/v1/images/enhance?scale=4")
[ "$code" = 200 ] || fail "POST /v1/images/enhance answered $code: $(head -c 400 "$work/out.png")"
size=$(.venv/bin/python -c "import PIL.Image, sys; print('%dx%d' % PIL.Image.open(sys.argv[1]).size)" "$work/out.png")
[ "$size" = 1000x760 ] || fail "the enhanced image is $size, expected 1000x760"

stop
trap - EXIT
echo "first run: make run served /readyz and enhanced a 250x190 photo to $size (runtime dependencies only)"
