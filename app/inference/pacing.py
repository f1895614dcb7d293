"""How long one model call may last, now: short while people wait on interactive requests, longer otherwise.

Cutting work into short calls costs throughput (each tile reads context around its core, and small calls run
less efficiently: x4plus on a 320x180 frame took 3x as long in 1 s calls, bench_fairness). That cost buys
something only while an image request may arrive: so calls are bounded by `call_seconds` for `window` seconds
after the last interactive request, and by the looser `idle_call_seconds` otherwise, which still bounds how late a
cancel, a shutdown or a lost lease is seen, and how long the first image request after a quiet spell waits.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Pacing:
    call_seconds: float = 0.0  # 0: calls sized by memory only
    idle_call_seconds: float = 0.0  # 0: the same as call_seconds
    window: float = 60.0
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    _last_interactive: float | None = field(default=None, repr=False)

    def saw_interactive(self) -> None:
        self._last_interactive = self.clock()

    def seconds(self) -> float:
        """The bound for a call that starts now."""
        recent = self._last_interactive is not None and self.clock() - self._last_interactive < self.window
        if recent or not self.idle_call_seconds or not self.call_seconds:
            return self.call_seconds
        return max(self.call_seconds, self.idle_call_seconds)
