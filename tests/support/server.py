"""A real `enhance serve` process on a free loopback port, for tests that need one."""

from __future__ import annotations

import os
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from app.core.config import Settings
from tests.support.images import CATALOG


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


START_SECONDS = 300


class Server:
    def __init__(self, settings: Settings, data_dir: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "ENHANCE_DATA_DIR": str(data_dir),
            "ENHANCE_WEIGHTS_DIR": str(settings.weights_path),
            "ENHANCE_CATALOG_PATH": str(CATALOG),
            "ENHANCE_DEVICE": "cpu",
            "ENHANCE_PORT": str(self.port),
            # A short lease, so a killed server's job is reaped within seconds of the restart (default 30 s).
            "ENHANCE_JOB_LEASE_SECONDS": "2",
            # A test that repeats a request means the device to run again (as the shared settings in conftest).
            "ENHANCE_RESULT_CACHE_BYTES": "0",
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.log: Path | None = None  # where the server's stderr goes, when a test reads it
        self.open_files: int | None = None  # the server's open-files limit (soft and hard), when a test sets one

    def start(self) -> None:
        stderr = self.log.open("ab") if self.log else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from app.cli import main; main()", "serve"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            preexec_fn=self._limit_files if self.open_files else None,
        )
        # A guard against a hang, not a speed check: on a loaded machine importing torch alone can take a minute.
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited while starting (exit code {self.process.returncode})")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        raise RuntimeError(f"server did not start within {START_SECONDS} s")

    def _limit_files(self) -> None:
        assert self.open_files is not None
        resource.setrlimit(resource.RLIMIT_NOFILE, (self.open_files, self.open_files))

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
