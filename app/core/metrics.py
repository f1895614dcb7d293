"""Prometheus instruments and collectors of the service (the HTTP ones live with the API middleware)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

FRAMES = Counter("enhance_frames_processed_total", "Frames restored by jobs", ["model"])
STAGE_SECONDS = Histogram(
    "enhance_stage_seconds",
    "Seconds spent per pipeline stage",
    ["stage"],
    buckets=(0.001, 0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
MODEL_LOAD_SECONDS = Histogram(
    "enhance_model_load_seconds",
    "Model load time (checksum, weights, precision probe)",
    ["model"],
    buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120),
)
BATCH_TILES = Histogram(
    "enhance_batch_tiles",
    "Tiles per model call made by the device batcher (above 1: concurrent requests shared a call)",
    buckets=(1, 2, 3, 4, 6, 8, 12, 16, 32),
)
DEVICE_WAIT_SECONDS = Histogram(
    "enhance_device_wait_seconds",
    "Seconds a model call waited for the device, by priority class (interactive requests, job work)",
    ["priority"],
    buckets=(0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
)
