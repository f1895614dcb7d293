#!/bin/sh
# One GPU per worker, for `docker compose --scale worker=N` (docker-compose.scale-gpu.yml): Compose gives every copy
# of a scaled service the same devices, so each copy sees all GPUs and takes the first one that no other copy holds.
# Holding = an exclusive lock on LOCK_DIR/gpu-I, a volume the copies share; the lock stays open across `exec`, so it
# lasts exactly as long as the worker (a dead worker's GPU is free for its replacement).
#   one-gpu.sh COMMAND [ARG...]
# ENHANCE_GPU_LOCK_DIR (default /locks); the GPUs are those `nvidia-smi -L` lists. Without a GPU it runs COMMAND
# as it is (the CPU); with every GPU held it exits 1 and says to run fewer workers.
set -eu
lock_dir=${ENHANCE_GPU_LOCK_DIR:-/locks}
count=$( (nvidia-smi -L 2>/dev/null || true) | grep -c '^GPU ' || true)
if [ "$count" -eq 0 ]; then
  echo "one-gpu: no GPU is visible (nvidia-smi -L lists none): running on the CPU" >&2
  exec "$@"
fi
mkdir -p "$lock_dir"
i=0
while [ "$i" -lt "$count" ]; do
  exec 9>>"$lock_dir/gpu-$i"
  if flock -n 9; then
    # CUDA numbers devices fastest first unless told otherwise; nvidia-smi numbers them by PCI bus.
    export CUDA_DEVICE_ORDER=PCI_BUS_ID CUDA_VISIBLE_DEVICES="$i"
    echo "one-gpu: this worker takes GPU $i of $count" >&2
    exec "$@"
  fi
  i=$((i + 1))
done
echo "one-gpu: all $count GPUs are held by other workers: scale to at most $count (--scale worker=$count)" >&2
exit 1
