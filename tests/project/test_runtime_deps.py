"""Every third-party module that app/ imports comes from a runtime dependency in pyproject.toml.

`make test` installs the dev and scale extras, so a module that only an extra provides imports fine here and then
breaks `make run` and the Docker image on a fresh machine (scikit-image did exactly that). This walks every import
in app/, lazy ones inside functions included, and maps it to the distribution that provides it.
"""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import re
import sys
import tomllib
from pathlib import Path

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
