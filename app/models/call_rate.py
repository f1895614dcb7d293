"""How fast one loaded model runs, learnt from its own calls: the tiler sizes calls from it so that no single call
holds the device for long (`ENHANCE_CALL_SECONDS`).

A model call cannot be interrupted, so the longest call bounds how long an interactive request waits behind a job
frame, and how late a cancel, a client's hang-up or a lost lease is noticed. A call's time is modelled as a fixed
cost plus a cost per input pixel, fitted by exponentially weighted least squares over recent calls: small tiles
are slower per pixel than large ones (call overhead, less efficient kernels), and a per-pixel rate alone, learnt on
small tiles, shrank every next tile until tiles reached the minimum (bench_fairness: 240 calls for one frame).
Before the first call nothing is known, and on the CPU the first call is kept small (`FIRST_CALL_PIXELS`).
"""

from __future__ import annotations

import threading

FIRST_CALL_PIXELS = 96 * 96
MAX_FIXED_SHARE = 0.5  # of a bounded call's time, at most, taken as fixed cost
DECAY = 0.7  # weight kept by older calls at each new one: follows a change of load within a few calls


class CallRate:
    def __init__(self) -> None:
        # Decayed sums of the calls seen: weight, pixels, seconds, pixels^2, pixels*seconds.
        self._n = self._p = self._t = self._pp = self._pt = 0.0
        self._lock = threading.Lock()

    def record(self, pixels: int, seconds: float) -> None:
        if pixels <= 0 or seconds <= 0:
            return
        with self._lock:
            self._n = self._n * DECAY + 1
            self._p = self._p * DECAY + pixels
            self._t = self._t * DECAY + seconds
            self._pp = self._pp * DECAY + float(pixels) ** 2
            self._pt = self._pt * DECAY + pixels * seconds

    def fit(self) -> tuple[float, float] | None:
        """(fixed seconds per call, seconds per pixel), or None before the first call. With calls of one size
        only, the fixed cost cannot be told apart: it is taken as 0 (the rate through the origin)."""
        with self._lock:
            n, p, t, pp, pt = self._n, self._p, self._t, self._pp, self._pt
        if n == 0:
            return None
        spread = n * pp - p * p
        if spread > 1e-6 * n * pp:  # calls of different sizes: fit both terms
            slope = (n * pt - p * t) / spread
            if slope > 0:
                return max(0.0, (t - slope * p) / n), slope
        return 0.0, t / p

    def pixels_within(self, seconds: float) -> int | None:
        """Input pixels one call may take to last about `seconds` (all tiles of a batch together); None before
        the first call. When even a tiny call takes longer, 1 (the caller's floor applies)."""
        fitted = self.fit()
        if fitted is None:
            return None
        fixed, per_pixel = fitted
        # On a loaded machine the fit can put most of a call's time in its fixed cost (two calls of 14 k and 21 k
        # pixels taking 3.0 and 3.2 s: 2.6 s fixed), and a bound under it left 1 pixel a call: tiles fell to the
        # floor and a staged forward ran one stage a call. A call keeps at least half its time for pixels.
        return max(1, int((seconds - min(fixed, seconds * MAX_FIXED_SHARE)) / per_pixel))
