"""Domain exceptions. Each carries the HTTP status and the stable problem `type` that the API reports."""

from __future__ import annotations

from typing import ClassVar


class EnhanceError(Exception):
    """Base class: every error the service reports to a client as problem+json."""

    status: ClassVar[int] = 400
    type: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"
    headers: ClassVar[dict[str, str] | None] = None  # extra response headers, e.g. WWW-Authenticate on a 401

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def response_headers(self) -> dict[str, str] | None:
        return self.headers


class ModelNotFound(EnhanceError):
    status, type, title = 404, "model-not-found", "Unknown model"


class WeightsMissing(EnhanceError):
    status, type, title = 503, "weights-missing", "Model weights are not installed"


class ChecksumMismatch(EnhanceError):
    status, type, title = 503, "checksum-mismatch", "Model weights failed their checksum"


class UnsupportedWeights(EnhanceError):
    status, type, title = 422, "unsupported-weights", "Model file cannot be loaded safely"


class UnsupportedMedia(EnhanceError):
    status, type, title = 415, "unsupported-media-type", "Not a supported image"


class CorruptMedia(EnhanceError):
    status, type, title = 422, "corrupt-media", "The file could not be decoded"


class DecodeStopped(CorruptMedia):
    """A video that decoded for a while, then failed: the frames before `frames_decoded` are good."""

    def __init__(self, detail: str, frames_decoded: int) -> None:
        super().__init__(detail)
        self.frames_decoded = frames_decoded


class PayloadTooLarge(EnhanceError):
    status, type, title = 413, "payload-too-large", "Upload too large"


class InvalidOption(EnhanceError):
    status, type, title = 422, "invalid-option", "Invalid option"


class QuotaExceeded(EnhanceError):
    """A key's rate limit, daily device-seconds or active-jobs limit; carries the RateLimit and Retry-After
    headers (`app.core.quotas`)."""

    status, type, title = 429, "rate-limited", "Too many requests for this key"

    def __init__(self, detail: str, headers: dict[str, str]) -> None:
        super().__init__(detail)
        self.limit_headers = headers

    def response_headers(self) -> dict[str, str] | None:
        return self.limit_headers


class WebhookRefused(InvalidOption):
    """A callback URL the service will not call."""


class JobFailed(EnhanceError):
    """A local job (the CLI's) that ended in failure or was cancelled."""

    status, type, title = 500, "job-failed", "The job failed"


class Unauthorized(EnhanceError):
    status, type, title = 401, "unauthorized", "Missing or invalid API key"
    headers: ClassVar[dict[str, str] | None] = {"WWW-Authenticate": 'Bearer realm="enhance"'}


class JobNotFound(EnhanceError):
    status, type, title = 404, "job-not-found", "Unknown job"


class JobConflict(EnhanceError):
    status, type, title = 409, "job-conflict", "Job is in the wrong state"


class JobFilesDeleted(EnhanceError):
    """A cancelled or failed job's files were deleted when it ended (the job says so: `files`)."""

    status, type, title = 410, "job-files-deleted", "The job's files were deleted"


class RangeNotSatisfiable(EnhanceError):
    status, type, title = 416, "range-not-satisfiable", "Range not satisfiable"

    def __init__(self, detail: str, size: int) -> None:
        super().__init__(detail)
        self.size = size

    def response_headers(self) -> dict[str, str] | None:
        return {"Content-Range": f"bytes */{self.size}"}


class ClientGone(EnhanceError):
    """The client closed the connection: the image request stops at the next model call (nobody reads this)."""

    status, type, title = 499, "client-closed-request", "The client closed the connection"


class InvalidCursor(EnhanceError):
    status, type, title = 400, "invalid-cursor", "Unknown paging cursor"


class IdempotencyMismatch(EnhanceError):
    status, type, title = 422, "idempotency-key-reused", "Idempotency-Key reused for a different request"


class Misconfigured(EnhanceError):
    """A server setting that cannot work on this machine; raised at start-up, never sent to a client."""

    status, type, title = 500, "misconfigured", "The service is misconfigured"


class OutOfMemory(EnhanceError):
    status, type, title = 507, "out-of-memory", "Not enough device memory, even at the smallest tile"


class StorageFull(EnhanceError):
    status, type, title = 507, "insufficient-storage", "The job data quota is used up"


class MemoryBusy(EnhanceError):
    status, type, title = 503, "memory-busy", "The server is busy; try again shortly"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after

    def response_headers(self) -> dict[str, str] | None:
        return {"Retry-After": str(self.retry_after)}


class NeverFits(EnhanceError):
    status, type, title = 413, "too-large-for-memory", "The work needs more memory than this server has"
