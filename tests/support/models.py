"""Model handles for tests: inline calls, and a loaded model whose network is swapped to observe or fail calls."""

from __future__ import annotations

import copy

import torch

from app.inference.device import InlineExecutor, ModelHandle
from app.models.registry import LoadedModel

INLINE = InlineExecutor()


def inline(model: LoadedModel) -> ModelHandle:
    """A handle whose calls run in the calling thread, as the CLI's do."""
    return ModelHandle(model, INLINE)


def with_module(base: LoadedModel, module: torch.nn.Module) -> LoadedModel:
    """`base` with its network replaced by `module` (to observe or fail the calls a model receives); the
    descriptor is a copy, so spandrel's own call (padding, clamping) still wraps the module."""
    descriptor = copy.copy(base.descriptor)
    descriptor._model = module  # spandrel keeps the network here; `model` is its read-only property
    return LoadedModel(base.entry, descriptor, base.precision)


def recording(base: LoadedModel) -> tuple[LoadedModel, list[int]]:
    """`base`, and the batch size of every call it receives, in order."""
    sizes: list[int] = []

    class Recording(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            sizes.append(x.shape[0])
            return base.descriptor.model(x)

    return with_module(base, Recording()), sizes
