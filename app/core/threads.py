"""Intra-op threads = the physical cores this process may use.

PyTorch's default counts every CPU of the host: inside a container limited by a CPU quota, or on an SMT machine,
that oversubscribes the cores and convolutions slow down. We count the cores in this process's affinity mask
(SMT siblings once) and cap them by the cgroup v2 quota.
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path

import torch

log = logging.getLogger(__name__)

SYS_CPU = Path("/sys/devices/system/cpu")
CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


def _core_of(cpu: int, sys_cpu: Path) -> tuple[str, str]:
    topology = sys_cpu / f"cpu{cpu}" / "topology"
    try:
        return (topology / "physical_package_id").read_text().strip(), (topology / "core_id").read_text().strip()
    except OSError:
        return ("cpu", str(cpu))  # no topology exposed: count each CPU as a core


def cgroup_cpu_limit(cpu_max: Path = CGROUP_CPU_MAX) -> float | None:
    """CPUs' worth of time the cgroup grants ("200000 100000" → 2.0); None without a limit."""
    try:
        quota, period = cpu_max.read_text().split()[:2]
    except (OSError, ValueError):
        return None
    return None if quota == "max" else int(quota) / int(period)


def physical_cores(allowed: set[int] | None = None, sys_cpu: Path = SYS_CPU, cpu_max: Path = CGROUP_CPU_MAX) -> int:
    cpus = allowed if allowed is not None else os.sched_getaffinity(0)
    cores = len({_core_of(cpu, sys_cpu) for cpu in cpus})
    limit = cgroup_cpu_limit(cpu_max)
    if limit is not None:
        cores = min(cores, max(1, math.floor(limit)))
    return max(1, cores)


_configured = 0  # the count `configure_threads` chose, re-applied by `apply_threads_here`


def configure_threads(requested: int = 0) -> int:
    """Set PyTorch's intra-op threads (`requested`, or the physical cores when 0); returns the count."""
    global _configured
    count = requested or physical_cores()
    _configured = count
    if torch.get_num_threads() != count:
        torch.set_num_threads(count)
    log.info("intra-op threads: %d", count)
    return count


def apply_threads_here() -> None:
    """Make the calling thread use the configured count. `torch.set_num_threads` reaches other threads only through
    a once-per-thread initialisation, which a thread that ran any parallel op before has already done, and which
    a forked process's main thread inherits: a Celery pool process ran its models on 2 threads with
    ENHANCE_THREADS=1, so two one-thread workers on 2 cores took 0.9x one worker's time instead of about half."""
    if _configured and torch.get_num_threads() != _configured:
        torch.set_num_threads(_configured)
