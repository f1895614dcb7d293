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


@dataclass(frozen=True)
class Collected:
    inputs: list[BatchInput]
    skipped: list[Path]  # files in the named folders that are not media: the CLI lists them
    hidden: int  # hidden files in them (a name or folder starting with "."): only counted


def collect_inputs(sources: list[Path], suffixes: frozenset[str]) -> Collected:
    """Named files are taken as they are (a bad one is reported when it is processed); folders are searched
    recursively for files with one of `suffixes`, anything else in them (notes, sidecars, hidden files) skipped
    and returned as such, so that nothing is dropped without a word."""
    found: list[BatchInput] = []
    skipped: list[Path] = []
    hidden = 0
    for source in sources:
        if not source.is_dir():
            found.append(BatchInput(source, Path(source.name)))
            continue
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            if any(part.startswith(".") for part in path.relative_to(source).parts):
                hidden += 1
            elif path.suffix.lower() in suffixes:
                found.append(BatchInput(path, path.relative_to(source)))
            else:
                skipped.append(path)
    return Collected(found, skipped, hidden)
