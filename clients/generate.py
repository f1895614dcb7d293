"""Regenerate the typed Python client in clients/python from the service's OpenAPI document.

    .venv/bin/python clients/generate.py          (or `make client`)

The document comes from the app itself (no server needed). tests/api/test_client.py regenerates into a temporary folder
and fails when the committed copy differs, then drives the committed client against a live server.

The generator replaces the whole folder, so what is written by hand lives beside it and is copied in afterwards:
python-README.md (the package's README, whose examples the tests run) and python-helpers.py (`wait_for_job`,
`ProblemError`: enhance_client/helpers.py).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TARGET = HERE / "python"
sys.path.insert(0, str(ROOT))


def openapi_document() -> dict[str, Any]:
    from app.core.config import Settings
    from app.main import create_app

    return create_app(Settings(_env_file=None)).openapi()  # type: ignore[call-arg]


def _is_file(schema: dict[str, Any]) -> bool:
    if schema.get("type") == "array":
        return _is_file(schema.get("items", {}))
    return schema.get("type") == "string" and (schema.get("format") == "binary" or "contentMediaType" in schema)


def multipart_files_without_null(document: dict[str, Any]) -> dict[str, Any]:
    """An optional upload (`file` when `url` may come instead) is `anyOf: [file, null]` in the document, which the
    generator turns into a text field that sends `str(File)`; a form cannot send a null anyway (optional is just
    "not required"), so the null branch is dropped and the field is marked binary, as a required upload is."""
    for name, schema in document.get("components", {}).get("schemas", {}).items():
        if not name.startswith("Body_"):
            continue
        for prop in schema.get("properties", {}).values():
            branches = prop.get("anyOf", [])
            files = [b for b in branches if _is_file(b)]
            if len(branches) == 2 and len(files) == 1 and {"type": "null"} in branches:
                del prop["anyOf"]
                prop.update(files[0])
                binary = prop.get("items", prop)  # what FastAPI writes for a required upload
                binary["format"] = "binary"
    return document


def generate(target: Path = TARGET) -> None:
    bin_dir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory() as work:
        document = Path(work) / "openapi.json"
        document.write_text(json.dumps(multipart_files_without_null(openapi_document()), indent=2))
        command = [
            str(bin_dir / "openapi-python-client"),
            "generate",
            "--path",
            str(document),
            "--output-path",
            str(target),
            "--overwrite",
            "--meta",
            "setup",
            "--config",
            str(HERE / "openapi-python-client.yaml"),
        ]
        env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}  # the project's ruff
        result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0 or "Warning" in result.stdout:
        raise SystemExit(f"openapi-python-client failed or warned:\n{result.stdout}\n{result.stderr}")
    shutil.copyfile(HERE / "python-README.md", target / "README.md")
    shutil.copyfile(HERE / "python-helpers.py", target / "enhance_client" / "helpers.py")
    shutil.rmtree(target / ".ruff_cache", ignore_errors=True)  # left by the post hooks


if __name__ == "__main__":
    generate(Path(sys.argv[1]) if len(sys.argv) > 1 else TARGET)
    print(f"generated {TARGET if len(sys.argv) < 2 else sys.argv[1]}")
