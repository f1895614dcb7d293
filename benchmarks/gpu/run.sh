#!/usr/bin/env bash
# The GPU kit, on the device tool's bare GPU machine (#18). The bundle (`make gpu-bundle`) travels in two parts, each
# under the 64 MiB a call may carry, so the checks take two calls on the same warm machine, the second right after:
#
#   run(carry=[".gpu-bundle/core"],   command="bash benchmarks/gpu/run.sh core $OUT")    install, CUDA tests, animevideov3
#   run(carry=[".gpu-bundle/x4plus"], command="bash benchmarks/gpu/run.sh x4plus $OUT")  x4plus, HTTP concurrency
#
# Without a GPU (the kit's proof): a clean venv holding only torch and the GPU image's packages, and a bundle for
# its Python (`benchmarks/gpu/bundle.py --python 3.11 --out .gpu-bundle-311`):
#
#   KIT_PYTHON=/tmp/kitvenv/bin/python KIT_BUNDLE=.gpu-bundle-311 bash benchmarks/gpu/run.sh core /tmp/out --device cpu
#
# Everything it writes goes to OUT: nvidia-smi, the test log, the benchmark's table, JSON and chart.
set -uo pipefail
STAGE=${1:?usage: run.sh core|x4plus OUT [--device cpu|cuda]}
OUT=${2:?usage: run.sh core|x4plus OUT [--device cpu|cuda]}
DEVICE=cuda
if [ "${3:-}" = "--device" ]; then DEVICE=${4:?--device needs a value}; fi
PY=${KIT_PYTHON:-python3}
BUNDLE=${KIT_BUNDLE:-.gpu-bundle}
KIT=${KIT_HOME:-/tmp/enhance-kit}  # installed wheels, weights and data; kept while the machine stays warm
cd "$(dirname "$0")/../.."
mkdir -p "$OUT" "$KIT/weights" "$KIT/media"
export PYTHONPATH="$KIT/site:$PWD" PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
export ENHANCE_DEVICE="$DEVICE" ENHANCE_KIT_DEVICE="$DEVICE" ENHANCE_DATA_DIR="$KIT/data"
export ENHANCE_WEIGHTS_DIR="$KIT/weights" ENHANCE_CATALOG_PATH="$KIT/catalog.toml" ENHANCE_KIT_MEDIA="$KIT/media"
export ENHANCE_DEFAULT_MODEL=realesr-animevideov3-x4
started=$SECONDS

case "$STAGE" in
core)
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$KIT/site" \
    "$BUNDLE"/core/wheels/*.whl || { echo "installing the bundle's wheels failed"; exit 1; }
  cp "$BUNDLE"/core/weights/* "$KIT/weights/" && cp "$BUNDLE"/core/catalog.toml "$KIT/" \
    && cp "$BUNDLE"/core/media/* "$KIT/media/" || { echo "the bundle is incomplete: make gpu-bundle"; exit 1; }
  { nvidia-smi || true; "$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"; } \
    > "$OUT/machine.txt" 2>&1
  cat "$OUT/machine.txt"
  echo "== CUDA tests (pytest -m cuda) =="
  timeout 300 "$PY" -m pytest -m cuda tests/gpu -q -rA -s -p no:cacheprovider 2>&1 | tee "$OUT/cuda-tests.log"
  tests=${PIPESTATUS[0]}
  echo "== benchmark: animevideov3 =="
  timeout 240 "$PY" benchmarks/gpu/bench_kit.py --device "$DEVICE" --out "$OUT" \
    --models realesr-animevideov3-x4 --http-model none ${KIT_BENCH_ARGS:-} 2>&1 | tee "$OUT/bench-core.log"
  bench=${PIPESTATUS[0]}
  ;;
x4plus)
  [ -d "$KIT/site" ] || { echo "this machine has no installed kit: run the core stage first, then this one at once"; exit 1; }
  cp "$BUNDLE"/x4plus/weights/* "$KIT/weights/" || { echo "the x4plus part is missing: make gpu-bundle"; exit 1; }
  tests=0
  echo "== benchmark: x4plus, and 8 concurrent HTTP requests =="
  timeout 420 "$PY" benchmarks/gpu/bench_kit.py --device "$DEVICE" --out "$OUT" \
    --models realesrgan-x4plus --http-model realesrgan-x4plus ${KIT_BENCH_ARGS:-} 2>&1 | tee "$OUT/bench-x4plus.log"
  bench=${PIPESTATUS[0]}
  echo "== x4plus model-only: dtype, layout, cuDNN autotuner, batch =="
  timeout 150 "$PY" benchmarks/gpu/variants.py --device "$DEVICE" --out "$OUT" --model realesrgan-x4plus \
    ${KIT_VARIANT_ARGS:-} 2>&1 | tee "$OUT/variants.log" || echo "the variants script failed (not a kit failure)"
  ;;
*)
  echo "unknown stage $STAGE (core or x4plus)"; exit 2 ;;
esac
echo "stage $STAGE: tests exit $tests, benchmark exit $bench, $((SECONDS - started)) s"
[ "$tests" = 0 ] && [ "$bench" = 0 ]
