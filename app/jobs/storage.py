"""Job directories: `data/jobs/<id>/` holds the input, work files (source and enhanced frames) and artifacts.

Every write is atomic (temp file + rename), so a crash never leaves a half-written frame that a resumed job would
trust. Names are validated: a job id must be a UUID and an artifact name a plain file name from the job's index.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from app.core.files import sha256_file, write_atomic

ARTIFACT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
INDEX = "artifacts.json"


@dataclass(frozen=True)
class Artifact:
    name: str
    size: int
    sha256: str
    media_type: str


MEDIA_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
    ".mp4": "video/mp4",
    ".mkv": "video/x-matroska",
    ".webm": "video/webm",
    ".mov": "video/quicktime",
    ".zip": "application/zip",
    ".json": "application/json",
}


def valid_job_id(job_id: str) -> bool:
    try:
        return str(uuid.UUID(job_id)) == job_id
    except ValueError:
        return False


class JobStorage:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def job_dir(self, job_id: str) -> Path:
        if not valid_job_id(job_id):
            raise ValueError(f"not a job id: {job_id!r}")
        return self.root / job_id

    def input_path(self, job_id: str) -> Path:
        matches = sorted(self.job_dir(job_id).glob("input.*"))
        if not matches:
            raise FileNotFoundError(f"job {job_id} has no input file")
        return matches[0]

    def source_frame(self, job_id: str, index: int) -> Path:
        return self.job_dir(job_id) / "work" / "source" / f"frame_{index:06d}.png"

    def enhanced_frame(self, job_id: str, index: int) -> Path:
        return self.job_dir(job_id) / "work" / "enhanced" / f"frame_{index:06d}.png"

    def frame_thumbnail(self, job_id: str, index: int, which: Literal["source", "enhanced"]) -> Path:
        """Next to the frame: the small JPEG the thumbnail route serves from (`app.jobs.thumbnails`)."""
        return self.job_dir(job_id) / "work" / which / f"frame_{index:06d}.thumb.jpg"

    def artifacts_dir(self, job_id: str) -> Path:
        return self.job_dir(job_id) / "artifacts"

    def publish(self, job_id: str) -> list[Artifact]:
        """Hash every file in the artifacts folder and write the index that the API serves from."""
        folder = self.artifacts_dir(job_id)
        artifacts = [
            Artifact(p.name, p.stat().st_size, sha256_file(p), MEDIA_TYPES.get(p.suffix, "application/octet-stream"))
            for p in sorted(folder.iterdir())
            if p.is_file() and ARTIFACT_NAME.match(p.name) and not p.name.startswith(".")
        ]
        write_atomic(self.job_dir(job_id) / INDEX, json.dumps([asdict(a) for a in artifacts]).encode())
        return artifacts

    def artifacts(self, job_id: str) -> list[Artifact]:
        index = self.job_dir(job_id) / INDEX
        if not index.is_file():
            return []
        return [Artifact(**item) for item in json.loads(index.read_text())]

    def artifact_path(self, job_id: str, name: str) -> Path | None:
        """The file for an artifact listed in the job's index, or None: names never reach the filesystem
        unvalidated."""
        if not ARTIFACT_NAME.match(name) or name not in {a.name for a in self.artifacts(job_id)}:
            return None
        path = self.artifacts_dir(job_id) / name
        return path if path.is_file() else None

    def published(self, job_id: str) -> bool:
        return (self.job_dir(job_id) / INDEX).is_file()

    def remove(self, job_id: str) -> None:
        shutil.rmtree(self.job_dir(job_id), ignore_errors=True)

    def remove_all_but_artifacts(self, job_id: str) -> None:
        """Keep the published artifacts and their index; the input and the work frames go."""
        folder = self.job_dir(job_id)
        for path in folder.iterdir() if folder.is_dir() else ():
            if path.name in {INDEX, "artifacts"}:
                continue
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)

    def usage_bytes(self) -> int:
        """Bytes in every job's folder. Workers rename temporary files into place and remove finished jobs' folders
        while this walks: a file gone by the time its size is read counts as gone (it raised, and the submit that
        asked answered 500)."""
        total = 0
        for folder, _, names in os.walk(self.root):
            for name in names:
                try:
                    total += os.stat(os.path.join(folder, name)).st_size
                except FileNotFoundError:
                    continue
        return total
