"""The manual's build helpers (`make docs`).

`python tools/docs_site.py` writes docs/configuration.md from `Settings` (each field's default and description), so
the page is never a hand copy; `--check` exits 1 when the committed page is stale (tests/project/test_docs.py).
As a MkDocs hook (mkdocs.yml `hooks:`), it puts the benchmark charts, which live in benchmarks/results/ beside their
JSON, into the site, so the pages can link them with `../benchmarks/results/...` and still render on GitHub.
"""

from __future__ import annotations

import sys
import types
import typing
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CONFIG_PAGE = ROOT / "docs" / "configuration.md"
CHARTS = ROOT / "benchmarks" / "results"
CHART_LINK = "../benchmarks/results/"
CHART_URI = "assets/benchmarks/"

INTRO = """\
# Configuration

Every setting is an environment variable with the `ENHANCE_` prefix (or a line of a `.env` file in the working
directory). Lists are JSON: `ENHANCE_API_KEYS='["key-1","key-2"]'`. An invalid value stops the service at start-up
with the setting's name and the reason.

<!-- Generated from app/core/config.py (Settings) by `python tools/docs_site.py`; `make docs` runs it. -->

| setting | default | meaning |
| --- | --- | --- |
"""


def _size(value: int) -> str:
    for unit, power in (("GiB", 3), ("MiB", 2)):
        if value >= 1024**power and value % 1024**power == 0:
            return f" ({value // 1024**power} {unit})"
    return ""


def _default(name: str, field: Any) -> str:
    value = field.get_default(call_default_factory=True)
    if value is None or value == "":
        return "none"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, Path):
        if value.is_relative_to(ROOT):
            return f"`{value.relative_to(ROOT).as_posix()}` (packaged)"
        if value.is_relative_to(Path.home()):
            return f"`~/{value.relative_to(Path.home()).as_posix()}` (`$XDG_DATA_HOME/enhance`)"
        return f"`{value}`"
    if isinstance(value, float):
        return f"`{value:g}`"
    if isinstance(value, int) and name.endswith("_bytes"):
        return f"`{value}`{_size(value)}"
    if isinstance(value, list):
        return "`[]`" if not value else f"`{value}`"
    return f"`{value}`"


def _choices(annotation: Any) -> str:
    """The allowed values of a Literal setting (`a`, `b`), or a JSON-list hint; empty otherwise."""
    if typing.get_origin(annotation) is typing.Literal:
        return "one of " + ", ".join(f"`{v}`" for v in typing.get_args(annotation))
    if typing.get_origin(annotation) is list:
        return "a JSON list"
    if isinstance(annotation, types.UnionType):
        return next((c for a in typing.get_args(annotation) if (c := _choices(a))), "")
    return ""


def render_configuration() -> str:
    sys.path.insert(0, str(ROOT))
    from app.core.config import Settings

    rows = []
    for name, field in Settings.model_fields.items():
        if not field.description:
            raise ValueError(f"Settings.{name} has no description: the configuration page is made from them")
        meaning = field.description.replace("|", "\\|").replace("<", "&lt;")
        if choices := _choices(field.annotation):
            meaning += f" ({choices})"
        rows.append(f"| `ENHANCE_{name.upper()}` | {_default(name, field)} | {meaning} |")
    return INTRO + "\n".join(rows) + "\n"


def main(argv: list[str]) -> int:
    page = render_configuration()
    if "--check" in argv:
        if CONFIG_PAGE.read_text() != page:
            print(f"{CONFIG_PAGE.relative_to(ROOT)} is stale: run `make docs` (or python tools/docs_site.py)")
            return 1
        return 0
    CONFIG_PAGE.write_text(page)
    return 0


# MkDocs hooks: the charts of benchmarks/results/ become site files under assets/benchmarks/.


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    for chart in sorted(CHARTS.glob("*.png")):
        files.append(File.generated(config, CHART_URI + chart.name, abs_src_path=str(chart)))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    return markdown.replace(f"]({CHART_LINK}", f"]({CHART_URI}")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
