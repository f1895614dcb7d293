"""Regenerate the typed Python client in clients/python from the service's OpenAPI document.

    .venv/bin/python clients/generate.py          (or `make client`)

The document comes from the app itself (no server needed). tests/api/test_client.py regenerates into a temporary folder
and fails when the committed copy differs, then drives the committed client against a live server.
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


def generate(target: Path = TARGET) -> None:
    bin_dir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory() as work:
        document = Path(work) / "openapi.json"
        document.write_text(json.dumps(openapi_document(), indent=2))
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
    shutil.rmtree(target / ".ruff_cache", ignore_errors=True)  # left by the post hooks


if __name__ == "__main__":
    generate(Path(sys.argv[1]) if len(sys.argv) > 1 else TARGET)
    print(f"generated {TARGET if len(sys.argv) < 2 else sys.argv[1]}")
