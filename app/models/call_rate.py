"""How fast one loaded model runs, learnt from its own calls: the tiler sizes calls from it so that no single call
holds the device for long (`ENHANCE_CALL_SECONDS`).

A model call cannot be interrupted, so the longest call bounds how long an interactive request waits behind a job
frame, and how late a cancel, a client's hang-up or a lost lease is noticed. Seconds per input pixel are an
exponential moving average over calls; before the first call nothing is known, and on the CPU the first call is
kept small (`FIRST_CALL_PIXELS`) so that it measures without holding the device.
"""

from __future__ import annotations

import threading

FIRST_CALL_PIXELS = 96 * 96
SMOOTHING = 0.3  # weight of the newest call: follows a change of load within a few calls, ignores one outlier


class CallRate:
    def __init__(self) -> None:
        self._seconds_per_pixel: float | None = None
        self._lock = threading.Lock()

    def record(self, pixels: int, seconds: float) -> None:
        if pixels <= 0 or seconds <= 0:
            return
        rate = seconds / pixels
        with self._lock:
            known = self._seconds_per_pixel
            self._seconds_per_pixel = rate if known is None else known + SMOOTHING * (rate - known)

    @property
    def seconds_per_pixel(self) -> float | None:
        return self._seconds_per_pixel

    def pixels_within(self, seconds: float) -> int | None:
        """Input pixels one call may take to last about `seconds` (all tiles of a batch together); None before
        the first call."""
        known = self._seconds_per_pixel
        return None if known is None else max(1, int(seconds / known))
