"""Per-key quotas: requests per window, device-seconds per day, and active jobs, answered with 429 and the IETF
`RateLimit-Policy` / `RateLimit` headers (draft-ietf-httpapi-ratelimit-headers).

Counting is the `limits` library's moving window, in memory for one process or in Redis
(`ENHANCE_RATE_LIMIT_STORAGE=redis://…`) so that several API processes and the Celery workers share one count.
The key is the API key's owner id, or the client's address when keys are off. Device-seconds are the model time a
key's image requests and jobs used (measured on the device), charged when the work ends; work starts only while
some of the day's allowance is left.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerDay, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from app.core.config import Settings
from app.core.errors import Misconfigured, QuotaExceeded


@dataclass(frozen=True)
class Policy:
    name: str  # the policy's name in the RateLimit headers
    item: RateLimitItem

    @property
    def window_seconds(self) -> int:
        return int(self.item.get_expiry())

    def header(self) -> str:
        return f'"{self.name}";q={self.item.amount};w={self.window_seconds}'


class Quotas:
    def __init__(self, settings: Settings) -> None:
        try:
            self.requests = Policy("requests", parse(settings.rate_limit)) if settings.rate_limit else None
        except ValueError as exc:
            raise Misconfigured(f"ENHANCE_RATE_LIMIT={settings.rate_limit!r}: {exc}") from exc
        seconds = settings.device_seconds_per_day
        self.device = Policy("device", RateLimitItemPerDay(seconds)) if seconds else None
        self.max_active_jobs = settings.max_active_jobs
        self._limiter = MovingWindowRateLimiter(storage_from_string(settings.rate_limit_storage))

    def _state(self, policy: Policy, key: str, remaining: int | None = None) -> str:
        stats = self._limiter.get_window_stats(policy.item, key)
        left = stats.remaining if remaining is None else remaining
        reset = max(0, math.ceil(stats.reset_time - time.time()))
        return f'"{policy.name}";r={max(0, left)};t={reset}'

    def headers(self, key: str) -> dict[str, str]:
        """The RateLimit headers for `key`, for every policy in force."""
        policies = [p for p in (self.requests, self.device) if p is not None]
        if not policies:
            return {}
        return {
            "RateLimit-Policy": ", ".join(p.header() for p in policies),
            "RateLimit": ", ".join(self._state(p, key) for p in policies),
        }

    def _refuse(self, key: str, detail: str, policy: Policy) -> QuotaExceeded:
        stats = self._limiter.get_window_stats(policy.item, key)
        retry = max(1, math.ceil(stats.reset_time - time.time()))
        return QuotaExceeded(detail, {**self.headers(key), "Retry-After": str(retry)})

    def hit_request(self, key: str) -> dict[str, str]:
        """Count one request for `key`; its RateLimit headers, or `QuotaExceeded` (429) once the window is full."""
        if self.requests is not None and not self._limiter.hit(self.requests.item, key):
            raise self._refuse(key, f"more than {self.requests.item} requests", self.requests)
        self.check_device(key)
        return self.headers(key)

    def check_device(self, key: str) -> None:
        """`QuotaExceeded` when `key` has used all of its device-seconds of the last day."""
        if self.device is not None and not self._limiter.test(self.device.item, key):
            raise self._refuse(key, f"the {self.device.item.amount} device-seconds a day are used up", self.device)

    def spend_device(self, key: str, seconds: float) -> None:
        """Charge `seconds` of model time to `key` (rounded up; more than is left empties the allowance)."""
        if self.device is None or seconds <= 0:
            return
        cost = math.ceil(seconds)
        left = self._limiter.get_window_stats(self.device.item, key).remaining
        if left > 0:
            self._limiter.hit(self.device.item, key, cost=min(cost, left))

    def check_active_jobs(self, active: int) -> None:
        if self.max_active_jobs and active >= self.max_active_jobs:
            raise QuotaExceeded(
                f"{active} of your jobs are queued or running (at most {self.max_active_jobs}); wait for one to end",
                {"Retry-After": "30"},
            )
