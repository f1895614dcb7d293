"""The manual: its configuration page is made from Settings, and the README's and the pages' relative links resolve
(on GitHub as in the site; `make docs` builds the site in strict mode)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)|<img [^>]*src=\"([^\"]+)\"")


def _docs_site():  # tools/ is not a package: load the build helper from its file
    spec = importlib.util.spec_from_file_location("docs_site", ROOT / "tools" / "docs_site.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _broken_links(page: Path) -> list[str]:
    broken = []
    for match in LINK.finditer(page.read_text()):
        target = match.group(1) or match.group(2)
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue  # a URL, or an anchor on the same page
        if not (page.parent / target.split("#")[0]).exists():
            broken.append(target)
    return broken


def test_the_configuration_page_is_generated_from_settings() -> None:
    docs_site = _docs_site()
    page = docs_site.render_configuration()
    assert docs_site.CONFIG_PAGE.read_text() == page, "docs/configuration.md is stale: run `make docs`"
    # every setting is there, with its default and the description written next to it in Settings
    assert "| `ENHANCE_MAX_UPLOAD_BYTES` | `52428800` (50 MiB) | image upload cap (413 above) |" in page
    assert "| `ENHANCE_QUEUE` | `local` | local: in-process worker; celery (one of `local`, `celery`) |" in page


def test_the_readme_is_short_and_its_links_resolve() -> None:
    readme = ROOT / "README.md"
    assert len(readme.read_text().splitlines()) < 150
    assert _broken_links(readme) == []


def test_the_links_between_pages_resolve() -> None:
    pages = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "clients" / "python" / "README.md"]
    assert {page.name: _broken_links(page) for page in pages} == {page.name: [] for page in pages}
