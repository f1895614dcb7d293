"""Weight-file states, cached by (path, size, mtime) so listing the catalogue does not re-hash 60 MB files."""

from __future__ import annotations

import threading

from app.core.config import Settings
from app.models.catalog import WeightState, weight_state
from app.models.registry import ModelRegistry

_cache: dict[tuple[str, int, int, str], WeightState] = {}
_lock = threading.Lock()


def weight_states(registry: ModelRegistry, settings: Settings) -> dict[str, WeightState]:
    states = {}
    for entry in registry.catalog.entries:
        path = entry.path(settings.weights_dir)
        try:
            stat = path.stat()
        except OSError:
            states[entry.id] = WeightState.MISSING
            continue
        key = (str(path), stat.st_size, stat.st_mtime_ns, entry.sha256)
        with _lock:
            if key not in _cache:
                _cache[key] = weight_state(entry, settings.weights_dir)
            states[entry.id] = _cache[key]
    return states
