"""The Dockerfile and docker-compose.yml: structure checked here; `docker compose config` where Compose exists."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict:  # type: ignore[type-arg]
    return dict(yaml.safe_load((ROOT / "docker-compose.yml").read_text()))


def test_embedded_api_has_a_gpu_and_a_health_check() -> None:
    api = _compose()["services"]["api"]
    assert "profiles" not in api  # always on: the embedded default
    devices = api["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["capabilities"] == ["gpu"]
    assert "/healthz" in " ".join(api["healthcheck"]["test"])
    assert "enhance-data:/data" in api["volumes"]


def test_scale_profile_adds_workers_redis_and_postgres() -> None:
    services = _compose()["services"]
    workers = sorted(name for name in services if name.startswith("worker-gpu"))
    assert len(workers) >= 2
    for name in (*workers, "redis", "postgres"):
        assert services[name]["profiles"] == ["scale"], name
        assert "healthcheck" in services[name], name
    gpus = []
    for name in workers:
        worker = services[name]
        (device,) = worker["deploy"]["resources"]["reservations"]["devices"]
        assert device["capabilities"] == ["gpu"] and "count" not in device
        gpus += device["device_ids"]
        assert worker["depends_on"]["redis"]["condition"] == "service_healthy"
        assert worker["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert worker["environment"]["ENHANCE_QUEUE"] == "celery"
        assert "enhance-data:/data" in worker["volumes"]  # artifacts on a volume shared with the API
    assert gpus == [str(i) for i in range(len(workers))]  # each replica its own GPU, none shared
    scale_env = dict(
        line.split("=", 1)
        for line in (ROOT / "scale.env").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert scale_env["ENHANCE_DATABASE_URL"].startswith("postgresql+psycopg://")


def test_dockerfile_runs_as_non_root_with_baked_weights_and_a_healthcheck() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert text.startswith("#") and "FROM python:3.11-slim" in text  # CUDA comes from the torch wheels alone
    assert "driver >= 580" in text
    assert "enhance weights import-ncnn" in text
    assert "\nUSER enhance\n" in text
    assert "HEALTHCHECK" in text and "/healthz" in text
    assert ".venv" in (ROOT / ".dockerignore").read_text()


def test_dockerfile_installs_dependencies_before_the_code_with_the_script_ci_runs() -> None:
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    install = next(i for i, line in enumerate(lines) if "docker/install.sh /opt/venv" in line)
    copy_code = lines.index("COPY app ./app")
    assert install < copy_code  # a code change does not rebuild the dependency layer
    assert ".ci/docker-env.sh" in (ROOT / ".ci" / "run").read_text()
    assert "docker/install.sh" in (ROOT / ".ci" / "docker-env.sh").read_text()


@pytest.mark.parametrize("profile", [None, "scale"])
def test_docker_compose_config_validates(profile: str | None) -> None:
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "compose", "version"], capture_output=True).returncode != 0:
        pytest.skip("Docker Compose v2 is not installed here (the structure tests above still ran)")
    command = [docker, "compose", "-f", str(ROOT / "docker-compose.yml")]
    if profile:
        command += ["--env-file", str(ROOT / "scale.env"), "--profile", profile]
    result = subprocess.run([*command, "config", "--quiet"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
