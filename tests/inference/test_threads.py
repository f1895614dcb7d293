"""Intra-op threads follow the physical cores this process may use, not the host's CPU count."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from app.core.config import Settings
from app.core.threads import cgroup_cpu_limit, configure_threads, physical_cores
from tests.support.images import FAST_MODEL


def _topology(root: Path, cpus: dict[int, tuple[int, int]]) -> Path:
    for cpu, (package, core) in cpus.items():
        folder = root / f"cpu{cpu}" / "topology"
        folder.mkdir(parents=True)
        (folder / "physical_package_id").write_text(f"{package}\n")
        (folder / "core_id").write_text(f"{core}\n")
    return root


def test_smt_siblings_count_once(tmp_path: Path) -> None:
    sys_cpu = _topology(tmp_path / "cpu", {0: (0, 0), 1: (0, 1), 2: (0, 0), 3: (0, 1), 4: (1, 0), 5: (1, 0)})
    no_cgroup = tmp_path / "absent"
    assert physical_cores({0, 1, 2, 3, 4, 5}, sys_cpu, no_cgroup) == 3
    assert physical_cores({0, 2}, sys_cpu, no_cgroup) == 1  # affinity to two siblings of one core


def test_the_cgroup_quota_caps_the_count(tmp_path: Path) -> None:
    sys_cpu = _topology(tmp_path / "cpu", {i: (0, i) for i in range(8)})
    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text("250000 100000\n")
    assert cgroup_cpu_limit(cpu_max) == 2.5
    assert physical_cores(set(range(8)), sys_cpu, cpu_max) == 2
    cpu_max.write_text("max 100000\n")
    assert cgroup_cpu_limit(cpu_max) is None
    assert physical_cores(set(range(8)), sys_cpu, cpu_max) == 8


def test_missing_topology_counts_each_cpu(tmp_path: Path) -> None:
    assert physical_cores({0, 1, 2}, tmp_path / "none", tmp_path / "none") == 3


def test_configure_threads_sets_torch() -> None:
    before = torch.get_num_threads()
    try:
        assert configure_threads(1) == 1 and torch.get_num_threads() == 1
        assert configure_threads(0) == physical_cores() == torch.get_num_threads()
    finally:
        torch.set_num_threads(before)


# A Celery pool process: its main process ran a small op (the per-thread thread-count setup ran there), then forked;
# the pool process configures threads in its warm-up thread and runs the model in its main thread.
FORKED_WORKER = """
import os, sys, threading, torch
from app.core.config import Settings
from app.inference.device import forward
from app.models.registry import ModelRegistry

torch.zeros(4) + 1
pid = os.fork()
if pid == 0:
    settings = Settings(weights_dir=sys.argv[1], catalog_path=sys.argv[2], device="cpu", threads=int(sys.argv[3]),
                        _env_file=None)
    built = []
    warm = threading.Thread(target=lambda: built.append(ModelRegistry(settings).get(sys.argv[4])))
    warm.start()
    warm.join()
    seen = []
    built[0].descriptor.model.register_forward_pre_hook(lambda *_: seen.append(torch.get_num_threads()))
    print("before", torch.get_num_threads(), flush=True)
    forward(built[0], torch.rand(1, 3, 16, 16))
    print("in the call", seen[0], flush=True)
    os._exit(0)
os.waitpid(pid, 0)
"""


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs two CPUs to tell one thread from the default")
def test_a_forked_workers_model_calls_use_the_configured_threads(settings: Settings) -> None:
    """Fails before apply_threads_here: the pool process's main thread kept the default (2 on 2 CPUs)."""
    run = subprocess.run(
        [sys.executable, "-c", FORKED_WORKER, str(settings.weights_path), str(settings.catalog_path), "1", FAST_MODEL],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).parents[2],
    )
    lines = dict(line.rsplit(" ", 1) for line in run.stdout.splitlines())
    assert lines["before"] != "1", run.stderr[-2000:]  # the main thread was not reached by the warm-up's setting
    assert lines["in the call"] == "1"
