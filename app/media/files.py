"""Which local files a batch command works on: files named directly, and media files found in named folders."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp", ".gif"})
VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi", ".3gp"})


@dataclass(frozen=True)
class BatchInput:
    path: Path
    relative: Path  # where its output goes under the output folder: the tree below a named folder is kept


def collect_inputs(sources: list[Path], suffixes: frozenset[str]) -> list[BatchInput]:
    """Named files are taken as they are (a bad one is reported when it is processed); folders are searched
    recursively for files with one of `suffixes`, anything else in them (notes, sidecars, hidden files) skipped."""
    found: list[BatchInput] = []
    for source in sources:
        if source.is_dir():
            for path in sorted(source.rglob("*")):
                hidden = any(part.startswith(".") for part in path.relative_to(source).parts)
                if path.is_file() and path.suffix.lower() in suffixes and not hidden:
                    found.append(BatchInput(path, path.relative_to(source)))
        else:
            found.append(BatchInput(source, Path(source.name)))
    return found
