"""The API reference's prose and examples: what each operation does, what comes back, the errors to expect.

The routes name these texts (`description=`, `responses=`, `openapi_extra=`); `app.api.openapi` adds the problem
examples for every error status and the example values of the image options. tests/api/test_openapi_manual.py
checks that nothing is left undescribed.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel

from app.schemas import JobPublic, ModelPublic, ScorePublic

JOB_ID = "3f0c9a52-6f1e-4c55-9a47-2f9b1a7d0c11"  # a uuid4, as the service makes them
OLDER_JOB_ID = "b8e1d7a4-2c39-4f0e-8a65-91d3c7f20b4e"  # the next page starts after this one
SIGNATURE = "7d3a9f1c2e8b4d6a0f5c9e2b1a7d4c8f3e6b0a9d5c2f8e1b4a7d0c3f6e9b2a5d"  # an HMAC-SHA256, hex
JOB = f"/v1/jobs/{JOB_ID}"
TYPES = "https://enhance.example/problems/"

JobId = Annotated[
    str,
    Path(
        description="the job's id (a UUID, as `id` in the job and in the `Location` header of the submit); a job "
        "another API key submitted is answered as unknown (404 job-not-found)",
        examples=[JOB_ID],
    ),
]
FrameIndex = Annotated[
    int, Path(description="the frame's index in the video (0 for an image), as listFrames gives it", examples=[30])
]
ArtifactName = Annotated[
    str,
    Path(
        description="the artifact's file name, as listArtifacts (or the job's `artifacts`) gives it",
        examples=["comparison.gif"],
    ),
]


def ok(example: Any, description: str, media_type: str = "application/json") -> dict[str, Any]:
    """A success response entry for `responses=`, with an example body."""
    return {"description": description, "content": {media_type: {"example": example}}}


def request_example(example: dict[str, Any], media_type: str = "multipart/form-data") -> dict[str, Any]:
    """`openapi_extra=` for an operation's request body example (FastAPI merges it into the operation)."""
    return {"requestBody": {"content": {media_type: {"example": example}}}}


# Example values for parameters declared by option models outside app.api (the image's query options).
PARAMETER_EXAMPLES: dict[str, Any] = {
    "model": "realesrgan-x4plus",
    "scale": 2,
    "tile": 0,
    "denoise": 1,
    "light": "auto",
    "denoise_photo": "auto",
    "denoise_sigma": 15,
    "deblur": "auto",
    "deblur_model": "classical",
    "format": "webp",
    "quality": 90,
    "if-none-match": '"9d1e4c0b7a2f53e8"',
    "cache-control": "no-cache",
}

# (type, title, detail) per status: what a caller of any route that lists the status may receive.
PROBLEMS: dict[int, list[tuple[str, str, str]]] = {
    400: [("invalid-cursor", "Unknown paging cursor", "unknown cursor 'page-2'; start again without one")],
    401: [("unauthorized", "Missing or invalid API key", "send the key as X-API-Key or Authorization: Bearer")],
    404: [
        ("job-not-found", "Unknown job", f"no job '{JOB_ID}'"),
        ("model-not-found", "Unknown model", "unknown model 'x8'; known models: realesrgan-x4plus, ..."),
    ],
    409: [
        (
            "job-conflict",
            "Job is in the wrong state",
            "the job is running; cancel it first (POST .../cancel), then delete it",
        )
    ],
    410: [
        (
            "job-files-deleted",
            "The job's files were deleted",
            f"job {JOB_ID} ended cancelled; its files were deleted (ENHANCE_KEEP_FAILED_JOB_FILES keeps them)",
        )
    ],
    413: [
        ("payload-too-large", "Upload too large", "the upload exceeds the limit of 52,428,800 bytes"),
        (
            "too-large-for-memory",
            "The work needs more memory than this server has",
            "a 12000x9000 picture needs 14.2 GiB at the smallest tile; this server has 8.0 GiB",
        ),
    ],
    415: [("unsupported-media-type", "Not a supported image", "image/heic is not supported; send PNG, JPEG or WebP")],
    416: [("range-not-satisfiable", "Range not satisfiable", "bytes=900000- is past the end (812345 bytes)")],
    422: [
        ("invalid-option", "Invalid option", "scale must be in (0, 16], got 32"),
        ("validation-error", "Invalid request", "quality: Input should be less than or equal to 100"),
        ("corrupt-media", "The file could not be decoded", "the file is not a recognizable image"),
        (
            "estimate-over-limit",
            "The job would take longer than this server allows",
            "estimate: 1800 frames x 0.37 s (realesr-animevideov3-x4 at 640x360, measured; counted: upscale, frame) "
            "= 666 s, over this server's limit of 600 s (ENHANCE_MAX_JOB_ESTIMATE_SECONDS); ask for fewer frames "
            "(frames, every_n, max_frames, start/end, select_best) or a faster model",
        ),
        (
            "idempotency-key-reused",
            "Idempotency-Key reused for a different request",
            "the Idempotency-Key 'upload-42' was used for a different file or options",
        ),
    ],
    429: [
        (
            "rate-limited",
            "Too many requests for this key",
            "60 requests per minute; retry in 12 s (RateLimit and Retry-After headers)",
        )
    ],
    503: [
        (
            "overloaded",
            "The server is at capacity; try again shortly",
            "4 image requests are already running or waiting (at most 4); retry in about 3 s",
        ),
        ("memory-busy", "The server is busy; try again shortly", "waiting for 1.2 GiB of device memory; retry in 5 s"),
        ("weights-missing", "Model weights are not installed", "realesrgan-x4plus: run `enhance weights`"),
        ("checksum-mismatch", "Model weights failed their checksum", "realesrgan-x4plus: sha256 differs"),
    ],
    507: [
        ("out-of-memory", "Not enough device memory, even at the smallest tile", "CUDA out of memory at tile 64"),
        ("insufficient-storage", "The job data quota is used up", "job files use 20.0 of 20.0 GiB"),
    ],
}


def problem_examples(status: int, path: str) -> dict[str, dict[str, Any]]:
    """Named examples of the problems `status` carries on `path` (a job's routes know no models, the others no jobs)."""
    instance = path.replace("{job_id}", JOB_ID)
    unrelated = "model-not-found" if "{job_id}" in path else "job-not-found"
    return {
        kind: {
            "summary": title,
            "value": {
                "type": TYPES + kind,
                "title": title,
                "status": status,
                "detail": detail,
                "instance": instance,
                "request_id": "5b0e7c1a9f3d4e2b8c6a1d0f9e8b7a65",
            },
        }
        for kind, title, detail in PROBLEMS[status]
        if kind != unrelated
    }


# Operations, in the order a user meets them.

HEALTH = """Liveness: `200 {"status": "ok"}` as soon as the process answers, with no dependency checked (a load
balancer's or Kubernetes' liveness probe). Use `GET /readyz` to know whether requests can be served. Never asks
for an API key."""

READY = """Readiness: 200 once the default model's weights are installed and pass their checksum, and every
preloaded model (ENHANCE_PRELOAD) is loaded; 503 with the same body until then. `detail` says what is missing:
the default model's weights (`present`, `missing`, `unpinned` or `checksum-failed`), each preloaded model
(`preload:<id>`: `loading` or `loaded`), and the device (with a warning when CUDA was asked for and the CPU is
used). Never asks for an API key."""

MODELS = """The model catalogue: every upscaler, denoiser, deblur and interpolation model this server knows, with
whether its weight file is installed (`weights`), whether it is loaded and where (`device`, `dtype`), what it is
good for and how fast it is. `default` marks what `POST /v1/images/enhance` runs when no `model` is named,
`default_for_video` what video jobs run. Use an `id` as the `model` option.

Errors: 401 `unauthorized` when the server has API keys and none (or a wrong one) is sent."""

ENHANCE = """Enhances one image and answers with it in the body (PNG by default; `format` and `quality` choose).
Send the image as the multipart `file`, or its `url` for the server to download. The options (query parameters)
choose the upscaler and scale, photo denoise, low-light and motion-blur repair; `compare=true` answers with a
before/after PNG instead. The `X-Enhance-*` headers say what ran (model, device, precision, output size, deblur)
and `Server-Timing` where the time went.

The same input with the same options is answered from the result cache without the device (`X-Enhance-Cache:
hit`); send the answer's `ETag` as `If-None-Match` to get a 304 with no body. For videos or anything that takes
long, submit a job (`POST /v1/jobs`) instead.

Errors (problem+json, `type` under https://enhance.example/problems/): 413 `payload-too-large` or
`too-large-for-memory`; 415 `unsupported-media-type`; 422 `corrupt-media`, `invalid-option` (an option that does
not fit the model) or `validation-error`; 404 `model-not-found`; 429 `rate-limited` and 503 `overloaded` or
`memory-busy` with `Retry-After`; 503 `weights-missing`; 507 `out-of-memory`."""

SCORE = """Scores one or more images (up to 32 per request) without enhancing them: sharpness, motion blur,
noise, exposure and an overall `quality` from 0 to 1, and a `verdict` (`keep` or `reject`) with the `reasons`.
`thresholds` overrides the verdict's limits for this request; the answer repeats the thresholds used. Useful to
sort a folder of photos before paying for enhancement.

Errors: 413 `payload-too-large`; 415 `unsupported-media-type`; 422 `corrupt-media`, or `invalid-option` for more
than 32 files or bad `thresholds` JSON; 429 `rate-limited`; 503 `memory-busy` with `Retry-After`."""

CREATE_JOB = """Submits a video, an image, several photos or a zip of photos (an album) with what to do to them,
and answers 202 at once with the job (`Location` is its URL); the work runs in the background. Follow it with
`GET /v1/jobs/{job_id}/events` (or poll `GET /v1/jobs/{job_id}`), then download its `artifacts`: the enhanced
frames (`frames.zip`), the video, a side-by-side `comparison.gif`, the album's photos and a `report.json`.

Choose the frames (`frames`, `start`/`end`, `every_n`, `max_frames`, `select_best`), the model and its options
(as for images), the `outputs` and, for video output, the encoder (`codec`, `crf`, `preset`, ...). `estimate`
in the answer says what the job should cost. With `Idempotency-Key`, sending the same request again answers 200
with the same job instead of making a second one. With `callback_url`, a signed webhook is POSTed when the job ends.

Errors: 413 `payload-too-large`; 415 `unsupported-media-type`; 422 `invalid-option`, `corrupt-media`,
`validation-error`, `estimate-over-limit` or `idempotency-key-reused`; 404 `model-not-found`; 429 `rate-limited`
(also when the key has its most active jobs); 503 `overloaded` or `weights-missing`; 507 `insufficient-storage`."""

LIST_JOBS = """The caller's jobs (those of its API key; all jobs on a server without keys), newest first, as
getJob returns them. Filter by `status`; page with `limit` and the previous answer's `next_cursor` (null on the
last page).

Errors: 400 `invalid-cursor` (a cursor this server never gave: start again without one); 422
`validation-error` for an unknown `status` or a `limit` out of 1..200."""

GET_JOB = """One job: its `status` (queued, running, succeeded, failed, cancelled), `progress` (frames done, total,
percent and an ETA while it runs), the `error` of a failed job, its `artifacts` once it has any (with signed links
when the server has API keys), whether its `files` are still kept, its webhook delivery and its `links`.

Errors: 404 `job-not-found` (also for another key's job)."""

EVENTS = """Follows a job as a Server-Sent Events stream: a `progress` event (data: the job, as getJob returns
it) each time the job changes, then one `end` event whose data is its final status, and the stream closes. An
`: ping` comment every 15 s keeps proxies from closing an idle stream. Each event has an `id`: reconnect with
`Last-Event-ID` to receive only what changed since (EventSource does this by itself, after the `retry` delay).

Errors (before the stream starts): 404 `job-not-found`."""

CANCEL = """Asks a queued or running job to stop: a queued job ends cancelled at once, a running one after the
frame it is on. The answer is the job (`cancel_requested: true`); a job that already ended is returned as it
is. A cancelled job's files are deleted (its links answer 410), unless the server keeps them
(ENHANCE_KEEP_FAILED_JOB_FILES).

Errors: 404 `job-not-found`."""

DELETE_JOB = """Deletes a job that is not running, and all its files: 204 with no body. A running job must be
cancelled first.

Errors: 404 `job-not-found`; 409 `job-conflict` while the job runs."""

LIST_ARTIFACTS = """The files a job published, with their size, SHA-256 and media type, and the `url` to download
each (plus a `signed_url` that opens without a key, when the server has API keys). Empty until the job
succeeds; a job that failed part-way lists what it published before the failure.

Errors: 404 `job-not-found`."""

GET_ARTIFACT = """Downloads one artifact (`Content-Disposition` names the file). Byte ranges are supported
(`Range: bytes=0-1023` answers 206) so large videos can be resumed or streamed. A `signed_url` opens it without an
API key until `expires`.

Errors: 401 `unauthorized` (no key, or a signed link expired or for another file); 404 `job-not-found` (an unknown
job, an unknown name, or a job with no artifacts yet); 410 `job-files-deleted`; 416 `range-not-satisfiable`."""

LIST_FRAMES = """Every frame the job has finished so far (while it runs too), in frame order: its index, time and
size, and the URLs of its source frame, its enhanced frame (PNG) and a small thumbnail. This is what the web
page's frame picker compares.

Errors: 404 `job-not-found`."""

THUMBNAIL = """A small JPEG of a finished frame (enhanced, or the decoded source with `which=source`), its longest
side `size` pixels; cached by the browser for an hour.

Errors: 404 `job-not-found` (also for a frame that is not finished); 410 `job-files-deleted`; 413
`too-large-for-memory` and 503 `memory-busy` (with `Retry-After`) when an old frame must be decoded again."""

GET_FRAME = """A finished frame as a full-size PNG: `source` is the frame decoded from the input, `enhanced` the
result. Compare the two to judge a model on your footage.

Errors: 404 `job-not-found` (also for a frame that is not finished yet); 410 `job-files-deleted`."""


# Examples of the bodies.

HEALTH_OK = {"status": "ok", "detail": {}}
READY_NOT = {"status": "not-ready", "detail": {"device": "cpu", "realesrgan-x4plus": "missing"}}
READY_OK = {"status": "ready", "detail": {"device": "cuda:0", "realesrgan-x4plus": "present"}}
ARTIFACT = {
    "name": "comparison.gif",
    "size": 812345,
    "sha256": "4c2f0b8e9d1a7c3e5f6a8b0c2d4e6f8a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e",
    "media_type": "image/gif",
    "url": f"{JOB}/artifacts/comparison.gif",
    "signed_url": f"{JOB}/artifacts/comparison.gif?expires=1796342400&signature={SIGNATURE}",
}
REPORT = {
    "input": "clip.mp4",
    "model": "realesr-animevideov3-x4",
    "frames": [{"index": 0, "time": 0.0, "size": [2560, 1440]}, {"index": 30, "time": 1.0, "size": [2560, 1440]}],
}
FRAME = {
    "index": 30,
    "time": 1.0,
    "size": [2560, 1440],
    "source_url": f"{JOB}/frames/30/source",
    "enhanced_url": f"{JOB}/frames/30/enhanced",
    "thumbnail_url": f"{JOB}/frames/30/thumbnail",
}
EVENTS_EXAMPLE = (
    f'id: 1796338204000000\nevent: progress\nretry: 2000\ndata: {{"id": "{JOB_ID}", "status": "running", '
    '"progress": {"done": 1, "total": 3, "percent": 33.3, "eta_seconds": 6.2}, ...}\n\n'
    ": ping\n\n"
    f'id: 1796338210000000\nevent: progress\ndata: {{"id": "{JOB_ID}", "status": "succeeded", ...}}\n\n'
    'id: 1796338210000000\nevent: end\ndata: {"status": "succeeded"}\n\n'
)
CREATE_JOB_REQUEST = {
    "url": "https://media.example.org/clips/holiday.mp4",
    "model": "realesr-animevideov3-x4",
    "every_n": 30,
    "max_frames": 10,
    "outputs": ["frames", "gif"],
    "callback_url": "https://hooks.example.org/enhance",
}
ENHANCE_REQUEST = {"url": "https://media.example.org/photos/harbour.jpg"}


def schema_example(model: type[BaseModel]) -> Any:
    """The first example a response model declares (`json_schema_extra`), to build list answers from."""
    extra = model.model_config.get("json_schema_extra")
    assert isinstance(extra, dict), model
    return extra["examples"][0]  # type: ignore[index]


JOB_OK = schema_example(JobPublic)
JOBS_OK = {
    "data": [JOB_OK],
    "count": 1,
    "next_cursor": OLDER_JOB_ID,
}
MODELS_OK = {"data": [schema_example(ModelPublic)], "count": 1}
SCORES_OK = {
    "data": [
        {
            "filename": "a.jpg",
            "width": 1024,
            "height": 768,
            "verdict": "keep",
            "reasons": [],
            "quality": 0.81,
            "scores": {"sharpness": 6.2, "motion_blur_px": 0.0, "mean_luminance": 0.47},
        },
        schema_example(ScorePublic),  # the rejected one: the example the schema shows
    ],
    "count": 2,
    "thresholds": {
        "min_sharpness": 0.2,
        "max_motion_blur": 8.0,
        "max_highlights_clipped": 0.05,
        "max_shadows_clipped": 0.35,
        "min_brightest": 0.45,
        "max_darkest": 0.55,
        "max_noise": 12.0,
        "min_quality": 0.25,
        "min_jpeg_quality": 30.0,
    },
}
