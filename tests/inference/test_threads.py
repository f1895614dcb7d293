"""Intra-op threads follow the physical cores this process may use, not the host's CPU count."""

from __future__ import annotations

from pathlib import Path

import torch

from app.core.threads import cgroup_cpu_limit, configure_threads, physical_cores


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
