"""The Dockerfile and the Compose files: each deployment validated (`docker compose config` where Compose v2 is
installed, the Compose Specification's JSON schema otherwise) and its structure checked."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "docker" / "compose-spec" / "compose-spec.json"
BASE, GPU, SCALE, SCALE_GPU = (
    "docker-compose.yml",
    "docker-compose.gpu.yml",
    "docker-compose.scale.yml",
    ("docker-compose.scale-gpu.yml"),
)
SECRETS = {"POSTGRES_PASSWORD": "pg0secret1", "REDIS_PASSWORD": "redis0secret2"}
# name: (files, WORKERS) -- the deployments docs/scaling.md gives
DEPLOYMENTS = {
    "cpu": ([BASE], None),
    "gpu": ([BASE, GPU], None),
    "scale-1-worker": ([BASE, SCALE], 1),
    "scale-3-workers": ([BASE, SCALE], 3),
    "gpu-3-workers": ([BASE, GPU, SCALE, SCALE_GPU], 3),
}


def _env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines, comments and blanks skipped, one level of quotes removed (as Compose and dotenv read them)."""
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip().removeprefix("'").removesuffix("'")
    return values


_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<name>\w+)(?:(?P<op>:?[-?+])(?P<arg>(?:[^{}]|\{[^{}]*\})*))?\}|(?P<bare>\w+))"
)


def _interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's interpolation: $$, ${VAR}, $VAR, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR:+alt}."""

    def one(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["name"] or match["bare"]
        op, arg = match["op"] or "", _interpolate(match["arg"] or "", env)
        given = env.get(name)
        present = given is not None and (given != "" or ":" not in op)
        if op.endswith("-"):
            return given if present and given is not None else arg
        if op.endswith("?"):
            if not present:
                raise ValueError(f"required variable {name} is missing a value: {arg}")
            return given or ""
        if op.endswith("+"):
            return arg if present else ""
        return given or ""

    return _VARIABLE.sub(one, value)


def _walk(node: Any, env: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {key: _walk(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [_walk(value, env) for value in node]
    return _interpolate(node, env) if isinstance(node, str) else node


def _merge(base: Any, override: Any, key: str = "") -> Any:
    """Compose's merge of override files: mappings merged key by key, volumes/ports/env_file unioned, the rest
    replaced (docs.docker.com, "Merge Compose files")."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for name, value in override.items():
            merged[name] = _merge(base[name], value, name) if name in base else value
        return merged
    if isinstance(base, list) and isinstance(override, list) and key in {"volumes", "ports", "env_file"}:
        return base + [item for item in override if item not in base]
    return override


def _model(files: list[str], env: dict[str, str]) -> dict[str, Any]:
    model: dict[str, Any] = {}
    for name in files:
        model = _merge(model, _walk(yaml.safe_load((ROOT / name).read_text()), env))
    for service in model["services"].values():  # Compose casts what interpolation leaves as text
        deploy = service.get("deploy", {})
        if isinstance(deploy.get("replicas"), str):
            deploy["replicas"] = int(deploy["replicas"])
    return model


def _deployment_env(workers: int | None) -> dict[str, str]:
    env = {**_env_file(ROOT / ".env.example"), **SECRETS}
    if workers is not None:
        env["WORKERS"] = str(workers)
    return env


def _strings(node: Any, key: str = "") -> list[tuple[str, str]]:
    """(key, text) for every string in a YAML tree; a list item is under its list's key, the one before it
    included (a command's `--requirepass`, then its value)."""
    if isinstance(node, dict):
        return [pair for name, value in node.items() for pair in _strings(value, str(name))]
    if isinstance(node, list):
        pairs = []
        for index, value in enumerate(node):
            before = node[index - 1] if index and isinstance(node[index - 1], str) else ""
            pairs += _strings(value, f"{key} {before.upper().lstrip('-')}")
        return pairs
    return [(key, node)] if isinstance(node, str) else []


def _compose() -> dict:  # type: ignore[type-arg]
    return dict(yaml.safe_load((ROOT / BASE).read_text()))


@pytest.mark.parametrize("name", list(DEPLOYMENTS))
def test_each_deployment_validates_against_the_compose_specification(name: str) -> None:
    files, workers = DEPLOYMENTS[name]
    validator = jsonschema_rs.validator_for(json.loads(SCHEMA.read_text()))
    errors = [
        f"{'/'.join(map(str, e.instance_path))}: {e.message}"
        for e in validator.iter_errors(_model(files, _deployment_env(workers)))
    ]
    assert errors == []


def test_the_schema_check_can_fail() -> None:
    """A misspelt key, a port list given as one string and replicas given as a list are each reported."""
    model = _model([BASE], _deployment_env(None))
    validator = jsonschema_rs.validator_for(json.loads(SCHEMA.read_text()))
    api = model["services"]["api"]
    broken_services: list[dict[str, Any]] = [{"healtcheck": {}}, {"ports": "8000:8000"}, {"deploy": {"replicas": [3]}}]
    for broken in broken_services:
        assert not validator.is_valid({**model, "services": {"api": {**api, **broken}}}), broken


@pytest.mark.parametrize("name", list(DEPLOYMENTS))
def test_docker_compose_config_accepts_each_deployment(name: str, tmp_path: Path) -> None:
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "compose", "version"], capture_output=True).returncode != 0:
        pytest.skip(
            "Docker Compose v2 is not installed here (no PyPI or Debian bookworm package ships it): "
            "the same deployments were validated against the Compose Specification's schema above"
        )
    files, workers = DEPLOYMENTS[name]
    env_file = tmp_path / "deploy.env"
    env_file.write_text("".join(f"{key}={value}\n" for key, value in _deployment_env(workers).items()))
    command = [docker, "compose", "--project-directory", str(ROOT), "--env-file", str(env_file)]
    for file in files:
        command += ["-f", str(ROOT / file)]
    result = subprocess.run([*command, "config", "--format", "json"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    if workers is not None:
        assert services["worker"]["deploy"]["replicas"] == workers


def test_the_default_is_one_cpu_container_with_every_setting_from_the_env_file() -> None:
    model = _model([BASE], _deployment_env(None))
    assert set(model["services"]) == {"api", "proxy"}  # the proxy only with --profile proxy
    api = model["services"]["api"]
    assert "profiles" not in api and "deploy" not in api  # no GPU asked for: starts on any host
    assert api["env_file"] == [{"path": ".env", "required": False}]  # every ENHANCE_* line reaches it; optional
    assert "/healthz" in " ".join(api["healthcheck"]["test"])
    assert "enhance-data:/data" in api["volumes"]
    assert model["services"]["proxy"]["profiles"] == ["proxy"]


def test_the_gpu_file_gives_the_api_one_gpu() -> None:
    (device,) = _model([BASE, GPU], {})["services"]["api"]["deploy"]["resources"]["reservations"]["devices"]
    assert device == {"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}


@pytest.mark.parametrize("workers", [1, 3])
def test_scale_out_runs_n_workers_on_redis_and_postgres_with_the_env_files_passwords(workers: int) -> None:
    services = _model([BASE, SCALE], _deployment_env(workers))["services"]
    assert set(services) == {"api", "proxy", "worker", "redis", "postgres"}
    worker = services["worker"]
    assert worker["deploy"]["replicas"] == workers and "resources" not in worker["deploy"]  # CPU workers
    assert worker["command"][:2] == ["enhance", "worker"]
    assert worker["env_file"] == services["api"]["env_file"]
    assert "enhance-data:/data" in worker["volumes"]  # artifacts on the volume the API serves
    for name in ("api", "worker"):
        env = services[name]["environment"]
        assert env["ENHANCE_QUEUE"] == "celery"
        assert env["ENHANCE_BROKER_URL"] == "redis://:redis0secret2@redis:6379/0"
        assert env["ENHANCE_RATE_LIMIT_STORAGE"] == "redis://:redis0secret2@redis:6379/1"  # quotas shared
        assert env["ENHANCE_DATABASE_URL"] == "postgresql+psycopg://enhance:pg0secret1@postgres:5432/enhance"
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
    redis = services["redis"]
    assert redis["command"][-2:] == ["--requirepass", "redis0secret2"]
    assert redis["environment"]["REDISCLI_AUTH"] == "redis0secret2"  # the health check's ping authenticates
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == "pg0secret1"
    for name in ("worker", "redis", "postgres"):
        assert "healthcheck" in services[name], name


def test_no_secret_is_written_in_the_compose_files() -> None:
    """Scale-out refuses to start without the passwords, and the example env file holds none."""
    for missing in SECRETS:
        env = {**_deployment_env(1), missing: ""}
        with pytest.raises(ValueError, match=f"{missing} is missing a value: set {missing} in .env"):
            _model([BASE, SCALE], env)
    written = []
    for name in (BASE, GPU, SCALE, SCALE_GPU):
        for key, value in _strings(yaml.safe_load((ROOT / name).read_text())):
            secret = re.search(r"PASSWORD|AUTH", key) or re.search(r"://[^/\s]*:[^/\s]*@", value)
            if secret and not re.search(r"\$\{\w+(:[-?][^}]*)?\}", value):
                written.append(f"{name}: {key}={value}")
    assert written == []
    example = _env_file(ROOT / ".env.example")
    assert example["POSTGRES_PASSWORD"] == example["REDIS_PASSWORD"] == example["ENHANCE_WEBHOOK_SECRET"] == ""
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()
    assert ".env" in (ROOT / ".dockerignore").read_text().splitlines()  # never baked into the image


def test_the_example_env_file_holds_valid_settings_a_deployer_sets() -> None:
    from app.core.config import Settings

    example = _env_file(ROOT / ".env.example")
    enhance = {key for key in example if key.startswith("ENHANCE_")}
    fields = {f"ENHANCE_{name.upper()}" for name in Settings.model_fields}
    assert enhance - fields == set()  # no misspelt setting (it would be ignored silently)
    wanted = {"API_KEYS", "CORS_ORIGINS", "PUBLIC_URL", "WEBHOOK_SECRET", "RATE_LIMIT", "MAX_ACTIVE_JOBS"}
    assert {f"ENHANCE_{name}" for name in wanted} <= enhance
    settings = Settings(_env_file=ROOT / ".env.example")  # type: ignore[call-arg]
    assert settings.api_keys == [] and settings.cors_origins == [] and settings.log_json is True


def test_scaled_gpu_workers_see_every_gpu_and_take_one_each() -> None:
    services = _model([BASE, GPU, SCALE, SCALE_GPU], _deployment_env(3))["services"]
    worker = services["worker"]
    (device,) = worker["deploy"]["resources"]["reservations"]["devices"]
    assert device["count"] == "all" and "gpu" in device["capabilities"]
    assert worker["entrypoint"] == ["one-gpu.sh"] and worker["command"][:2] == ["enhance", "worker"]
    assert "gpu-locks:/locks" in worker["volumes"] and "enhance-data:/data" in worker["volumes"]
    assert worker["deploy"]["replicas"] == 3


@pytest.mark.skipif(shutil.which("flock") is None, reason="flock (util-linux) is not installed here")
def test_one_gpu_gives_each_worker_its_own_gpu_and_refuses_one_too_many(tmp_path: Path) -> None:
    """docker/one-gpu.sh with a stand-in nvidia-smi listing two GPUs: two workers at once get GPU 0 and GPU 1, a
    third exits 1 saying why, and a worker started after the first stopped gets its GPU back."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "nvidia-smi").write_text("#!/bin/sh\necho 'GPU 0: A (UUID: GPU-a)'\necho 'GPU 1: B (UUID: GPU-b)'\n")
    (bin_dir / "nvidia-smi").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "ENHANCE_GPU_LOCK_DIR": str(tmp_path / "locks")}
    script = str(ROOT / "docker" / "one-gpu.sh")

    def worker(name: str, hold: Path | None) -> subprocess.Popen[str]:
        wait = f"until [ -e {hold} ]; do sleep 0.05; done" if hold else "true"
        report = f'echo "$CUDA_VISIBLE_DEVICES" > {tmp_path / name}; {wait}'
        return subprocess.Popen(["sh", script, "sh", "-c", report], env=env, stderr=subprocess.PIPE, text=True)

    def started(name: str) -> str:
        for _ in range(600):  # bounded: the script writes its GPU before waiting
            if (tmp_path / name).exists() and (tmp_path / name).read_text():
                return (tmp_path / name).read_text().strip()
            time.sleep(0.05)
        raise AssertionError(f"worker {name} never started")

    release_first, release_second = tmp_path / "stop-a", tmp_path / "stop-b"
    first = worker("a", release_first)
    assert started("a") == "0"
    second = worker("b", release_second)
    assert started("b") == "1"
    third = worker("c", None)
    assert third.wait(timeout=60) == 1
    assert "all 2 GPUs are held by other workers" in (third.stderr.read() if third.stderr else "")
    assert not (tmp_path / "c").exists()
    release_first.touch()
    assert first.wait(timeout=60) == 0
    fourth = worker("d", None)
    assert fourth.wait(timeout=60) == 0 and started("d") == "0"  # the stopped worker's GPU is free again
    release_second.touch()
    assert second.wait(timeout=60) == 0

    (bin_dir / "nvidia-smi").write_text("#!/bin/sh\nexit 9\n")  # no GPU: the worker runs on the CPU
    cpu = worker("e", None)
    assert cpu.wait(timeout=60) == 0 and started("e") == ""


def test_dockerfile_runs_as_non_root_with_baked_weights_and_a_healthcheck() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert text.startswith("#") and "FROM python:3.11-slim" in text  # CUDA comes from the torch wheels alone
    assert "driver >= 580" in text
    assert "enhance weights import-ncnn" in text
    assert "\nUSER enhance\n" in text
    assert "HEALTHCHECK" in text and "/healthz" in text
    assert "COPY docker/one-gpu.sh /usr/local/bin/one-gpu.sh" in text
    assert "/locks" in text  # the GPU lock volume starts owned by the worker's user
    assert ".venv" in (ROOT / ".dockerignore").read_text()


def test_dockerfile_installs_dependencies_before_the_code_with_the_script_ci_runs() -> None:
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    install = next(i for i, line in enumerate(lines) if "docker/install.sh /opt/venv" in line)
    copy_code = lines.index("COPY app ./app")
    assert install < copy_code  # a code change does not rebuild the dependency layer
    assert ".ci/docker-env.sh" in (ROOT / ".ci" / "run").read_text()
    assert "docker/install.sh" in (ROOT / ".ci" / "docker-env.sh").read_text()


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
