"""Synthetic DeblurGAN checkpoints, regenerated from the golden fixtures' manifest as their README specifies."""

from __future__ import annotations

import hashlib
import json
import math
from collections import OrderedDict
from pathlib import Path

import torch

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "deblurgan"


def manifest() -> dict[str, list[tuple[str, list[int], str]]]:
    return json.loads((FIXTURES / "checkpoint_keys.json").read_text())


def synthetic_state_dict(network: str) -> OrderedDict[str, torch.Tensor]:
    state: OrderedDict[str, torch.Tensor] = OrderedDict()
    for i, (key, shape, dtype) in enumerate(manifest()[network]):
        if dtype == "int64":
            state[key] = torch.zeros(shape, dtype=torch.int64)
            continue
        r = torch.randn(shape, generator=torch.Generator().manual_seed(i), dtype=torch.float32)
        if key.endswith("running_var"):
            tensor = 1 + 0.1 * r.abs()
        elif key.endswith("running_mean"):
            tensor = 0.1 * r
        elif len(shape) >= 2:
            tensor = r / math.sqrt(math.prod(shape[1:]))
        elif key.endswith(".weight"):
            tensor = 1 + 0.1 * r
        else:
            tensor = 0.01 * r
        state[key] = tensor
    return state


def state_sha256(state: OrderedDict[str, torch.Tensor]) -> str:
    digest = hashlib.sha256()
    for tensor in state.values():
        digest.update(tensor.contiguous().numpy().tobytes())
    return digest.hexdigest()


def save_official_checkpoint(network: str, path: Path) -> Path:
    """v2 as `{'model': state_dict}` with `module.` keys (as in the manifest); v1 as a bare state dict. The weights
    are checked against the fixtures' hash first, so a drift in the generator is named as such, not as a wrong
    output."""
    state = synthetic_state_dict(network)
    expected = json.loads((FIXTURES / "synthetic_weights_sha256.json").read_text())[network]
    assert state_sha256(state) == expected, f"{network}: the synthetic weights differ from the fixtures' (README)"
    torch.save({"model": state} if network.startswith("deblurgan_v2") else state, path)
    return path
