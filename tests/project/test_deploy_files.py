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


NGINX = ROOT / "docker" / "nginx.conf"


def _nginx_body_caps() -> dict[str, int]:
    """client_max_body_size by location path ("" for the server-wide default), in bytes."""
    caps: dict[str, int] = {}
    location = ""
    for line in NGINX.read_text().splitlines():
        words = line.split()
        if words[:1] == ["location"]:
            location = words[-2]
        elif words[:1] == ["client_max_body_size"]:
            caps[location] = int(words[1].rstrip(";").removesuffix("m")) * 1024 * 1024
        elif words == ["}"] and line.startswith("        }"):
            location = ""
    return caps


def test_nginx_body_caps_are_the_services_own() -> None:
    """A cap below the service's refuses uploads it would take; above, the proxy spools what it would refuse."""
    from app.core.config import Settings
    from app.main import body_limit

    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    caps = _nginx_body_caps()
    assert set(caps) == {"", "/v1/images/score", "/v1/images", "/v1/jobs"}
    for path, cap in caps.items():
        assert cap == body_limit(settings, path or "/v1/models"), path


def test_nginx_exempts_the_probes_and_limits_everyone_else() -> None:
    text = NGINX.read_text()
    for directive in ("client_header_timeout", "client_body_timeout", "limit_conn ", "limit_req ", "keepalive"):
        assert directive in text, directive
    probes = text[text.index("map $uri $limited_client") :].split("}")[0]
    assert '/healthz "";' in probes and '/readyz "";' in probes  # an empty key is not counted by nginx
    assert "limit_conn_zone $limited_client" in text and "limit_req_zone $limited_client" in text
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in text
    jobs = text[text.index("location = /v1/jobs {") :].split("}")[0]
    assert "proxy_request_buffering off;" in jobs  # the service spools job uploads itself
    proxy = _compose()["services"]["proxy"]
    assert proxy["profiles"] == ["proxy"]
    assert "./docker/nginx.conf:/etc/nginx/nginx.conf:ro" in proxy["volumes"]
    assert "FORWARDED_ALLOW_IPS" in _compose()["services"]["api"]["environment"]


def test_nginx_accepts_the_config(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        pytest.skip("nginx is not installed here (apt-get install nginx); the structure tests above still ran")
    (tmp_path / "logs").mkdir()
    conf = tmp_path / "nginx.conf"
    conf.write_text(NGINX.read_text().replace("server api:8000;", "server 127.0.0.1:8000;"))  # no Compose DNS here
    check = [nginx, "-t", "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "logs" / "error.log")]
    result = subprocess.run([*check, "-g", f"pid {tmp_path / 'nginx.pid'};"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
